#include "store/internal.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <optional>
#include <tuple>

namespace onboard::store {

using detail::bind_optional;
using detail::bind_text_or_null;
using detail::guarded;
using detail::ResetOnExit;
using detail::WriteScope;

namespace {

// A row's attempts including creates written ahead and never completed (a run that died).
const std::string k_open_attempts =
    "MAX(attempts, (SELECT COALESCE(MAX(a.number), 0) FROM attempts a WHERE a.row_id = rows.id))";

// Whether a create of the row was ever sent, in any run, before an `onboard retry` too.
// A create that may have made the row's customer: any but those answered with a definite refusal
// ("already exists", a refused token, 429), which created nothing.
const std::string k_may_have_created = "a.kind = 'create' AND COALESCE(a.error_class, '') NOT IN ('duplicate', 'auth', 'rate_limited')";
const std::string k_sent_before = "EXISTS (SELECT 1 FROM attempts a WHERE a.row_id = rows.id AND " + k_may_have_created + ")";

// The lease statements that count open attempts, built once (cached() keys statements by address).
const std::string k_lease_expired_sql =
    "SELECT id, import_id, line, inputs, name, external_id, " + k_open_attempts +
    " - attempts_before_retry, lease_unknown OR " +
    k_open_attempts + " > attempts, " + k_sent_before +
    " FROM rows WHERE state = 'in_flight' AND lease_expires_at < ?1 "
    "AND (?3 IS NULL OR import_id = ?3) ORDER BY import_id, line LIMIT ?2";
const std::string k_lease_unknown_sql =
    "SELECT id, import_id, line, inputs, name, external_id, " + k_open_attempts +
    " - attempts_before_retry, 1, " + k_sent_before +
    " FROM rows INDEXED BY rows_unknown WHERE state = 'outcome_unknown' "
    "AND import_id BETWEEN COALESCE(?2, 0) AND COALESCE(?2, 9223372036854775807) ORDER BY import_id, line LIMIT ?1";
const std::string k_lease_pending_sql =
    "UPDATE rows SET state = 'in_flight', lease_owner = ?1, lease_expires_at = ?2, lease_unknown = 0, "
    "updated_at = ?3 WHERE id IN (SELECT id FROM rows INDEXED BY rows_pending WHERE state = 'pending' "
    "AND (next_attempt_at IS NULL OR next_attempt_at <= ?4) "
    "AND import_id BETWEEN COALESCE(?6, 0) AND COALESCE(?6, 9223372036854775807) "
    "ORDER BY import_id, line LIMIT ?5) "
    "RETURNING id, import_id, line, inputs, name, external_id, attempts - attempts_before_retry, 0, " + k_sent_before;
const std::string k_take_sql = "UPDATE rows SET state = 'in_flight', lease_owner = ?, lease_expires_at = ?, "
                               "lease_unknown = ?, updated_at = ?, attempts = " + k_open_attempts + " WHERE id = ?";

// A row's inputs from its inputs, name and external_id columns at `first`: as k_row_inputs_sql
// derives them, built here rather than as JSON text SQLite writes and we parse again.
core::Json leased_inputs(SQLite::Statement& select, int first) {
    if (!select.isColumnNull(first)) {
        return core::Json::parse(select.getColumn(first).getString(), "rows.inputs");
    }
    core::Json inputs = core::Json::object();
    if (!select.isColumnNull(first + 1)) {
        inputs.set("name", select.getColumn(first + 1).getString());
    }
    if (!select.isColumnNull(first + 2)) {
        inputs.set("externalId", select.getColumn(first + 2).getString());
    }
    return inputs;
}

// Appends the rows of a (reset, bound) lease query: id, import_id, line, inputs, name, external_id,
// attempts, unknown, sent_before.
void read_leased(SQLite::Statement& select, std::vector<LeasedRow>& rows) {
    ResetOnExit reset(select);
    while (select.executeStep()) {
        LeasedRow row;
        row.id = select.getColumn(0).getInt64();
        row.import_id = select.getColumn(1).getInt64();
        row.line = select.getColumn(2).getInt64();
        row.inputs = leased_inputs(select, 3);
        row.attempts = select.getColumn(6).getInt64();
        row.outcome_unknown = select.getColumn(7).getInt() != 0;
        row.sent_before = select.getColumn(8).getInt() != 0;
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
        // Each query walks one partial index. An expired lease needs reconciling only if a create of
        // it may be at the server: written ahead and never completed (numbered past rows.attempts),
        // or answered "unknown". Such open attempts are counted when the row is taken.
        auto& expired = cached(k_lease_expired_sql.c_str());
        expired.bind(1, now);
        expired.bind(2, limit);
        bind_import(expired, 3, import_id);
        read_leased(expired, rows);
        if (rows.size() < static_cast<std::size_t>(limit)) {
            auto& unknown = cached(k_lease_unknown_sql.c_str());
            unknown.bind(1, limit - static_cast<int>(rows.size()));
            bind_import(unknown, 2, import_id);
            read_leased(unknown, rows);
        }
        const std::string stamp = now_iso8601();
        auto& take = cached(k_take_sql.c_str());
        for (const LeasedRow& row : rows) {
            take.bind(1, owner);
            take.bind(2, now + lease_seconds);
            take.bind(3, row.outcome_unknown ? 1 : 0);
            take.bind(4, stamp);
            take.bind(5, row.id);
            take.exec();
            take.reset();
        }
        if (rows.size() < static_cast<std::size_t>(limit)) {
            // Pending rows are taken by one statement for the whole batch.
            auto& pending = cached(k_lease_pending_sql.c_str());
            pending.bind(1, owner);
            pending.bind(2, now + lease_seconds);
            pending.bind(3, stamp);
            pending.bind(4, now);
            pending.bind(5, limit - static_cast<int>(rows.size()));
            bind_import(pending, 6, import_id);
            const std::size_t first = rows.size();
            read_leased(pending, rows);
            std::sort(rows.begin() + static_cast<std::ptrdiff_t>(first), rows.end(), [](const auto& a, const auto& b) {
                return std::tie(a.import_id, a.line) < std::tie(b.import_id, b.line);
            });
        }
        if (rows.empty()) {
            return 0;
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

// One INSERT, the row untouched: its next number is rows.attempts + 1, counted when completed.
std::int64_t Store::record_sending(const AttemptRecord& attempt) {
    return guarded("record sending", [&] {
        auto& insert = cached("INSERT INTO attempts (row_id, run_id, batch_id, number, kind, started_at, duration_ms, "
                              "outcome) SELECT id, NULLIF(?1, 0), NULLIF(?2, 0), attempts + 1, ?3, ?4, 0, "
                              "'outcome_unknown' FROM rows WHERE id = ?5");
        insert.bind(1, attempt.run_id);
        insert.bind(2, attempt.batch_id);
        insert.bind(3, attempt.kind);
        insert.bind(4, attempt.started_at.empty() ? now_iso8601() : attempt.started_at);
        insert.bind(5, attempt.row_id);
        if (insert.exec() != 1) {
            throw StoreError("record sending: no row " + std::to_string(attempt.row_id));
        }
        return m_db->getLastInsertRowid();
    });
}

// A write-ahead never followed by its request: nothing reached the server, so nothing is left of it.
void Store::cancel_sending(std::int64_t attempt_id) {
    guarded("cancel sending", [&] {
        auto& remove = cached("DELETE FROM attempts WHERE id = ? AND outcome = 'outcome_unknown' AND duration_ms = 0");
        remove.bind(1, attempt_id);
        remove.exec();
    });
}

namespace {

// Binds what an attempt came to (duration_ms, http_status, outcome, error_class, error_message,
// customer_id) to six parameters from `first` on, in that order.
void bind_answer(SQLite::Statement& statement, int first, const AttemptRecord& attempt) {
    statement.bind(first, attempt.duration_ms);
    bind_optional(statement, first + 1, attempt.http_status);
    statement.bind(first + 2, attempt.outcome);
    bind_text_or_null(statement, first + 3, attempt.error_class);
    bind_text_or_null(statement, first + 4, attempt.error_message);
    bind_text_or_null(statement, first + 5, attempt.customer_id);
}

} // namespace

// Completes the attempt record_sending began (its number is already counted). The write-ahead may
// precede the request: the attempt starts when the request went out.
void Store::complete_attempt(const AttemptRecord& attempt) {
    auto& update = cached("UPDATE attempts SET duration_ms = ?, http_status = ?, outcome = ?, error_class = ?, "
                          "error_message = ?, customer_id = ?, started_at = COALESCE(?, started_at) WHERE id = ?");
    bind_answer(update, 1, attempt);
    bind_text_or_null(update, 7, attempt.started_at);
    update.bind(8, attempt.id);
    if (update.exec() != 1) {
        throw StoreError("record attempt: no attempt " + std::to_string(attempt.id));
    }
}

// A reconcile lookup is not a new attempt: it carries the number of the attempt it explains. The
// numbers come from rows.attempts inside the statements, so recording reads nothing first. In a
// caller's Transaction (the run records hundreds per commit) no savepoint of its own: a failure
// throws, and the caller's transaction rolls back whole.
bool Store::record(const AttemptRecord& attempt, const RowUpdate& update) {
    return guarded("record attempt", [&] {
        std::optional<WriteScope> scope;
        if (sqlite3_get_autocommit(m_db->getHandle()) != 0) {
            scope.emplace(*m_db);
        }
        // A completed write-ahead attempt is counted now (its number is rows.attempts + 1).
        const int increment = attempt.id != 0 || update.counts_as_attempt ? 1 : 0;
        if (attempt.id != 0) {
            complete_attempt(attempt);
        } else {
            insert_attempt(attempt, update.row_id, increment);
        }
        const bool held = update_row(update, increment);
        if (scope) {
            scope->commit();
        }
        return held;
    });
}

bool Store::created_elsewhere(std::int64_t row_id, std::int64_t run_id) {
    return guarded("created elsewhere", [&] {
        static const std::string k_sql = "SELECT EXISTS (SELECT 1 FROM attempts a WHERE a.row_id = ?1 AND "
                                         "COALESCE(a.run_id, 0) <> ?2 AND " + k_may_have_created + ")";
        auto& select = cached(k_sql.c_str());
        ResetOnExit reset(select);
        select.bind(1, row_id);
        select.bind(2, run_id);
        select.executeStep();
        return select.getColumn(0).getInt() != 0;
    });
}

std::vector<std::int64_t> Store::rows_held(const std::string& owner, const std::vector<std::int64_t>& row_ids) {
    return guarded("rows held", [&] {
        auto& select = cached("SELECT 1 FROM rows WHERE id = ? AND state = 'in_flight' AND lease_owner = ?");
        std::vector<std::int64_t> held;
        for (const std::int64_t id : row_ids) {
            ResetOnExit reset(select);
            select.bind(1, id);
            select.bind(2, owner);
            if (select.executeStep()) {
                held.push_back(id);
            }
        }
        return held;
    });
}

void Store::insert_attempt(const AttemptRecord& attempt, std::int64_t row_id, int increment) {
    auto& insert = cached("INSERT INTO attempts (row_id, run_id, batch_id, number, kind, started_at, duration_ms, "
                          "http_status, outcome, error_class, error_message, customer_id) "
                          "SELECT id, NULLIF(?1, 0), NULLIF(?2, 0), attempts + ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
                          "FROM rows WHERE id = ?12");
    insert.bind(1, attempt.run_id);
    insert.bind(2, attempt.batch_id);
    insert.bind(3, increment);
    insert.bind(4, attempt.kind);
    insert.bind(5, attempt.started_at.empty() ? now_iso8601() : attempt.started_at);
    bind_answer(insert, 6, attempt);
    insert.bind(12, attempt.row_id != 0 ? attempt.row_id : row_id);
    if (insert.exec() != 1) {
        throw StoreError("record attempt: no row " + std::to_string(attempt.row_id != 0 ? attempt.row_id : row_id));
    }
}

bool Store::update_row(const RowUpdate& update, int increment) {
    auto& change = cached(
        "UPDATE rows SET state = ?1, error_class = ?2, error_message = ?3, customer_id = COALESCE(?4, customer_id), "
        "outputs = ?5, reconciled = ?6, next_attempt_at = ?7, attempts = attempts + ?8, updated_at = ?9, "
        "lease_owner = CASE WHEN ?1 = 'in_flight' THEN lease_owner END, "
        "lease_expires_at = CASE WHEN ?1 = 'in_flight' THEN lease_expires_at END, "
        "lease_unknown = CASE WHEN ?1 = 'in_flight' THEN ?11 ELSE 0 END WHERE id = ?10 "
        "AND (?12 IS NULL OR (state = 'in_flight' AND lease_owner = ?12))");
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
    change.bind(8, increment);
    change.bind(9, now_iso8601());
    change.bind(10, update.row_id);
    change.bind(11, update.maybe_created ? 1 : 0);
    bind_text_or_null(change, 12, update.lease_owner);
    if (change.exec() == 1) {
        return true;
    }
    if (!update.lease_owner.empty()) {
        return false; // taken over by another run
    }
    throw StoreError("record attempt: no row " + std::to_string(update.row_id));
}

std::optional<double> Store::first_create_time(std::int64_t row_id) {
    return guarded("first create time", [&]() -> std::optional<double> {
        auto& select = cached("SELECT (julianday(MIN(started_at)) - 2440587.5) * 86400.0 FROM attempts "
                              "WHERE row_id = ? AND kind = 'create'");
        ResetOnExit reset(select);
        select.bind(1, row_id);
        select.executeStep();
        if (select.isColumnNull(0)) {
            return std::nullopt;
        }
        return select.getColumn(0).getDouble();
    });
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

std::int64_t Store::rows_left(std::optional<std::int64_t> import_id) {
    return guarded("rows left", [&] {
        // Each count walks one partial index (rows_pending, rows_in_flight, rows_unknown).
        auto& select = cached("SELECT (SELECT count(*) FROM rows WHERE state = 'pending' AND (?1 IS NULL OR import_id = ?1)) + "
                              "(SELECT count(*) FROM rows WHERE state = 'in_flight' AND (?1 IS NULL OR import_id = ?1)) + "
                              "(SELECT count(*) FROM rows WHERE state = 'outcome_unknown' AND (?1 IS NULL OR import_id = ?1))");
        ResetOnExit reset(select);
        bind_import(select, 1, import_id);
        select.executeStep();
        return select.getColumn(0).getInt64();
    });
}

} // namespace onboard::store
