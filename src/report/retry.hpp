#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onboard::report {

// Which failed rows to put back in the queue; empty lists mean "any".
struct RetryFilter {
    std::optional<std::int64_t> import_id;
    std::vector<std::string> classes; // failure classes (k_failure_classes)
    std::vector<std::int64_t> lines;  // CSV lines
};

// What a retry would leave alone, so the command can say why.
struct RetryLeftovers {
    std::int64_t rejected = 0;        // rejected at import: need a fix and a new import
    std::int64_t outcome_unknown = 0; // the next run reconciles them anyway
};

// Puts the failed rows matching `filter` back to pending (due at once, attempts and history kept)
// and returns how many; succeeded, rejected and other rows are never touched. Throws UsageError
// "retry: unknown failure class ..." for an unknown class or "retry: no import with id N",
// StoreError on a database failure.
std::int64_t requeue_failed(store::Store& store, const RetryFilter& filter);

// Counts the rejected and outcome_unknown rows matching `filter`. Throws StoreError on a database
// failure.
RetryLeftovers count_leftovers(store::Store& store, const RetryFilter& filter);

} // namespace onboard::report
