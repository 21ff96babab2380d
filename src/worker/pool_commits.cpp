#include "worker/pool_impl.hpp"

#include <spdlog/spdlog.h>

namespace onboard::worker {

void Commit::write(store::Store& store) {
    store::Store::Transaction transaction(store);
    for (const std::int64_t attempt_id : cancelled_sends) {
        store.cancel_sending(attempt_id);
    }
    held.reserve(records.size());
    for (const auto& [attempt, update] : records) {
        held.push_back(store.record(attempt, update) ? 1 : 0);
    }
    attempt_ids.reserve(sendings.size());
    for (const store::AttemptRecord& sending : sendings) {
        attempt_ids.push_back(store.record_sending(sending));
    }
    if (lease) {
        batch_id = store.lease_batch(lease->run_id, lease->owner, lease->limit, lease->now,
                                     lease->lease_seconds, lease->import_id, leased);
    }
    transaction.commit();
}

std::size_t Pool::Impl::written_ahead_target() const {
    const std::size_t slots = 4 * static_cast<std::size_t>(options.workers) *
                              static_cast<std::size_t>(options.rows_per_request);
    const auto recent =
        static_cast<std::size_t>(static_cast<double>(sends_per_second) * k_written_ahead_seconds);
    return std::max(slots, std::min(recent, k_max_written_ahead));
}

void Pool::Impl::write_ahead(Commit& commit, Row& row, const std::string& started_at) const {
    store::AttemptRecord sending;
    sending.row_id = row.leased.id;
    sending.run_id = run_id;
    sending.batch_id = row.batch->id;
    sending.started_at = started_at;
    commit.sendings.push_back(std::move(sending));
    commit.written_ahead.push_back(&row);
    row.write_ahead_pending = true;
}

// The creates next in line get their write-ahead too, up to written_ahead_target(): a crash
// before they are sent leaves them to be reconciled (looked up, found absent, sent), never lost.
void Pool::Impl::write_ahead_ready(Commit& commit) {
    const std::size_t target = written_ahead_target();
    std::size_t ahead = 0;
    const std::string now = store::now_iso8601();
    for (Row* row : ready) {
        if (ahead >= target) {
            break;
        }
        if (row->phase != Phase::create || row->step != 0) {
            continue;
        }
        if (row->open_attempt == 0 && !row->write_ahead_pending) {
            write_ahead(commit, *row, now);
        }
        ++ahead;
    }
}

// Moves what is buffered into a commit: results, write-aheads taken back, then the write-ahead
// of the creates about to go out and of those next in line; with `lease`, the next batch too.
std::unique_ptr<Commit> Pool::Impl::gather(double now, bool lease) {
    auto commit = std::make_unique<Commit>();
    commit->cancelled_sends = std::exchange(cancelled_sends, {});
    commit->records = std::exchange(records, {});
    for (auto& [tag, exchange] : outgoing) {
        for (Row* row : exchange.rows) {
            if (exchange.write_ahead && row->open_attempt == 0 && !row->write_ahead_pending) {
                write_ahead(*commit, *row, exchange.started_at);
            }
        }
    }
    if (!stopping) {
        write_ahead_ready(*commit);
    }
    if (lease) {
        commit->lease = Commit::Lease{run_id, options.owner,         options.batch_size,
                                      now,    options.lease_seconds, options.import_id};
    }
    last_flush = store::now_unix();
    return commit;
}

// What a commit answered: results kept as history only (another run took the row over), the
// write-aheads' attempts, the batch leased.
void Pool::Impl::apply(Commit& commit) {
    std::int64_t taken_over = 0;
    for (std::size_t i = 0; i < commit.records.size(); ++i) {
        if (commit.held[i] != 0) {
            continue;
        }
        // The other run's result stands: this run did not succeed or fail the row after all.
        const store::RowUpdate& update = commit.records[i].second;
        ++taken_over;
        totals.succeeded -= update.state == "succeeded" ? 1 : 0;
        totals.reconciled -= update.state == "succeeded" && update.reconciled ? 1 : 0;
        totals.failed -= update.state == "failed" ? 1 : 0;
    }
    if (taken_over > 0) {
        totals.taken_over += taken_over;
        spdlog::warn("{} row{} had been taken over by another run when this run's answer{} came "
                     "(its lease had "
                     "expired): the answer{} kept as attempt history only",
                     taken_over, taken_over == 1 ? "" : "s", taken_over == 1 ? "" : "s",
                     taken_over == 1 ? " is" : "s are");
    }
    for (std::size_t i = 0; i < commit.written_ahead.size(); ++i) {
        commit.written_ahead[i]->open_attempt = commit.attempt_ids[i];
        commit.written_ahead[i]->write_ahead_pending = false;
    }
    if (commit.lease) {
        take_batch(commit.leased, commit.batch_id, commit.lease->now);
    }
}

void Pool::Impl::settle() {
    if (!writer.busy()) {
        return;
    }
    std::unique_ptr<Commit> commit = std::move(committing);
    writer.collect();
    apply(*commit);
}

bool Pool::Impl::outgoing_needs_commit() const {
    return std::any_of(outgoing.begin(), outgoing.end(), [](const auto& item) {
        const Exchange& exchange = item.second;
        return exchange.write_ahead &&
               std::any_of(exchange.rows.begin(), exchange.rows.end(), [](const Row* row) {
                   return row->open_attempt == 0 && !row->write_ahead_pending;
               });
    });
}

// The next commit should write more ahead before the sends catch up with what is written.
bool Pool::Impl::written_ahead_running_low() const {
    if (stopping || ready.empty()) {
        return false;
    }
    const Row* row = ready[std::min(ready.size(), written_ahead_target() / 2) - 1];
    return row->phase == Phase::create && row->step == 0 && row->open_attempt == 0 &&
           !row->write_ahead_pending;
}

void Pool::Impl::pump_commits(double now) {
    if (writer.busy() && writer.finished()) {
        settle();
        send_outgoing();
    }
    if (writer.busy()) {
        return;
    }
    const bool buffered = !records.empty() || !cancelled_sends.empty();
    const bool lease = lease_wanted && !stopping;
    const bool due = lease || outgoing_needs_commit() || written_ahead_running_low() ||
                     records.size() >= k_flush_every_records ||
                     (buffered && now - last_flush >= k_flush_every_seconds);
    if (!due) {
        return;
    }
    committing = gather(now, lease);
    lease_wanted = false;
    writer.start([commit = committing.get()](store::Store& target) { commit->write(target); });
}

bool Pool::Impl::nothing_held() const {
    return client.in_flight() == 0 && ready.empty() && batches.empty() && context_jobs.empty() &&
           job_timers.empty() && !writer.busy();
}

void Pool::Impl::flush() {
    settle();
    if (records.empty() && cancelled_sends.empty() &&
        !std::any_of(outgoing.begin(), outgoing.end(),
                     [](const auto& item) { return needs_write_ahead(item.second); })) {
        return;
    }
    std::unique_ptr<Commit> commit = gather(store::now_unix(), false);
    commit->write(store);
    apply(*commit);
}

} // namespace onboard::worker
