#pragma once

#include "http/message.hpp"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace onboard::http {

struct ClientOptions {
    double timeout_seconds = 30;        // whole exchange
    double connect_timeout_seconds = 10;
    long max_connections = 1024;        // connection cache of the multi handle
};

// Many HTTP exchanges in flight on one thread (libcurl's multi interface): connections are kept
// alive and reused, HTTP/2 is used where the server offers it, TLS peers are always verified.
// Not thread-safe (but wake()): one owner thread starts and polls.
class Client {
public:
    explicit Client(ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Starts an exchange; `tag` identifies it when it completes. Throws HttpError if libcurl refuses.
    void start(std::uint64_t tag, const Request& request);
    // Waits up to `timeout_ms` for activity; returns the exchanges that completed, with their tags.
    std::vector<std::pair<std::uint64_t, Response>> poll(int timeout_ms);
    // Exchanges started and not yet returned by poll().
    std::size_t in_flight() const;
    // Ends a poll() waiting now (or the next one) at once. The one call safe from any thread.
    void wake();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace onboard::http
