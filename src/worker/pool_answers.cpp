#include "worker/pool_impl.hpp"
#include "worker/reconcile.hpp"

#include <spdlog/spdlog.h>

namespace onboard::worker {

namespace {

bool is_retryable(const workflow::StepResult& result) {
    return result.retryable && result.error_class != "outcome_unknown";
}

// Whether a create of the row before this one may have made its customer: sent earlier in this
// lease, or in an earlier run, also before an `onboard retry` (which restarts row.attempts).
bool sent_before(const Row& row) {
    return row.attempts > 1 || row.leased.sent_before;
}

// How a retryable failure is retried: the step's matching onFailure action (Arazzo's retryAfter and
// retryLimit, or end) where it has one, the pool's backoff and --max-attempts otherwise. The
// workflow can only narrow --max-attempts, and a permanent failure is never retried whatever it says.
struct RetryPlan {
    bool ends = false;                  // an `end` action: fail now
    int allowed_attempts = 0;
    std::optional<double> wait_at_least; // the larger of Retry-After and retryAfter
    std::string action_name;
};

RetryPlan plan_retry(const workflow::FailureAction* action, const workflow::StepResult& result, int max_attempts) {
    RetryPlan plan;
    plan.allowed_attempts = max_attempts;
    plan.wait_at_least = result.retry_after_seconds;
    if (action == nullptr) {
        return plan;
    }
    plan.action_name = action->name;
    if (action->type == "end") {
        plan.ends = true;
    } else if (action->type == "retry") {
        plan.allowed_attempts = std::min(max_attempts, action->retry_limit + 1);
        plan.wait_at_least = std::max(plan.wait_at_least.value_or(0.0), action->retry_after);
    }
    return plan;
}

} // namespace

void Pool::Impl::on_row_step(Row& row, const Exchange& exchange, const http::Response& response) {
    workflow::Context context = context_for(row);
    const workflow::StepResult result = runner.judge(*row_steps[row.step], context, response);
    on_row_result(row, exchange, response, result, std::move(context));
}

// Several rows shared one document: each is judged on its own alias, then handled as if alone.
void Pool::Impl::on_rows_step(const Exchange& exchange, const http::Response& response) {
    std::vector<workflow::Context> contexts;
    for (const Row* row : exchange.rows) {
        contexts.push_back(context_for(*row));
    }
    const std::vector<workflow::StepResult> results = multi_row->judge(runner, contexts, response);
    for (std::size_t i = 0; i < exchange.rows.size(); ++i) {
        if (!exchange.rows[i]->done) {
            on_row_result(*exchange.rows[i], exchange, response, results[i], std::move(contexts[i]));
        }
    }
}

// `context` is the row's as its request was judged (context_for, built once per answer).
void Pool::Impl::on_row_result(Row& row, const Exchange& exchange, const http::Response& response,
                               const workflow::StepResult& result, workflow::Context context) {
    const workflow::Step& step = *row_steps[row.step];
    store::AttemptRecord attempt = attempt_for(row, exchange, response, "create");
    ++row.attempts;
    const double now = store::now_unix();
    if (result.succeeded) {
        budget.on_success(now);
        row.step_outputs[step.id] = result.outputs;
        if (++row.step < row_steps.size()) {
            --row.attempts; // the next step of the same row is part of the same attempt
            ready.push_front(&row);
            return;
        }
    }
    row.open_attempt = 0; // every path below records this attempt
    if (result.succeeded) {
        std::string error;
        context.step_outputs[step.id] = result.outputs;
        core::Json outputs = runner.finish(context, error);
        if (error.empty()) {
            succeed(row, std::move(attempt), std::move(outputs), false);
        } else if (sent_before(row)) {
            // Nothing created this time, but an earlier attempt may have: look before failing.
            start_lookup(row, std::move(attempt), Phase::lookup_duplicate, "duplicate", error, true);
        } else {
            fail(row, std::move(attempt), "validation", error);
        }
        return;
    }
    row.step = 0;
    row.step_outputs.clear();
    if (result.error_class == "auth") {
        on_auth_failure(row, std::move(attempt), result, response.status);
    } else if (result.error_class == "outcome_unknown") {
        start_lookup(row, std::move(attempt), Phase::lookup_unknown, result.error_class, result.error_message, true);
    } else if (result.error_class == "duplicate" && (sent_before(row) || created_elsewhere(row))) {
        start_lookup(row, std::move(attempt), Phase::lookup_duplicate, result.error_class, result.error_message, true);
    } else if (is_retryable(result)) {
        if (result.error_class == "rate_limited") {
            const double elapsed = std::max(1.0, now - started);
            budget.on_throttled(now, static_cast<double>(totals.requests) / elapsed);
        }
        const RetryPlan plan = plan_retry(runner.failure_action(step, context, response), result, options.max_attempts);
        if (plan.ends) {
            fail(row, std::move(attempt), result.error_class,
                 result.error_message + " (onFailure \"" + plan.action_name + "\" ends the row)");
        } else if (row.attempts < plan.allowed_attempts) {
            retry_later(row, std::move(attempt), result, plan.wait_at_least);
        } else {
            fail(row, std::move(attempt), result.error_class,
                 result.error_message + " (gave up after " + std::to_string(row.attempts) + " attempts)");
        }
    } else {
        fail(row, std::move(attempt), result.error_class, result.error_message);
    }
}

// An auth answer kept in the row's history as a retry: the row (left `state`) is sent again.
void Pool::Impl::record_auth_retry(Row& row, store::AttemptRecord attempt, const std::string& message,
                                   const char* state) {
    store::RowUpdate update;
    update.row_id = row.leased.id;
    update.state = state;
    update.error_class = "auth";
    update.error_message = message;
    attempt.outcome = "retry";
    attempt.error_class = "auth";
    attempt.error_message = message;
    record(std::move(attempt), std::move(update));
    ++totals.retries;
}

void Pool::Impl::on_auth_failure(Row& row, store::AttemptRecord attempt, const workflow::StepResult& result,
                                 int status) {
    if (status == 403) {
        // The token's permissions, not the row, are at fault: the row goes back to the queue, due at
        // once, for the run after the role is fixed; the answer stays in its history as a retry.
        record_auth_retry(row, std::move(attempt), result.error_message, "pending");
        finish_row(row);
        abort("HTTP 403: the token lacks permission for this operation; check the user's role (rows stay pending)");
        return;
    }
    const std::shared_ptr<TokenContext>& used = row.sent_with;
    if (used && used->from_rerefresh && used == row.batch->context) {
        // A token minted because of a 401 was refused again (revoked, or expired on the way): not the
        // row's fault, so it goes back to the queue with the answer kept as a retry, and the pool does
        // not loop: --max-auth-failures of these in a row stop the run.
        record_auth_retry(row, std::move(attempt), result.error_message + " (after a re-refresh)", "pending");
        finish_row(row);
        if (++consecutive_auth_failures >= options.max_auth_failures) {
            abort(std::to_string(consecutive_auth_failures) +
                  " consecutive requests were refused with a fresh access token; stopping");
        }
        return;
    }
    record_auth_retry(row, std::move(attempt), result.error_message, "in_flight");
    --row.attempts; // a refused token is our problem, not the row's
    if (used && used == row.batch->context && !used->stale) {
        used->stale = true;
        auto job = std::make_shared<ContextJob>();
        job->replaces = used;
        context_jobs.push_front(job);
        spdlog::info("access token refused (HTTP 401): refreshing once for the whole pool");
    }
    waiting_for_token.push_back(&row);
}

void Pool::Impl::on_lookup(Row& row, const Exchange& exchange, const http::Response& response) {
    flush(); // the row's attempts are all in the store before asking when it was first sent
    const LookupResult found = read_lookup(response, row.leased.inputs, store.first_create_time(row.leased.id));
    store::AttemptRecord attempt = attempt_for(row, exchange, response, "reconcile");
    if (found.kind == LookupResult::Kind::found) {
        core::Json outputs = core::Json::object();
        outputs.set("customerId", found.customer_id);
        outputs.set("customer", found.customer);
        succeed(row, std::move(attempt), std::move(outputs), true);
        return;
    }
    if (found.kind == LookupResult::Kind::conflict ||
        (found.kind == LookupResult::Kind::not_found && row.phase == Phase::lookup_duplicate)) {
        fail(row, std::move(attempt), "duplicate",
             found.kind == LookupResult::Kind::conflict ? found.message : row.last_error_message);
        return;
    }
    if (found.kind == LookupResult::Kind::not_found) {
        // Nothing was created: resending is safe.
        row.maybe_sent = false;
        store::RowUpdate update;
        update.row_id = row.leased.id;
        update.counts_as_attempt = false;
        attempt.outcome = "not_found";
        if (row.attempts >= options.max_attempts) {
            fail(row, std::move(attempt), row.last_error_class == "outcome_unknown" ? "network" : row.last_error_class,
                 row.last_error_message + " (gave up after " + std::to_string(row.attempts) + " attempts)");
            return;
        }
        update.state = "in_flight";
        record(std::move(attempt), std::move(update));
        row.phase = Phase::create;
        ready.push_back(&row);
        return;
    }
    if (response.status == 401 && row.sent_with && row.sent_with == row.batch->context && !row.sent_with->stale) {
        record_failed_lookup(row, std::move(attempt), found);
        row.sent_with->stale = true;
        auto job = std::make_shared<ContextJob>();
        job->replaces = row.sent_with;
        context_jobs.push_front(job);
        waiting_for_token.push_back(&row);
        return;
    }
    if (++row.lookup_failures < std::max(options.max_attempts, k_min_lookup_tries)) {
        record_failed_lookup(row, std::move(attempt), found);
        row_timers.emplace(store::now_unix() + backoff.delay(row.lookup_failures, std::nullopt), &row);
        return;
    }
    // Leave it for a later run: it must be reconciled before anything is resent.
    store::RowUpdate update;
    update.row_id = row.leased.id;
    update.state = "outcome_unknown";
    update.error_class = "outcome_unknown";
    update.error_message = row.last_error_message + "; " + found.message;
    update.counts_as_attempt = false;
    attempt.outcome = "failed";
    attempt.error_class = "outcome_unknown";
    attempt.error_message = found.message;
    record(std::move(attempt), std::move(update));
    unresolved.insert(row.leased.id);
    ++totals.unresolved;
    finish_row(row);
}

// A lookup that came to nothing is history too (every request made is): the row stays this run's,
// still to be reconciled before anything is resent, as start_lookup left it.
void Pool::Impl::record_failed_lookup(Row& row, store::AttemptRecord attempt, const LookupResult& found) {
    store::RowUpdate update;
    update.row_id = row.leased.id;
    update.state = "in_flight";
    update.error_class = row.last_error_class;
    update.error_message = row.last_error_message;
    update.counts_as_attempt = false;
    update.maybe_created = true;
    attempt.outcome = "retry";
    attempt.error_class = found.error_class;
    attempt.error_message = found.message;
    record(std::move(attempt), std::move(update));
}

void Pool::Impl::on_context_step(const std::shared_ptr<ContextJob>& job, const http::Response& response) {
    context_job_in_flight = false;
    const workflow::Step& step = *context_steps[job->step];
    workflow::Context context;
    context.inputs = run_inputs;
    context.step_outputs = job->outputs;
    const workflow::StepResult result = runner.judge(step, context, response);
    if (result.succeeded) {
        remember_rotated_refresh_token(response);
        job->outputs[step.id] = result.outputs;
        if (++job->step < context_steps.size()) {
            context_jobs.push_front(job);
        } else {
            context_ready(*job);
        }
        return;
    }
    if (result.error_class == "auth" && job->token_file_rereads == 0 && !options.refresh_token_file.empty()) {
        // The run that rotated the token may still be saving it: look at the file again shortly.
        job->token_file_rereads = 1;
        job_timers.emplace(store::now_unix() + k_token_file_recheck_seconds, job);
        return;
    }
    if (result.error_class == "auth" || !result.retryable) {
        abort("step \"" + step.id + "\" failed (" + result.error_class + "): " + result.error_message +
              (result.error_class == "auth" ? " — the refresh token is wrong or revoked; rows stay pending" : ""));
        return;
    }
    const RetryPlan plan = plan_retry(runner.failure_action(step, context, response), result, options.max_attempts);
    if (plan.ends) {
        abort("step \"" + step.id + "\" failed (" + result.error_class + "): " + result.error_message +
              " (onFailure \"" + plan.action_name + "\" ends the run)");
        return;
    }
    if (++job->attempts >= plan.allowed_attempts) {
        abort("step \"" + step.id + "\" kept failing: " + result.error_message);
        return;
    }
    job_timers.emplace(store::now_unix() + backoff.delay(job->attempts, plan.wait_at_least), job);
}

void Pool::Impl::context_ready(ContextJob& job) {
    auto context = std::make_shared<TokenContext>();
    context->step_outputs = std::move(job.outputs);
    context->from_rerefresh = job.replaces != nullptr;
    read_token_expiry(*context);
    newest_context = context;
    if (job.batch == nullptr && job.replaces == nullptr) {
        return; // its batch was handed back while the refresh was in flight
    }
    if (job.batch != nullptr) {
        job.batch->context = context;
        for (auto& row : job.batch->rows) {
            ready.push_back(row.get());
        }
        return;
    }
    for (auto& batch : batches) {
        if (batch->context == job.replaces || (batch->context && batch->context->stale)) {
            batch->context = context;
        }
    }
    for (Row* row : waiting_for_token) {
        ready.push_front(row);
    }
    waiting_for_token.clear();
}

void Pool::Impl::abort(const std::string& reason) {
    if (totals.aborted) {
        return;
    }
    spdlog::info("stopping the run: {}", reason); // cli::run prints the reason once, as the error
    totals.aborted = true;
    totals.abort_reason = reason;
    stopping = true;
}

} // namespace onboard::worker
