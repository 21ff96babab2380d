#include "store/internal.hpp"
#include "store/store.hpp"

#include <map>

namespace onboard::store {

using detail::bind_optional;
using detail::bind_text_or_null;
using detail::guarded;
using detail::ResetOnExit;
using detail::WriteScope;

namespace {

// Appends the rows of a (reset, bound) lease query: id, import_id, line, inputs, attempts, unknown.
void read_leased(SQLite::Statement& select, std::vector<LeasedRow>& rows) {
    ResetOnExit reset(select);
    while (select.executeStep()) {
        LeasedRow row;
        row.id = select.getColumn(0).getInt64();
        row.import_id = select.getColumn(1).getInt64();
        row.line = select.getColumn(2).getInt64();
        row.inputs = core::Json::parse(select.getColumn(3).getString(), "rows.inputs");
        row.attempts = select.getColumn(4).getInt64();
        row.outcome_unknown = select.getColumn(5).getInt() != 0;
        rows.push_back(std::move(row));
    }
}

void bind_import(SQLite::Statement& statement, int index, std::optional<std::int64_t> import_id) {
    bind_optional(statement, index, import_id);
}

} // namespace

std::int64_t Store::begin_run(const std::string& owner, const std::string& api_url, int workers, int batch_size) {
    return guarded("begin run", [&] {
        auto& insert = cached("INSERT INTO runs (owner, started_at, api_url, workers, batch_size) "
                              "VALUES (?, ?, ?, ?, ?)");
        insert.bind(1, owner);
        insert.bind(2, now_iso8601());
        insert.bind(3, api_url);
        insert.bind(4, workers);
        insert.bind(5, batch_size);
        insert.exec();
        return m_db->getLastInsertRowid();
    });
}

void Store::finish_run(std::int64_t run_id, const std::string& status) {
    guarded("finish run", [&] {
        auto& update = cached("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?");
        update.bind(1, now_iso8601());
        update.bind(2, status);
        update.bind(3, run_id);
        update.exec();
    });
}

// Rows whose request may have been sent (an expired lease, or outcome_unknown) come first: they
// must be reconciled before anything else. The pending query walks the partial index rows_pending
// in (import_id, line) order; its import filter is a range so the index can seek to it.
std::int64_t Store::lease_batch(std::int64_t run_id, const std::string& owner, int limit, double now,
                                double lease_seconds, std::optional<std::int64_t> import_id,
                                std::vector<LeasedRow>& rows) {
    rows.clear();
    if (limit <= 0) {
        return 0;
    }
    return guarded("lease batch", [&]() -> std::int64_t {
        WriteScope scope(*m_db);
        // Each query walks one partial index. An expired lease needs reconciling only if
        // record_sending marked a create of it as maybe sent.
        auto& expired = cached("SELECT id, import_id, line, inputs, attempts - attempts_before_retry, lease_unknown "
                               "FROM rows WHERE state = 'in_flight' AND lease_expires_at < ?1 "
                               "AND (?3 IS NULL OR import_id = ?3) ORDER BY import_id, line LIMIT ?2");
        expired.bind(1, now);
        expired.bind(2, limit);
        bind_import(expired, 3, import_id);
        read_leased(expired, rows);
        if (rows.size() < static_cast<std::size_t>(limit)) {
            auto& unknown = cached("SELECT id, import_id, line, inputs, attempts - attempts_before_retry, 1 "
                                   "FROM rows INDEXED BY rows_unknown WHERE state = 'outcome_unknown' "
                                   "AND import_id BETWEEN COALESCE(?2, 0) AND COALESCE(?2, 9223372036854775807) "
                                   "ORDER BY import_id, line LIMIT ?1");
            unknown.bind(1, limit - static_cast<int>(rows.size()));
            bind_import(unknown, 2, import_id);
            read_leased(unknown, rows);
        }
        if (rows.size() < static_cast<std::size_t>(limit)) {
            auto& pending = cached("SELECT id, import_id, line, inputs, attempts - attempts_before_retry, 0 "
                                   "FROM rows INDEXED BY rows_pending "
                                   "WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?1) "
                                   "AND import_id BETWEEN COALESCE(?3, 0) AND COALESCE(?3, 9223372036854775807) "
                                   "ORDER BY import_id, line LIMIT ?2");
            pending.bind(1, now);
            pending.bind(2, limit - static_cast<int>(rows.size()));
            bind_import(pending, 3, import_id);
            read_leased(pending, rows);
        }
        if (rows.empty()) {
            return 0;
        }
        const std::string stamp = now_iso8601();
        auto& take = cached("UPDATE rows SET state = 'in_flight', lease_owner = ?, lease_expires_at = ?, "
                            "lease_unknown = ?, updated_at = ? WHERE id = ?");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            take.bind(1, owner);
            take.bind(2, now + lease_seconds);
            take.bind(3, rows[i].outcome_unknown ? 1 : 0);
            take.bind(4, stamp);
            take.bind(5, rows[i].id);
            take.exec();
            take.reset();
        }
        auto& batch = cached("INSERT INTO batches (run_id, leased_at, rows) VALUES (?, ?, ?)");
        batch.bind(1, run_id);
        batch.bind(2, stamp);
        batch.bind(3, static_cast<std::int64_t>(rows.size()));
        batch.exec();
        const std::int64_t batch_id = m_db->getLastInsertRowid();
        scope.commit();
        return batch_id;
    });
}

void Store::extend_leases(const std::string& owner, double new_expiry) {
    guarded("extend leases", [&] {
        auto& update = cached("UPDATE rows SET lease_expires_at = ? WHERE state = 'in_flight' AND lease_owner = ?");
        update.bind(1, new_expiry);
        update.bind(2, owner);
        update.exec();
    });
}

void Store::release_leases(const std::string& owner) {
    guarded("release leases", [&] {
        auto& update = cached("UPDATE rows SET state = CASE WHEN lease_unknown THEN 'outcome_unknown' "
                              "ELSE 'pending' END, lease_owner = NULL, lease_expires_at = NULL, lease_unknown = 0, "
                              "updated_at = ? WHERE state = 'in_flight' AND lease_owner = ?");
        update.bind(1, now_iso8601());
        update.bind(2, owner);
        update.exec();
    });
}

std::int64_t Store::record_sending(const AttemptRecord& attempt) {
    return guarded("record sending", [&] {
        WriteScope scope(*m_db);
        auto& count = cached("UPDATE rows SET attempts = attempts + 1, lease_unknown = 1 WHERE id = ? RETURNING attempts");
        count.bind(1, attempt.row_id);
        std::int64_t number = 0;
        {
            ResetOnExit reset(count);
            if (!count.executeStep()) {
                throw StoreError("record sending: no row " + std::to_string(attempt.row_id));
            }
            number = count.getColumn(0).getInt64();
        }
        auto& insert = cached("INSERT INTO attempts (row_id, run_id, batch_id, number, kind, started_at, duration_ms, "
                              "outcome) VALUES (?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, 0, 'outcome_unknown')");
        insert.bind(1, attempt.row_id);
        insert.bind(2, attempt.run_id);
        insert.bind(3, attempt.batch_id);
        insert.bind(4, number);
        insert.bind(5, attempt.kind);
        insert.bind(6, attempt.started_at.empty() ? now_iso8601() : attempt.started_at);
        insert.exec();
        const std::int64_t id = m_db->getLastInsertRowid();
        scope.commit();
        return id;
    });
}

// Completes the attempt record_sending began (its number is already counted).
void Store::complete_attempt(const AttemptRecord& attempt) {
    auto& update = cached("UPDATE attempts SET duration_ms = ?, http_status = ?, outcome = ?, error_class = ?, "
                          "error_message = ?, customer_id = ? WHERE id = ?");
    update.bind(1, attempt.duration_ms);
    bind_optional(update, 2, attempt.http_status);
    update.bind(3, attempt.outcome);
    bind_text_or_null(update, 4, attempt.error_class);
    bind_text_or_null(update, 5, attempt.error_message);
    bind_text_or_null(update, 6, attempt.customer_id);
    update.bind(7, attempt.id);
    if (update.exec() != 1) {
        throw StoreError("record attempt: no attempt " + std::to_string(attempt.id));
    }
}

// A reconcile lookup is not a new attempt: it carries the number of the attempt it explains.
void Store::record(const AttemptRecord& attempt, const RowUpdate& update) {
    guarded("record attempt", [&] {
        WriteScope scope(*m_db);
        auto& select = cached("SELECT attempts FROM rows WHERE id = ?");
        select.bind(1, update.row_id);
        std::int64_t attempts = 0;
        {
            ResetOnExit reset(select);
            if (!select.executeStep()) {
                throw StoreError("record attempt: no row " + std::to_string(update.row_id));
            }
            attempts = select.getColumn(0).getInt64();
        }
        if (attempt.id != 0) {
            complete_attempt(attempt);
        } else {
            attempts += update.counts_as_attempt ? 1 : 0;
            insert_attempt(attempt, update.row_id, attempts);
        }
        update_row(update, attempts);
        scope.commit();
    });
}

void Store::insert_attempt(const AttemptRecord& attempt, std::int64_t row_id, std::int64_t number) {
    auto& insert = cached("INSERT INTO attempts (row_id, run_id, batch_id, number, kind, started_at, duration_ms, "
                          "http_status, outcome, error_class, error_message, customer_id) "
                          "VALUES (?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, attempt.row_id != 0 ? attempt.row_id : row_id);
    insert.bind(2, attempt.run_id);
    insert.bind(3, attempt.batch_id);
    insert.bind(4, number);
    insert.bind(5, attempt.kind);
    insert.bind(6, attempt.started_at.empty() ? now_iso8601() : attempt.started_at);
    insert.bind(7, attempt.duration_ms);
    bind_optional(insert, 8, attempt.http_status);
    insert.bind(9, attempt.outcome);
    bind_text_or_null(insert, 10, attempt.error_class);
    bind_text_or_null(insert, 11, attempt.error_message);
    bind_text_or_null(insert, 12, attempt.customer_id);
    insert.exec();
}

void Store::update_row(const RowUpdate& update, std::int64_t attempts) {
    auto& change = cached(
        "UPDATE rows SET state = ?1, error_class = ?2, error_message = ?3, customer_id = COALESCE(?4, customer_id), "
        "outputs = ?5, reconciled = ?6, next_attempt_at = ?7, attempts = ?8, updated_at = ?9, "
        "lease_owner = CASE WHEN ?1 = 'in_flight' THEN lease_owner END, "
        "lease_expires_at = CASE WHEN ?1 = 'in_flight' THEN lease_expires_at END, "
        "lease_unknown = CASE WHEN ?1 = 'in_flight' THEN ?11 ELSE 0 END WHERE id = ?10");
    change.bind(1, update.state);
    bind_text_or_null(change, 2, update.error_class);
    bind_text_or_null(change, 3, update.error_message);
    bind_text_or_null(change, 4, update.customer_id);
    if (update.outputs.is_null()) {
        change.bind(5);
    } else {
        change.bind(5, update.outputs.dump());
    }
    change.bind(6, update.reconciled ? 1 : 0);
    bind_optional(change, 7, update.next_attempt_at);
    change.bind(8, attempts);
    change.bind(9, now_iso8601());
    change.bind(10, update.row_id);
    change.bind(11, update.maybe_created ? 1 : 0);
    change.exec();
}

std::optional<double> Store::next_due_time(std::optional<std::int64_t> import_id) {
    return guarded("next due time", [&]() -> std::optional<double> {
        auto& select = cached("SELECT MIN(next_attempt_at) FROM rows WHERE state = 'pending' "
                              "AND next_attempt_at IS NOT NULL AND (?1 IS NULL OR import_id = ?1)");
        ResetOnExit reset(select);
        bind_import(select, 1, import_id);
        select.executeStep();
        if (select.isColumnNull(0)) {
            return std::nullopt;
        }
        return select.getColumn(0).getDouble();
    });
}

std::vector<StateCounts> Store::state_counts() {
    return guarded("state counts", [&] {
        auto& select = cached("SELECT i.id, i.file_name, r.state, COUNT(r.id) FROM imports i "
                              "LEFT JOIN rows r ON r.import_id = i.id GROUP BY i.id, r.state ORDER BY i.id");
        ResetOnExit reset(select);
        std::vector<StateCounts> out;
        StateCounts total;
        const std::map<std::string, std::int64_t StateCounts::*> fields = {
            {"pending", &StateCounts::pending},     {"in_flight", &StateCounts::in_flight},
            {"succeeded", &StateCounts::succeeded}, {"failed", &StateCounts::failed},
            {"outcome_unknown", &StateCounts::outcome_unknown}, {"rejected", &StateCounts::rejected},
            {"superseded", &StateCounts::superseded}};
        while (select.executeStep()) {
            const std::int64_t id = select.getColumn(0).getInt64();
            if (out.empty() || out.back().import_id != id) {
                out.push_back(StateCounts{});
                out.back().import_id = id;
                out.back().file_name = select.getColumn(1).getString();
            }
            const auto field = fields.find(select.getColumn(2).getString());
            if (field != fields.end()) {
                const std::int64_t count = select.getColumn(3).getInt64();
                out.back().*(field->second) += count;
                total.*(field->second) += count;
            }
        }
        out.push_back(total);
        return out;
    });
}

} // namespace onboard::store
