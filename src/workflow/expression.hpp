#pragma once

#include "core/json.hpp"
#include "http/message.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::workflow {

// Evaluation state: the row's (or batch's) inputs and the outputs of the steps run so far.
struct Context {
    core::Json inputs;                               // object: input name -> value
    std::map<std::string, core::Json> step_outputs; // stepId -> object of that step's outputs
};

// What a runtime expression is evaluated against; a response only while judging a step.
struct Scope {
    const Context* context = nullptr;
    const http::Response* response = nullptr;
    const core::Json* response_body = nullptr; // the parsed response body, null when not JSON
};

// One runtime expression such as `$inputs.name` or `$response.body#/data/id`.
struct Reference {
    enum class Source { inputs, step_output, response_body, response_header, status_code };
    Source source = Source::status_code;
    std::string step;    // step_output: the step id
    std::string name;    // the input, output or header name
    std::string pointer; // a JSON pointer inside the value ("" = the whole value)
    std::string text;    // as written
};

// Where a runtime expression ends when it is not delimited: conditions stop at operators too.
enum class ReferenceEnd { whitespace, brace, condition };

// Parses the runtime expression starting at text[pos] (a '$'), advancing `pos` past it; throws
// WorkflowError "column N: ..." (1-based within `text`) when it is malformed.
Reference parse_reference(std::string_view text, std::size_t& pos, ReferenceEnd end);

// The value `reference` names in `scope`, or null when it names nothing; never throws.
core::Json resolve(const Reference& reference, const Scope& scope);

// A success-criteria condition: comparisons, &&, ||, !, parentheses, literals and runtime expressions.
class Condition {
public:
    // Parses a condition; throws WorkflowError "column N: ..." naming the first problem.
    static Condition parse(std::string_view text);
    // Whether the condition holds in `scope` (a non-boolean result holds when truthy); never throws.
    bool holds(const Scope& scope) const;
    // The value the condition evaluates to; never throws.
    core::Json evaluate(const Scope& scope) const;
    // The runtime expressions used, in order of appearance.
    const std::vector<Reference>& references() const { return m_references; }
    const std::string& text() const { return m_text; }

    struct Node;

private:
    std::shared_ptr<const Node> m_root;
    std::vector<Reference> m_references;
    std::string m_text;
};

// A string value from the workflow: a whole runtime expression (keeps its JSON type), or text with
// embedded `{$...}` expressions, or text with bare `$steps...` expressions (accepted, flagged).
class Template {
public:
    // Parses a string value; throws WorkflowError "column N: ..." when an expression is malformed.
    static Template parse(std::string_view text);
    // The whole expression's value, or the text with every expression replaced; never throws.
    core::Json evaluate(const Scope& scope) const;
    // The expressions that resolve to null in `scope`, as written.
    std::vector<std::string> null_references(const Scope& scope) const;
    const std::vector<Reference>& references() const { return m_references; }
    bool is_whole_expression() const { return m_whole; }
    // The first expression written bare (without braces) inside text, or "" when none.
    const std::string& bare_expression() const { return m_bare; }
    const std::string& text() const { return m_text; }

private:
    struct Part {
        std::string literal;
        int reference = -1; // index into m_references, or -1 for a literal part
    };
    std::vector<Part> m_parts;
    std::vector<Reference> m_references;
    std::string m_text;
    std::string m_bare;
    bool m_whole = false;
};

// Renders a value for use inside a string: strings as-is, null as "", others as compact JSON.
std::string to_text(const core::Json& value);

} // namespace onboard::workflow
