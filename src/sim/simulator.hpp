#pragma once

#include "core/json.hpp"
#include "sim/customers.hpp"
#include "sim/executor.hpp"
#include "sim/faults.hpp"
#include "sim/tokens.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onboard::sim {

// The refresh token prismatic-sim accepts when no --refresh-token is given.
inline constexpr std::string_view k_default_refresh_token = "sim-refresh-token";

// How the simulated API behaves where Prismatic's is configurable or undocumented.
struct SimulatorOptions {
    std::vector<std::string> refresh_tokens{std::string(k_default_refresh_token)};
    bool rotate_refresh_tokens = false;
    std::int64_t token_ttl_seconds = 7 * 24 * 3600;
    int mutation_errors_status = 200; // status when a createCustomer payload carries errors (200 or 400)
    int document_errors_status = 200; // status of syntax, validation and variable errors
    bool duplicate_errors_on_all = false; // report duplicates under field "__all__"
    bool forbid_mutations = false;        // the user lacks permission: every mutation answers 403
    bool refuse_access_tokens = false;    // refreshes work, yet /api refuses every access token (401)
    FaultOptions faults;
    std::function<std::int64_t()> clock_ms; // milliseconds since the epoch; the system clock when empty
};

// An answer to one HTTP request; `drop` closes the connection without answering, after `delay_ms`.
struct Reply {
    enum class Action { respond, drop };
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    Action action = Action::respond;
    int delay_ms = 0;
};

// The simulated Prismatic organisation and its HTTP API as pure logic (no sockets): auth, GraphQL,
// fault injection, stats; thread-safe.
class Simulator {
public:
    explicit Simulator(SimulatorOptions options);

    // Answers METHOD PATH with `body` and the Authorization header, faults included; never throws.
    Reply handle(std::string_view method, std::string_view path, std::string_view body,
                 std::string_view authorization);
    // POST /auth/refresh without fault injection.
    Reply refresh(std::string_view body);
    // POST /api without fault injection.
    Reply graphql(std::string_view body, std::string_view authorization);

    // The counters GET /_sim/stats shows.
    core::Json stats() const;
    // Every customer, as GET /_sim/customers shows them.
    core::Json customers() const;
    // Forgets customers, counters, rotated refresh tokens and the rate limiter's window.
    void reset();

    // Loads customers from a JSON list file; a missing file is an empty organisation; throws InputError.
    void load_state(const std::string& path);
    // Writes every customer to `path` atomically (temporary file, then rename); throws InputError.
    void save_state(const std::string& path) const;

private:
    struct Counters {
        std::atomic<std::int64_t> requests{0}, refreshes{0}, graphql_requests{0}, queries{0}, mutations{0},
            creates{0}, duplicates_rejected{0}, document_errors{0}, bad_requests{0}, unauthorized{0},
            rate_limited{0}, injected_failures{0}, injected_drops{0}, injected_graphql_errors{0},
            injected_slow{0}, forbidden{0};
    };

    std::int64_t now_ms() const;
    Reply api(std::string_view body, std::string_view authorization, std::uint64_t n, bool inject);
    Reply inspect(std::string_view method, std::string_view path);

    SimulatorOptions m_options;
    Directory m_directory;
    DocumentCache m_documents;
    TokenIssuer m_tokens;
    Faults m_faults;
    Counters m_counters;
    std::atomic<std::uint64_t> m_request_number{0};
    mutable std::mutex m_refresh_mutex;
    std::set<std::string> m_refresh_tokens;
    std::uint64_t m_rotations = 0;
};

} // namespace onboard::sim
