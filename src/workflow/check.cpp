#include "workflow/loader.hpp"

#include <algorithm>
#include <functional>

namespace onboard::workflow {

namespace {

// Calls `visit(reference, in_response_scope, line)` for every runtime expression of `step`.
using Visitor = std::function<void(const Reference&, bool, int)>;

void visit_template(const Template& value, bool response, int line, const Visitor& visit) {
    for (const Reference& ref : value.references()) {
        visit(ref, response, line);
    }
}

void visit_condition(const Condition& condition, int line, const Visitor& visit) {
    for (const Reference& ref : condition.references()) {
        visit(ref, true, line);
    }
}

void visit_payload(const Payload& payload, const Visitor& visit) {
    if (payload.kind == Payload::Kind::text) {
        visit_template(payload.text, false, payload.location.line, visit);
    }
    for (const Payload& item : payload.items) {
        visit_payload(item, visit);
    }
}

void visit_step(const Step& step, const Visitor& visit) {
    for (const Parameter& parameter : step.parameters) {
        visit_template(parameter.value, false, parameter.location.line, visit);
    }
    if (step.payload) {
        visit_payload(*step.payload, visit);
    }
    for (const Criterion& criterion : step.success_criteria) {
        visit_condition(criterion.condition, criterion.location.line, visit);
    }
    for (const Output& output : step.outputs) {
        visit_template(output.value, true, output.location.line, visit);
    }
    for (const FailureAction& action : step.on_failure) {
        for (const Condition& condition : action.criteria) {
            visit_condition(condition, action.location.line, visit);
        }
    }
}

} // namespace

void Loader::check_references() {
    const auto& steps = m_workflow.m_steps;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        visit_step(steps[i], [&](const Reference& ref, bool response, int line) {
            check_reference(ref, i, response, line);
        });
        check_query_text(steps[i]);
        for (const FailureAction& action : steps[i].on_failure) {
            if (action.type == "goto" && !action.step_id.empty() && m_workflow.find_step(action.step_id) == nullptr) {
                problem(action.location.line, "failure action \"" + action.name + "\": unknown step \"" +
                                                  action.step_id + "\"");
            } else if (action.type == "goto") {
                // Rows run their steps in order; a jump would need a step graph onboard does not have.
                problem(action.location.line, "failure action \"" + action.name +
                                                  "\": goto is not supported by onboard (use retry or end)");
            }
        }
    }
    for (const Output& output : m_workflow.m_outputs) {
        for (const Reference& ref : output.value.references()) {
            check_reference(ref, steps.size(), false, output.location.line);
        }
    }
}

void Loader::check_reference(const Reference& ref, std::size_t step_index, bool response_allowed, int line) {
    const auto& steps = m_workflow.m_steps;
    const auto& inputs = m_workflow.m_inputs;
    switch (ref.source) {
    case Reference::Source::inputs:
        if (std::none_of(inputs.begin(), inputs.end(), [&](const InputSpec& in) { return in.name == ref.name; })) {
            problem(line, "unknown input \"" + ref.name + "\" in " + ref.text + " (not declared in the workflow's inputs)");
        }
        return;
    case Reference::Source::step_output: {
        const auto found = std::find_if(steps.begin(), steps.end(), [&](const Step& s) { return s.id == ref.step; });
        const auto index = static_cast<std::size_t>(found - steps.begin());
        if (found == steps.end()) {
            problem(line, "unknown step \"" + ref.step + "\" in " + ref.text);
        } else if (index == step_index) {
            problem(line, "step \"" + ref.step + "\" refers to its own outputs in " + ref.text);
        } else if (index > step_index) {
            problem(line, "reference to a later step \"" + ref.step + "\" in " + ref.text);
        } else if (std::none_of(found->outputs.begin(), found->outputs.end(),
                                [&](const Output& o) { return o.name == ref.name; })) {
            problem(line, "step \"" + ref.step + "\" has no output \"" + ref.name + "\" (" + ref.text + ")");
        }
        return;
    }
    default:
        if (!response_allowed) {
            problem(line, ref.text + " is only available in successCriteria and step outputs");
        }
        return;
    }
}

void Loader::check_query_text(const Step& step) {
    if (!step.payload || step.payload->kind != Payload::Kind::object) {
        return;
    }
    const auto& keys = step.payload->keys;
    const auto query = std::find(keys.begin(), keys.end(), "query");
    if (query != keys.end()) {
        const Payload& text = step.payload->items[static_cast<std::size_t>(query - keys.begin())];
        if (text.kind == Payload::Kind::text) {
            problem(text.location.line, "step \"" + step.id +
                                            "\": runtime expression in the GraphQL query text; pass values as variables");
        }
    }
}

void Loader::compute_batch_scope() {
    auto& steps = m_workflow.m_steps;
    std::vector<std::string> row_scoped;
    for (Step& step : steps) {
        bool per_row = false;
        visit_step(step, [&](const Reference& ref, bool, int) {
            if (ref.source == Reference::Source::inputs) {
                per_row = per_row || std::find(m_row_inputs.begin(), m_row_inputs.end(), ref.name) != m_row_inputs.end();
            } else if (ref.source == Reference::Source::step_output) {
                per_row = per_row || std::find(row_scoped.begin(), row_scoped.end(), ref.step) != row_scoped.end();
            }
        });
        step.batch_scoped = !per_row;
        if (per_row) {
            row_scoped.push_back(step.id);
        }
    }
}

} // namespace onboard::workflow
