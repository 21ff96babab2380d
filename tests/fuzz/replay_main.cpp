// A main() for the fuzz targets built without libFuzzer: feeds every regular file under the given
// directories (or the given files) to LLVMFuzzerTestOneInput, in sorted order, and fails when an
// exception escapes or no input was found. A crash stops the run with the file's name printed last.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& path) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(path)) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
            if (entry.is_regular_file()) {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
    } else if (std::filesystem::is_regular_file(path)) {
        files.push_back(path);
    } else {
        std::cerr << "replay: " << path.string() << ": no such file or directory\n";
    }
    return files;
}

std::string contents_of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

int main(int argc, char** argv) {
    std::size_t replayed = 0;
    for (int i = 1; i < argc; ++i) {
        for (const auto& file : inputs_of(argv[i])) {
            const std::string data = contents_of(file);
            std::cout << "replay: " << file.string() << " (" << data.size() << " bytes)" << std::endl;
            try {
                LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
            } catch (const std::exception& e) {
                std::cerr << "replay: " << file.string() << ": exception escaped: " << e.what() << "\n";
                return 1;
            }
            ++replayed;
        }
    }
    if (replayed == 0) {
        std::cerr << "replay: no input given (usage: replay DIR_OR_FILE...)\n";
        return 2;
    }
    std::cout << "replay: " << replayed << " inputs, no finding" << std::endl;
    return 0;
}
