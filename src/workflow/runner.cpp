#include "workflow/runner.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace onboard::workflow {

namespace {

// Writes the payload as JSON text, as its JSON value's dump() would: literal parts were written
// once when the workflow was loaded, and no JSON value is built per request.
void write_json_payload(const Payload& payload, const Scope& scope, std::string& out) {
    switch (payload.kind) {
    case Payload::Kind::literal:
        out += payload.literal_json;
        return;
    case Payload::Kind::text:
        payload.text.evaluate(scope).dump_to(out);
        return;
    case Payload::Kind::object:
        out += '{';
        for (std::size_t i = 0; i < payload.items.size(); ++i) {
            out += i == 0 ? "" : ",";
            core::append_json_string(out, payload.keys[i]);
            out += ':';
            write_json_payload(payload.items[i], scope, out);
        }
        out += '}';
        return;
    case Payload::Kind::array:
        out += '[';
        for (std::size_t i = 0; i < payload.items.size(); ++i) {
            out += i == 0 ? "" : ",";
            write_json_payload(payload.items[i], scope, out);
        }
        out += ']';
        return;
    }
}

core::Json build_payload(const Payload& payload, const Scope& scope) {
    switch (payload.kind) {
    case Payload::Kind::literal:
        return payload.literal;
    case Payload::Kind::text:
        return payload.text.evaluate(scope);
    case Payload::Kind::object: {
        core::Json out = core::Json::object();
        for (std::size_t i = 0; i < payload.items.size(); ++i) {
            out.set(payload.keys[i], build_payload(payload.items[i], scope));
        }
        return out;
    }
    case Payload::Kind::array: {
        core::Json out = core::Json::array();
        for (const Payload& item : payload.items) {
            out.push_back(build_payload(item, scope));
        }
        return out;
    }
    }
    return core::Json();
}

// A parameter value as text; null or multi-line values cannot be sent.
std::string parameter_text(const Step& step, const Parameter& parameter, const Scope& scope) {
    const auto nulls = parameter.value.null_references(scope);
    if (!nulls.empty()) {
        throw WorkflowError("step \"" + step.id + "\": " + parameter.in + " parameter \"" + parameter.name +
                            "\": " + nulls.front() + " is null");
    }
    std::string text = to_text(parameter.value.evaluate(scope));
    if (text.find_first_of("\r\n") != std::string::npos) {
        throw WorkflowError("step \"" + step.id + "\": " + parameter.in + " parameter \"" + parameter.name +
                            "\" holds a line break");
    }
    return text;
}

std::string encode_body(const Step& step, const Scope& scope) {
    if (step.content_type.find("json") != std::string::npos) {
        std::string out;
        write_json_payload(*step.payload, scope, out);
        return out;
    }
    const core::Json body = build_payload(*step.payload, scope);
    if (step.content_type == "application/x-www-form-urlencoded" && body.is_object()) {
        std::string out;
        for (std::size_t i = 0; i < body.size(); ++i) {
            out += (i == 0 ? "" : "&") + core::percent_encode(body.keys()[i]) + "=" +
                   core::percent_encode(to_text(body.items()[i]));
        }
        return out;
    }
    return to_text(body);
}

} // namespace

Runner::Runner(const Workflow& workflow, std::string base_url)
    : m_workflow(&workflow), m_base_url(base_url.empty() ? workflow.default_server_url() : std::move(base_url)) {
    while (!m_base_url.empty() && m_base_url.back() == '/') {
        m_base_url.pop_back();
    }
}

http::Request Runner::build_request(const Step& step, const Context& context) const {
    const Scope scope{&context, nullptr, nullptr};
    if (step.payload) {
        const std::vector<std::string>& used = step.payload_inputs;
        for (const InputSpec& input : m_workflow->inputs()) {
            const core::Json* value = context.inputs.find(input.name);
            if (input.required && (value == nullptr || value->is_null()) &&
                std::find(used.begin(), used.end(), input.name) != used.end()) {
                throw WorkflowError("step \"" + step.id + "\": required input \"" + input.name + "\" is missing");
            }
        }
    }
    http::Request request;
    request.method = step.method;
    std::string path = step.path;
    std::string query;
    bool has_accept = false;
    for (const Parameter& parameter : step.parameters) {
        const std::string value = parameter_text(step, parameter, scope);
        if (parameter.in == "header") {
            request.headers.emplace_back(parameter.name, value);
            has_accept = has_accept || parameter.name == "Accept" || parameter.name == "accept";
        } else if (parameter.in == "query") {
            query += (query.empty() ? "?" : "&") + core::percent_encode(parameter.name) + "=" +
                     core::percent_encode(value);
        } else {
            const std::string placeholder = "{" + parameter.name + "}";
            for (auto at = path.find(placeholder); at != std::string::npos; at = path.find(placeholder)) {
                path.replace(at, placeholder.size(), core::percent_encode(value));
            }
        }
    }
    request.url = m_base_url + path + query;
    if (!has_accept) {
        request.headers.emplace_back("Accept", "application/json");
    }
    if (step.payload) {
        request.headers.emplace_back("Content-Type", step.content_type);
        request.body = encode_body(step, scope);
    }
    return request;
}

core::Json Runner::finish(const Context& context, std::string& error) const {
    const Scope scope{&context, nullptr, nullptr};
    core::Json out = core::Json::object();
    error.clear();
    for (const Output& output : m_workflow->outputs()) {
        core::Json value = output.value.evaluate(scope);
        if (value.is_null() && error.empty()) {
            error = "output " + output.name + " is null";
            const auto& refs = output.value.references();
            const Step* step = refs.empty() ? nullptr : m_workflow->find_step(refs.front().step);
            for (const Output& source : step != nullptr ? step->outputs : std::vector<Output>{}) {
                if (source.name == refs.front().name) {
                    error += ": the " + step->id + " response has nothing at " + source.value.text();
                }
            }
        }
        out.set(output.name, std::move(value));
    }
    return out;
}

const FailureAction* Runner::failure_action(const Step& step, const Context& context,
                                            const http::Response& response) const {
    core::Json body;
    try {
        body = core::Json::parse(response.body, "response");
    } catch (const Error&) {
        // Criteria on the body see null.
    }
    const Scope scope{&context, &response, &body};
    for (const FailureAction& action : step.on_failure) {
        if (std::all_of(action.criteria.begin(), action.criteria.end(),
                        [&](const Condition& condition) { return condition.holds(scope); })) {
            return &action;
        }
    }
    return nullptr;
}

} // namespace onboard::workflow
