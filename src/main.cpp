#include "cli/cli.hpp"

int main(int argc, char** argv) {
    return onboard::cli::run(argc, argv);
}
