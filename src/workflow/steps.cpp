#include "core/error.hpp"
#include "workflow/loader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace onboard::workflow {

namespace {

void collect_payload_inputs(const Payload& payload, std::vector<std::string>& names) {
    for (const Reference& ref : payload.text.references()) {
        if (ref.source == Reference::Source::inputs &&
            std::find(names.begin(), names.end(), ref.name) == names.end()) {
            names.push_back(ref.name);
        }
    }
    for (const Payload& item : payload.items) {
        collect_payload_inputs(item, names);
    }
}

bool matches(const std::string& text, const char* pattern_chars, bool allow_sign) {
    std::size_t i = allow_sign && !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
    if (i >= text.size()) {
        return false;
    }
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i), text.end(),
                       [&](char c) { return std::strchr(pattern_chars, c) != nullptr; });
}

// A plain YAML scalar's JSON value, following the YAML 1.2 core schema.
core::Json plain_scalar(const std::string& text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return core::Json();
    }
    if (text == "true" || text == "True" || text == "TRUE") {
        return core::Json(true);
    }
    if (text == "false" || text == "False" || text == "FALSE") {
        return core::Json(false);
    }
    const char* first = text.data() + (text[0] == '+' ? 1 : 0);
    const char* last = text.data() + text.size();
    if (matches(text, "0123456789", true)) {
        std::int64_t value = 0;
        if (std::from_chars(first, last, value).ec == std::errc()) {
            return core::Json(value);
        }
    }
    if (matches(text, "0123456789.eE+-", true) && std::any_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        double value = 0;
        auto [end, error] = std::from_chars(first, last, value);
        if (error == std::errc() && end == last) {
            return core::Json(value);
        }
    }
    return core::Json(text);
}

// "step \"id\": " to start a message about a step, or "" for a step without an id.
std::string label(const Step& step) { return step.id.empty() ? "" : "step \"" + step.id + "\": "; }

std::string shorten(const std::string& text) {
    std::string flat = text.substr(0, 60);
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    return text.size() > 60 ? flat + "..." : flat;
}

} // namespace

void Loader::load_steps(const YAML::Node& steps) {
    if (!steps.IsSequence() || steps.size() == 0) {
        problem(line_of(steps, 1), "missing required field \"steps\" (a non-empty list)");
        return;
    }
    for (const YAML::Node& node : steps) {
        Step step = load_step(node);
        if (!step.id.empty() && m_workflow.find_step(step.id) != nullptr) {
            problem(step.location.line, "duplicate stepId \"" + step.id + "\"");
        }
        m_workflow.m_steps.push_back(std::move(step));
    }
}

Step Loader::load_step(const YAML::Node& node) {
    Step step;
    step.location = {m_workflow.m_path, line_of(node, 1)};
    step.id = scalar_or(get(node, "stepId"));
    if (step.id.empty()) {
        problem(step.location.line, "missing required field \"stepId\"");
    } else if (!std::all_of(step.id.begin(), step.id.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; })) {
        problem(line_of(get(node, "stepId"), step.location.line),
                "stepId \"" + step.id + "\" may only hold letters, digits, \"_\" and \"-\"");
    }
    load_operation(node, step);
    load_request(node, step);
    const YAML::Node criteria = get(node, "successCriteria");
    if (criteria.IsSequence()) {
        for (const auto& item : criteria) {
            const std::string type = scalar_or(get(item, "type"), "simple");
            if (type != "simple") {
                problem(line_of(item, step.location.line),
                        "only simple success criteria are supported, not \"" + type + "\"");
            } else if (auto condition = load_condition(get(item, "condition"))) {
                step.success_criteria.push_back({std::move(*condition), {m_workflow.m_path, line_of(item, 0)}});
            }
        }
    }
    step.outputs = load_outputs(get(node, "outputs"));
    step.on_failure = load_failure_actions(get(node, "onFailure"));
    if (get(node, "onSuccess").IsDefined()) {
        warn(line_of(get(node, "onSuccess"), step.location.line), "onSuccess actions are ignored");
    }
    return step;
}

void Loader::load_operation(const YAML::Node& node, Step& step) {
    const int line = step.location.line;
    if (get(node, "operationPath").IsDefined() || get(node, "workflowId").IsDefined()) {
        problem(line, label(step) + "only operationId is supported");
        return;
    }
    const YAML::Node id_node = get(node, "operationId");
    step.operation_id = scalar_or(id_node);
    if (step.operation_id.empty()) {
        problem(line, label(step) + "missing required field \"operationId\"");
        return;
    }
    std::string source;
    std::string id = step.operation_id;
    const std::string prefix = "$sourceDescriptions.";
    if (id.rfind(prefix, 0) == 0 && id.find('.', prefix.size()) != std::string::npos) {
        source = id.substr(prefix.size(), id.find('.', prefix.size()) - prefix.size());
        id = id.substr(prefix.size() + source.size() + 1);
    }
    for (const auto& [name, operations] : m_operations) {
        const auto found = operations.find(id);
        if ((source.empty() || source == name) && found != operations.end()) {
            step.method = found->second.method;
            step.path = found->second.path;
            step.operation_id = id;
            return;
        }
    }
    if (!m_operations.empty()) {
        problem(line_of(id_node, line), label(step) + "unknown operationId \"" + step.operation_id + "\"");
    }
}

void Loader::load_request(const YAML::Node& node, Step& step) {
    const YAML::Node parameters = get(node, "parameters");
    if (parameters.IsSequence()) {
        for (const auto& item : parameters) {
            Parameter parameter;
            parameter.location = {m_workflow.m_path, line_of(get(item, "value"), line_of(item, step.location.line))};
            parameter.name = scalar_or(get(item, "name"));
            parameter.in = scalar_or(get(item, "in"));
            if (parameter.name.empty() || get(item, "reference").IsDefined()) {
                problem(parameter.location.line, "a parameter needs \"name\", \"in\" and \"value\"");
                continue;
            }
            if (parameter.in != "header" && parameter.in != "query" && parameter.in != "path") {
                problem(parameter.location.line, "parameter \"" + parameter.name +
                                                     "\": \"in\" must be header, query or path");
                continue;
            }
            if (auto value = load_template(get(item, "value"))) {
                parameter.value = std::move(*value);
                step.parameters.push_back(std::move(parameter));
            }
        }
    }
    const YAML::Node body = get(node, "requestBody");
    if (body.IsDefined() && !body.IsNull()) {
        step.content_type = scalar_or(get(body, "contentType"), "application/json");
        if (get(body, "replacements").IsDefined()) {
            problem(line_of(get(body, "replacements"), 1), "requestBody replacements are not supported");
        }
        if (get(body, "payload").IsDefined()) {
            step.payload = load_payload(get(body, "payload"));
            collect_payload_inputs(*step.payload, step.payload_inputs);
        }
    }
}

std::vector<FailureAction> Loader::load_failure_actions(const YAML::Node& list) {
    std::vector<FailureAction> out;
    if (!list.IsSequence()) {
        return out;
    }
    for (const auto& item : list) {
        FailureAction action;
        action.location = {m_workflow.m_path, line_of(item, 1)};
        action.name = scalar_or(get(item, "name"));
        action.type = scalar_or(get(item, "type"));
        action.step_id = scalar_or(get(item, "stepId"));
        const core::Json after = plain_scalar(scalar_or(get(item, "retryAfter"), "0"));
        const core::Json limit = plain_scalar(scalar_or(get(item, "retryLimit"), "1"));
        action.retry_after = after.is_number() ? after.as_double() : -1;
        action.retry_limit = limit.type() == core::Json::Type::integer ? static_cast<int>(limit.as_int()) : -1;
        if (action.type != "retry" && action.type != "end" && action.type != "goto") {
            problem(action.location.line, "failure action \"" + action.name + "\": type must be retry, end or goto");
        } else if (action.retry_after < 0 || action.retry_limit < 0) {
            problem(action.location.line, "failure action \"" + action.name +
                                              "\": retryAfter and retryLimit must be non-negative numbers");
        } else if (action.type == "goto" && action.step_id.empty()) {
            problem(action.location.line, "failure action \"" + action.name + "\": goto needs a stepId");
        }
        const YAML::Node criteria = get(item, "criteria");
        for (std::size_t i = 0; criteria.IsSequence() && i < criteria.size(); ++i) {
            if (auto condition = load_condition(get(criteria[i], "condition"))) {
                action.criteria.push_back(std::move(*condition));
            }
        }
        out.push_back(std::move(action));
    }
    return out;
}

std::vector<Output> Loader::load_outputs(const YAML::Node& map) {
    std::vector<Output> out;
    if (!map.IsMap()) {
        return out;
    }
    for (const auto& entry : map) {
        if (auto value = load_template(entry.second)) {
            out.push_back({entry.first.Scalar(), std::move(*value), {m_workflow.m_path, line_of(entry.second, 1)}});
        }
    }
    return out;
}

std::optional<Template> Loader::load_template(const YAML::Node& node) {
    if (!node.IsDefined() || !node.IsScalar()) {
        problem(line_of(node, 1), "expected a string value");
        return std::nullopt;
    }
    try {
        Template value = Template::parse(node.Scalar());
        if (!value.bare_expression().empty() && !m_warned_bare) {
            m_warned_bare = true;
            warn(line_of(node, 1), "bare runtime expression in a string; write {" + value.bare_expression() + "}");
        }
        return value;
    } catch (const WorkflowError& e) {
        problem(line_of(node, 1), "malformed expression \"" + shorten(node.Scalar()) + "\": " + e.what());
        return std::nullopt;
    }
}

std::optional<Condition> Loader::load_condition(const YAML::Node& node) {
    if (!node.IsDefined() || !node.IsScalar()) {
        problem(line_of(node, 1), "a criterion needs a \"condition\"");
        return std::nullopt;
    }
    try {
        return Condition::parse(node.Scalar());
    } catch (const WorkflowError& e) {
        problem(line_of(node, 1), "malformed condition \"" + shorten(node.Scalar()) + "\": " + e.what());
        return std::nullopt;
    }
}

Payload Loader::load_payload(const YAML::Node& node) {
    Payload out;
    out.location = {m_workflow.m_path, line_of(node, 1)};
    if (node.IsMap()) {
        out.kind = Payload::Kind::object;
        for (const auto& entry : node) {
            // A repeated key replaces the earlier value in its place, as a JSON object's set does.
            const auto same = std::find(out.keys.begin(), out.keys.end(), entry.first.Scalar());
            if (same != out.keys.end()) {
                out.items[static_cast<std::size_t>(same - out.keys.begin())] = load_payload(entry.second);
                continue;
            }
            out.keys.push_back(entry.first.Scalar());
            out.items.push_back(load_payload(entry.second));
        }
    } else if (node.IsSequence()) {
        out.kind = Payload::Kind::array;
        for (const auto& item : node) {
            out.items.push_back(load_payload(item));
        }
    } else if (node.IsScalar()) {
        const bool plain = node.Tag() == "?";
        if (plain) {
            out.literal = plain_scalar(node.Scalar());
        }
        if (!plain || out.literal.is_string()) {
            out.literal = core::Json(node.Scalar());
            if (auto text = load_template(node); text && !text->references().empty()) {
                out.kind = Payload::Kind::text;
                out.text = std::move(*text);
            }
        }
    }
    if (out.kind == Payload::Kind::literal) {
        out.literal_json = out.literal.dump();
    }
    return out;
}

} // namespace onboard::workflow
