#include "workflow/workflow.hpp"

#include "core/error.hpp"
#include "workflow/loader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace onboard::workflow {

YAML::Node get(const YAML::Node& map, const char* key) {
    if (!map.IsMap()) {
        return YAML::Node(YAML::NodeType::Undefined);
    }
    const YAML::Node found = map[key];
    // A missing key gives an invalid node that throws on use: hand out an undefined one instead.
    return found.IsDefined() ? found : YAML::Node(YAML::NodeType::Undefined);
}

std::string scalar_or(const YAML::Node& node, const std::string& fallback) {
    return node.IsDefined() && node.IsScalar() ? node.Scalar() : fallback;
}

namespace {

// The YAML file's root; throws YAML::Exception, or YAML::BadFile when it cannot be read.
YAML::Node read_yaml(const std::string& file) {
    if (!std::filesystem::is_regular_file(file)) {
        throw YAML::BadFile(file);
    }
    return YAML::LoadFile(file);
}

bool looks_secret(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* word : {"token", "secret", "password", "key"}) {
        if (name.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace

int line_of(const YAML::Node& node, int fallback) {
    if (!node.IsDefined()) {
        return fallback;
    }
    const int line = node.Mark().line;
    return line >= 0 ? line + 1 : fallback;
}

Workflow Workflow::load(const std::string& path, const std::vector<std::string>& row_inputs) {
    return Loader(path, row_inputs).run();
}

const Step* Workflow::find_step(std::string_view id) const {
    for (const Step& step : m_steps) {
        if (step.id == id) {
            return &step;
        }
    }
    return nullptr;
}

std::vector<std::string> Workflow::secret_inputs() const {
    std::vector<std::string> out;
    for (const InputSpec& input : m_inputs) {
        if (looks_secret(input.name) ||
            std::find(m_secret_format_inputs.begin(), m_secret_format_inputs.end(), input.name) !=
                m_secret_format_inputs.end()) {
            out.push_back(input.name);
        }
    }
    return out;
}

std::vector<std::string> Workflow::secret_outputs() const {
    std::vector<std::string> out;
    const std::vector<std::string> inputs = secret_inputs();
    auto carries_secret = [&](const Reference& ref) {
        switch (ref.source) {
        case Reference::Source::inputs:
            return std::find(inputs.begin(), inputs.end(), ref.name) != inputs.end();
        case Reference::Source::step_output:
            return std::find(out.begin(), out.end(), ref.step + "." + ref.name) != out.end();
        default:
            return looks_secret(ref.pointer) || looks_secret(ref.name);
        }
    };
    for (const Step& step : m_steps) {
        for (const Output& output : step.outputs) {
            const auto& refs = output.value.references();
            if (looks_secret(output.name) || std::any_of(refs.begin(), refs.end(), carries_secret)) {
                out.push_back(step.id + "." + output.name);
            }
        }
    }
    return out;
}

Loader::Loader(std::string path, std::vector<std::string> row_inputs)
    : m_row_inputs(std::move(row_inputs)) {
    m_workflow.m_path = std::move(path);
}

void Loader::problem(const std::string& file, int line, const std::string& what) {
    m_problems.push_back({file, line, what});
}

void Loader::warn(int line, const std::string& what) {
    m_workflow.m_warnings.push_back(m_workflow.m_path + ":" + std::to_string(line) + ": " + what);
}

Workflow Loader::run() {
    YAML::Node root;
    try {
        root = read_yaml(m_workflow.m_path);
    } catch (const YAML::BadFile&) {
        throw WorkflowError(m_workflow.m_path + ": cannot read the file");
    } catch (const YAML::Exception& e) {
        throw WorkflowError(m_workflow.m_path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) {
        throw WorkflowError(m_workflow.m_path + ":1: expected a mapping with \"arazzo\", "
                                                "\"sourceDescriptions\" and \"workflows\"");
    }
    if (!get(root, "arazzo").IsDefined()) {
        problem(1, "missing required field \"arazzo\"");
    } else if (scalar_or(get(root, "arazzo")).rfind("1.", 0) != 0) {
        problem(line_of(get(root, "arazzo"), 1), "unsupported Arazzo version \"" +
                                                     scalar_or(get(root, "arazzo")) + "\"; expected 1.x");
    }
    load_sources(root);
    const YAML::Node workflows = get(root, "workflows");
    if (!workflows.IsSequence() || workflows.size() == 0) {
        problem(line_of(workflows, 1), "missing required field \"workflows\" (a non-empty list)");
    } else {
        if (workflows.size() > 1) {
            warn(line_of(workflows[1], 1), "only the first workflow is run");
        }
        const YAML::Node workflow = workflows[0];
        m_workflow.m_workflow_id = scalar_or(get(workflow, "workflowId"));
        if (m_workflow.m_workflow_id.empty()) {
            problem(line_of(workflow, 1), "missing required field \"workflowId\"");
        }
        load_inputs(get(workflow, "inputs"));
        load_steps(get(workflow, "steps"));
        const auto defaults = load_failure_actions(get(workflow, "failureActions"));
        for (Step& step : m_workflow.m_steps) {
            if (step.on_failure.empty()) {
                step.on_failure = defaults;
            }
        }
        m_workflow.m_outputs = load_outputs(get(workflow, "outputs"));
        check_references();
        compute_batch_scope();
    }
    if (!m_problems.empty()) {
        // Reported in file order, whichever pass found them.
        std::stable_sort(m_problems.begin(), m_problems.end(), [&](const Problem& a, const Problem& b) {
            return std::make_pair(a.file != m_workflow.m_path, a.line) < std::make_pair(b.file != m_workflow.m_path, b.line);
        });
        std::string message;
        for (const Problem& p : m_problems) {
            message += (message.empty() ? "" : "\n") + p.file + ":" + std::to_string(p.line) + ": " + p.what;
        }
        throw WorkflowError(message);
    }
    return std::move(m_workflow);
}

void Loader::load_sources(const YAML::Node& root) {
    const YAML::Node sources = get(root, "sourceDescriptions");
    if (!sources.IsSequence() || sources.size() == 0) {
        problem(line_of(sources, 1), "missing required field \"sourceDescriptions\" (a non-empty list)");
        return;
    }
    for (const YAML::Node& source : sources) {
        const int line = line_of(source, 1);
        const std::string name = scalar_or(get(source, "name"));
        const std::string url = scalar_or(get(source, "url"));
        const std::string type = scalar_or(get(source, "type"), "openapi");
        if (name.empty() || url.empty()) {
            problem(line, "a source description needs \"name\" and \"url\"");
        } else if (type != "openapi") {
            problem(line, "source description \"" + name + "\": unsupported type \"" + type + "\"");
        } else if (url.find("://") != std::string::npos) {
            problem(line_of(get(source, "url"), line), "source description \"" + name +
                                                           "\": only local files are supported, not \"" + url + "\"");
        } else {
            const auto dir = std::filesystem::path(m_workflow.m_path).parent_path();
            load_openapi(name, url, (dir / url).lexically_normal().string(), line_of(get(source, "url"), line));
        }
    }
}

void Loader::load_openapi(const std::string& name, const std::string& url, const std::string& file, int line) {
    YAML::Node doc;
    try {
        doc = read_yaml(file);
    } catch (const YAML::BadFile&) {
        problem(line, "source description \"" + name + "\": cannot read \"" + url + "\"");
        return;
    } catch (const YAML::Exception& e) {
        problem(file, e.mark.line + 1, "invalid YAML: " + e.msg);
        return;
    }
    auto& operations = m_operations[name];
    const YAML::Node servers = get(doc, "servers");
    if (m_workflow.m_server_url.empty() && servers.IsSequence() && servers.size() > 0) {
        std::string server = scalar_or(get(servers[0], "url"));
        while (!server.empty() && server.back() == '/') {
            server.pop_back();
        }
        m_workflow.m_server_url = server;
    }
    const YAML::Node paths = get(doc, "paths");
    if (!paths.IsMap()) {
        problem(file, line_of(paths, 1), "missing required field \"paths\"");
        return;
    }
    for (const auto& path : paths) {
        for (const char* method : {"get", "put", "post", "delete", "options", "head", "patch", "trace"}) {
            const YAML::Node op = get(path.second, method);
            const std::string id = scalar_or(get(op, "operationId"));
            if (id.empty()) {
                continue;
            }
            if (operations.count(id) != 0) {
                problem(file, line_of(get(op, "operationId"), 1), "duplicate operationId \"" + id + "\"");
            }
            std::string upper(method);
            std::transform(upper.begin(), upper.end(), upper.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            operations[id] = Operation{upper, path.first.Scalar(), name};
        }
    }
}

void Loader::load_inputs(const YAML::Node& inputs) {
    if (!inputs.IsDefined() || inputs.IsNull()) {
        return;
    }
    const YAML::Node properties = get(inputs, "properties");
    if (!properties.IsMap()) {
        problem(line_of(inputs, 1), "inputs: expected a JSON schema object with \"properties\"");
        return;
    }
    std::vector<std::string> required;
    const YAML::Node required_list = get(inputs, "required");
    if (required_list.IsSequence()) {
        for (const auto& item : required_list) {
            required.push_back(scalar_or(item));
        }
    }
    for (const auto& property : properties) {
        InputSpec spec;
        spec.name = property.first.Scalar();
        spec.type = scalar_or(get(property.second, "type"), "string");
        spec.description = scalar_or(get(property.second, "description"));
        spec.required = std::find(required.begin(), required.end(), spec.name) != required.end();
        if (scalar_or(get(property.second, "format")) == "password") {
            m_workflow.m_secret_format_inputs.push_back(spec.name);
        }
        m_workflow.m_inputs.push_back(std::move(spec));
    }
    for (const std::string& name : required) {
        if (!get(properties, name.c_str()).IsDefined()) {
            problem(line_of(required_list, 1), "required input \"" + name + "\" is not among the properties");
        }
    }
}

} // namespace onboard::workflow
