#pragma once

// Private to worker/: the in-memory state of a running pool.

#include "core/json.hpp"
#include "http/message.hpp"
#include "store/store.hpp"
#include "workflow/runner.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace onboard::worker {

// The outputs of the batch-scoped steps (the access token), shared by the rows of the batches using it.
struct TokenContext {
    std::map<std::string, core::Json> step_outputs;
    std::optional<double> expires_at;  // the access token's exp, when readable
    double lifetime = 0;               // seconds from refresh to exp
    bool from_rerefresh = false;       // made because a row got 401
    bool stale = false;                // a re-refresh replacing it is on its way
};

struct Batch;

// What a row is waiting for next.
enum class Phase {
    create,          // send (or resend) the row-scoped steps
    lookup_unknown,  // a create may have reached the server: look before resending
    lookup_duplicate // "already exists" for a row we sent before: is it ours?
};

struct Row {
    store::LeasedRow leased;
    Batch* batch = nullptr;
    std::map<std::string, core::Json> step_outputs; // row-scoped steps done so far
    std::size_t step = 0;                           // index into the row-scoped steps
    int attempts = 0;                               // create attempts including earlier runs
    Phase phase = Phase::create;
    bool maybe_sent = false;      // a create may have reached the server and is not reconciled yet
    int lookup_failures = 0;
    std::string last_error_class; // for a final failure after a not-found lookup
    std::string last_error_message;
    std::shared_ptr<TokenContext> sent_with;
    std::int64_t open_attempt = 0; // the attempt record_sending began, until its answer is recorded
    bool write_ahead_pending = false; // its write-ahead is in a commit not yet done (open_attempt comes with it)
    bool done = false;
};

struct Batch {
    std::int64_t id = 0;
    std::vector<std::unique_ptr<Row>> rows;
    std::shared_ptr<TokenContext> context; // null until the batch-scoped steps ran
    std::size_t open_rows = 0;
};

// A run of the batch-scoped steps: for a new batch, or a re-refresh after a 401 or near expiry.
struct ContextJob {
    Batch* batch = nullptr;                     // the batch it is for, or null for a re-refresh
    std::shared_ptr<TokenContext> replaces;     // the context a re-refresh replaces
    std::size_t step = 0;
    std::map<std::string, core::Json> outputs;
    int attempts = 0;
    // After a refused refresh: 1 = read the token file again before the next try (another run
    // sharing it may have rotated the token), 2 = done, a refusal now stops the run.
    int token_file_rereads = 0;
};

// An exchange in flight.
struct Exchange {
    enum class Kind { context_step, row_step, lookup } kind = Kind::row_step;
    std::vector<Row*> rows; // one, or several in one GraphQL document (--rows-per-request); none for a context step
    std::shared_ptr<ContextJob> job;
    std::string started_at;
    http::Request request;
    bool write_ahead = false; // a create: recorded as sent (and committed) before it goes out
};

} // namespace onboard::worker
