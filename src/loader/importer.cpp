#include "loader/importer.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "csv/reader.hpp"
#include "loader/mapping.hpp"
#include "loader/record_reader.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>

namespace onboard::loader {

namespace {

struct FileDigest {
    std::int64_t size = 0;
    std::string sha256;
};

// Size and SHA-256 of the file's bytes, read in chunks.
FileDigest digest_file(const std::string& path) {
    std::error_code error;
    const auto type = std::filesystem::status(path, error).type();
    if (type == std::filesystem::file_type::directory) {
        throw InputError(path, 0, "is a directory, not a CSV file");
    }
    if (!error && type != std::filesystem::file_type::regular && type != std::filesystem::file_type::not_found) {
        // Opening a FIFO would wait for a writer; a pipe's bytes could not be read a second time.
        throw InputError(path, 0, "is not a regular file (a pipe, FIFO or device): the import reads a file twice "
                                  "(its digest recognises a file imported before); save it to a file first");
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

// The import's counts are kept as its rows are written, counted as Store::import_counts recounts
// them from the rows, so the end of an import need not read them all again (a tenth of the time
// of a million rows). A resumed import starts from the recount of what it stored before.
void count_queued(store::ImportCounts& counts, const store::QueueResult& result) {
    ++counts.records;
    ++counts.accepted;
    counts.superseded += result.superseded_failed_row ? 1 : 0; // its supersedes link is set
}

void count_rejected(store::ImportCounts& counts, const std::string& reason, std::optional<std::int64_t> supersedes) {
    ++counts.records;
    ++counts.rejected;
    // import_counts: error_message LIKE 'duplicate %', which ignores ASCII case.
    constexpr std::string_view k_duplicate = "duplicate ";
    const bool duplicate = reason.size() >= k_duplicate.size() &&
                           std::equal(k_duplicate.begin(), k_duplicate.end(), reason.begin(), [](char a, char b) {
                               return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
                           });
    counts.duplicates += duplicate ? 1 : 0;
    counts.superseded += supersedes ? 1 : 0;
}

void count_stale(store::ImportCounts& counts) {
    ++counts.records;
    ++counts.stale;
}

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
            if (results[i].accepted) {
                count_queued(m_summary.counts, results[i]);
                continue;
            }
            const store::NewRow& row = m_rows[i];
            RowIssue issue{row.line, results[i].duplicate_field, duplicate_reason(results[i], row, m_import_id)};
            m_store.reject_row(m_import_id, row.line, row.source, row_inputs(row), issue.message, std::nullopt,
                               row.supersedes);
            count_rejected(m_summary.counts, issue.message, row.supersedes);
            note_rejection(m_summary, std::move(issue));
        }
        m_rows.clear();
    }

private:
    store::Store& m_store;
    std::int64_t m_import_id;
    ImportSummary& m_summary;
    std::vector<store::NewRow> m_rows;
};

// Rejects a record or adds it to the group to queue: the import's Store calls for one record.
void store_record(PreparedRecord& prepared, store::Store& store, RowGroup& group, std::int64_t import_id,
                  ImportSummary& summary) {
    if (prepared.blank) {
        return;
    }
    store::NewRow& row = prepared.row;
    store::ExportedOrigin origin;
    if (prepared.original) {
        // Superseded now so that its keys are free for the new row.
        origin = store.supersede_exported(import_id, prepared.original->import_id, prepared.original->line,
                                          prepared.original->reference);
    }
    if (!origin.done.empty()) {
        // The row it was exported from was fixed, retried or sent meanwhile: queueing this copy
        // (its keys perhaps edited) could create the same customer twice.
        RowIssue stale{row.line, "", "stale copy: the row it was exported from is now carried by " + origin.done +
                                         "; not queued"};
        store.record_stale_copy(import_id, row.line, row.source, stale.message);
        count_stale(summary.counts);
        note_rejection(summary, std::move(stale));
        return;
    }
    row.supersedes = origin.replaced;
    if (prepared.quoted_formulas > 0) {
        if (summary.quoted_formulas == 0) {
            summary.first_quoted_formula_line = row.line;
        }
        summary.quoted_formulas += prepared.quoted_formulas;
    }
    if (prepared.issue) {
        if (!row.raw_record) {
            row.raw_record = std::move(prepared.carried_record);
        }
        store.reject_row(import_id, row.line, row.source, row.inputs, prepared.issue->message, row.raw_record,
                         row.supersedes);
        count_rejected(summary.counts, prepared.issue->message, row.supersedes);
        note_rejection(summary, std::move(*prepared.issue));
        return;
    }
    group.add(std::move(row)); // the reader assigns every member again for the next record
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
    if (summary.resumed) {
        summary.counts = store.import_counts(summary.import_id); // then counted as rows are written
    }
    RowGroup group(store, summary.import_id, summary);
    std::size_t in_transaction = 0;
    RecordReader records(reader, map, exported, resume_after);
    for (auto prepared = records.next(); !prepared.empty(); prepared = records.next()) {
        for (PreparedRecord& one : prepared) {
            const std::int64_t line = one.row.line;
            store_record(one, store, group, summary.import_id, summary);
            if (options.stop != nullptr && options.stop->load() > 0) {
                group.flush();
                transaction->commit();
                summary.interrupted = true;
                summary.last_line = line;
                return summary;
            }
            if (++in_transaction == k_records_per_transaction) {
                group.flush();
                transaction->commit();
                transaction = std::make_unique<store::Store::Transaction>(store);
                in_transaction = 0;
                if (options.progress) {
                    options.progress(one.records);
                }
            }
        }
    }
    group.flush();
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
