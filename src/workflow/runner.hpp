#pragma once

#include "core/json.hpp"
#include "http/message.hpp"
#include "workflow/expression.hpp"
#include "workflow/workflow.hpp"

#include <optional>
#include <string>

namespace onboard::workflow {

// What a step's answer means.
struct StepResult {
    bool succeeded = false;
    core::Json outputs;        // object of the step's outputs
    std::string error_class;   // "" on success; else one of: validation, duplicate, graphql, auth,
                               // rate_limited, server, network, outcome_unknown
    std::string error_message; // the server's own words (GraphQL messages joined with "; ",
                               // field-prefixed like "name: Customer with this name already exists")
    bool retryable = false;    // network, server (5xx, non-JSON body), rate_limited
    std::optional<double> retry_after_seconds; // from a Retry-After header (seconds or HTTP date)
};

// Executes a loaded workflow's steps: builds their requests and judges their answers; stateless
// and safe to share between threads.
class Runner {
public:
    // A runner sending to `base_url`, which replaces the OpenAPI server url when not empty.
    Runner(const Workflow& workflow, std::string base_url);

    // The HTTP request of `step` with every expression evaluated in `context`; throws WorkflowError
    // when a header, query or path value or a required input resolves to null.
    http::Request build_request(const Step& step, const Context& context) const;
    // What `response` to `step` means, following the judging order of the docs; never throws.
    StepResult judge(const Step& step, const Context& context, const http::Response& response) const;
    // Workflow outputs for a finished row; sets `error` (e.g. "output customerId is null: ...") when
    // any output is null, else clears it; never throws.
    core::Json finish(const Context& context, std::string& error) const;
    // The first of the step's onFailure actions whose criteria hold for `response`, or nullptr.
    const FailureAction* failure_action(const Step& step, const Context& context,
                                        const http::Response& response) const;

    const std::string& base_url() const { return m_base_url; }

private:
    const Workflow* m_workflow;
    std::string m_base_url;
};

// GraphQL error objects as one message: "field: message" (or the message alone) joined with "; ".
std::string error_messages(const core::Json& errors);
// Whether an error message says a unique value is already in use.
bool says_duplicate(const std::string& message);
// The failure a GraphQL answer carries: top-level `errors` (graphql, or auth/duplicate by their
// words) or a payload's `errors` under data.* (duplicate or validation); nullopt when none.
std::optional<StepResult> judge_graphql(const core::Json& body);

// Parses a Retry-After value (delay seconds or an HTTP date) into seconds from now (>= 0).
std::optional<double> parse_retry_after(std::string_view value);

} // namespace onboard::workflow
