#include "worker/leases.hpp"

#include "core/error.hpp"
#include "store/store.hpp"

#include <SQLiteCpp/Statement.h>

#include <cerrno>
#include <csignal>
#include <unistd.h>

namespace onboard::worker {

namespace {

std::string host_name() {
    char buffer[256] = {};
    if (gethostname(buffer, sizeof buffer - 1) != 0) {
        return "localhost";
    }
    return buffer;
}

// Whether the owner tag names a process of this host that no longer exists.
bool owner_is_dead(const std::string& owner, const std::string& host) {
    const auto first = owner.rfind(':');
    const auto colon = first == std::string::npos || first == 0 ? std::string::npos : owner.rfind(':', first - 1);
    if (colon == std::string::npos || owner.substr(0, colon) != host) {
        return false;
    }
    try {
        const long pid = std::stol(owner.substr(colon + 1, first - colon - 1));
        return pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    } catch (const std::exception&) {
        return false;
    }
}

} // namespace

std::string make_owner_tag() {
    return host_name() + ":" + std::to_string(getpid()) + ":" + std::to_string(static_cast<long long>(store::now_unix()));
}

std::int64_t expire_dead_owners(store::Store& store) {
    try {
        auto& db = store.database();
        std::vector<std::string> dead;
        SQLite::Statement owners(db, "SELECT DISTINCT lease_owner FROM rows WHERE state = 'in_flight' "
                                     "AND lease_owner IS NOT NULL");
        const std::string host = host_name();
        while (owners.executeStep()) {
            const std::string owner = owners.getColumn(0).getString();
            if (owner_is_dead(owner, host)) {
                dead.push_back(owner);
            }
        }
        std::int64_t freed = 0;
        for (const auto& owner : dead) {
            SQLite::Statement expire(db, "UPDATE rows SET lease_expires_at = 0 WHERE state = 'in_flight' "
                                         "AND lease_owner = ?");
            expire.bind(1, owner);
            freed += expire.exec();
        }
        return freed;
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("cannot check leases: ") + e.what());
    }
}

void release_rows(store::Store& store, const std::string& owner, const std::vector<std::int64_t>& unsent,
                  const std::vector<std::int64_t>& maybe_sent) {
    try {
        store::Store::Transaction transaction(store);
        SQLite::Statement release(store.database(),
                                  "UPDATE rows SET state = ?, lease_owner = NULL, lease_expires_at = NULL, lease_unknown = 0, "
                                  "updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'in_flight'");
        const std::string now = store::now_iso8601();
        auto run = [&](const std::vector<std::int64_t>& ids, const char* state) {
            for (const auto id : ids) {
                release.bind(1, state);
                release.bind(2, now);
                release.bind(3, static_cast<std::int64_t>(id));
                release.bind(4, owner);
                release.exec();
                release.reset();
            }
        };
        run(unsent, "pending");
        run(maybe_sent, "outcome_unknown");
        transaction.commit();
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("cannot release leases: ") + e.what());
    }
}

} // namespace onboard::worker
