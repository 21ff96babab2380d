#include "loader/record_reader.hpp"

#include "core/json.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace onboard::loader {

namespace {

constexpr const char* k_redacted = "[redacted]";

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

std::optional<RowIssue> check_and_fill(const csv::Record& record, const ColumnMap& map, bool derived,
                                       store::NewRow& row);
std::string record_text(const csv::Record& record, const store::NewRow& row, const ColumnMap& map);

// Fills `row` from the record; returns why it cannot be queued, if it cannot. A rejected row keeps
// the keys it can be read with (keep_keys). `derived` (derived_inputs): a queued row's inputs are
// left to its name and externalId.
std::optional<RowIssue> build_row(const csv::Record& record, const ColumnMap& map, bool derived,
                                  store::NewRow& row) {
    row.line = record.line;
    row.source = record.fields;
    for (const std::size_t position : map.refused_positions) {
        if (position < row.source.size()) {
            row.source[position] = k_redacted; // a secret in the file is not copied into the database
        }
    }
    row.inputs = derived ? core::Json() : core::Json::object();
    row.inputs_derived = derived;
    row.name.reset();
    row.external_id.reset();
    row.raw_record.reset();
    auto issue = check_and_fill(record, map, derived, row);
    if (issue) {
        row.inputs = core::Json::object();
        row.inputs_derived = false;
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
std::optional<RowIssue> check_and_fill(const csv::Record& record, const ColumnMap& map, bool derived,
                                       store::NewRow& row) {
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
        std::string value(trim(record.fields[column]));
        if (value.empty()) {
            if (input->required) {
                return RowIssue{record.line, map.header[column], column_label(map, column) + " is empty"};
            }
            continue;
        }
        if (!derived) { // else text, which typed_value takes as it is
            auto typed = typed_value(input->type, value);
            if (!typed) {
                return RowIssue{record.line, map.header[column], column_label(map, column) + " is not " +
                                                                     type_phrase(input->type) + ": '" + value + "'"};
            }
            row.inputs.set(input->name, std::move(*typed));
        }
        if (input->name == "name") {
            row.name = std::move(value);
        } else if (input->name == "externalId") {
            row.external_id = std::move(value);
        }
    }
    return std::nullopt;
}

// The mapped values that start with the quote `export --safe-for-spreadsheet` puts before a
// formula-like cell: imported back, the quote would become part of the name.
int quoted_formulas(const csv::Record& record, const ColumnMap& map) {
    int count = 0;
    for (const auto& [input, column] : map.entries) {
        const std::string_view value = column < record.fields.size() ? trim(record.fields[column]) : "";
        if (value.size() >= 2 && value[0] == '\'' && std::string_view("=+-@").find(value[1]) != std::string_view::npos) {
            ++count;
        }
    }
    return count;
}

std::size_t field_bytes(const csv::Record& record) {
    std::size_t bytes = record.raw.size();
    for (const auto& field : record.fields) {
        bytes += field.size();
    }
    return bytes;
}

// Whether every queued row's inputs are what Store derives from its name and externalId: the
// inputs read are those two at most, as text, name first (the common file needs no inputs built).
bool derived_inputs(const ColumnMap& map) {
    std::vector<std::string> names;
    for (const auto& [input, column] : map.entries) {
        const std::string& type = input->type;
        if ((input->name != "name" && input->name != "externalId") || type == "integer" || type == "number" ||
            type == "boolean") {
            return false;
        }
        names.push_back(input->name);
    }
    return names.size() < 2 || names[0] == "name";
}

} // namespace

core::Json row_inputs(const store::NewRow& row) {
    if (!row.inputs_derived) {
        return row.inputs;
    }
    core::Json inputs = core::Json::object();
    if (row.name) {
        inputs.set("name", *row.name);
    }
    if (row.external_id) {
        inputs.set("externalId", *row.external_id);
    }
    return inputs;
}

ExportColumns ExportColumns::find(const std::vector<std::string>& header) {
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

std::optional<ExportedRef> ExportColumns::original(const csv::Record& record) const {
    if (!import_id || std::max({*import_id, *line, *reference}) >= record.fields.size()) {
        return std::nullopt;
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
        return std::nullopt;
    }
    return ExportedRef{*original_import, *original_line, std::string(trim(record.fields[*reference]))};
}

std::optional<std::string> ExportColumns::carried_record(const csv::Record& record) const {
    if (!raw_record || *raw_record >= record.fields.size() || trim(record.fields[*raw_record]).empty()) {
        return std::nullopt;
    }
    return record.fields[*raw_record];
}

RecordReader::RecordReader(csv::Reader& reader, const ColumnMap& map, const ExportColumns& exported,
                           std::int64_t resume_after)
    : m_reader(reader), m_map(map), m_exported(exported), m_resume_after(resume_after),
      m_derived_inputs(derived_inputs(map)) {
    m_free.reserve(k_groups);
    m_ready.reserve(k_groups);
    for (auto& group : m_groups) {
        m_free.push_back(&group);
    }
    m_thread = std::thread([this] { read(); });
}

RecordReader::~RecordReader() {
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

std::span<PreparedRecord> RecordReader::next() {
    std::unique_lock lock(m_mutex);
    if (m_held != nullptr) {
        m_free.push_back(std::exchange(m_held, nullptr));
        if (m_reader_waiting && m_free.size() >= k_refill) {
            m_changed.notify_all();
        }
    }
    if (m_ready.empty() && !m_done) {
        m_store_waiting = true;
        m_changed.wait(lock, [&] { return !m_ready.empty() || m_done; });
        m_store_waiting = false;
    }
    if (m_ready.empty()) {
        if (m_error) {
            std::rethrow_exception(m_error);
        }
        return {};
    }
    m_held = m_ready.front();
    m_ready.erase(m_ready.begin());
    return {m_held->records.data(), m_held->size};
}

// The thread's body: whatever it throws is handed over, so nothing escapes the thread.
void RecordReader::read() {
    Group* group = nullptr;
    try {
        bool more = true;
        while (more && (group = take_free()) != nullptr) {
            more = fill(*group);
            hand_over(std::exchange(group, nullptr));
        }
    } catch (...) {
        if (group != nullptr) {
            hand_over(group); // the records read before the failure are stored first
        }
        const std::lock_guard lock(m_mutex);
        m_error = std::current_exception();
    }
    const std::lock_guard lock(m_mutex);
    m_done = true;
    m_changed.notify_all();
}

// Prepares records into the group until it holds k_group of them or k_group_bytes; false at the
// end of the file (or when the reader wants no more).
bool RecordReader::fill(Group& group) {
    group.size = 0;
    std::size_t bytes = 0;
    while (group.size < k_group && bytes < k_group_bytes) {
        if (m_stopping.load(std::memory_order_relaxed) || !m_reader.next(m_record)) {
            return false;
        }
        ++m_records;
        if (m_record.line <= m_resume_after) {
            continue; // stored by the interrupted import this one resumes
        }
        prepare(m_record, group.records[group.size]);
        ++group.size;
        bytes += field_bytes(m_record);
    }
    return true;
}

void RecordReader::prepare(const csv::Record& record, PreparedRecord& out) const {
    out.records = m_records;
    out.row.line = record.line;
    out.row.supersedes.reset();
    out.issue.reset();
    out.original.reset();
    out.quoted_formulas = 0;
    out.carried_record.reset();
    out.blank = record.error.empty() &&
                std::all_of(record.fields.begin(), record.fields.end(), [](const auto& f) { return trim(f).empty(); });
    if (out.blank) {
        return; // a line of blanks is a blank line
    }
    out.issue = build_row(record, m_map, m_derived_inputs, out.row);
    if (m_exported.import_id) {
        out.original = m_exported.original(record);
        out.quoted_formulas = quoted_formulas(record, m_map);
        out.carried_record = m_exported.carried_record(record);
    }
}

// Waits, when no group is free, until k_refill are: a wake-up per group cost the storing thread
// 5% of its time in the kernel.
RecordReader::Group* RecordReader::take_free() {
    std::unique_lock lock(m_mutex);
    if (m_free.empty() && !m_stopping) {
        m_reader_waiting = true;
        m_changed.wait(lock, [&] { return m_free.size() >= k_refill || m_stopping; });
        m_reader_waiting = false;
    }
    if (m_stopping) {
        return nullptr;
    }
    Group* group = m_free.back();
    m_free.pop_back();
    return group;
}

// Queues a group for next(); an empty one goes back to the free ones. Never allocates (the
// vectors hold k_groups), so it is safe in read()'s catch.
void RecordReader::hand_over(Group* group) {
    const std::lock_guard lock(m_mutex);
    (group->size == 0 ? m_free : m_ready).push_back(group);
    if (m_store_waiting) {
        m_changed.notify_all();
    }
}

} // namespace onboard::loader
