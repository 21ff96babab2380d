#pragma once

#include "csv/reader.hpp"
#include "loader/importer.hpp"
#include "loader/mapping.hpp"
#include "store/store.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace onboard::loader {

// The row of an earlier import an `onboard export --failed` record names (Store::supersede_exported).
struct ExportedRef {
    std::int64_t import_id = 0;
    std::int64_t line = 0;
    std::string reference;
};

// The columns `onboard export --failed` appends, when the file is such an export (fixed and imported
// again): each record then names the failed or rejected original it replaces by import and line,
// so even a fixed name or a retyped malformed record finds it.
struct ExportColumns {
    std::optional<std::size_t> import_id, line, reference, raw_record;

    static ExportColumns find(const std::vector<std::string>& header);
    // The original the record names, if it names one in numbers.
    std::optional<ExportedRef> original(const csv::Record& record) const;
    // An unedited malformed record keeps its text through another round, so the next export shows it.
    std::optional<std::string> carried_record(const csv::Record& record) const;
};

// The row's inputs as an object, built when they were left to its name and externalId.
core::Json row_inputs(const store::NewRow& row);

// One record as read and checked, with all the import needs to store it and nothing it needs a
// Store for.
struct PreparedRecord {
    std::int64_t records = 0; // records read so far, this one included
    bool blank = false;       // only blank fields: skipped as a blank line is
    store::NewRow row;        // its line always; the rest unless blank
    std::optional<RowIssue> issue;
    std::optional<ExportedRef> original;        // an export's record: the row it was exported from
    int quoted_formulas = 0;                    // an export's record: values starting "'=", "'+", "'-", "'@"
    std::optional<std::string> carried_record;  // an export's record: the malformed text it carries
};

// Reads the records after the header and prepares them (PreparedRecord) on a thread of its own,
// handing them over in file order, a group at a time, through a bounded queue: memory stays a few
// groups whatever the file size. Records up to `resume_after` are counted, not prepared.
// The reader, map (and the inputs it points to) and exported must outlive it; one thread calls next().
class RecordReader {
public:
    RecordReader(csv::Reader& reader, const ColumnMap& map, const ExportColumns& exported, std::int64_t resume_after);
    // Stops the thread (after the record it is at) and joins it.
    ~RecordReader();
    RecordReader(const RecordReader&) = delete;
    RecordReader& operator=(const RecordReader&) = delete;

    // The next records in file order, valid until the next call; empty at the end of the file.
    // Throws what reading threw (InputError, ...) once the records read before it were returned.
    std::span<PreparedRecord> next();

    // Records per group, and the bytes of fields after which a group is handed over sooner.
    static constexpr std::size_t k_group = 4 * store::Store::k_queue_group;
    static constexpr std::size_t k_group_bytes = 1024 * 1024;
    // Groups in circulation (filled, queued or being stored), and how many must be free again
    // before a reader that found none goes on.
    static constexpr std::size_t k_groups = 4;
    static constexpr std::size_t k_refill = k_groups / 2;

private:
    struct Group {
        std::vector<PreparedRecord> records = std::vector<PreparedRecord>(k_group);
        std::size_t size = 0;
    };

    void read();
    bool fill(Group& group);
    void prepare(const csv::Record& record, PreparedRecord& out) const;
    Group* take_free();
    void hand_over(Group* group);

    csv::Reader& m_reader;
    const ColumnMap& m_map;
    const ExportColumns& m_exported;
    std::int64_t m_resume_after;
    bool m_derived_inputs; // rows' inputs left to Store (store::NewRow::inputs_derived)
    std::int64_t m_records = 0; // the reading thread's
    csv::Record m_record;       // the reading thread's

    std::vector<Group> m_groups = std::vector<Group>(k_groups);
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<Group*> m_free;   // guarded by m_mutex, as all below
    std::vector<Group*> m_ready;  // in file order
    Group* m_held = nullptr;      // the group next() returned last
    bool m_reader_waiting = false; // for k_refill free groups
    bool m_store_waiting = false;  // in next()
    bool m_done = false;          // the thread has handed over all it will
    std::atomic<bool> m_stopping{false}; // the reader wants no more; set under m_mutex
    std::exception_ptr m_error;   // what ended the thread early
    std::thread m_thread;         // last: started once all above is set
};

} // namespace onboard::loader
