#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onboard::store {
class Store;
}

namespace onboard::worker {

// A lease owner tag for this process: "host:pid:start-time".
std::string make_owner_tag();

// Expires at once the leases of runs on this host whose process is gone (a kill -9), so their
// rows come back, as outcome_unknown, without waiting for the lease time. Returns rows freed.
std::int64_t expire_dead_owners(store::Store& store);

// Hands leased rows back: unsent ones to 'pending', possibly-sent ones to 'outcome_unknown'.
void release_rows(store::Store& store, const std::string& owner, const std::vector<std::int64_t>& unsent,
                  const std::vector<std::int64_t>& maybe_sent);

} // namespace onboard::worker
