#pragma once

#include "core/json.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace onboard::store {

// read_write creates the database when missing (import); existing refuses a missing one (run,
// retry); read_only refuses it too and never writes (status, report, export, query).
enum class OpenMode { read_write, existing, read_only };

// What `onboard import` records about a file before its rows.
struct ImportInfo {
    std::string file_name;
    std::int64_t file_size = 0;
    std::string sha256;
    std::vector<std::string> columns; // the CSV header in file order
    core::Json mapping;               // object: workflow input -> CSV column name
    std::string delimiter;
};

// Counts written when an import finishes.
struct ImportCounts {
    std::int64_t records = 0;
    std::int64_t accepted = 0;
    std::int64_t rejected = 0;
    std::int64_t duplicates = 0;
    std::int64_t superseded = 0;
    std::int64_t stale = 0; // export rows whose source row is already done or replaced: not queued
};

// What an `onboard export --failed` row's reference comes to (Store::supersede_exported).
struct ExportedOrigin {
    std::optional<std::int64_t> replaced; // the failed or rejected row it now replaces
    std::string done;                     // else, when not empty: the live row that already carries it
};

// A validated CSV record ready to queue.
struct NewRow {
    std::int64_t line = 0;
    std::optional<std::string> name;
    std::optional<std::string> external_id;
    core::Json inputs;               // object of workflow inputs taken from the CSV
    // When set, the inputs are {name, externalId} of the members above, in that order and without
    // the absent ones, as k_row_inputs_sql derives them: `inputs` is left unbuilt, stored as NULL.
    bool inputs_derived = false;
    std::vector<std::string> source; // the record's fields as in the file
    std::optional<std::string> raw_record; // a malformed record's text (wrong field count, broken quoting)
    std::optional<std::int64_t> supersedes; // the failed or rejected original an export row names
};

// The answer to queueing a row: accepted, or the live row it collides with.
struct QueueResult {
    bool accepted = false;
    bool superseded_failed_row = false; // it replaced a failed or rejected row with the same key
    std::string duplicate_field;        // "name" or "externalId" when not accepted
    std::int64_t first_line = 0;        // line of the row it collides with
    std::int64_t first_import_id = 0;   // import of that row
    std::string first_file_name;        // file name of that import
};

// The columns `onboard export --failed` appends after the source's, in order: import_id and line
// name the row a fixed copy replaces when the file is imported again, ref proves it
// (row_reference), record holds a malformed record's text.
inline constexpr std::array<const char*, 7> k_export_columns{"import_id", "line",   "error_class", "error_message",
                                                             "attempts",  "record", "ref"};

// The `ref` an export gives a row: "r" and 16 hex digits of sha256("<its import's sha256>:<line>"), so a
// fixed copy imported again proves which row it came from.
std::string row_reference(const std::string& import_sha256, std::int64_t line);

// A row leased to a run.
struct LeasedRow {
    std::int64_t id = 0;
    std::int64_t import_id = 0;
    std::int64_t line = 0;
    core::Json inputs;
    std::int64_t attempts = 0;      // attempts made before this lease, since the last `onboard retry`
    bool outcome_unknown = false;   // must be reconciled before any resend
    bool sent_before = false;       // a create of it was sent before this lease, in any run, even before a retry
};

// One request made for a row, as recorded in `attempts`.
struct AttemptRecord {
    std::int64_t id = 0;            // set: completes the attempt record_sending began
    std::int64_t row_id = 0;
    std::int64_t run_id = 0;
    std::int64_t batch_id = 0;
    std::string kind = "create";    // create | reconcile
    std::string started_at;         // ISO 8601 UTC
    double duration_ms = 0;
    std::optional<int> http_status;
    std::string outcome;            // succeeded | failed | retry | outcome_unknown | reconciled | not_found
    std::string error_class;        // empty when none
    std::string error_message;
    std::string customer_id;
};

// The row's new state after an attempt (written in the same transaction as the attempt).
struct RowUpdate {
    std::int64_t row_id = 0;
    std::string state;              // succeeded | failed | pending | outcome_unknown
    std::string error_class;
    std::string error_message;
    std::string customer_id;
    core::Json outputs;             // workflow outputs when succeeded
    bool reconciled = false;
    std::optional<double> next_attempt_at; // unix seconds, for pending rows waiting for a retry
    bool counts_as_attempt = true;  // false for a reconcile lookup
    // With state in_flight: whether a create of this row may be at the server unrecorded, so that a
    // crash leaves the row to be reconciled rather than resent.
    bool maybe_created = false;
    // When set, the row changes only while this owner's lease holds it (in_flight): a run stalled
    // past its lease (a suspended process) must not overwrite what the run that took the row over
    // recorded.
    std::string lease_owner;
};

// Counts per state for one import (import_id 0 = all imports).
struct StateCounts {
    std::int64_t import_id = 0;
    std::string file_name;
    std::int64_t pending = 0, in_flight = 0, succeeded = 0, failed = 0, outcome_unknown = 0,
                 rejected = 0, superseded = 0;
    std::int64_t total() const {
        return pending + in_flight + succeeded + failed + outcome_unknown + rejected + superseded;
    }
};

// A row's inputs and source as SQL over `rows` (schema 007: both are NULL when they only repeat
// name and external_id); the same expressions as the view rows_full.
inline constexpr const char* k_row_inputs_sql =
    "COALESCE(inputs, CASE WHEN name IS NULL AND external_id IS NULL THEN '{}' "
    "WHEN external_id IS NULL THEN json_object('name', name) "
    "WHEN name IS NULL THEN json_object('externalId', external_id) "
    "ELSE json_object('name', name, 'externalId', external_id) END)";
inline constexpr const char* k_row_source_sql =
    "COALESCE(source, json_array(COALESCE(name, ''), COALESCE(external_id, '')))";

// The results database: imports, the row queue, leases and the attempt history.
// Every method throws onboard::StoreError on a database failure.
class Store {
public:
    // Opens (creating when read_write) and migrates to the schema version this binary embeds.
    // read_only refuses a database that does not exist or is from a newer binary.
    explicit Store(const std::string& path, OpenMode mode = OpenMode::read_write);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    SQLite::Database& database();
    int schema_version();
    // From now on every commit syncs the WAL to disk (synchronous=FULL): a run's write-ahead of a
    // create must survive a power loss before the request goes out. Imports keep NORMAL: a commit
    // lost to power loss is only re-read when the file is imported again.
    void make_commits_durable();
    // Keeps the statement journals of an import's multi-row writes in memory, not in temporary files.
    void prepare_for_import();

    // Groups writes: commits at commit(), rolls back when destroyed uncommitted.
    class Transaction {
    public:
        explicit Transaction(Store& store);
        ~Transaction();
        void commit();

    private:
        Store& m_store;
        bool m_done = false;
    };

    // --- import ---
    std::optional<std::int64_t> find_import_by_sha256(const std::string& sha256);
    // The mapping (JSON text, input -> column) and delimiter ("," ";" or "tab") an import was read with.
    std::pair<std::string, std::string> import_mapping(std::int64_t import_id);
    std::int64_t create_import(const ImportInfo& info);
    // Whether finish_import was called for the import (false: interrupted, to be resumed).
    bool import_finished(std::int64_t import_id);
    // The last CSV line stored for the import (0 when none): where a resumed import goes on.
    std::int64_t last_line(std::int64_t import_id);
    // The import's counts, recounted from its rows (duplicates: rejections that name a first line).
    ImportCounts import_counts(std::int64_t import_id);
    // Queues a row unless a live row (not rejected/superseded) has the same name or externalId; a
    // failed row, or a rejected row of an earlier import, with the same key is superseded by it
    // (the fix-and-reimport loop).
    QueueResult queue_row(std::int64_t import_id, const NewRow& row);
    // queue_row for each of `rows` (lines in increasing order), with one INSERT for a full group of
    // k_queue_group rows none of which collides: the import's fast path.
    std::vector<QueueResult> queue_rows(std::int64_t import_id, const std::vector<NewRow>& rows);
    static constexpr std::size_t k_queue_group = 64;
    // Records a record rejected at import (state 'rejected', class 'invalid_input').
    void reject_row(std::int64_t import_id, std::int64_t line, const std::vector<std::string>& source,
                    const core::Json& inputs, const std::string& reason,
                    const std::optional<std::string>& raw_record = std::nullopt,
                    std::optional<std::int64_t> supersedes = std::nullopt);
    // A row of an `onboard export --failed` file names the row it came from by import, line and
    // `reference` (row_reference): when they agree (so another database's export, or a line typed
    // wrong, names nothing) and that row, or the newest copy that replaced it, is still failed or
    // rejected, it is marked superseded and its id returned for the new row's link.
    // When the chain ends at a live row (sent, succeeded or queued), nothing is replaced and `done`
    // names that row: the export row is a stale copy, and queueing it could create a second customer.
    ExportedOrigin supersede_exported(std::int64_t import_id, std::int64_t original_import,
                                      std::int64_t original_line, const std::string& reference);
    // Records a stale copy (see supersede_exported) as superseded, class stale_copy: kept, never sent.
    void record_stale_copy(std::int64_t import_id, std::int64_t line, const std::vector<std::string>& source,
                           const std::string& reason);
    void finish_import(std::int64_t import_id, const ImportCounts& counts);

    // --- run ---
    // Starts a run; returns its id. `owner` tags the leases it takes.
    std::int64_t begin_run(const std::string& owner, const std::string& api_url, int workers, int batch_size);
    void finish_run(std::int64_t run_id, const std::string& status);
    // Leases up to `limit` rows due now: expired leases and outcome_unknown rows first (marked
    // outcome_unknown when a create may be at the server), then pending
    // rows whose next_attempt_at has come, in import and line order. Creates a batches row.
    // Returns the batch id (0 when nothing was leased) and fills `rows`.
    std::int64_t lease_batch(std::int64_t run_id, const std::string& owner, int limit, double now,
                             double lease_seconds, std::optional<std::int64_t> import_id,
                             std::vector<LeasedRow>& rows);
    // Pushes the lease expiry of every row this owner holds.
    void extend_leases(const std::string& owner, double new_expiry);
    // Returns rows this owner still holds to pending (an interrupted run) without losing attempts.
    void release_leases(const std::string& owner);
    // Write-ahead for a create about to be sent: adds attempt number attempts+1 with outcome
    // 'outcome_unknown', so that a crash between sending and recording leaves an honest history and
    // a row that is reconciled, not resent. Returns the attempt's id for record(). Callers commit it
    // (in a Transaction) before sending.
    std::int64_t record_sending(const AttemptRecord& attempt);
    // Takes back the write-ahead record_sending made when its request is not sent after all (a run
    // stopping with rows written ahead, a request that cannot be built).
    void cancel_sending(std::int64_t attempt_id);
    // Records an attempt (completing the one record_sending began when attempt.id is set) and the
    // row's new state atomically; callers batch these in a Transaction, which a failure then
    // leaves for its destructor to roll back. False when update.lease_owner no longer holds the
    // row: the attempt is kept as history, the row is left as it is.
    bool record(const AttemptRecord& attempt, const RowUpdate& update);
    // Whether a create of the row by another run than run_id may have made its customer (a run
    // stalled past its lease sent it after this one leased the row).
    bool created_elsewhere(std::int64_t row_id, std::int64_t run_id);
    // The rows this owner holds (in_flight), of those given.
    std::vector<std::int64_t> rows_held(const std::string& owner, const std::vector<std::int64_t>& row_ids);
    // Unix seconds of the row's first create attempt (written ahead or answered), if any.
    std::optional<double> first_create_time(std::int64_t row_id);
    // Earliest next_attempt_at among pending rows, if any wait for a retry.
    std::optional<double> next_due_time(std::optional<std::int64_t> import_id);

    // The rows a run has still to do (pending, due or not, in flight, or of unknown outcome), of one
    // import or all: counted on the queue's partial indexes, not over every row.
    std::int64_t rows_left(std::optional<std::int64_t> import_id);

private:
    // A prepared statement kept for the life of the Store, reset (callers bind every parameter).
    SQLite::Statement& cached(const char* sql);
    void complete_attempt(const AttemptRecord& attempt);
    bool rejected_before(std::int64_t import_id);
    bool supersede_rejected(std::int64_t import_id, const NewRow& row, std::int64_t new_id, const std::string& now);
    void insert_attempt(const AttemptRecord& attempt, std::int64_t row_id, int increment);
    bool update_row(const RowUpdate& update, int increment);

    std::unique_ptr<SQLite::Database> m_db;
    std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> m_statements;
    std::pair<std::int64_t, bool> m_rejected_before{0, false}; // import id asked about, answer
};

// Current time as ISO 8601 UTC with milliseconds.
std::string now_iso8601();
// Current time as unix seconds.
double now_unix();

} // namespace onboard::store
