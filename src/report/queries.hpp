#pragma once

#include "report/filter.hpp"
#include "report/render.hpp"
#include "store/store.hpp"

#include <string>

namespace onboard::report {

// The rows matching `filter`, in import and line order, one result row each with the stable columns
// row_id, import_id, line, state, name, external_id, error_class, error_message, attempts,
// customer_id, reconciled (boolean), updated_at; a narrow table leaves out updated_at, row_id,
// reconciled, import_id, attempts, customer_id and external_id first, in that order. Throws
// UsageError for an unknown state, class or import ("report: ..."), StoreError on a database
// failure.
ResultSet report_rows(store::Store& store, const RowFilter& filter);

// The rows a user must fix (state failed or rejected; superseded ones are not), as they were in the
// source CSV: its columns in its order (the union over imports when several, spellings import reads
// as one merged), extra_1.. for fields beyond the header, then import_id, line, error_class,
// error_message, attempts, record and ref (store::row_reference). A source column with one of those
// names (left by an earlier export, fixed and imported again) is dropped, so round after round the
// file keeps one set. The source columns are marked verbatim so a CSV export re-imports
// unchanged. Throws UsageError "export: no import with id N", StoreError on a database failure.
ResultSet export_failed(store::Store& store, std::optional<std::int64_t> import_id);

// The customers created: customer_id, the workflow inputs (union of their names, in first-seen
// order), import_id and line; inputs marked verbatim. Throws UsageError "export: no import with
// id N", StoreError on a database failure.
ResultSet export_succeeded(store::Store& store, std::optional<std::int64_t> import_id);

// Runs one SQL statement and returns its result with SQLite's value types kept (a blob becomes a
// hex string). Open the store read-only: a write then throws UsageError "query: attempt to write a
// readonly database". Throws UsageError "query: <sqlite's message>" for bad SQL, an empty text or
// more than one statement, StoreError for other database failures.
ResultSet run_query(store::Store& store, const std::string& sql);

} // namespace onboard::report
