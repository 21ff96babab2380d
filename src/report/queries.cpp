#include "report/queries.hpp"

#include "loader/importer.hpp"

#include "core/error.hpp"

#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <array>
#include <map>
#include <sqlite3.h>

namespace onboard::report {

namespace {

core::Json column_value(const SQLite::Column& column) {
    if (column.isNull()) {
        return nullptr;
    }
    if (column.isInteger()) {
        return static_cast<std::int64_t>(column.getInt64());
    }
    if (column.isFloat()) {
        return column.getDouble();
    }
    return column.getString();
}

// The columns a failed export appends after the source's; a malformed record's source columns are
// left empty (they may be shifted) and `record` holds its text.
constexpr const auto& k_failure_columns = store::k_export_columns;

// A source column a failed export drops: one of its own columns, left in the file by an earlier
// export that was fixed and imported again (its values are that round's, the appended ones are
// now).
bool is_failure_column(const std::string& name) {
    return std::find(k_failure_columns.begin(), k_failure_columns.end(), name) !=
           k_failure_columns.end();
}

constexpr std::size_t k_dropped = static_cast<std::size_t>(-1);

// Where each field of an import's records goes in the export: the k-th column of a given name fills
// the k-th slot of that name in the union, so repeated header names keep their place. Names are
// compared as import matches them (loader::column_key): "External ID" and "externalId" are one
// column, else the export of two such imports could not be imported back.
struct ColumnUnion {
    std::vector<std::string> names;
    std::map<std::int64_t, std::vector<std::size_t>> slots; // import id -> slot per source field

    void add(std::int64_t import_id, const core::Json& columns) {
        if (slots.count(import_id) != 0) {
            return;
        }
        auto& slot = slots[import_id];
        std::map<std::string, std::size_t> seen;
        for (const auto& column : columns.items()) {
            const std::string& name = column.as_string();
            if (is_failure_column(name)) {
                slot.push_back(k_dropped);
                continue;
            }
            const std::string key = loader::column_key(name);
            const std::size_t nth = seen[key]++;
            std::size_t found = 0;
            std::size_t index = 0;
            for (; index < names.size(); ++index) {
                if (loader::column_key(names[index]) == key && found++ == nth) {
                    break;
                }
            }
            if (index == names.size()) {
                names.push_back(name);
            }
            slot.push_back(index);
        }
    }
};

struct FailedRow {
    std::int64_t import_id = 0;
    core::Json source;
    core::Json line, error_class, error_message, attempts, record, reference;
};

// A row's fields (rows.source) or an import's header (imports.columns) as they were in the file:
// bytes that are not UTF-8 (a record rejected for them, a header column no input reads) are kept,
// so an export reads like the file did.
core::Json file_strings(const std::string& text, const std::string& what) {
    if (core::is_valid_utf8(text)) {
        return core::Json::parse(text, what);
    }
    core::Json fields = core::Json::array();
    for (auto& field : core::parse_string_array(text, what)) {
        fields.push_back(std::move(field));
    }
    return fields;
}

// A malformed record's text as the export gives it: a NUL byte (why such a record was rejected)
// shows as U+2400 "␀", so the export stays a text file that imports again, one row per problem.
std::string shown_record(std::string text) {
    for (auto at = text.find('\0'); at != std::string::npos; at = text.find('\0', at)) {
        text.replace(at, 1, "\xE2\x90\x80");
    }
    return text;
}

std::vector<FailedRow> failed_rows(store::Store& store, std::optional<std::int64_t> import_id,
                                   ColumnUnion& columns) {
    SqlWhere where;
    where.raw("r.state IN ('failed', 'rejected')");
    if (import_id) {
        where.equals("r.import_id", *import_id);
    }
    SQLite::Statement select(
        store.database(),
        "SELECT r.import_id, r.source, i.columns, r.line, r.error_class, "
        "r.error_message, r.attempts, r.raw_record, i.sha256 FROM rows_full r JOIN imports i ON i.id = r.import_id" +
            where.text() + " ORDER BY r.import_id, r.line");
    where.bind(select);
    std::vector<FailedRow> rows;
    while (select.executeStep()) {
        FailedRow row{select.getColumn(0).getInt64(),
                      file_strings(select.getColumn(1).getString(), "rows.source"),
                      column_value(select.getColumn(3)),
                      column_value(select.getColumn(4)),
                      column_value(select.getColumn(5)),
                      column_value(select.getColumn(6)),
                      select.getColumn(7).isNull() ? core::Json("") : core::Json(shown_record(select.getColumn(7).getString())),
                      core::Json(store::row_reference(select.getColumn(8).getString(), select.getColumn(3).getInt64()))};
        columns.add(row.import_id,
                    file_strings(select.getColumn(2).getString(), "imports.columns"));
        rows.push_back(std::move(row));
    }
    return rows;
}

// With nothing to export the header still shows the source columns of the imports asked about.
void add_import_columns(store::Store& store, std::optional<std::int64_t> import_id,
                        ColumnUnion& columns) {
    SqlWhere where;
    if (import_id) {
        where.equals("id", *import_id);
    }
    SQLite::Statement select(store.database(),
                             "SELECT id, columns FROM imports" + where.text() + " ORDER BY id");
    where.bind(select);
    while (select.executeStep()) {
        columns.add(select.getColumn(0).getInt64(),
                    file_strings(select.getColumn(1).getString(), "imports.columns"));
    }
}

std::string blob_hex(const void* data, int size) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out = "x'";
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (int i = 0; i < size; ++i) {
        out += k_hex[bytes[i] >> 4];
        out += k_hex[bytes[i] & 0xF];
    }
    return out + "'";
}

core::Json raw_value(sqlite3_stmt* statement, int index) {
    switch (sqlite3_column_type(statement, index)) {
    case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(statement, index));
    case SQLITE_FLOAT:
        return sqlite3_column_double(statement, index);
    case SQLITE_TEXT:
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, index)),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement, index)));
    case SQLITE_BLOB:
        return blob_hex(sqlite3_column_blob(statement, index),
                        sqlite3_column_bytes(statement, index));
    default:
        return nullptr;
    }
}

// A failure caused by the SQL text is the user's (UsageError); anything else is the database's.
[[noreturn]] void throw_query_error(sqlite3* db, int code) {
    const std::string message = std::string("query: ") + sqlite3_errmsg(db);
    const int primary = code & 0xFF;
    if (primary == SQLITE_ERROR || primary == SQLITE_READONLY || primary == SQLITE_AUTH ||
        primary == SQLITE_RANGE || primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH ||
        primary == SQLITE_CANTOPEN) {
        throw UsageError(message);
    }
    throw StoreError(message);
}

struct StatementGuard {
    sqlite3_stmt* statement = nullptr;
    ~StatementGuard() { sqlite3_finalize(statement); }
};

// Whether `tail` holds another statement (not just spaces, semicolons or comments).
bool holds_statement(sqlite3* db, const char* tail) {
    while (tail != nullptr && *tail != '\0') {
        StatementGuard next;
        const char* rest = nullptr;
        if (sqlite3_prepare_v2(db, tail, -1, &next.statement, &rest) != SQLITE_OK ||
            next.statement != nullptr) {
            return true;
        }
        tail = rest;
    }
    return false;
}

// SQLiteCpp's exceptions become StoreError at this module's edge.
template <typename F> ResultSet translated(std::string_view where, F&& work) {
    try {
        return work();
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string(where) + ": " + e.what());
    }
}

ResultSet select_rows(store::Store& store, const RowFilter& filter) {
    ResultSet result;
    result.columns = {"row_id",   "import_id",   "line",        "state",
                      "name",     "external_id", "error_class", "error_message",
                      "attempts", "customer_id", "reconciled",  "updated_at"};
    // A narrow terminal keeps line, state, name, error_class and error_message longest.
    result.drop_order = {11, 0, 10, 1, 8, 9, 5};
    SqlWhere where;
    where.add(filter, "r");
    // A malformed record's name and externalId are positional guesses (its fields may be shifted):
    // left empty, as in `export --failed`, whose `record` column holds the text.
    SQLite::Statement select(
        store.database(),
        "SELECT r.id, r.import_id, r.line, r.state, CASE WHEN r.raw_record IS NULL THEN r.name END, "
        "CASE WHEN r.raw_record IS NULL THEN r.external_id END, r.error_class, "
        "r.error_message, r.attempts, r.customer_id, r.reconciled, r.updated_at FROM rows r" +
            where.text() + " ORDER BY r.import_id, r.line, r.id");
    where.bind(select);
    while (select.executeStep()) {
        auto& row = result.rows.emplace_back();
        for (int i = 0; i < 12; ++i) {
            row.push_back(column_value(select.getColumn(i)));
        }
        row[10] = core::Json(select.getColumn(10).getInt() != 0);
    }
    return result;
}

ResultSet select_failed(store::Store& store, std::optional<std::int64_t> import_id) {
    ColumnUnion columns;
    const auto rows = failed_rows(store, import_id, columns);
    if (rows.empty()) {
        add_import_columns(store, import_id, columns);
    }
    std::size_t extras = 0;
    for (const auto& row : rows) {
        if (row.record.as_string().empty()) {
            extras = std::max(extras, row.source.size() -
                                          std::min(row.source.size(), columns.slots[row.import_id].size()));
        }
    }
    ResultSet result;
    result.columns = columns.names;
    // A source that already has extra_1 (an earlier export's) gets its new extras numbered on.
    for (std::size_t n = 1; extras > 0; ++n) {
        const std::string name = "extra_" + std::to_string(n);
        if (std::find(columns.names.begin(), columns.names.end(), name) == columns.names.end()) {
            result.columns.push_back(name);
            --extras;
        }
    }
    const std::size_t width = result.columns.size();
    result.verbatim.assign(width, true);
    for (const auto* name : k_failure_columns) {
        result.columns.push_back(name);
        result.verbatim.push_back(false);
    }
    for (const auto& row : rows) {
        const auto& slot = columns.slots[row.import_id];
        std::vector<core::Json> cells(width, core::Json(""));
        // A malformed record's fields are not spread over the columns (they may be shifted): a fixed
        // copy is typed in from `record`, and an unedited one is rejected again, not half imported.
        const std::size_t spread = row.record.as_string().empty() ? row.source.size() : 0;
        for (std::size_t k = 0; k < spread; ++k) {
            const std::size_t to =
                k < slot.size() ? slot[k] : columns.names.size() + (k - slot.size());
            if (to != k_dropped) {
                cells[to] = row.source.items()[k];
            }
        }
        cells.emplace_back(row.import_id);
        for (const auto* value :
             {&row.line, &row.error_class, &row.error_message, &row.attempts, &row.record, &row.reference}) {
            cells.push_back(*value);
        }
        result.rows.push_back(std::move(cells));
    }
    return result;
}

ResultSet select_succeeded(store::Store& store, std::optional<std::int64_t> import_id) {
    SqlWhere where;
    where.raw("state = 'succeeded'");
    if (import_id) {
        where.equals("import_id", *import_id);
    }
    SQLite::Statement select(store.database(),
                             "SELECT customer_id, inputs, import_id, line FROM rows_full" +
                                 where.text() + " ORDER BY import_id, line, id");
    where.bind(select);
    std::vector<std::pair<std::vector<core::Json>, core::Json>>
        found; // (customer, import, line), inputs
    std::vector<std::string> keys;
    while (select.executeStep()) {
        auto inputs = core::Json::parse(select.getColumn(1).getString(), "rows.inputs");
        for (const auto& key : inputs.keys()) {
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                keys.push_back(key);
            }
        }
        found.push_back({{column_value(select.getColumn(0)), column_value(select.getColumn(2)),
                          column_value(select.getColumn(3))},
                         std::move(inputs)});
    }
    ResultSet result;
    result.columns.push_back("customer_id");
    result.columns.insert(result.columns.end(), keys.begin(), keys.end());
    result.columns.insert(result.columns.end(), {"import_id", "line"});
    result.verbatim.assign(result.columns.size(), true);
    for (const auto& [ids, inputs] : found) {
        auto& row = result.rows.emplace_back();
        row.push_back(ids[0]);
        for (const auto& key : keys) {
            const core::Json* value = inputs.find(key);
            row.push_back(value == nullptr                          ? core::Json()
                          : value->is_array() || value->is_object() ? core::Json(value->dump())
                                                                    : *value);
        }
        row.push_back(ids[1]);
        row.push_back(ids[2]);
    }
    return result;
}

} // namespace

ResultSet report_rows(store::Store& store, const RowFilter& filter) {
    validate(filter, "report");
    require_import(store, filter.import_id, "report");
    return translated("report", [&] { return select_rows(store, filter); });
}

ResultSet export_failed(store::Store& store, std::optional<std::int64_t> import_id) {
    require_import(store, import_id, "export");
    return translated("export", [&] { return select_failed(store, import_id); });
}

ResultSet export_succeeded(store::Store& store, std::optional<std::int64_t> import_id) {
    require_import(store, import_id, "export");
    return translated("export", [&] { return select_succeeded(store, import_id); });
}

ResultSet run_query(store::Store& store, const std::string& sql) {
    sqlite3* db = store.database().getHandle();
    StatementGuard guard;
    const char* tail = nullptr;
    const int prepared =
        sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &guard.statement, &tail);
    if (prepared != SQLITE_OK) {
        throw_query_error(db, prepared);
    }
    if (guard.statement == nullptr) {
        throw UsageError("query: no SQL statement given");
    }
    if (holds_statement(db, tail)) {
        throw UsageError("query: give one SQL statement at a time");
    }
    // The read-only connection already refuses writes to the database; this also refuses statements
    // that write elsewhere (VACUUM INTO a new file) or change the connection (temp tables).
    if (sqlite3_stmt_readonly(guard.statement) == 0) {
        throw UsageError("query: attempt to write a readonly database");
    }
    ResultSet result;
    const int count = sqlite3_column_count(guard.statement);
    for (int i = 0; i < count; ++i) {
        const char* name = sqlite3_column_name(guard.statement, i);
        result.columns.emplace_back(name != nullptr ? name : "");
    }
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(guard.statement)) == SQLITE_ROW) {
        auto& row = result.rows.emplace_back();
        for (int i = 0; i < count; ++i) {
            row.push_back(raw_value(guard.statement, i));
        }
    }
    if (step != SQLITE_DONE) {
        throw_query_error(db, sqlite3_extended_errcode(db));
    }
    return result;
}

} // namespace onboard::report
