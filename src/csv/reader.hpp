#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onboard::csv {

// Longest field accepted: a customer name or id is far shorter; a 1 MB field is an error.
inline constexpr std::size_t k_max_field_bytes = 64 * 1024;
// Longest record accepted, in raw bytes; also bounds the memory a reader holds.
inline constexpr std::size_t k_max_record_bytes = 1024 * 1024;
// Most fields a record may have.
inline constexpr std::size_t k_max_fields = 10000;

// How a Reader splits its input.
struct ReaderOptions {
    std::optional<char> delimiter; // ',', ';' or '\t'; none = detect from the header line
    std::size_t max_field_bytes = k_max_field_bytes;
    std::size_t max_record_bytes = k_max_record_bytes;
    std::size_t max_fields = k_max_fields;
};

// One CSV record: its fields and the physical line where it starts (the header is line 1).
struct Record {
    std::int64_t line = 0;
    std::vector<std::string> fields;
    std::string error; // not empty when the record is malformed: the reason; fields are then partial
    std::string raw;   // when malformed: its first physical line as it was (at most k_raw_bytes)
};

// Bytes of a malformed record's text kept in Record::raw.
inline constexpr std::size_t k_raw_bytes = 4096;

// A streaming RFC 4180 reader with bounded memory.
//
// Fields may be quoted; quoted fields may hold delimiters, doubled quotes and line breaks (kept
// verbatim). Line breaks are LF, CRLF or a lone CR, mixed freely. A UTF-8 byte order mark is
// dropped. Blank lines and records whose fields are all empty are skipped. Spaces before an
// opening quote and after a closing quote are dropped.
//
// A malformed record (stray quote, text after a closing quote, a quote never closed, a NUL byte,
// a field or record over its limit, too many fields) is returned with `error` set, reported at
// the line where it starts, and reading resumes at the start of the physical line after that
// line. So an unterminated quote costs its own record only: the lines it swallowed are read
// again as records of their own.
class Reader {
public:
    // Throws onboard::UsageError when options.delimiter is not ',', ';' or '\t'.
    Reader(std::istream& in, std::string source, ReaderOptions options = {});

    // Reads the next record into `record`; false at the end of the input. Throws
    // onboard::InputError when the input cannot be read or is UTF-16.
    bool next(Record& record);

    // The delimiter in use: the given one, or the one detected from the first line.
    char delimiter();

    const std::string& source() const { return m_source; }

private:
    enum class State { field_start, unquoted, quoted, quote_in_quoted, after_quoted };

    bool fill();
    bool more();
    void start();
    char detect_delimiter();
    void parse(Record& record);
    std::string_view consume_line_break();
    void fail(Record& record, std::string reason, std::size_t first_break);
    void skip_line();

    std::istream& m_in;
    std::string m_source;
    ReaderOptions m_options;
    std::string m_buffer;
    std::size_t m_pos = 0;  // next unread byte
    std::size_t m_mark = 0; // start of the record being read: bytes before it may be dropped
    bool m_eof = false;
    bool m_started = false;
    std::int64_t m_line = 1;
    char m_delimiter = ',';
};

} // namespace onboard::csv
