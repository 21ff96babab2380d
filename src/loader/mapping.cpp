#include "loader/mapping.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace onboard::loader {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string quoted_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out.empty() ? "none" : out;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The column a --map names: its exact header text, else the one column with the same key.
std::optional<std::size_t> find_column(const std::vector<std::string>& header, const std::string& wanted) {
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == wanted) {
            return i;
        }
    }
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (!header[i].empty() && column_key(header[i]) == column_key(wanted)) {
            if (found) {
                return std::nullopt;
            }
            found = i;
        }
    }
    return found;
}

const InputSpec* find_input(const ImportOptions& options, const std::string& name) {
    for (const auto& input : options.inputs) {
        if (input.name == name) {
            return &input;
        }
    }
    return nullptr;
}

std::vector<std::string> input_names(const ImportOptions& options) {
    std::vector<std::string> names;
    for (const auto& input : options.inputs) {
        names.push_back(input.name);
    }
    return names;
}

// The one column whose key matches the input's; nullopt when none.
std::optional<std::size_t> match_column(const std::vector<std::string>& header, const InputSpec& input,
                                        const std::string& source, std::int64_t line) {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i].empty() || column_key(header[i]) != column_key(input.name)) {
            continue;
        }
        if (found) {
            throw InputError(source, line,
                             "columns \"" + header[*found] + "\" and \"" + header[i] + "\" both match input \"" +
                                 input.name + "\" (choose one with --map " + input.name + "=COLUMN)");
        }
        found = i;
    }
    return found;
}

} // namespace

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::string column_key(std::string_view name) {
    std::string key;
    for (const char c : name) {
        if (c != ' ' && c != '_' && c != '-') {
            key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return key;
}

void check_overrides(const ImportOptions& options) {
    for (auto it = options.overrides.begin(); it != options.overrides.end(); ++it) {
        const auto& [input_name, column] = *it;
        const std::string flag = "--map " + input_name + "=" + column;
        const auto again = std::find_if(std::next(it), options.overrides.end(),
                                        [&](const auto& other) { return other.first == input_name; });
        if (again != options.overrides.end()) {
            throw UsageError(flag + " and --map " + again->first + "=" + again->second + ": \"" + input_name +
                             "\" is mapped twice; give one column");
        }
        if (find_input(options, input_name) == nullptr) {
            throw UsageError(flag + ": the workflow has no input \"" + input_name + "\" (inputs: " +
                             quoted_list(input_names(options)) + ")");
        }
        if (contains(options.run_inputs, input_name)) {
            throw UsageError(flag + ": \"" + input_name + "\" is a run input and is never read from the file");
        }
    }
}

ColumnMap map_columns(const std::vector<std::string>& header, const ImportOptions& options,
                      const std::string& source, std::int64_t header_line) {
    ColumnMap map;
    for (const auto& cell : header) {
        map.header.emplace_back(trim(cell));
    }
    std::vector<std::optional<std::size_t>> chosen(options.inputs.size());
    check_overrides(options);
    for (const auto& [input_name, column] : options.overrides) {
        const InputSpec* input = find_input(options, input_name);
        const std::string flag = "--map " + input_name + "=" + column;
        const auto found = find_column(map.header, column);
        if (!found) {
            throw InputError(source, header_line,
                             flag + ": no column \"" + column + "\" (columns: " + quoted_list(map.header) + ")");
        }
        chosen[static_cast<std::size_t>(input - options.inputs.data())] = found;
    }
    std::vector<bool> used(map.header.size(), false);
    for (std::size_t i = 0; i < options.inputs.size(); ++i) {
        const InputSpec& input = options.inputs[i];
        const bool run_input = contains(options.run_inputs, input.name);
        if (!chosen[i]) {
            chosen[i] = match_column(map.header, input, source, header_line);
        }
        if (run_input) {
            if (chosen[i]) {
                map.refused.push_back(map.header[*chosen[i]]);
                map.refused_positions.push_back(*chosen[i]);
                used[*chosen[i]] = true;
            }
            continue;
        }
        if (!chosen[i]) {
            if (input.required) {
                throw InputError(source, header_line,
                                 "no column for required input \"" + input.name + "\" (columns: " +
                                     quoted_list(map.header) + ")");
            }
            continue;
        }
        map.entries.push_back({&input, *chosen[i]});
        used[*chosen[i]] = true;
    }
    for (std::size_t i = 0; i < map.header.size(); ++i) {
        if (!used[i]) {
            map.ignored.push_back(map.header[i].empty() ? "(column " + std::to_string(i + 1) + ")" : map.header[i]);
        }
    }
    return map;
}

} // namespace onboard::loader
