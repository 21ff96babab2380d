#pragma once

#include "core/json.hpp"
#include "core/log.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace onboard::store {
class Store;
}
namespace onboard::workflow {
class Workflow;
}

namespace onboard::worker {

struct PoolOptions {
    std::string api_url;                 // replaces the OpenAPI server url
    int workers = 8;                     // requests in flight
    int batch_size = 100;                // rows per lease; batch-scoped steps run once per batch
    int rows_per_request = 1;            // rows' mutations sent in one GraphQL document (aliases)
    std::optional<std::int64_t> import_id;
    double timeout_seconds = 30;         // per request
    int max_attempts = 5;                // create attempts per row, across runs
    double rate = 0;                     // requests/s shared by all workers; 0 = unlimited
    double lease_seconds = 120;          // a crashed run's rows come back after this
    int max_auth_failures = 3;           // consecutive 401s with a fresh token before the run stops
    double backoff_base_seconds = 0.5;
    double backoff_cap_seconds = 30;
    std::string refresh_token_file;      // rotated refresh tokens are written back here
    std::string owner;                   // lease owner tag; default host:pid:time
    std::uint64_t seed = 0;              // jitter seed; 0 = random
};

// The first line of a refresh token file, trailing blanks (and a CR) removed; nullopt when the file
// cannot be read.
std::optional<std::string> read_token_line(const std::string& path);

// Counts of what a run did, for progress and the summary.
struct RunTotals {
    std::int64_t to_do = 0;        // rows due when the run started
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;
    std::int64_t retries = 0;      // attempts that will be retried
    std::int64_t reconciled = 0;   // successes found by lookup after an unknown outcome
    std::int64_t requests = 0;
    std::int64_t batches = 0;
    std::int64_t released = 0;     // rows handed back unsent (interrupt, abort)
    std::int64_t left_unknown = 0; // rows handed back as outcome_unknown (a second interrupt)
    std::int64_t taken_over = 0;   // rows another run took over after this run's lease lapsed
    std::int64_t unresolved = 0;   // rows left outcome_unknown for a later run
    bool interrupted = false;
    bool aborted = false;
    std::string abort_reason;
    double elapsed_seconds = 0;
};

using ProgressCallback = std::function<void(const RunTotals&)>;

// Runs the queue: leases batches, runs the workflow's batch-scoped steps once per batch and its
// row-scoped steps per row over one HTTP client with `workers` requests in flight, and records
// every attempt. Throws StoreError/WorkflowError on set-up failures; a stop (refused token,
// interrupt) is reported in RunTotals, not thrown.
class Pool {
public:
    Pool(store::Store& store, const workflow::Workflow& workflow, PoolOptions options, core::Json run_inputs,
         std::shared_ptr<core::Secrets> secrets);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // `interrupts` counts SIGINTs: 1 = finish what is in flight and stop, 2 = stop now.
    RunTotals run(const std::atomic<int>& interrupts, const ProgressCallback& progress = {});

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace onboard::worker
