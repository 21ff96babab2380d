#include "workflow/rows.hpp"

#include "core/error.hpp"

#include <algorithm>

namespace onboard::workflow {

namespace {

const Payload* payload_member(const Step& step, std::string_view key) {
    if (!step.payload || step.payload->kind != Payload::Kind::object) {
        return nullptr;
    }
    const auto& keys = step.payload->keys;
    const auto found = std::find(keys.begin(), keys.end(), key);
    return found == keys.end() ? nullptr : &step.payload->items[static_cast<std::size_t>(found - keys.begin())];
}

// The step's one operation with one top-level field, or why there is none.
std::string parse_operation(const Step& step, graphql::Operation& operation) {
    if (step.batch_scoped) {
        return "it is batch-scoped and runs once per batch already";
    }
    const Payload* query = payload_member(step, "query");
    if (query == nullptr || query->kind != Payload::Kind::literal || !query->literal.is_string()) {
        return "its request body has no literal GraphQL \"query\"";
    }
    for (const std::string& key : step.payload->keys) {
        if (key != "query" && key != "variables" && key != "operationName") {
            return "its request body has a member \"" + key + "\" besides query, variables and operationName";
        }
    }
    graphql::Document document;
    try {
        document = graphql::parse(query->literal.as_string());
    } catch (const graphql::SyntaxError& e) {
        return "its query does not parse: " + e.graphql_message();
    }
    if (document.operations.size() != 1) {
        return "its query holds " + std::to_string(document.operations.size()) + " operations; one is needed";
    }
    operation = std::move(document.operations.front());
    if (operation.selections.size() != 1) {
        return "its operation selects " + std::to_string(operation.selections.size()) +
               " top-level fields; one is needed";
    }
    return "";
}

std::string suffix(const std::string& name, std::size_t row) { return name + "_" + std::to_string(row); }

void print_value(const graphql::Value& value, std::size_t row, std::string& out) {
    using Kind = graphql::Value::Kind;
    switch (value.kind) {
    case Kind::variable:
        out += "$" + suffix(value.text, row);
        return;
    case Kind::string:
        core::append_json_string(out, value.text);
        return;
    case Kind::boolean:
        out += value.boolean ? "true" : "false";
        return;
    case Kind::null:
        out += "null";
        return;
    case Kind::list:
    case Kind::object:
        out += value.kind == Kind::list ? "[" : "{";
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            out += i == 0 ? "" : ", ";
            out += value.kind == Kind::object ? value.keys[i] + ": " : "";
            print_value(value.items[i], row, out);
        }
        out += value.kind == Kind::list ? "]" : "}";
        return;
    default: // integer, floating, enumeration: as written
        out += value.text;
        return;
    }
}

void print_field(const graphql::Field& field, const std::string& alias, std::size_t row, std::string& out) {
    out += alias.empty() ? field.name : alias + ": " + field.name;
    for (std::size_t i = 0; i < field.arguments.size(); ++i) {
        out += (i == 0 ? "(" : ", ") + field.arguments[i].name + ": ";
        print_value(field.arguments[i].value, row, out);
    }
    out += field.arguments.empty() ? "" : ")";
    if (!field.selections.empty()) {
        out += " {";
        for (const graphql::Field& child : field.selections) {
            out += " ";
            print_field(child, child.alias, row, out);
        }
        out += " }";
    }
}

// Whether an answer with this status may still carry each alias's own answer in its `data`: a 4xx
// the server gives for errors in the document (400, 409, 422, ...), not one about the token (401,
// 403) or the rate (429), which, like a 5xx, is the whole request's failure.
bool may_answer_each_alias(int status) {
    return status >= 400 && status < 500 && status != 401 && status != 403 && status != 429;
}

bool is_alias(const std::string& key) {
    return key.size() > 1 && key[0] == 'r' &&
           std::all_of(key.begin() + 1, key.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The answer row `alias` would have had alone: its payload under the step's own response `key`, its
// errors (their path renamed back) and the errors that name no alias; other members as they are.
core::Json row_answer(const core::Json& body, const std::string& alias, const std::string& key) {
    core::Json own = core::Json::object();
    for (std::size_t i = 0; i < body.size(); ++i) {
        const std::string& member = body.keys()[i];
        const core::Json& value = body.items()[i];
        if (member == "data" && value.is_object()) {
            const core::Json* data = value.find(alias);
            own.set("data", core::Json::object()).set(key, data != nullptr ? *data : core::Json());
        } else if (member == "errors" && value.is_array()) {
            core::Json errors = core::Json::array();
            for (const core::Json& error : value.items()) {
                core::Json copy = error;
                core::Json* path = copy.find("path");
                const bool pathed = path != nullptr && path->is_array() && path->size() > 0 && path->items()[0].is_string();
                if (pathed && path->items()[0].as_string() == alias) {
                    path->items()[0] = core::Json(key);
                } else if (pathed && is_alias(path->items()[0].as_string())) {
                    continue;
                }
                errors.push_back(std::move(copy));
            }
            if (errors.size() > 0) {
                own.set("errors", std::move(errors));
            }
        } else {
            own.set(member, value);
        }
    }
    return own;
}

} // namespace

std::string batching_problem(const Step& step) {
    graphql::Operation operation;
    return parse_operation(step, operation);
}

MultiRowStep::MultiRowStep(const Step& step) : m_step(&step) {
    const std::string problem = parse_operation(step, m_operation);
    if (!problem.empty()) {
        throw WorkflowError("step \"" + step.id + "\": cannot send several rows in one request: " + problem);
    }
    m_key = m_operation.selections.front().response_key();
}

std::string MultiRowStep::query(std::size_t rows) const {
    using Kind = graphql::Operation::Kind;
    std::string out = m_operation.kind == Kind::mutation ? "mutation" : m_operation.kind == Kind::query ? "query" : "subscription";
    out += m_operation.name.empty() ? "" : " " + m_operation.name;
    std::string variables;
    for (std::size_t row = 0; row < rows; ++row) {
        for (const graphql::VariableDefinition& variable : m_operation.variables) {
            variables += (variables.empty() ? "" : ", ") + ("$" + suffix(variable.name, row)) + ": " + variable.type.str();
            if (variable.default_value) {
                variables += " = ";
                print_value(*variable.default_value, row, variables);
            }
        }
    }
    out += variables.empty() ? " {" : "(" + variables + ") {";
    for (std::size_t row = 0; row < rows; ++row) {
        out += " ";
        print_field(m_operation.selections.front(), "r" + std::to_string(row), row, out);
    }
    return out + " }";
}

http::Request MultiRowStep::build_request(const Runner& runner, const std::vector<Context>& rows) const {
    if (rows.empty()) {
        throw WorkflowError("step \"" + m_step->id + "\": no rows to send");
    }
    http::Request request;
    core::Json variables = core::Json::object();
    core::Json operation_name;
    for (std::size_t row = 0; row < rows.size(); ++row) {
        http::Request single = runner.build_request(*m_step, rows[row]);
        if (row == 0) {
            request = single;
        } else if (single.headers != request.headers || single.url != request.url) {
            throw WorkflowError("step \"" + m_step->id + "\": rows differ in their headers and cannot share a request");
        }
        const core::Json body = core::Json::parse(single.body, "step " + m_step->id);
        if (const core::Json* own = body.find("variables"); own != nullptr && own->is_object()) {
            for (std::size_t i = 0; i < own->size(); ++i) {
                variables.set(suffix(own->keys()[i], row), own->items()[i]);
            }
        }
        if (const core::Json* name = body.find("operationName")) {
            operation_name = *name;
        }
    }
    core::Json body = core::Json::object();
    body.set("query", query(rows.size()));
    body.set("variables", std::move(variables));
    if (!operation_name.is_null()) {
        body.set("operationName", std::move(operation_name));
    }
    request.body = body.dump();
    return request;
}

std::vector<StepResult> MultiRowStep::judge(const Runner& runner, const std::vector<Context>& rows,
                                            const http::Response& response) const {
    std::optional<core::Json> body;
    try {
        if (response.failure == http::Failure::none) {
            body = core::Json::parse(response.body, "response");
        }
    } catch (const Error&) {
        // Not JSON: every row is judged on the answer as it is.
    }
    const core::Json* data = body && body->is_object() ? body->find("data") : nullptr;
    const bool per_alias_status = data != nullptr && data->is_object() && may_answer_each_alias(response.status);
    std::vector<StepResult> out;
    for (std::size_t row = 0; row < rows.size(); ++row) {
        if (!body || !body->is_object()) {
            out.push_back(runner.judge(*m_step, rows[row], response));
            continue;
        }
        http::Response single = response;
        const core::Json own = row_answer(*body, "r" + std::to_string(row), m_key);
        // A server may answer the whole document 400 when any alias has errors: a row with a payload
        // and no errors of its own (nor any naming no alias) was answered as if alone, with 200.
        const core::Json* payload = own.at_pointer("/data/" + m_key);
        if (per_alias_status && payload != nullptr && !payload->is_null() && !judge_graphql(own)) {
            single.status = 200;
        }
        single.body = own.dump();
        out.push_back(runner.judge(*m_step, rows[row], single));
    }
    return out;
}

} // namespace onboard::workflow
