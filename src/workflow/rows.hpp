#pragma once

#include "graphql/parser.hpp"
#include "http/message.hpp"
#include "workflow/runner.hpp"

#include <string>
#include <vector>

namespace onboard::workflow {

// Why `step` cannot carry several rows in one GraphQL document (--rows-per-request), or "" when it
// can; never throws.
std::string batching_problem(const Step& step);

// A row-scoped GraphQL step rewritten to send K rows in one document: each row's top-level field
// under the alias r<i>, its variables renamed $<name>_<i>, each row judged on its own alias.
class MultiRowStep {
public:
    // Prepares `step`; throws WorkflowError "step "<id>": cannot send several rows in one request: ..."
    // when batching_problem(step) is not empty.
    explicit MultiRowStep(const Step& step);

    // The GraphQL document for `rows` rows.
    std::string query(std::size_t rows) const;
    // One request for all `rows` (one context per row); throws WorkflowError like
    // Runner::build_request, or when the rows' headers differ.
    http::Request build_request(const Runner& runner, const std::vector<Context>& rows) const;
    // Each row's result from the one response, judged by `runner` on the row's alias alone, as if
    // answered alone: a 4xx (not 401, 403, 429) with `data` is the status of the rows with errors
    // of their own, the others are judged as answered 200; never throws.
    std::vector<StepResult> judge(const Runner& runner, const std::vector<Context>& rows,
                                  const http::Response& response) const;

    const Step& step() const { return *m_step; }

private:
    const Step* m_step;
    graphql::Operation m_operation;
    std::string m_key; // the response key of the one top-level field
};

} // namespace onboard::workflow
