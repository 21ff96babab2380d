#include "worker/leases.hpp"
#include "worker/pool_impl.hpp"
#include "worker/reconcile.hpp"

#include <spdlog/spdlog.h>

namespace onboard::worker {

namespace {

constexpr double k_idle_lease_pause_seconds = 0.25;
constexpr double k_dead_owner_check_seconds = 5;

std::size_t rows_waiting(const std::deque<std::unique_ptr<Batch>>& batches) {
    std::size_t count = 0;
    for (const auto& batch : batches) {
        if (!batch->context) {
            count += batch->rows.size();
        }
    }
    return count;
}

// Requests and answers are logged whole at trace level: the log's redactor hides the tokens.
void trace_request(std::uint64_t tag, const http::Request& request) {
    if (!spdlog::should_log(spdlog::level::trace)) {
        return;
    }
    std::string headers;
    for (const auto& [name, value] : request.headers) {
        headers += name + ": " + value + "; ";
    }
    spdlog::trace("#{} {} {} [{}] {}", tag, request.method, request.url, headers, request.body);
}

void trace_response(std::uint64_t tag, const http::Response& response) {
    if (!spdlog::should_log(spdlog::level::trace)) {
        return;
    }
    if (response.failure != http::Failure::none) {
        spdlog::trace("#{} no response after {:.1f} ms: {}", tag, response.duration_ms, response.failure_message);
    } else {
        spdlog::trace("#{} HTTP {} in {:.1f} ms: {}", tag, response.status, response.duration_ms, response.body);
    }
}

} // namespace

void Pool::Impl::start_context_job() {
    if (context_job_in_flight || context_jobs.empty() || context_steps.empty() ||
        !budget.try_take(store::now_unix())) {
        return;
    }
    std::shared_ptr<ContextJob> job = context_jobs.front();
    context_jobs.pop_front();
    if (job->token_file_rereads == 1) {
        job->token_file_rereads = 2;
        take_token_from_file();
    }
    workflow::Context context;
    context.inputs = run_inputs;
    context.step_outputs = job->outputs;
    Exchange exchange;
    exchange.kind = Exchange::Kind::context_step;
    exchange.job = job;
    exchange.started_at = store::now_iso8601();
    exchange.request = runner.build_request(*context_steps[job->step], context);
    const std::uint64_t tag = next_tag++;
    trace_request(tag, exchange.request);
    client.start(tag, exchange.request);
    exchanges.emplace(tag, std::move(exchange));
    context_job_in_flight = true;
    ++totals.requests;
}

// Sends the row's next request; false when the rate budget has no room yet.
bool Pool::Impl::dispatch_row(Row& row, double now) {
    const std::shared_ptr<TokenContext>& context = row.batch->context;
    if (!context || context->stale) {
        waiting_for_token.push_back(&row);
        return true;
    }
    if (token_needs_refresh(*context, now)) {
        context->stale = true;
        auto job = std::make_shared<ContextJob>();
        job->replaces = context;
        context_jobs.push_front(job);
        waiting_for_token.push_back(&row);
        return true;
    }
    if (!budget.try_take(now)) {
        return false;
    }
    if (multi_row && row.phase == Phase::create && row.step == 0 && dispatch_rows(row, context)) {
        return true;
    }
    Exchange exchange;
    exchange.rows = {&row};
    exchange.started_at = store::now_iso8601();
    try {
        const http::Request create = runner.build_request(*row_steps[row.step], context_for(row));
        if (row.phase == Phase::create) {
            exchange.request = create;
        } else {
            exchange.kind = Exchange::Kind::lookup;
            exchange.request = build_lookup(create, row.leased.inputs);
        }
    } catch (const WorkflowError& e) {
        cancel_write_ahead(row);
        store::AttemptRecord attempt;
        attempt.row_id = row.leased.id;
        attempt.batch_id = row.batch->id;
        attempt.started_at = exchange.started_at;
        fail(row, std::move(attempt), "validation", e.what());
        return true;
    }
    row.sent_with = context;
    exchange.write_ahead = exchange.kind == Exchange::Kind::row_step && row.step == 0;
    outgoing.emplace_back(next_tag++, std::move(exchange));
    return true;
}

// Sends `first` with the ready rows behind it that share its token, up to --rows-per-request, in
// one document; false (nothing taken) when no other row can join or the rows cannot share one.
// The rate budget was charged for this request already.
bool Pool::Impl::dispatch_rows(Row& first, const std::shared_ptr<TokenContext>& context) {
    std::vector<Row*> rows{&first};
    while (rows.size() < static_cast<std::size_t>(options.rows_per_request) && !ready.empty()) {
        Row* next = ready.front();
        if (next->phase != Phase::create || next->step != 0 || next->batch->context != context) {
            break;
        }
        rows.push_back(next);
        ready.pop_front();
    }
    if (rows.size() == 1) {
        return false;
    }
    Exchange exchange;
    exchange.rows = rows;
    exchange.started_at = store::now_iso8601();
    exchange.write_ahead = true;
    std::vector<workflow::Context> contexts;
    for (const Row* row : rows) {
        contexts.push_back(context_for(*row));
    }
    try {
        exchange.request = multi_row->build_request(runner, contexts);
    } catch (const WorkflowError&) {
        // A row the document cannot carry (a missing input, say): each goes alone and fails alone.
        for (auto it = rows.rbegin(); it != rows.rend() - 1; ++it) {
            ready.push_front(*it);
        }
        return false;
    }
    for (Row* row : rows) {
        row->sent_with = context;
    }
    outgoing.emplace_back(next_tag++, std::move(exchange));
    return true;
}

// Starts what dispatch gathered whose creates are recorded as sent (written ahead); the others wait
// for the commit that writes them ahead (pump_commits), and results wait for the next commit.
void Pool::Impl::send_outgoing() {
    if (outgoing.empty()) {
        return;
    }
    const double now = store::now_unix();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < outgoing.size(); ++i) {
        auto& [tag, exchange] = outgoing[i];
        if (needs_write_ahead(exchange)) {
            if (kept != i) {
                outgoing[kept] = std::move(outgoing[i]);
            }
            ++kept;
            continue;
        }
        if (exchange.write_ahead) {
            count_sends(now, exchange.rows.size());
        }
        trace_request(tag, exchange.request);
        client.start(tag, exchange.request);
        exchanges.emplace(tag, std::move(exchange));
        ++totals.requests;
    }
    outgoing.resize(kept);
}

void Pool::Impl::dispatch(double now) {
    start_context_job();
    const std::size_t limit = static_cast<std::size_t>(options.workers) + (context_job_in_flight ? 1 : 0);
    while (!ready.empty() && client.in_flight() + outgoing.size() < limit) {
        Row* row = ready.front();
        ready.pop_front();
        if (!dispatch_row(*row, now)) {
            ready.push_front(row);
            break;
        }
        start_context_job(); // a row may have asked for a re-refresh
    }
    send_outgoing();
}

// Asks for the next batch while the current ones still have rows to send: no barrier between
// batches. The queue is kept at two rounds of requests (workers x rows per request: one round to
// send while the next batch's refresh is in flight, and full documents under --rows-per-request),
// or at what k_lease_lead_seconds of sending takes when that is more (the lease is a commit away).
void Pool::Impl::lease_more(double now) {
    if (stopping || now < lease_idle_until || lease_wanted) {
        return;
    }
    // Rows waiting for a re-refresh count too: else each 401 would lease (and refresh) a new batch.
    const std::size_t queued = ready.size() + waiting_for_token.size() + rows_waiting(batches);
    const auto rounds = 2 * static_cast<std::size_t>(options.workers) * static_cast<std::size_t>(options.rows_per_request);
    const auto wanted = std::max(rounds, static_cast<std::size_t>(static_cast<double>(sends_per_second) * k_lease_lead_seconds));
    if (queued >= wanted || context_jobs.size() > 1) {
        return;
    }
    // The lease shares a commit (one WAL sync) with the results and write-aheads buffered so far;
    // take_batch gets its rows.
    if (!(committing && committing->lease)) {
        lease_wanted = true;
    }
}

void Pool::Impl::take_batch(std::vector<store::LeasedRow>& leased, std::int64_t batch_id, double now) {
    auto batch = std::make_unique<Batch>();
    batch->id = batch_id;
    std::vector<std::int64_t> parked;
    for (auto& row : leased) {
        if (unresolved.count(row.id) != 0) {
            parked.push_back(row.id); // already failed to reconcile in this run: leave it for the next
            continue;
        }
        auto owned = std::make_unique<Row>();
        owned->batch = batch.get();
        owned->attempts = static_cast<int>(row.attempts);
        owned->phase = row.outcome_unknown ? Phase::lookup_unknown : Phase::create;
        owned->maybe_sent = row.outcome_unknown;
        owned->last_error_class = "outcome_unknown";
        owned->last_error_message = "the request may have reached the server";
        owned->leased = std::move(row);
        batch->rows.push_back(std::move(owned));
    }
    if (!parked.empty()) {
        release_rows(store, options.owner, {}, parked);
    }
    queue_drained = batch->rows.empty();
    if (queue_drained) {
        lease_idle_until = now + k_idle_lease_pause_seconds;
        return;
    }
    ++totals.batches;
    batch->open_rows = batch->rows.size();
    // Each refresh with rotating refresh tokens retires the token it used: a run killed while one is
    // in flight loses the only refresh token that still works. So with rotation a new batch shares
    // the newest access token until it nears expiry, and refreshes are rare instead of per batch.
    const bool share_token = refresh_tokens_rotate && newest_context && !newest_context->stale &&
                             !token_needs_refresh(*newest_context, now);
    if (context_steps.empty() || share_token) {
        batch->context = context_steps.empty() ? std::make_shared<TokenContext>() : newest_context;
        for (auto& row : batch->rows) {
            ready.push_back(row.get());
        }
    } else {
        auto job = std::make_shared<ContextJob>();
        job->batch = batch.get();
        context_jobs.push_back(job);
    }
    batches.push_back(std::move(batch));
}

void Pool::Impl::fire_timers(double now) {
    while (!row_timers.empty() && row_timers.begin()->first <= now) {
        ready.push_front(row_timers.begin()->second);
        row_timers.erase(row_timers.begin());
    }
    while (!job_timers.empty() && job_timers.begin()->first <= now) {
        context_jobs.push_front(job_timers.begin()->second);
        job_timers.erase(job_timers.begin());
    }
}

// Hands back every row held in memory and not in flight (interrupt or abort); cheap when there is none.
void Pool::Impl::release_unsent() {
    settle(); // a write-ahead in the commit running gets its attempt, to be taken back
    std::vector<std::int64_t> unsent;
    std::vector<std::int64_t> maybe_sent;
    std::unordered_set<const Row*> in_flight;
    for (const auto& [tag, exchange] : exchanges) {
        in_flight.insert(exchange.rows.begin(), exchange.rows.end());
    }
    std::vector<Row*> released;
    for (auto& batch : batches) {
        for (auto& row : batch->rows) {
            if (!row->done && in_flight.count(row.get()) == 0) {
                cancel_write_ahead(*row);
                (row->maybe_sent ? maybe_sent : unsent).push_back(row->leased.id);
                released.push_back(row.get());
            }
        }
    }
    if (released.empty() && ready.empty() && waiting_for_token.empty() && context_jobs.empty() &&
        row_timers.empty() && job_timers.empty()) {
        return;
    }
    outgoing.clear(); // its rows, waiting for their write-ahead, are among those released
    flush();
    for (Row* row : released) {
        finish_row(*row); // may free its batch
    }
    ready.clear();
    waiting_for_token.clear();
    row_timers.clear();
    context_jobs.clear();
    job_timers.clear();
    release_rows(store, options.owner, unsent, maybe_sent);
    totals.released += static_cast<std::int64_t>(unsent.size());
    totals.left_unknown += static_cast<std::int64_t>(maybe_sent.size());
}

// After a stall longer than the lease (a suspended process, a long wait for the database) another
// run may have taken some of the rows held here: the leases still held are renewed, and rows taken
// over are dropped unsent (their write-aheads taken back) rather than created a second time or
// overwritten. Rows in flight are left to their answers, which record() keeps from overwriting.
void Pool::Impl::reclaim_leases(double now) {
    flush();
    store.extend_leases(options.owner, now + options.lease_seconds);
    last_lease_extension = now;
    std::unordered_set<const Row*> in_flight;
    for (const auto& [tag, exchange] : exchanges) {
        in_flight.insert(exchange.rows.begin(), exchange.rows.end());
    }
    std::vector<Row*> unsent;
    std::vector<std::int64_t> ids;
    for (const auto& batch : batches) {
        for (const auto& row : batch->rows) {
            if (!row->done && in_flight.count(row.get()) == 0) {
                unsent.push_back(row.get());
                ids.push_back(row->leased.id);
            }
        }
    }
    const auto held_ids = store.rows_held(options.owner, ids);
    if (held_ids.size() == ids.size()) {
        return;
    }
    const std::unordered_set<std::int64_t> held(held_ids.begin(), held_ids.end());
    std::unordered_set<const Row*> lost;
    for (Row* row : unsent) {
        if (held.count(row->leased.id) == 0) {
            lost.insert(row);
        }
    }
    const auto is_lost = [&](const Row* row) { return lost.count(row) != 0; };
    // A request waiting for its write-ahead goes without its lost rows: the others wait their turn.
    for (auto it = outgoing.begin(); it != outgoing.end();) {
        const std::vector<Row*>& rows = it->second.rows;
        if (std::none_of(rows.begin(), rows.end(), is_lost)) {
            ++it;
            continue;
        }
        for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
            if (!is_lost(*row)) {
                ready.push_front(*row);
            }
        }
        it = outgoing.erase(it);
    }
    ready.erase(std::remove_if(ready.begin(), ready.end(), is_lost), ready.end());
    waiting_for_token.erase(std::remove_if(waiting_for_token.begin(), waiting_for_token.end(), is_lost),
                            waiting_for_token.end());
    for (auto it = row_timers.begin(); it != row_timers.end();) {
        it = is_lost(it->second) ? row_timers.erase(it) : std::next(it);
    }
    for (Row* row : unsent) {
        if (lost.count(row) != 0) {
            cancel_write_ahead(*row);
            finish_row(*row); // may free its batch, once its last open row (this or a later one) is done
        }
    }
    flush();
    totals.taken_over += static_cast<std::int64_t>(lost.size());
    spdlog::warn("this run was stalled past its lease: {} row{} taken over by another run meanwhile {} "
                 "left to it, unsent",
                 lost.size(), lost.size() == 1 ? "" : "s", lost.size() == 1 ? "is" : "are");
}

void Pool::Impl::handle(std::uint64_t tag, http::Response response) {
    auto found = exchanges.find(tag);
    Exchange exchange = std::move(found->second);
    exchanges.erase(found);
    // Logged after the answer is handled: a rotated refresh token in it is then a known secret.
    struct TraceAfter {
        std::uint64_t tag;
        const http::Response& response;
        ~TraceAfter() { trace_response(tag, response); }
    } trace_after{tag, response};
    if (exchange.kind == Exchange::Kind::context_step) {
        on_context_step(exchange.job, response);
    } else if (exchange.rows.size() > 1) {
        on_rows_step(exchange, response);
    } else if (exchange.rows.front()->done) {
        return; // released by an interrupt while in flight
    } else if (exchange.kind == Exchange::Kind::lookup) {
        on_lookup(*exchange.rows.front(), exchange, response);
    } else {
        on_row_step(*exchange.rows.front(), exchange, response);
    }
}

RunTotals Pool::Impl::run(const std::atomic<int>& interrupts, const ProgressCallback& progress) {
    if (options.owner.empty()) {
        options.owner = make_owner_tag();
    }
    started = store::now_unix();
    last_lease_extension = started; // every lease is taken after this
    store.make_commits_durable();
    expire_dead_owners(store);
    run_id = store.begin_run(options.owner, options.api_url, options.workers, options.batch_size);
    totals.to_do = store.rows_left(options.import_id);
    double last_progress = 0;
    double last_dead_check = started;
    while (true) {
        const double now = store::now_unix();
        if (now - last_lease_extension >= options.lease_seconds) {
            reclaim_leases(now); // stalled (suspended) before this point: nothing is sent unchecked
        }
        if (interrupts.load() >= 2) {
            stopping = true; // nothing more is written ahead
            break;
        }
        if (interrupts.load() == 1 && !stopping) {
            stopping = true;
            totals.interrupted = true;
            release_unsent();
        }
        if (stopping) {
            release_unsent(); // also rows of a batch whose refresh failed, held by nothing else
        }
        fire_timers(now);
        if (now - last_dead_check > k_dead_owner_check_seconds) {
            settle();
            expire_dead_owners(store);
            last_dead_check = now;
        }
        lease_more(now);
        dispatch(now);
        pump_commits(now);
        if (nothing_held()) {
            // Done when the last lease found nothing and no row waits for a retry time; rows just
            // put back for a retry may still be in the unflushed results, and a lease in the commit
            // running may bring rows.
            flush();
            if (nothing_held() && (stopping || (queue_drained && !lease_wanted &&
                                                !store.next_due_time(options.import_id)))) {
                break;
            }
        }
        int wait_ms = client.in_flight() > 0 ? 50 : 20;
        const bool refresh_waits = !context_jobs.empty() && !context_job_in_flight;
        if ((!ready.empty() && client.in_flight() < static_cast<std::size_t>(options.workers)) || refresh_waits) {
            wait_ms = std::min(wait_ms, static_cast<int>(budget.wait_time(now) * 1000) + 1);
        }
        for (auto& [tag, response] : client.poll(wait_ms)) {
            handle(tag, std::move(response));
        }
        const double after = store::now_unix();
        if (after - last_lease_extension >= options.lease_seconds) {
            reclaim_leases(after); // stalled (suspended) in the wait: the leases may have lapsed
        } else if (after - last_lease_extension >= options.lease_seconds / 3) {
            flush();
            store.extend_leases(options.owner, after + options.lease_seconds);
            last_lease_extension = after;
        }
        if (progress && after - last_progress >= 0.25) {
            totals.elapsed_seconds = after - started;
            progress(totals);
            last_progress = after;
        }
    }
    flush();
    if (interrupts.load() >= 2) {
        // Stop now: what is in flight may reach the server, so it is reconciled next time.
        totals.interrupted = true;
        std::vector<std::int64_t> maybe_sent;
        for (const auto& [tag, exchange] : exchanges) {
            for (Row* row : exchange.rows) {
                if (!row->done) {
                    maybe_sent.push_back(row->leased.id);
                    row->done = true;
                }
            }
        }
        release_unsent();
        release_rows(store, options.owner, {}, maybe_sent);
        totals.left_unknown += static_cast<std::int64_t>(maybe_sent.size());
    }
    totals.elapsed_seconds = store::now_unix() - started;
    store.finish_run(run_id, totals.aborted ? "aborted" : totals.interrupted ? "interrupted" : "finished");
    if (progress) {
        progress(totals);
    }
    return totals;
}

} // namespace onboard::worker
