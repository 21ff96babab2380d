#include "loader/importer.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "csv/reader.hpp"
#include "loader/mapping.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

namespace onboard::loader {

namespace {

constexpr const char* k_redacted = "[redacted]";

struct FileDigest {
    std::int64_t size = 0;
    std::string sha256;
};

// Size and SHA-256 of the file's bytes, read in chunks.
FileDigest digest_file(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
        throw InputError(path, 0, "is a directory, not a CSV file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
        throw InputError(path, 0, "cannot compute its sha256");
    }
    FileDigest digest;
    std::vector<char> buffer(1 << 16);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = in.gcount();
        EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(got));
        digest.size += got;
    }
    if (in.bad()) {
        throw InputError(path, 0, "cannot read the file");
    }
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context.get(), hash, &length);
    digest.sha256 = core::hex(hash, length);
    return digest;
}

std::string column_label(const ColumnMap& map, std::size_t column) {
    return map.header[column].empty() ? "column " + std::to_string(column + 1) : "column \"" + map.header[column] + "\"";
}

// The value as the input's type wants it; nullopt when it does not parse.
std::optional<core::Json> typed_value(const std::string& type, const std::string& text) {
    if (type == "integer") {
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        return error == std::errc() && end == text.data() + text.size() ? std::optional<core::Json>(value) : std::nullopt;
    }
    if (type == "number") {
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        return error == std::errc() && end == text.data() + text.size() ? std::optional<core::Json>(value) : std::nullopt;
    }
    if (type == "boolean") {
        const std::string key = column_key(text);
        if (key == "true" || key == "yes" || key == "1") {
            return core::Json(true);
        }
        if (key == "false" || key == "no" || key == "0") {
            return core::Json(false);
        }
        return std::nullopt;
    }
    return core::Json(text);
}

std::string type_phrase(const std::string& type) {
    return type == "integer" ? "an integer" : type == "number" ? "a number" : "true or false";
}

// The name and externalId a record can be read with, even one that will be rejected: a fixed copy
// imported later finds its original by them. Best effort: a ragged record's later columns may be
// shifted, which at worst leaves its original unmatched.
void keep_keys(const csv::Record& record, const ColumnMap& map, store::NewRow& row) {
    for (const auto& [input, column] : map.entries) {
        if (column >= record.fields.size() || (input->name != "name" && input->name != "externalId")) {
            continue;
        }
        const std::string value(trim(record.fields[column]));
        if (value.empty() || !core::is_valid_utf8(value)) {
            continue;
        }
        row.inputs.set(input->name, value);
        (input->name == "name" ? row.name : row.external_id) = value;
    }
}

std::optional<RowIssue> check_and_fill(const csv::Record& record, const ColumnMap& map, store::NewRow& row);
std::string record_text(const csv::Record& record, const store::NewRow& row, const ColumnMap& map);

// Fills `row` from the record; returns why it cannot be queued, if it cannot. A rejected row keeps
// the keys it can be read with (keep_keys).
std::optional<RowIssue> build_row(const csv::Record& record, const ColumnMap& map, store::NewRow& row) {
    row.line = record.line;
    row.source = record.fields;
    for (const std::size_t position : map.refused_positions) {
        if (position < row.source.size()) {
            row.source[position] = k_redacted; // a secret in the file is not copied into the database
        }
    }
    row.inputs = core::Json::object();
    row.name.reset();
    row.external_id.reset();
    row.raw_record.reset();
    auto issue = check_and_fill(record, map, row);
    if (issue) {
        row.inputs = core::Json::object();
        row.name.reset();
        row.external_id.reset();
        keep_keys(record, map, row);
        if (!record.error.empty() || record.fields.size() != map.header.size()) {
            row.raw_record = record_text(record, row, map);
        }
    }
    return issue;
}

// A malformed record as it was in the file: the reader's text of its first line, or its fields
// written again (quoted where needed) when they are complete or a secret column must stay out.
std::string record_text(const csv::Record& record, const store::NewRow& row, const ColumnMap& map) {
    if (!record.error.empty() && map.refused_positions.empty()) {
        return record.raw;
    }
    std::string out;
    for (std::size_t i = 0; i < row.source.size(); ++i) {
        const std::string& field = row.source[i];
        out += i == 0 ? "" : std::string(1, map.delimiter);
        if (field.find_first_of(std::string("\"\r\n") + map.delimiter) == std::string::npos) {
            out += field;
            continue;
        }
        out += '"';
        for (const char c : field) {
            out += c == '"' ? "\"\"" : std::string(1, c);
        }
        out += '"';
    }
    return out;
}

// The checks of build_row, filling `row` as they pass.
std::optional<RowIssue> check_and_fill(const csv::Record& record, const ColumnMap& map, store::NewRow& row) {
    if (!record.error.empty()) {
        // A field too long for the reader is the last one it read: name its column too.
        const std::size_t last = record.fields.empty() ? 0 : record.fields.size() - 1;
        if (record.error.rfind("field ", 0) == 0 && !record.fields.empty() && last < map.header.size()) {
            return RowIssue{record.line, map.header[last], column_label(map, last) + ": " + record.error};
        }
        return RowIssue{record.line, "", record.error};
    }
    const std::size_t expected = map.header.size();
    if (record.fields.size() != expected) {
        return RowIssue{record.line, "",
                        std::string(record.fields.size() > expected ? "too many" : "too few") + " fields (" +
                            std::to_string(record.fields.size()) + ", header has " + std::to_string(expected) + ")"};
    }
    for (std::size_t i = 0; i < record.fields.size(); ++i) {
        if (!core::is_valid_utf8(record.fields[i])) {
            return RowIssue{record.line, map.header[i],
                            column_label(map, i) + " is not valid UTF-8 (save the file as UTF-8)"};
        }
    }
    for (const auto& [input, column] : map.entries) {
        const std::string value(trim(record.fields[column]));
        if (value.empty()) {
            if (input->required) {
                return RowIssue{record.line, map.header[column], column_label(map, column) + " is empty"};
            }
            continue;
        }
        auto typed = typed_value(input->type, value);
        if (!typed) {
            return RowIssue{record.line, map.header[column],
                            column_label(map, column) + " is not " + type_phrase(input->type) + ": '" + value + "'"};
        }
        row.inputs.set(input->name, std::move(*typed));
        if (input->name == "name") {
            row.name = value;
        } else if (input->name == "externalId") {
            row.external_id = value;
        }
    }
    return std::nullopt;
}

// The reason a duplicate is refused, naming where the first one is.
std::string duplicate_reason(const store::QueueResult& result, const store::NewRow& row, std::int64_t import_id) {
    std::string reason = result.duplicate_field == "name" ? "duplicate name '" + row.name.value_or("") + "'"
                                                          : "duplicate externalId " + row.external_id.value_or("");
    reason += " (first at line " + std::to_string(result.first_line);
    if (result.first_import_id != import_id) {
        reason += " of " + result.first_file_name + ", import " + std::to_string(result.first_import_id);
    }
    return reason + ")";
}

store::ImportInfo import_info(const ImportOptions& options, const FileDigest& digest, const ColumnMap& map,
                              char delimiter) {
    store::ImportInfo info;
    info.file_name = options.path;
    info.file_size = digest.size;
    info.sha256 = digest.sha256;
    info.columns = map.header;
    info.mapping = core::Json::object();
    for (const auto& [input, column] : map.entries) {
        info.mapping.set(input->name, map.header[column]);
    }
    info.delimiter = delimiter == '\t' ? "tab" : std::string(1, delimiter);
    return info;
}

// Keeps the first k_rejections_shown issues by line (duplicates are found a group late).
void note_rejection(ImportSummary& summary, RowIssue issue) {
    auto& shown = summary.first_rejections;
    const auto at = std::upper_bound(shown.begin(), shown.end(), issue.line,
                                     [](std::int64_t line, const RowIssue& other) { return line < other.line; });
    shown.insert(at, std::move(issue));
    if (shown.size() > k_rejections_shown) {
        shown.pop_back();
    }
}

// The columns `onboard export --failed` appends, when the file is such an export (fixed and imported
// again): each record then names the failed or rejected original it replaces by import and line,
// so even a fixed name or a retyped malformed record finds it.
struct ExportColumns {
    std::optional<std::size_t> import_id, line, reference, raw_record;

    static ExportColumns find(const std::vector<std::string>& header) {
        ExportColumns found;
        auto position = [&](const char* name) -> std::optional<std::size_t> {
            const auto at = std::find(header.begin(), header.end(), name);
            return at == header.end() ? std::nullopt : std::optional<std::size_t>(at - header.begin());
        };
        const bool is_export = position("import_id") && position("line") && position("ref");
        if (is_export) {
            found.import_id = position("import_id");
            found.line = position("line");
            found.reference = position("ref");
            found.raw_record = position("record");
        }
        return found;
    }

    // The original the record names, superseded now so that its keys are free for the new row.
    store::ExportedOrigin supersede_original(const csv::Record& record, store::Store& store,
                                             std::int64_t import_id_now) const {
        if (!import_id || std::max({*import_id, *line, *reference}) >= record.fields.size()) {
            return {};
        }
        auto number = [&](std::size_t column) -> std::optional<std::int64_t> {
            const std::string_view text = trim(record.fields[column]);
            std::int64_t value = 0;
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            return error == std::errc() && end == text.data() + text.size() ? std::optional(value) : std::nullopt;
        };
        const auto original_import = number(*import_id);
        const auto original_line = number(*line);
        if (!original_import || !original_line) {
            return {};
        }
        return store.supersede_exported(import_id_now, *original_import, *original_line,
                                        std::string(trim(record.fields[*reference])));
    }

    // An unedited malformed record keeps its text through another round, so the next export shows it.
    std::optional<std::string> carried_record(const csv::Record& record) const {
        if (!raw_record || *raw_record >= record.fields.size() || trim(record.fields[*raw_record]).empty()) {
            return std::nullopt;
        }
        return record.fields[*raw_record];
    }
};

// Valid rows wait here to be queued together (Store::queue_rows); duplicates among them are
// rejected when the group is written.
class RowGroup {
public:
    RowGroup(store::Store& store, std::int64_t import_id, ImportSummary& summary)
        : m_store(store), m_import_id(import_id), m_summary(summary) {}

    void add(store::NewRow&& row) {
        const bool alone = row.supersedes.has_value(); // the group INSERT carries no link
        if (alone) {
            flush();
        }
        m_rows.push_back(std::move(row));
        if (alone || m_rows.size() == store::Store::k_queue_group) {
            flush();
        }
    }

    void flush() {
        const auto results = m_store.queue_rows(m_import_id, m_rows);
        for (std::size_t i = 0; i < m_rows.size(); ++i) {
            if (!results[i].accepted) {
                const store::NewRow& row = m_rows[i];
                RowIssue issue{row.line, results[i].duplicate_field, duplicate_reason(results[i], row, m_import_id)};
                m_store.reject_row(m_import_id, row.line, row.source, row.inputs, issue.message, std::nullopt,
                                   row.supersedes);
                note_rejection(m_summary, std::move(issue));
            }
        }
        m_rows.clear();
    }

private:
    store::Store& m_store;
    std::int64_t m_import_id;
    ImportSummary& m_summary;
    std::vector<store::NewRow> m_rows;
};

// Rejects a record or adds it to the group to queue.
void load_record(const csv::Record& record, const ColumnMap& map, const ExportColumns& exported,
                 store::Store& store, RowGroup& group, std::int64_t import_id, ImportSummary& summary,
                 store::NewRow& row) {
    if (record.error.empty() &&
        std::all_of(record.fields.begin(), record.fields.end(), [](const auto& f) { return trim(f).empty(); })) {
        return; // a line of blanks is a blank line
    }
    auto issue = build_row(record, map, row);
    const store::ExportedOrigin origin = exported.supersede_original(record, store, import_id);
    if (!origin.done.empty()) {
        // The row it was exported from was fixed, retried or sent meanwhile: queueing this copy
        // (its keys perhaps edited) could create the same customer twice.
        RowIssue stale{record.line, "", "stale copy: the row it was exported from is now carried by " + origin.done +
                                            "; not queued"};
        store.record_stale_copy(import_id, record.line, row.source, stale.message);
        note_rejection(summary, std::move(stale));
        return;
    }
    row.supersedes = origin.replaced;
    if (exported.import_id) {
        // `export --safe-for-spreadsheet` puts a quote before formula-like cells: imported back, the
        // quote would become part of the name. Counted and reported, the values kept as they are.
        for (const auto& [input, column] : map.entries) {
            const std::string_view value = column < record.fields.size() ? trim(record.fields[column]) : "";
            if (value.size() >= 2 && value[0] == '\'' && std::string_view("=+-@").find(value[1]) != std::string_view::npos) {
                if (summary.quoted_formulas++ == 0) {
                    summary.first_quoted_formula_line = record.line;
                }
            }
        }
    }
    if (issue) {
        if (!row.raw_record) {
            row.raw_record = exported.carried_record(record);
        }
        store.reject_row(import_id, record.line, row.source, row.inputs, issue->message, row.raw_record,
                         row.supersedes);
        note_rejection(summary, std::move(*issue));
        return;
    }
    group.add(std::move(row)); // build_row assigns every member again for the next record
}

} // namespace

ImportSummary import_csv(const ImportOptions& options, store::Store& store) {
    const std::string& source = options.path;
    check_overrides(options);
    const FileDigest digest = digest_file(source);
    ImportSummary summary;
    std::int64_t resume_after = 0;
    if (const auto existing = store.find_import_by_sha256(digest.sha256)) {
        summary.import_id = *existing;
        if (store.import_finished(*existing)) {
            summary.already_imported = true;
            summary.options_not_applied = !options.overrides.empty() || options.delimiter.has_value();
            summary.counts = store.import_counts(*existing);
            return summary;
        }
        summary.resumed = true;
        resume_after = store.last_line(*existing);
        const std::string stored_delimiter = store.import_mapping(*existing).second;
        const std::string given = !options.delimiter ? stored_delimiter
                                  : *options.delimiter == '\t' ? "tab"
                                                                : std::string(1, *options.delimiter);
        if (given != stored_delimiter) {
            throw UsageError(source + ": import " + std::to_string(*existing) +
                             " of this file was interrupted; resume it with the delimiter it began with (" +
                             stored_delimiter + "), not " + given);
        }
    }
    std::ifstream in(source, std::ios::binary);
    csv::Reader reader(in, source, csv::ReaderOptions{options.delimiter});
    csv::Record record;
    if (!reader.next(record)) {
        throw InputError(source, 0, "no header line (the file is empty)");
    }
    if (!record.error.empty()) {
        throw InputError(source, record.line, "header: " + record.error);
    }
    ColumnMap map = map_columns(record.fields, options, source, record.line);
    map.delimiter = reader.delimiter();
    if (summary.resumed) {
        // The rows stored so far were read one way: the rest must be read the same way.
        const auto [stored_mapping, stored_delimiter] = store.import_mapping(summary.import_id);
        const auto now = import_info(options, digest, map, reader.delimiter());
        if (now.mapping.dump() != core::Json::parse(stored_mapping, "imports.mapping").dump() ||
            now.delimiter != stored_delimiter) {
            throw UsageError(source + ": import " + std::to_string(summary.import_id) +
                             " of this file was interrupted; resume it with the mapping it began with (" +
                             stored_mapping + ", delimiter " + stored_delimiter + "), not " + now.mapping.dump() +
                             ", delimiter " + now.delimiter);
        }
    }
    for (const auto& [input, column] : map.entries) {
        summary.mapping[input->name] = map.header[column];
    }
    summary.ignored_columns = map.ignored;
    summary.refused_columns = map.refused;

    store.prepare_for_import();
    auto transaction = std::make_unique<store::Store::Transaction>(store);
    if (!summary.resumed) {
        summary.import_id = store.create_import(import_info(options, digest, map, reader.delimiter()));
    }
    store::NewRow row;
    const ExportColumns exported = ExportColumns::find(map.header);
    for (const auto& [input, column] : map.entries) {
        const std::string& name = map.header[column];
        if (std::find(store::k_export_columns.begin(), store::k_export_columns.end(), name) ==
            store::k_export_columns.end()) {
            continue;
        }
        if (exported.import_id) {
            // The export's own columns hold onboard's bookkeeping, never a customer's data.
            throw InputError(source, record.line,
                             "input \"" + input->name + "\" would be read from column \"" + name +
                                 "\", which onboard's export writes for itself; a source column of that "
                                 "name is not exported (rename it in the original file and import that)");
        }
        summary.reserved_columns.push_back(name);
    }
    RowGroup group(store, summary.import_id, summary);
    std::size_t in_transaction = 0;
    std::int64_t records = 0;
    while (reader.next(record)) {
        ++records;
        if (record.line <= resume_after) {
            continue;
        }
        load_record(record, map, exported, store, group, summary.import_id, summary, row);
        if (options.stop != nullptr && options.stop->load() > 0) {
            group.flush();
            summary.counts = store.import_counts(summary.import_id);
            transaction->commit();
            summary.interrupted = true;
            summary.last_line = record.line;
            return summary;
        }
        if (++in_transaction == k_records_per_transaction) {
            group.flush();
            transaction->commit();
            transaction = std::make_unique<store::Store::Transaction>(store);
            in_transaction = 0;
            if (options.progress) {
                options.progress(records);
            }
        }
    }
    group.flush();
    summary.counts = store.import_counts(summary.import_id);
    store.finish_import(summary.import_id, summary.counts);
    transaction->commit();
    return summary;
}

std::string describe(const ImportSummary& summary, const std::string& file_name) {
    const auto& counts = summary.counts;
    const std::string totals = std::to_string(counts.records) + " records: " + std::to_string(counts.accepted) +
                               " accepted, " + std::to_string(counts.rejected) + " rejected (" +
                               std::to_string(counts.duplicates) + " duplicates), " +
                               std::to_string(counts.superseded) + " earlier failed or rejected rows superseded" +
                               (counts.stale > 0 ? ", " + std::to_string(counts.stale) +
                                                       " stale copies of rows already done or replaced, not queued"
                                                 : std::string());
    if (summary.already_imported) {
        // A user who reruns an import with a corrected --map would otherwise think it took effect.
        const std::string not_applied =
            summary.options_not_applied ? "  --map and --delimiter are not applied again: its rows keep the mapping of import " +
                                              std::to_string(summary.import_id) + "\n"
                                        : "";
        return file_name + ": already imported as import " + std::to_string(summary.import_id) +
               " (same sha256); nothing added\n  " + totals + "\n" + not_applied;
    }
    std::string out = file_name + ": import " + std::to_string(summary.import_id) +
                      (summary.resumed ? " (resumed after an interruption)" : "") + "\n  " + totals + "\n";
    if (summary.interrupted) {
        out += "  interrupted after line " + std::to_string(summary.last_line) +
               ": what was read is stored; import the same file again to go on from there\n";
    }
    std::string mapped;
    for (const auto& [input, column] : summary.mapping) {
        mapped += (mapped.empty() ? "" : ", ") + input + " <- \"" + core::printable(column) + "\"";
    }
    out += "  columns: " + (mapped.empty() ? std::string("none") : mapped) + "\n";
    for (const auto& column : summary.ignored_columns) {
        out += "  ignored column \"" + core::printable(column) + "\"\n";
    }
    for (const auto& column : summary.refused_columns) {
        out += "  ignored column \"" + core::printable(column) + "\": a run input, never read from the file\n";
    }
    for (const auto& column : summary.reserved_columns) {
        out += "  warning: column \"" + column + "\" feeds an input, but export --failed writes a \"" + column +
               "\" column of its own and leaves this one out: rename it before a fix-and-reimport round\n";
    }
    if (summary.quoted_formulas > 0) {
        out += "  warning: " + std::to_string(summary.quoted_formulas) +
               " values start with the quote export --safe-for-spreadsheet adds (first at line " +
               std::to_string(summary.first_quoted_formula_line) +
               "); they were imported with it: import the verbatim export instead\n";
    }
    if (!summary.first_rejections.empty()) {
        out += "  first rejections:\n";
        for (const auto& issue : summary.first_rejections) {
            // Messages quote the file's values: a control character in one must not drive the terminal.
            out += "    " + file_name + ":" + std::to_string(issue.line) + ": " + core::printable(issue.message) + "\n";
        }
        const auto shown = static_cast<std::int64_t>(summary.first_rejections.size());
        if (counts.rejected > shown) {
            out += "    ... and " + std::to_string(counts.rejected - shown) + " more\n";
        }
    }
    return out;
}

} // namespace onboard::loader
