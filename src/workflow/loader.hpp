#pragma once

#include "workflow/workflow.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace onboard::workflow {

// An operation of an OpenAPI source description.
struct Operation {
    std::string method; // upper case
    std::string path;
    std::string source; // the sourceDescription's name
};

// Reads an Arazzo file into a Workflow, collecting every problem before throwing (internal to
// Workflow::load; steps are read in steps.cpp, the semantic checks live in check.cpp).
class Loader {
public:
    Loader(std::string path, std::vector<std::string> row_inputs);
    // The loaded workflow; throws WorkflowError listing every problem as "file:line: ...".
    Workflow run();

private:
    void problem(const std::string& file, int line, const std::string& what);
    void problem(int line, const std::string& what) { problem(m_workflow.m_path, line, what); }
    void warn(int line, const std::string& what);

    void load_sources(const YAML::Node& root);
    void load_openapi(const std::string& name, const std::string& url, const std::string& file, int line);
    void load_inputs(const YAML::Node& inputs);
    void load_steps(const YAML::Node& steps);
    Step load_step(const YAML::Node& node);
    void load_operation(const YAML::Node& node, Step& step);
    void load_request(const YAML::Node& node, Step& step);
    std::vector<FailureAction> load_failure_actions(const YAML::Node& list);
    std::vector<Output> load_outputs(const YAML::Node& map);
    std::optional<Template> load_template(const YAML::Node& node);
    std::optional<Condition> load_condition(const YAML::Node& node);
    Payload load_payload(const YAML::Node& node);

    // check.cpp: references between inputs, steps and outputs; batch scoping.
    void check_references();
    void check_reference(const Reference& ref, std::size_t step_index, bool response_allowed,
                         int line);
    void check_query_text(const Step& step);
    void compute_batch_scope();

    Workflow m_workflow;
    std::vector<std::string> m_row_inputs;
    std::map<std::string, std::map<std::string, Operation>> m_operations; // source -> opId -> op
    struct Problem {
        std::string file;
        int line = 0;
        std::string what;
    };
    std::vector<Problem> m_problems;
    bool m_warned_bare = false;
};

// The line of `node` (1-based), or `fallback` when the node is absent.
int line_of(const YAML::Node& node, int fallback);
// The member `key` of a mapping, or an undefined node (also when `map` is not a mapping).
YAML::Node get(const YAML::Node& map, const char* key);
// The text of a scalar node, or `fallback` when it is absent or not a scalar.
std::string scalar_or(const YAML::Node& node, const std::string& fallback = "");

} // namespace onboard::workflow
