#pragma once

#include "core/json.hpp"
#include "workflow/expression.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::workflow {

// A place in a workflow or OpenAPI file: 1-based line in the YAML.
struct Location {
    std::string file;
    int line = 0;
};

// One declared workflow input.
struct InputSpec {
    std::string name;
    std::string type;
    bool required = false;
    std::string description;
};

// What to do when a step fails (Arazzo `onFailure`): retry, end, or goto another step.
struct FailureAction {
    std::string name;
    std::string type;       // retry | end | goto
    double retry_after = 0; // seconds to wait before a retry
    int retry_limit = 0;    // retries allowed (Arazzo's default for a retry is 1)
    std::string step_id;    // goto: the step to go to
    std::vector<Condition> criteria; // all must hold for the action to apply (none: always)
    Location location;
};

// A header, query or path parameter of a step.
struct Parameter {
    std::string name;
    std::string in; // header | query | path
    Template value;
    Location location;
};

// A request payload from the workflow: literal JSON with string leaves that may hold expressions.
struct Payload {
    enum class Kind { literal, text, object, array };
    Kind kind = Kind::literal;
    core::Json literal;              // Kind::literal
    std::string literal_json;        // Kind::literal: `literal` as JSON text, written once at load
    Template text;                   // Kind::text
    std::vector<std::string> keys;   // Kind::object, parallel to items
    std::vector<Payload> items;      // Kind::object and Kind::array
    Location location;
};

// One success criterion of a step.
struct Criterion {
    Condition condition;
    Location location;
};

// A named output: of a step (evaluated against its response) or of the workflow.
struct Output {
    std::string name;
    Template value;
    Location location;
};

// One step of the workflow, its operation resolved from the OpenAPI source description.
struct Step {
    std::string id;
    std::string operation_id;
    std::string method; // upper case
    std::string path;
    bool batch_scoped = false; // its request depends on no per-row input: run once per batch
    std::vector<FailureAction> on_failure;
    Location location;

    std::vector<Parameter> parameters;
    std::string content_type;       // of the request body, "" when there is none
    std::optional<Payload> payload; // the request body
    std::vector<std::string> payload_inputs; // the workflow inputs the payload's expressions read
    std::vector<Criterion> success_criteria;
    std::vector<Output> outputs;
};

// An Arazzo workflow file and its OpenAPI source, loaded and checked.
class Workflow {
public:
    // Loads and checks the Arazzo file and its openapi source; `row_inputs` are the inputs that come
    // from each CSV row (all others are run inputs, supplied once per run). Throws WorkflowError
    // whose message lists every problem as "file:line: ..." (one per line).
    static Workflow load(const std::string& path,
                         const std::vector<std::string>& row_inputs = {"name", "externalId"});

    const std::string& path() const { return m_path; }
    const std::string& workflow_id() const { return m_workflow_id; }
    const std::vector<InputSpec>& inputs() const { return m_inputs; }
    const std::vector<Step>& steps() const { return m_steps; }
    const std::vector<Output>& outputs() const { return m_outputs; }
    // The step with id `id`, or nullptr.
    const Step* find_step(std::string_view id) const;
    // Things that work but deserve a look, each "file:line: ...", e.g. the bare-expression warning.
    std::vector<std::string> warnings() const { return m_warnings; }
    // The OpenAPI servers[0].url (no trailing slash).
    std::string default_server_url() const { return m_server_url; }
    // Inputs whose names look secret (token, secret, password, key) or declared `format: password`.
    std::vector<std::string> secret_inputs() const;
    // "<stepId>.<output>" for step outputs that carry secrets (e.g. refreshToken.accessToken).
    std::vector<std::string> secret_outputs() const;

private:
    friend class Loader;

    std::string m_path;
    std::string m_workflow_id;
    std::vector<InputSpec> m_inputs;
    std::vector<std::string> m_secret_format_inputs;
    std::vector<Step> m_steps;
    std::vector<Output> m_outputs;
    std::vector<std::string> m_warnings;
    std::string m_server_url;
};

} // namespace onboard::workflow
