#pragma once

// Private to worker/: the pool's state and its methods, implemented across pool*.cpp.

#include "core/error.hpp"
#include "http/client.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"
#include "worker/pacing.hpp"
#include "worker/pool.hpp"
#include "worker/pool_state.hpp"
#include "worker/reconcile.hpp"
#include "workflow/rows.hpp"
#include "workflow/runner.hpp"
#include "workflow/workflow.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace onboard::worker {


inline constexpr std::size_t k_flush_every_records = 1024;
inline constexpr double k_flush_every_seconds = 0.1;
// Creates written ahead of their turn: a commit syncs the WAL (milliseconds on a virtual disk), so
// each commit writes ahead enough rows for the sends until the next one (a quarter second of the
// recent send rate, at most k_max_written_ahead) and a freed request slot is refilled without
// waiting for a commit. No more: after a crash each row written ahead costs a lookup and counts
// an attempt, sent or not.
inline constexpr std::size_t k_max_written_ahead = 512;
inline constexpr double k_written_ahead_seconds = 0.25;
// The next batch is leased while the rows in memory still last this long at the recent send rate
// (and at least two rounds of requests): its lease, its refresh and the write-ahead of its first
// creates all come before the last row of the current batches goes out.
inline constexpr double k_lease_lead_seconds = 0.05;
// A reconciling lookup only reads, so it is retried in the run at least this often even under a
// low --max-attempts (which counts creates): else a row stays outcome_unknown until the next run.
inline constexpr int k_min_lookup_tries = 5;
// After a refused refresh, how long another run sharing the token file gets to save the token it
// rotated ours into before the file is read again.
inline constexpr double k_token_file_recheck_seconds = 1.0;

inline std::uint64_t pick_seed(std::uint64_t seed) {
    return seed != 0 ? seed : std::random_device{}();
}


// One transaction of the run's bookkeeping, written on the writer's thread (store::Writer) while the
// loop goes on, or on the loop's own when it must wait for it. write() touches only this object
// and the store; the loop applies the answers (Impl::apply) once it is done.
struct Commit {
    struct Lease {
        std::int64_t run_id = 0;
        std::string owner;
        int limit = 0;
        double now = 0;
        double lease_seconds = 0;
        std::optional<std::int64_t> import_id;
    };
    std::vector<std::int64_t> cancelled_sends; // write-aheads of creates that will not be sent
    std::vector<std::pair<store::AttemptRecord, store::RowUpdate>> records;
    std::vector<store::AttemptRecord> sendings; // write-aheads, one per written_ahead row
    std::vector<Row*> written_ahead;            // read by the loop only
    std::optional<Lease> lease;

    std::vector<char> held;                 // per record: false when another run took the row over
    std::vector<std::int64_t> attempt_ids;  // per write-ahead
    std::vector<store::LeasedRow> leased;
    std::int64_t batch_id = 0;

    void write(store::Store& store);
};

struct Pool::Impl {
    store::Store& store;
    const workflow::Workflow& workflow;
    PoolOptions options;
    core::Json run_inputs;
    std::shared_ptr<core::Secrets> secrets;
    workflow::Runner runner;
    http::Client client;
    Backoff backoff;
    RateBudget budget;
    std::vector<const workflow::Step*> context_steps;
    std::vector<const workflow::Step*> row_steps;
    std::optional<workflow::MultiRowStep> multi_row; // with --rows-per-request above 1

    std::int64_t run_id = 0;
    RunTotals totals;
    std::deque<std::unique_ptr<Batch>> batches;
    std::deque<std::shared_ptr<ContextJob>> context_jobs; // run one at a time (rotating refresh tokens)
    bool context_job_in_flight = false;
    std::deque<Row*> ready;
    std::vector<Row*> waiting_for_token;
    std::multimap<double, Row*> row_timers;
    std::multimap<double, std::shared_ptr<ContextJob>> job_timers;
    std::unordered_map<std::uint64_t, Exchange> exchanges;
    std::vector<std::pair<std::uint64_t, Exchange>> outgoing; // dispatched, started after their write-ahead
    std::uint64_t next_tag = 1;
    std::unordered_set<std::int64_t> unresolved; // rows left outcome_unknown in this run
    std::vector<std::pair<store::AttemptRecord, store::RowUpdate>> records;
    std::vector<std::int64_t> cancelled_sends; // write-aheads of creates that will not be sent
    std::unique_ptr<Commit> committing;    // the commit the writer is running (outlives the writer)
    store::Writer writer;                  // commits off the loop's thread
    bool lease_wanted = false;             // the next commit leases a batch
    double last_flush = 0;
    double send_window_start = 0;  // creates sent: see count_sends
    std::size_t sends_in_window = 0;
    std::size_t sends_per_second = 0;
    double last_lease_extension = 0;
    double lease_idle_until = 0;
    bool queue_drained = false; // the last lease found no row due
    bool refresh_tokens_rotate = false;             // a refresh answered a new refresh token
    std::shared_ptr<TokenContext> newest_context;   // the last batch-scoped outputs (access token)
    bool stopping = false;
    int consecutive_auth_failures = 0;
    double started = 0;

    Impl(store::Store& store_, const workflow::Workflow& workflow_, PoolOptions options_, core::Json inputs,
         std::shared_ptr<core::Secrets> secrets_)
        : store(store_), workflow(workflow_), options(std::move(options_)), run_inputs(std::move(inputs)),
          secrets(std::move(secrets_)), runner(workflow_, options.api_url),
          client(http::ClientOptions{options.timeout_seconds, std::min(10.0, options.timeout_seconds), 1024}),
          backoff(options.backoff_base_seconds, options.backoff_cap_seconds, pick_seed(options.seed)),
          budget(options.rate), writer(store_, [this] { client.wake(); }) {
        for (const auto& step : workflow.steps()) {
            (step.batch_scoped ? context_steps : row_steps).push_back(&step);
        }
        if (row_steps.empty()) {
            throw WorkflowError("the workflow has no step that depends on a row's inputs: nothing to do per row");
        }
        if (options.rows_per_request > 1) {
            if (row_steps.size() != 1) {
                throw WorkflowError("--rows-per-request needs a workflow with one per-row step, this one has " +
                                    std::to_string(row_steps.size()));
            }
            multi_row.emplace(*row_steps.front());
        }
    }

    // ---- recording ----

    void record(store::AttemptRecord attempt, store::RowUpdate update) {
        attempt.run_id = run_id;
        update.lease_owner = options.owner;
        records.emplace_back(std::move(attempt), std::move(update));
    }

    static bool needs_write_ahead(const Exchange& exchange) {
        return exchange.write_ahead && std::any_of(exchange.rows.begin(), exchange.rows.end(),
                                                   [](const Row* row) { return row->open_attempt == 0; });
    }

    // An exchange waiting for a write-ahead no commit carries yet.
    bool outgoing_needs_commit() const;
    // The creates next in line are no longer written ahead half-way to the target.
    bool written_ahead_running_low() const;

    // Counts the creates of rows going out, for the send rate of the last whole second.
    void count_sends(double now, std::size_t rows) {
        if (now - send_window_start >= 1.0) {
            sends_per_second = now - send_window_start < 2.0 ? sends_in_window : 0;
            send_window_start = now;
            sends_in_window = 0;
        }
        sends_in_window += rows;
    }

    std::size_t written_ahead_target() const;
    void write_ahead(Commit& commit, Row& row, const std::string& started_at) const;
    void write_ahead_ready(Commit& commit);
    std::unique_ptr<Commit> gather(double now, bool lease);
    void apply(Commit& commit);
    // Waits for the commit on the writer's thread, if any, and applies its answers; the store is
    // the loop's again after this.
    void settle();
    // Starts a commit on the writer's thread when one is due and none is running; the loop goes on
    // meanwhile. Creates wait in `outgoing` until their write-ahead is committed.
    void pump_commits(double now);
    // Nothing in memory or in flight: no row, request, refresh or commit.
    bool nothing_held() const;
    // Everything buffered, written now on this thread (rare paths: a lookup, an interrupt, the end).
    void flush();

    // A row leaving without sending the create written ahead for it.
    void cancel_write_ahead(Row& row) {
        if (row.write_ahead_pending) {
            settle(); // its attempt's id comes with the commit
        }
        if (row.open_attempt != 0) {
            cancelled_sends.push_back(row.open_attempt);
            row.open_attempt = 0;
        }
    }

    store::AttemptRecord attempt_for(const Row& row, const Exchange& exchange, const http::Response& response,
                                     const std::string& kind) const {
        store::AttemptRecord attempt;
        attempt.row_id = row.leased.id;
        attempt.batch_id = row.batch->id;
        attempt.kind = kind;
        attempt.id = kind == "create" ? row.open_attempt : 0;
        attempt.started_at = exchange.started_at;
        attempt.duration_ms = response.duration_ms;
        if (response.failure == http::Failure::none) {
            attempt.http_status = response.status;
        }
        return attempt;
    }

    core::Json row_inputs(const Row& row) const {
        core::Json inputs = row.leased.inputs.is_object() ? row.leased.inputs : core::Json::object();
        for (std::size_t i = 0; i < run_inputs.size(); ++i) {
            inputs.set(run_inputs.keys()[i], run_inputs.items()[i]);
        }
        return inputs;
    }

    workflow::Context context_for(const Row& row) const {
        workflow::Context context;
        context.inputs = row_inputs(row);
        if (row.batch->context) {
            context.step_outputs = row.batch->context->step_outputs;
        }
        for (const auto& [step, outputs] : row.step_outputs) {
            context.step_outputs[step] = outputs;
        }
        return context;
    }

    // ---- row outcomes ----

    void finish_row(Row& row) {
        row.done = true;
        if (--row.batch->open_rows == 0) {
            for (auto& [tag, exchange] : exchanges) {
                if (exchange.job && exchange.job->batch == row.batch) {
                    exchange.job->batch = nullptr; // its refresh is in flight; nobody waits for it now
                }
            }
            // A refresh not yet sent is not needed (rows taken over before their batch's token came).
            const Batch* gone = row.batch;
            std::erase_if(context_jobs, [gone](const auto& job) { return job->batch == gone; });
            std::erase_if(job_timers, [gone](const auto& item) { return item.second->batch == gone; });
            for (auto it = batches.begin(); it != batches.end(); ++it) {
                if (it->get() == row.batch) {
                    batches.erase(it);
                    break;
                }
            }
        }
    }

    void succeed(Row& row, store::AttemptRecord attempt, core::Json outputs, bool reconciled) {
        store::RowUpdate update;
        update.row_id = row.leased.id;
        update.state = "succeeded";
        const core::Json* id = outputs.find("customerId");
        update.customer_id = id != nullptr && id->is_string() ? id->as_string() : std::string();
        update.outputs = std::move(outputs);
        update.reconciled = reconciled;
        update.counts_as_attempt = attempt.kind == "create";
        attempt.outcome = reconciled ? "reconciled" : "succeeded";
        attempt.customer_id = update.customer_id;
        record(std::move(attempt), std::move(update));
        ++totals.succeeded;
        totals.reconciled += reconciled ? 1 : 0;
        consecutive_auth_failures = 0;
        finish_row(row);
    }

    void fail(Row& row, store::AttemptRecord attempt, const std::string& error_class, const std::string& message) {
        store::RowUpdate update;
        update.row_id = row.leased.id;
        update.state = "failed";
        update.error_class = error_class;
        update.error_message = message;
        update.counts_as_attempt = attempt.kind == "create";
        attempt.outcome = "failed";
        attempt.error_class = error_class;
        attempt.error_message = message;
        record(std::move(attempt), std::move(update));
        ++totals.failed;
        finish_row(row);
    }

    // Back to the queue with a due time: the schedule survives a restart.
    void retry_later(Row& row, store::AttemptRecord attempt, const workflow::StepResult& result,
                     std::optional<double> wait_at_least) {
        const double delay = backoff.delay(row.attempts, wait_at_least);
        store::RowUpdate update;
        update.row_id = row.leased.id;
        update.state = "pending";
        update.error_class = result.error_class;
        update.error_message = result.error_message;
        update.next_attempt_at = store::now_unix() + delay;
        attempt.outcome = "retry";
        attempt.error_class = result.error_class;
        attempt.error_message = result.error_message;
        record(std::move(attempt), std::move(update));
        ++totals.retries;
        finish_row(row);
    }

    // The row stays ours (in_flight) while we find out whether the create reached Prismatic.
    void start_lookup(Row& row, store::AttemptRecord attempt, Phase phase, const std::string& error_class,
                      const std::string& message, bool counts_as_attempt) {
        store::RowUpdate update;
        update.row_id = row.leased.id;
        update.state = "in_flight";
        update.error_class = error_class;
        update.error_message = message;
        update.counts_as_attempt = counts_as_attempt;
        update.maybe_created = true;
        attempt.outcome = phase == Phase::lookup_unknown ? "outcome_unknown" : "failed";
        attempt.error_class = error_class;
        attempt.error_message = message;
        record(std::move(attempt), std::move(update));
        row.phase = phase;
        row.maybe_sent = row.maybe_sent || phase == Phase::lookup_unknown;
        row.last_error_class = error_class;
        row.last_error_message = message;
        ready.push_front(&row);
    }

    // Whether another run may have created the row's customer (a rare question: the loop waits).
    bool created_elsewhere(const Row& row) {
        flush();
        return store.created_elsewhere(row.leased.id, run_id);
    }

    void on_row_step(Row& row, const Exchange& exchange, const http::Response& response);
    void on_rows_step(const Exchange& exchange, const http::Response& response);
    void on_row_result(Row& row, const Exchange& exchange, const http::Response& response,
                       const workflow::StepResult& result, workflow::Context context);
    void on_lookup(Row& row, const Exchange& exchange, const http::Response& response);
    void record_failed_lookup(Row& row, store::AttemptRecord attempt, const LookupResult& found);
    void record_auth_retry(Row& row, store::AttemptRecord attempt, const std::string& message, const char* state);
    void on_auth_failure(Row& row, store::AttemptRecord attempt, const workflow::StepResult& result, int status);
    void on_context_step(const std::shared_ptr<ContextJob>& job, const http::Response& response);
    void context_ready(ContextJob& job);
    void abort(const std::string& reason);
    void start_context_job();
    bool dispatch_row(Row& row, double now);
    bool dispatch_rows(Row& first, const std::shared_ptr<TokenContext>& context);
    void dispatch(double now);
    void send_outgoing();
    void lease_more(double now);
    void take_batch(std::vector<store::LeasedRow>& leased, std::int64_t batch_id, double now);
    void release_unsent();
    void reclaim_leases(double now);
    void fire_timers(double now);
    bool token_needs_refresh(const TokenContext& context, double now) const;
    void read_token_expiry(TokenContext& context) const;
    void remember_rotated_refresh_token(const http::Response& response);
    bool take_token_from_file();
    void register_secrets(const TokenContext& context) const;
    void handle(std::uint64_t tag, http::Response response);
    RunTotals run(const std::atomic<int>& interrupts, const ProgressCallback& progress);
};

} // namespace onboard::worker
