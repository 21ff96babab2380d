#include "workflow/expression.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>

namespace onboard::workflow {

namespace {

[[noreturn]] void fail(std::size_t index, const std::string& what) {
    throw WorkflowError("column " + std::to_string(index + 1) + ": " + what);
}

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool ends_pointer(char c, ReferenceEnd end) {
    if (is_space(c)) {
        return true;
    }
    if (end == ReferenceEnd::brace) {
        return c == '}';
    }
    return end == ReferenceEnd::condition && c != '\0' && std::strchr("=!<>&|()", c) != nullptr;
}

std::string_view read_while(std::string_view text, std::size_t& pos, bool (*accept)(char)) {
    const std::size_t start = pos;
    while (pos < text.size() && accept(text[pos])) {
        ++pos;
    }
    return text.substr(start, pos - start);
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

void expect_dot(std::string_view text, std::size_t& pos, std::string_view after) {
    if (pos >= text.size() || text[pos] != '.') {
        fail(pos, "expected \".\" after \"" + std::string(after) + "\"");
    }
    ++pos;
}

std::string read_name(std::string_view text, std::size_t& pos, std::string_view what,
                      std::string_view after) {
    const std::string_view name = read_while(text, pos, is_name_char);
    if (name.empty()) {
        fail(pos, "expected " + std::string(what) + " after \"" + std::string(after) + "\"");
    }
    return std::string(name);
}

std::string escape_pointer_token(std::string_view token) {
    std::string out;
    for (const char c : token) {
        out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
    }
    return out;
}

// `.a.b` after a name walks into the value like the pointer `/a/b`.
void read_dotted_path(std::string_view text, std::size_t& pos, std::string& pointer) {
    while (pos + 1 < text.size() && text[pos] == '.' && is_name_char(text[pos + 1])) {
        ++pos;
        pointer += "/" + escape_pointer_token(read_while(text, pos, is_name_char));
    }
}

void read_pointer(std::string_view text, std::size_t& pos, ReferenceEnd end, std::string& pointer) {
    if (pos >= text.size() || text[pos] != '#') {
        return;
    }
    const std::size_t start = ++pos;
    while (pos < text.size() && !ends_pointer(text[pos], end)) {
        ++pos;
    }
    const std::string_view written = text.substr(start, pos - start);
    if (!written.empty() && written[0] != '/') {
        fail(start, "a JSON pointer must start with \"/\"");
    }
    for (std::size_t i = 0; i < written.size(); ++i) {
        if (written[i] == '~' && (i + 1 >= written.size() || (written[i + 1] != '0' && written[i + 1] != '1'))) {
            fail(start + i, "\"~\" in a JSON pointer must be followed by \"0\" or \"1\"");
        }
    }
    pointer += written;
}

void parse_response(std::string_view text, std::size_t& pos, ReferenceEnd end, Reference& ref) {
    const std::size_t at = pos;
    const std::string_view part = read_while(text, pos, is_alnum);
    if (part == "body") {
        ref.source = Reference::Source::response_body;
        read_pointer(text, pos, end, ref.pointer);
    } else if (part == "header") {
        ref.source = Reference::Source::response_header;
        expect_dot(text, pos, "$response.header");
        ref.name = read_name(text, pos, "a header name", "$response.header.");
    } else {
        fail(at, "expected \"body\" or \"header.<name>\" after \"$response.\"");
    }
}

void parse_step_output(std::string_view text, std::size_t& pos, ReferenceEnd end, Reference& ref) {
    ref.source = Reference::Source::step_output;
    expect_dot(text, pos, "$steps");
    ref.step = read_name(text, pos, "a step id", "$steps.");
    const std::string_view outputs = ".outputs.";
    if (text.substr(pos, outputs.size()) != outputs) {
        fail(pos, "expected \".outputs.<name>\" after \"$steps." + ref.step + "\"");
    }
    pos += outputs.size();
    ref.name = read_name(text, pos, "an output name", "$steps." + ref.step + ".outputs.");
    read_dotted_path(text, pos, ref.pointer);
    read_pointer(text, pos, end, ref.pointer);
}

constexpr std::array<std::string_view, 11> k_roots{"url",     "method",    "statusCode", "request",
                                                   "response", "inputs",   "outputs",    "steps",
                                                   "workflows", "sourceDescriptions", "components"};

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Edits (insert, delete, change, swap two neighbours) from `a` to `b`, ignoring case.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        for (std::size_t j = 0; j <= b.size(); ++j) {
            if (i == 0 || j == 0) {
                d[i][j] = i + j;
                continue;
            }
            const std::size_t change = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + change});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

// `unknown runtime expression "$inptus"; did you mean "$inputs"?` (the hint when a root is close).
std::string unknown_root(std::string_view head) {
    std::string_view best;
    std::size_t best_distance = 3; // two edits at most: further off is not a typo
    for (const std::string_view root : k_roots) {
        // Two edits turn any three-letter word into $url: short roots get one.
        const std::size_t allowed = root.size() <= 4 ? 1 : 2;
        if (const std::size_t distance = edit_distance(head, root); distance <= allowed && distance < best_distance) {
            best = root;
            best_distance = distance;
        }
    }
    std::string message = "unknown runtime expression \"$" + std::string(head) + "\"";
    return best.empty() ? message : message + "; did you mean \"$" + std::string(best) + "\"?";
}

const core::Json* pointed(const core::Json* value, const std::string& pointer) {
    return value == nullptr ? nullptr : value->at_pointer(pointer);
}

} // namespace

Reference parse_reference(std::string_view text, std::size_t& pos, ReferenceEnd end) {
    const std::size_t start = pos;
    if (pos >= text.size() || text[pos] != '$') {
        fail(pos, "expected a runtime expression starting with \"$\"");
    }
    ++pos;
    Reference ref;
    const std::string head(read_while(text, pos, is_alnum));
    if (head == "statusCode") {
        ref.source = Reference::Source::status_code;
    } else if (head == "inputs") {
        ref.source = Reference::Source::inputs;
        expect_dot(text, pos, "$inputs");
        ref.name = read_name(text, pos, "an input name", "$inputs.");
        read_dotted_path(text, pos, ref.pointer);
        read_pointer(text, pos, end, ref.pointer);
    } else if (head == "steps") {
        parse_step_output(text, pos, end, ref);
    } else if (head == "response") {
        expect_dot(text, pos, "$response");
        parse_response(text, pos, end, ref);
    } else if (head == "url" || head == "method" || head == "request" || head == "outputs" ||
               head == "workflows" || head == "components" || head == "sourceDescriptions") {
        fail(start, "unsupported runtime expression \"$" + head + "\"");
    } else if (head.empty()) {
        fail(pos, "expected a name after \"$\"");
    } else {
        fail(start, unknown_root(head));
    }
    ref.text = std::string(text.substr(start, pos - start));
    return ref;
}

core::Json resolve(const Reference& reference, const Scope& scope) {
    const core::Json* found = nullptr;
    switch (reference.source) {
    case Reference::Source::status_code:
        if (scope.response != nullptr && scope.response->failure == http::Failure::none) {
            return core::Json(scope.response->status);
        }
        return core::Json();
    case Reference::Source::response_header:
        if (scope.response != nullptr) {
            if (auto value = scope.response->header(reference.name)) {
                return core::Json(*value);
            }
        }
        return core::Json();
    case Reference::Source::response_body:
        found = pointed(scope.response_body, reference.pointer);
        break;
    case Reference::Source::inputs:
        if (scope.context != nullptr) {
            found = pointed(scope.context->inputs.find(reference.name), reference.pointer);
        }
        break;
    case Reference::Source::step_output:
        if (scope.context != nullptr) {
            const auto step = scope.context->step_outputs.find(reference.step);
            if (step != scope.context->step_outputs.end()) {
                found = pointed(step->second.find(reference.name), reference.pointer);
            }
        }
        break;
    }
    return found == nullptr ? core::Json() : *found;
}

std::string to_text(const core::Json& value) {
    if (value.is_string()) {
        return value.as_string();
    }
    return value.is_null() ? std::string() : value.dump();
}

// ---- templates ----

namespace {

// Whether a bare runtime expression starts at text[i]: a value beginning with "$word" not followed
// by a space, and "$word.name" or "$word#…" inside text, so a typo in its root is reported rather
// than sent as text; GraphQL variables ("$name: String!", "$name)"), "costs $5", "$USD amount" and
// "billed in $USD." stay literal.
bool starts_bare_expression(std::string_view text, std::size_t i) {
    if (text[i] != '$' || i + 1 >= text.size() || std::isalpha(static_cast<unsigned char>(text[i + 1])) == 0) {
        return false;
    }
    std::size_t pos = i + 1;
    read_while(text, pos, is_alnum);
    if (i == 0) {
        return pos == text.size() || std::isspace(static_cast<unsigned char>(text[pos])) == 0;
    }
    if (pos == text.size()) {
        return false;
    }
    return text[pos] == '#' ||
           (text[pos] == '.' && pos + 1 < text.size() && std::isalpha(static_cast<unsigned char>(text[pos + 1])) != 0);
}

} // namespace

Template Template::parse(std::string_view text) {
    Template out;
    out.m_text = std::string(text);
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) {
            out.m_parts.push_back({std::move(literal), -1});
            literal.clear();
        }
    };
    auto add = [&](Reference ref) {
        flush();
        out.m_parts.push_back({"", static_cast<int>(out.m_references.size())});
        out.m_references.push_back(std::move(ref));
    };
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '$') {
            std::size_t pos = i + 1;
            Reference ref = parse_reference(text, pos, ReferenceEnd::brace);
            if (pos >= text.size() || text[pos] != '}') {
                fail(pos, "expected \"}\" to close \"{" + ref.text + "\"");
            }
            add(std::move(ref));
            i = pos + 1;
        } else if (starts_bare_expression(text, i)) {
            std::size_t pos = i;
            Reference ref = parse_reference(text, pos, ReferenceEnd::whitespace);
            const bool whole = i == 0 && pos == text.size();
            if (!whole && out.m_bare.empty()) {
                out.m_bare = ref.text;
            }
            add(std::move(ref));
            i = pos;
        } else {
            literal += text[i++];
        }
    }
    flush();
    out.m_whole = out.m_parts.size() == 1 && out.m_parts[0].reference == 0;
    return out;
}

core::Json Template::evaluate(const Scope& scope) const {
    if (m_whole) {
        return resolve(m_references[0], scope);
    }
    std::string out;
    for (const Part& part : m_parts) {
        out += part.reference < 0 ? part.literal : to_text(resolve(m_references[part.reference], scope));
    }
    return core::Json(std::move(out));
}

std::vector<std::string> Template::null_references(const Scope& scope) const {
    std::vector<std::string> out;
    for (const Reference& ref : m_references) {
        if (resolve(ref, scope).is_null()) {
            out.push_back(ref.text);
        }
    }
    return out;
}

} // namespace onboard::workflow
