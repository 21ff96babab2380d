#include "csv/reader.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <string_view>

namespace onboard::csv {

namespace {

constexpr std::size_t k_chunk = 64 * 1024;
constexpr std::size_t k_none = std::string::npos;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool only_blanks(const std::string& text) { return std::all_of(text.begin(), text.end(), is_blank); }

std::string field_number(const Record& record) { return std::to_string(record.fields.size()); }

} // namespace

Reader::Reader(std::istream& in, std::string source, ReaderOptions options)
    : m_in(in), m_source(std::move(source)), m_options(options) {
    if (m_options.delimiter) {
        const char d = *m_options.delimiter;
        if (d != ',' && d != ';' && d != '\t') {
            throw UsageError("csv: unsupported delimiter '" + std::string(1, d) + "' (use ',', ';' or tab)");
        }
        m_delimiter = d;
    }
}

char Reader::delimiter() {
    start();
    return m_delimiter;
}

// Appends a chunk of input, first dropping the bytes before the mark; false at end of input.
bool Reader::fill() {
    if (m_eof) {
        return false;
    }
    if (m_mark > 0) {
        m_buffer.erase(0, m_mark);
        m_pos -= m_mark;
        m_mark = 0;
    }
    const std::size_t old = m_buffer.size();
    m_buffer.resize(old + k_chunk);
    m_in.read(m_buffer.data() + old, static_cast<std::streamsize>(k_chunk));
    const auto got = static_cast<std::size_t>(m_in.gcount());
    m_buffer.resize(old + got);
    if (m_in.bad()) {
        throw InputError(m_source, m_line, "cannot read the file");
    }
    if (got < k_chunk) {
        m_eof = true;
    }
    return got > 0;
}

bool Reader::more() { return m_pos < m_buffer.size() || fill(); }

void Reader::start() {
    if (m_started) {
        return;
    }
    m_started = true;
    while (m_buffer.size() < 3 && fill()) {
    }
    const std::string_view head(m_buffer.data(), std::min<std::size_t>(m_buffer.size(), 3));
    if (head == "\xEF\xBB\xBF") {
        m_pos = 3;
    } else if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
        throw InputError(m_source, 1, "the file is UTF-16; save it as UTF-8 CSV");
    }
    m_mark = m_pos;
    if (!m_options.delimiter) {
        m_delimiter = detect_delimiter();
    }
}

// ';' when the first line holds ';' and no ',' outside quotes, tab when it holds only tabs,
// else ','. Looks at most one record's worth of bytes.
char Reader::detect_delimiter() {
    bool quoted = false, semicolon = false, tab = false;
    std::size_t offset = 0; // from m_pos, which fill() may move
    while (offset < m_options.max_record_bytes) {
        if (m_pos + offset == m_buffer.size() && !fill()) {
            break;
        }
        const char c = m_buffer[m_pos + offset++];
        if (c == '"') {
            quoted = !quoted;
        } else if (quoted) {
            continue;
        } else if (c == ',') {
            return ',';
        } else if (c == ';') {
            semicolon = true;
        } else if (c == '\t') {
            tab = true;
        } else if (c == '\n' || c == '\r') {
            break;
        }
    }
    return semicolon ? ';' : tab ? '\t' : ',';
}

bool Reader::next(Record& record) {
    start();
    while (more()) {
        parse(record);
        const bool all_empty = std::all_of(record.fields.begin(), record.fields.end(),
                                           [](const std::string& f) { return f.empty(); });
        if (!record.error.empty() || !all_empty) {
            return true;
        }
    }
    return false;
}

// Consumes the line break at m_pos (LF, CRLF or CR) and returns it.
std::string_view Reader::consume_line_break() {
    ++m_line;
    if (m_buffer[m_pos++] == '\n') {
        return "\n";
    }
    if (more() && m_buffer[m_pos] == '\n') {
        ++m_pos;
        return "\r\n";
    }
    return "\r";
}

// Reads one record starting at m_pos (at least one byte is available).
void Reader::parse(Record& record) {
    record.line = m_line;
    record.fields.assign(1, std::string());
    record.error.clear();
    record.raw.clear();
    m_mark = m_pos;
    std::size_t first_break = k_none; // offset from the mark just past the first line break
    State state = State::field_start;
    while (true) {
        if (!more()) {
            if (state == State::quoted) {
                fail(record, "unterminated quoted field (no closing quote before the end of the file)",
                     first_break);
            }
            return;
        }
        std::string& field = record.fields.back();
        const char c = m_buffer[m_pos];
        if (c == '\0') {
            return fail(record, "NUL byte in field " + field_number(record) + " (is this a text file?)",
                        first_break);
        }
        if (state == State::quoted) {
            if (c == '"') {
                ++m_pos;
                state = State::quote_in_quoted;
            } else if (c == '\n' || c == '\r') {
                field += consume_line_break();
                if (first_break == k_none) {
                    first_break = m_pos - m_mark;
                }
            } else {
                field += c;
                ++m_pos;
            }
        } else if (state == State::quote_in_quoted && c == '"') {
            field += '"';
            ++m_pos;
            state = State::quoted;
        } else if (c == m_delimiter) {
            ++m_pos;
            if (record.fields.size() >= m_options.max_fields) {
                return fail(record, "more than " + std::to_string(m_options.max_fields) + " fields",
                            first_break);
            }
            record.fields.emplace_back();
            state = State::field_start;
        } else if (c == '\n' || c == '\r') {
            consume_line_break();
            return;
        } else if (state == State::quote_in_quoted || state == State::after_quoted) {
            if (!is_blank(c)) {
                return fail(record, "text after the closing quote of field " + field_number(record),
                            first_break);
            }
            ++m_pos;
            state = State::after_quoted;
        } else if (c == '"') {
            if (!only_blanks(field)) {
                return fail(record, "stray quote in unquoted field " + field_number(record) +
                                        " (quote the field and double its quotes)",
                            first_break);
            }
            field.clear();
            ++m_pos;
            state = State::quoted;
        } else {
            field += c;
            ++m_pos;
            state = State::unquoted;
        }
        if (record.fields.back().size() > m_options.max_field_bytes) {
            return fail(record,
                        "field " + field_number(record) + " is longer than " +
                            std::to_string(m_options.max_field_bytes) + " bytes" +
                            (state == State::quoted ? " (or its closing quote is missing)" : ""),
                        first_break);
        }
        if (m_pos - m_mark > m_options.max_record_bytes) {
            return fail(record,
                        "record is longer than " + std::to_string(m_options.max_record_bytes) + " bytes" +
                            (state == State::quoted ? " (or a closing quote is missing)" : ""),
                        first_break);
        }
    }
}

// Marks the record malformed and resumes at the physical line after its first line.
void Reader::fail(Record& record, std::string reason, std::size_t first_break) {
    record.error = std::move(reason);
    std::size_t end = first_break != k_none ? m_mark + first_break : m_buffer.find_first_of("\r\n", m_mark);
    end = std::min({end == k_none ? m_buffer.size() : end, m_buffer.size(), m_mark + k_raw_bytes});
    record.raw.assign(m_buffer, m_mark, end - m_mark);
    while (!record.raw.empty() && (record.raw.back() == '\n' || record.raw.back() == '\r')) {
        record.raw.pop_back();
    }
    if (first_break != k_none) {
        m_pos = m_mark + first_break;
        m_line = record.line + 1;
    } else {
        skip_line();
    }
}

// Drops input up to and including the next line break, quotes or not, in bounded memory.
void Reader::skip_line() {
    while (true) {
        m_mark = m_pos;
        if (!more()) {
            return;
        }
        const std::size_t at = m_buffer.find_first_of("\r\n", m_pos);
        if (at != k_none) {
            m_pos = at;
            consume_line_break();
            return;
        }
        m_pos = m_buffer.size();
    }
}

} // namespace onboard::csv
