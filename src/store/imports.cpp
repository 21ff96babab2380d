#include "core/text.hpp"
#include "store/internal.hpp"
#include "store/store.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace onboard::store {

using detail::bind_text_or_null;
using detail::guarded;
using detail::ResetOnExit;
using detail::WriteScope;

namespace {

// The live row holding a key, if any.
struct LiveRow {
    std::int64_t id = 0;
    std::string state;
    std::int64_t line = 0;
    std::int64_t import_id = 0;
    std::string file_name;
};

std::string json_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const auto& item : items) {
        if (out.size() > 1) {
            out += ',';
        }
        core::append_json_string(out, item);
    }
    return out + "]";
}

// The inputs as stored: nullopt (NULL) when they are what k_row_inputs_sql derives from name and
// external_id, which saves most of a typical row's bytes and its JSON writing (schema 007).
std::optional<std::string> stored_inputs(const core::Json& inputs, const std::optional<std::string>& name,
                                         const std::optional<std::string>& external_id) {
    if (inputs.is_null() || (inputs.is_object() && inputs.empty())) {
        return name || external_id ? std::optional<std::string>("{}") : std::nullopt;
    }
    std::size_t next = 0;
    auto matches = [&](const char* key, const std::optional<std::string>& value) {
        if (!value) {
            return true;
        }
        const bool same = next < inputs.size() && inputs.keys()[next] == key && inputs.items()[next].is_string() &&
                          inputs.items()[next].as_string() == *value;
        ++next;
        return same;
    };
    if (inputs.is_object() && matches("name", name) && matches("externalId", external_id) && next == inputs.size()) {
        return std::nullopt;
    }
    return inputs.dump();
}

// The source as stored: nullopt (NULL) when it is [name, external_id] (k_row_source_sql).
std::optional<std::string> stored_source(const std::vector<std::string>& source, const std::optional<std::string>& name,
                                         const std::optional<std::string>& external_id) {
    if (source.size() == 2 && source[0] == name.value_or("") && source[1] == external_id.value_or("")) {
        return std::nullopt;
    }
    return json_array(source);
}

std::optional<std::string> string_member(const core::Json& object, const char* key) {
    const core::Json* value = object.find(key);
    if (value == nullptr || !value->is_string() || value->as_string().empty()) {
        return std::nullopt;
    }
    return value->as_string();
}

std::optional<LiveRow> read_live(SQLite::Statement& select, const std::string& key) {
    ResetOnExit reset(select);
    select.bind(1, key);
    if (!select.executeStep()) {
        return std::nullopt;
    }
    return LiveRow{select.getColumn(0).getInt64(), select.getColumn(1).getString(), select.getColumn(2).getInt64(),
                   select.getColumn(3).getInt64(), select.getColumn(4).getString()};
}

// INSERT OR IGNORE of k_queue_group rows in one statement, 7 parameters each.
std::string queue_group_sql() {
    std::string sql = "INSERT OR IGNORE INTO rows (import_id, line, state, name, external_id, inputs, source, "
                      "updated_at) VALUES ";
    for (std::size_t i = 0; i < Store::k_queue_group; ++i) {
        sql += i == 0 ? "(?, ?, 'pending', ?, ?, ?, ?, ?)" : ", (?, ?, 'pending', ?, ?, ?, ?, ?)";
    }
    return sql;
}

QueueResult collision(const char* field, const LiveRow& row) {
    QueueResult result;
    result.duplicate_field = field;
    result.first_line = row.line;
    result.first_import_id = row.import_id;
    result.first_file_name = row.file_name;
    return result;
}

} // namespace

std::optional<std::int64_t> Store::find_import_by_sha256(const std::string& sha256) {
    return guarded("find import", [&]() -> std::optional<std::int64_t> {
        auto& select = cached("SELECT id FROM imports WHERE sha256 = ?");
        ResetOnExit reset(select);
        select.bind(1, sha256);
        if (select.executeStep()) {
            return select.getColumn(0).getInt64();
        }
        return std::nullopt;
    });
}

std::pair<std::string, std::string> Store::import_mapping(std::int64_t import_id) {
    return guarded("import mapping", [&] {
        auto& select = cached("SELECT mapping, delimiter FROM imports WHERE id = ?");
        ResetOnExit reset(select);
        select.bind(1, import_id);
        if (!select.executeStep()) {
            throw StoreError("import mapping: no import " + std::to_string(import_id));
        }
        return std::pair{select.getColumn(0).getString(), select.getColumn(1).getString()};
    });
}

std::int64_t Store::create_import(const ImportInfo& info) {
    return guarded("create import", [&] {
        auto& insert = cached("INSERT INTO imports (file_name, file_size, sha256, columns, mapping, delimiter, "
                              "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        insert.bind(1, info.file_name);
        insert.bind(2, static_cast<std::int64_t>(info.file_size));
        insert.bind(3, info.sha256);
        insert.bind(4, json_array(info.columns));
        insert.bind(5, info.mapping.is_null() ? std::string("{}") : info.mapping.dump());
        insert.bind(6, info.delimiter);
        insert.bind(7, now_iso8601());
        insert.exec();
        return m_db->getLastInsertRowid();
    });
}

bool Store::import_finished(std::int64_t import_id) {
    return guarded("import state", [&] {
        auto& select = cached("SELECT finished_at IS NOT NULL FROM imports WHERE id = ?");
        ResetOnExit reset(select);
        select.bind(1, import_id);
        return select.executeStep() && select.getColumn(0).getInt() != 0;
    });
}

std::int64_t Store::last_line(std::int64_t import_id) {
    return guarded("import state", [&] {
        auto& select = cached("SELECT COALESCE(MAX(line), 0) FROM rows WHERE import_id = ?");
        ResetOnExit reset(select);
        select.bind(1, import_id);
        select.executeStep();
        return select.getColumn(0).getInt64();
    });
}

ImportCounts Store::import_counts(std::int64_t import_id) {
    return guarded("import counts", [&] {
        // A duplicate's reason starts with "duplicate " (see loader::import_csv).
        auto& select = cached("SELECT COUNT(*), COALESCE(SUM(state <> 'rejected' AND "
                              "COALESCE(error_class, '') <> 'stale_copy'), 0), "
                              "COALESCE(SUM(state = 'rejected'), 0), "
                              "COALESCE(SUM(state = 'rejected' AND error_message LIKE 'duplicate %'), 0), "
                              "COALESCE(SUM(supersedes IS NOT NULL), 0), "
                              "COALESCE(SUM(error_class = 'stale_copy'), 0) FROM rows WHERE import_id = ?");
        ResetOnExit reset(select);
        select.bind(1, import_id);
        select.executeStep();
        return ImportCounts{select.getColumn(0).getInt64(), select.getColumn(1).getInt64(),
                            select.getColumn(2).getInt64(), select.getColumn(3).getInt64(),
                            select.getColumn(4).getInt64(), select.getColumn(5).getInt64()};
    });
}

// The common case is one INSERT OR IGNORE (the partial unique indexes refuse a live duplicate);
// only a refused row pays for the lookups that explain or supersede.
QueueResult Store::queue_row(std::int64_t import_id, const NewRow& row) {
    return guarded("queue row", [&] {
        const auto inputs = row.inputs_derived ? std::nullopt : stored_inputs(row.inputs, row.name, row.external_id);
        const auto source = stored_source(row.source, row.name, row.external_id);
        const std::string now = now_iso8601();
        auto insert = [&](std::optional<std::int64_t> supersedes) {
            auto& statement =
                cached("INSERT OR IGNORE INTO rows (import_id, line, state, name, external_id, inputs, source, "
                       "supersedes, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?)");
            // The strings outlive the exec below, so SQLite need not copy them.
            statement.bind(1, import_id);
            statement.bind(2, static_cast<std::int64_t>(row.line));
            detail::bind_optional_no_copy(statement, 3, row.name);
            detail::bind_optional_no_copy(statement, 4, row.external_id);
            detail::bind_optional_no_copy(statement, 5, inputs);
            detail::bind_optional_no_copy(statement, 6, source);
            detail::bind_optional(statement, 7, supersedes);
            statement.bindNoCopy(8, now);
            return statement.exec() == 1;
        };
        QueueResult result;
        if (insert(row.supersedes)) {
            result.accepted = true;
            result.superseded_failed_row =
                row.supersedes.has_value() ||
                (rejected_before(import_id) && supersede_rejected(import_id, row, m_db->getLastInsertRowid(), now));
            return result;
        }
        WriteScope scope(*m_db);
        std::optional<LiveRow> by_id, by_name;
        if (row.external_id) {
            by_id = read_live(cached("SELECT r.id, r.state, r.line, r.import_id, i.file_name FROM rows r "
                                     "JOIN imports i ON i.id = r.import_id WHERE r.external_id = ?"
                                     " AND r.live = 1"),
                              *row.external_id);
        }
        if (row.name) {
            by_name = read_live(cached("SELECT r.id, r.state, r.line, r.import_id, i.file_name FROM rows r "
                                       "JOIN imports i ON i.id = r.import_id WHERE r.name = ?"
                                       " AND r.live = 1"),
                                *row.name);
        }
        if (by_id && by_id->state != "failed") {
            return collision("externalId", *by_id);
        }
        if (by_name && by_name->state != "failed") {
            return collision("name", *by_name);
        }
        if (!by_id && !by_name) {
            throw StoreError("queue row: line " + std::to_string(row.line) + " was refused by the database");
        }
        auto& supersede = cached("UPDATE rows SET state = 'superseded', live = 0, updated_at = ? WHERE id = ?");
        for (const auto* failed : {&by_id, &by_name}) {
            if (*failed) {
                supersede.bind(1, now);
                supersede.bind(2, (*failed)->id);
                supersede.exec();
                supersede.reset();
            }
        }
        if (!insert(row.supersedes ? *row.supersedes : by_id ? by_id->id : by_name->id)) {
            throw StoreError("queue row: line " + std::to_string(row.line) + " was refused by the database");
        }
        scope.commit();
        result.accepted = true;
        result.superseded_failed_row = true;
        return result;
    });
}

std::vector<QueueResult> Store::queue_rows(std::int64_t import_id, const std::vector<NewRow>& rows) {
    std::vector<QueueResult> results(rows.size());
    if (rows.size() != k_queue_group || rejected_before(import_id)) {
        for (std::size_t i = 0; i < rows.size(); ++i) {
            results[i] = queue_row(import_id, rows[i]);
        }
        return results;
    }
    const std::size_t inserted = guarded("queue rows", [&] {
        static const std::string k_sql = queue_group_sql();
        auto& insert = cached(k_sql.c_str());
        std::vector<std::optional<std::string>> texts; // inputs and source of each row, alive until exec
        texts.reserve(2 * rows.size());
        const std::string now = now_iso8601();
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const int base = static_cast<int>(7 * i);
            texts.push_back(rows[i].inputs_derived ? std::nullopt
                                                   : stored_inputs(rows[i].inputs, rows[i].name, rows[i].external_id));
            texts.push_back(stored_source(rows[i].source, rows[i].name, rows[i].external_id));
            insert.bind(base + 1, import_id);
            insert.bind(base + 2, static_cast<std::int64_t>(rows[i].line));
            detail::bind_optional_no_copy(insert, base + 3, rows[i].name);
            detail::bind_optional_no_copy(insert, base + 4, rows[i].external_id);
            detail::bind_optional_no_copy(insert, base + 5, texts[2 * i]);
            detail::bind_optional_no_copy(insert, base + 6, texts[2 * i + 1]);
            insert.bindNoCopy(base + 7, now);
        }
        return static_cast<std::size_t>(insert.exec());
    });
    if (inserted == rows.size()) {
        for (auto& result : results) {
            result.accepted = true;
        }
        return results;
    }
    // Some collided: the ones that went in are pending at their lines; the others take the slow
    // path, which explains the duplicate or supersedes a failed row.
    std::vector<std::int64_t> present = guarded("queue rows", [&] {
        auto& select = cached("SELECT line FROM rows INDEXED BY rows_pending WHERE state = 'pending' "
                              "AND import_id = ? AND line BETWEEN ? AND ? ORDER BY line");
        ResetOnExit reset(select);
        select.bind(1, import_id);
        select.bind(2, static_cast<std::int64_t>(rows.front().line));
        select.bind(3, static_cast<std::int64_t>(rows.back().line));
        std::vector<std::int64_t> lines;
        while (select.executeStep()) {
            lines.push_back(select.getColumn(0).getInt64());
        }
        return lines;
    });
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (std::binary_search(present.begin(), present.end(), static_cast<std::int64_t>(rows[i].line))) {
            results[i].accepted = true;
        } else {
            results[i] = queue_row(import_id, rows[i]);
        }
    }
    return results;
}

// Asked once per import: while no earlier import has a rejected row, accepted rows skip the lookup.
bool Store::rejected_before(std::int64_t import_id) {
    if (m_rejected_before.first != import_id) {
        // Only rejected rows with a key can be superseded; these two walk the partial indexes.
        auto& select = cached("SELECT EXISTS (SELECT 1 FROM rows WHERE state = 'rejected' AND name IS NOT NULL "
                              "AND import_id < ?1) OR EXISTS (SELECT 1 FROM rows WHERE state = 'rejected' "
                              "AND external_id IS NOT NULL AND import_id < ?1)");
        ResetOnExit reset(select);
        select.bind(1, import_id);
        select.executeStep();
        m_rejected_before = {import_id, select.getColumn(0).getInt() != 0};
    }
    return m_rejected_before.second;
}

// A rejected row of an earlier import with the same externalId or name is the original this row
// fixes (names and externalIds are unique in Prismatic, so it can never be sent as it was). The
// externalId match is preferred as the original the new row points at.
bool Store::supersede_rejected(std::int64_t import_id, const NewRow& row, std::int64_t new_id, const std::string& now) {
    std::vector<std::int64_t> originals;
    auto collect = [&](const char* sql, const std::optional<std::string>& key) {
        if (!key) {
            return;
        }
        auto& select = cached(sql);
        ResetOnExit reset(select);
        select.bind(1, *key);
        select.bind(2, import_id);
        while (select.executeStep()) {
            originals.push_back(select.getColumn(0).getInt64());
        }
    };
    collect("SELECT id FROM rows WHERE external_id = ? AND state = 'rejected' AND external_id IS NOT NULL "
            "AND import_id < ? ORDER BY id", row.external_id);
    collect("SELECT id FROM rows WHERE name = ? AND state = 'rejected' AND name IS NOT NULL "
            "AND import_id < ? ORDER BY id", row.name);
    if (originals.empty()) {
        return false;
    }
    auto& supersede = cached("UPDATE rows SET state = 'superseded', live = 0, updated_at = ? WHERE id = ?");
    for (const std::int64_t id : originals) {
        supersede.bind(1, now);
        supersede.bind(2, id);
        supersede.exec();
        supersede.reset();
    }
    if (row.supersedes) {
        return true; // it points at the original its export row named
    }
    auto& link = cached("UPDATE rows SET supersedes = ? WHERE id = ?");
    link.bind(1, originals.front());
    link.bind(2, new_id);
    link.exec();
    return true;
}

void Store::reject_row(std::int64_t import_id, std::int64_t line, const std::vector<std::string>& source,
                       const core::Json& inputs, const std::string& reason,
                       const std::optional<std::string>& raw_record, std::optional<std::int64_t> supersedes) {
    guarded("reject row", [&] {
        auto& insert = cached("INSERT INTO rows (import_id, line, state, live, name, external_id, inputs, source, "
                              "error_class, error_message, updated_at, raw_record, supersedes) "
                              "VALUES (?, ?, 'rejected', 0, ?, ?, ?, ?, 'invalid_input', ?, ?, ?, ?)");
        insert.bind(1, import_id);
        insert.bind(2, static_cast<std::int64_t>(line));
        const auto name = string_member(inputs, "name");
        const auto external_id = string_member(inputs, "externalId");
        detail::bind_optional(insert, 3, name);
        detail::bind_optional(insert, 4, external_id);
        detail::bind_optional(insert, 5, stored_inputs(inputs, name, external_id));
        detail::bind_optional(insert, 6, stored_source(source, name, external_id));
        bind_text_or_null(insert, 7, reason);
        insert.bind(8, now_iso8601());
        detail::bind_optional(insert, 9, raw_record);
        detail::bind_optional(insert, 10, supersedes);
        insert.exec();
    });
}

std::string row_reference(const std::string& import_sha256, std::int64_t line) {
    const std::string text = import_sha256 + ":" + std::to_string(line);
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), hash, &length, EVP_sha256(), nullptr) != 1) {
        throw StoreError("row reference: sha256 failed");
    }
    // A letter first: a spreadsheet never reads it as a number (1e5..., 0042...).
    return "r" + core::hex(hash, std::min(length, 8U));
}

ExportedOrigin Store::supersede_exported(std::int64_t import_id, std::int64_t original_import,
                                         std::int64_t original_line, const std::string& reference) {
    if (original_import >= import_id) {
        return {};
    }
    return guarded("supersede exported row", [&]() -> ExportedOrigin {
        auto& origin = cached("SELECT r.id, i.sha256 FROM rows r JOIN imports i ON i.id = r.import_id "
                              "WHERE r.import_id = ? AND r.line = ?");
        std::int64_t id = 0;
        {
            ResetOnExit reset(origin);
            origin.bind(1, original_import);
            origin.bind(2, original_line);
            if (!origin.executeStep() || row_reference(origin.getColumn(1).getString(), original_line) != reference) {
                return {}; // another database's row, or a line typed wrong
            }
            id = origin.getColumn(0).getInt64();
        }
        // An earlier round may have replaced it already: the newest copy is the one still to fix.
        auto& row_at = cached("SELECT state, import_id, line FROM rows WHERE id = ?");
        auto& newer = cached("SELECT id FROM rows INDEXED BY rows_superseded_by WHERE supersedes = ? "
                             "ORDER BY id DESC LIMIT 1");
        for (int hops = 0; hops < 1000; ++hops) {
            std::string state;
            std::int64_t at_import = 0;
            std::int64_t at_line = 0;
            {
                ResetOnExit reset(row_at);
                row_at.bind(1, id);
                if (!row_at.executeStep()) {
                    return {};
                }
                state = row_at.getColumn(0).getString();
                at_import = row_at.getColumn(1).getInt64();
                at_line = row_at.getColumn(2).getInt64();
            }
            if (state == "failed" || state == "rejected") {
                auto& supersede = cached("UPDATE rows SET state = 'superseded', live = 0, updated_at = ? WHERE id = ?");
                ResetOnExit reset(supersede);
                supersede.bind(1, now_iso8601());
                supersede.bind(2, id);
                supersede.exec();
                return {id, ""};
            }
            if (state != "superseded") {
                return {std::nullopt, "line " + std::to_string(at_line) + " of import " + std::to_string(at_import) +
                                          " (" + state + ")"};
            }
            ResetOnExit reset(newer);
            newer.bind(1, id);
            if (!newer.executeStep()) {
                return {}; // replaced by a key match of an older version: fall back to keys
            }
            id = newer.getColumn(0).getInt64();
        }
        return {};
    });
}

void Store::record_stale_copy(std::int64_t import_id, std::int64_t line, const std::vector<std::string>& source,
                              const std::string& reason) {
    guarded("record stale copy", [&] {
        auto& insert = cached("INSERT INTO rows (import_id, line, state, live, inputs, source, error_class, "
                              "error_message, updated_at) VALUES (?, ?, 'superseded', 0, '{}', ?, 'stale_copy', ?, ?)");
        insert.bind(1, import_id);
        insert.bind(2, line);
        insert.bind(3, json_array(source));
        insert.bind(4, reason);
        insert.bind(5, now_iso8601());
        insert.exec();
    });
}

void Store::finish_import(std::int64_t import_id, const ImportCounts& counts) {
    guarded("finish import", [&] {
        auto& update = cached("UPDATE imports SET records = ?, accepted = ?, rejected = ?, duplicates = ?, "
                              "superseded = ?, finished_at = ? WHERE id = ?");
        update.bind(1, counts.records);
        update.bind(2, counts.accepted);
        update.bind(3, counts.rejected);
        update.bind(4, counts.duplicates);
        update.bind(5, counts.superseded);
        update.bind(6, now_iso8601());
        update.bind(7, import_id);
        update.exec();
    });
}

} // namespace onboard::store
