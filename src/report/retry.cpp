#include "report/retry.hpp"

#include "core/error.hpp"
#include "report/filter.hpp"

#include <SQLiteCpp/Statement.h>

namespace onboard::report {

namespace {

SqlWhere where_for(const RetryFilter& filter, const std::string& state) {
    RowFilter rows{filter.import_id, {state}, filter.classes, filter.lines};
    SqlWhere where;
    where.add(rows, "rows");
    return where;
}

std::int64_t count(store::Store& store, const RetryFilter& filter, const std::string& state) {
    // outcome_unknown rows carry that class themselves; filter them by import and line only.
    RetryFilter scope = filter;
    if (state == "outcome_unknown") {
        scope.classes.clear();
    }
    const auto where = where_for(scope, state);
    SQLite::Statement select(store.database(), "SELECT COUNT(*) FROM rows" + where.text());
    where.bind(select);
    select.executeStep();
    return select.getColumn(0).getInt64();
}

} // namespace

std::int64_t requeue_failed(store::Store& store, const RetryFilter& filter) {
    validate(RowFilter{filter.import_id, {}, filter.classes, filter.lines}, "retry");
    require_import(store, filter.import_id, "retry");
    try {
        const auto where = where_for(filter, "failed");
        store::Store::Transaction transaction(store);
        // updated_at in the schema's ISO 8601 form, milliseconds and Z included. A requeued row gets
        // --max-attempts fresh tries: its allowance counts from the attempts made so far.
        SQLite::Statement update(
            store.database(),
            "UPDATE rows SET state = 'pending', next_attempt_at = NULL, lease_owner = NULL, "
            "lease_expires_at = NULL, attempts_before_retry = attempts, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" +
                where.text());
        where.bind(update);
        const int changed = update.exec();
        transaction.commit();
        return changed;
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("retry: ") + e.what());
    }
}

RetryLeftovers count_leftovers(store::Store& store, const RetryFilter& filter) {
    try {
        return RetryLeftovers{count(store, filter, "rejected"),
                              count(store, filter, "outcome_unknown")};
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("retry: ") + e.what());
    }
}

} // namespace onboard::report
