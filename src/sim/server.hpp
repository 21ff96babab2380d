#pragma once

#include "sim/simulator.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace onboard::sim {

// Where and how prismatic-sim listens.
struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;     // 0 picks a free port
    int threads = 256; // each keep-alive connection holds one
};

// Serves a Simulator over HTTP/1.1 with keep-alive (cpp-httplib), dropping connections on demand.
class Server {
public:
    Server(Simulator& simulator, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens; returns the port; throws onboard::UsageError when the address is unusable.
    int bind();
    // Serves until stop() is called; call bind() first. Returns at once when stop() came first.
    void run();
    // Makes run() return, or a later run() return at once; safe from any thread.
    void stop();
    // Whether run() is accepting connections.
    bool is_running() const;

private:
    class Http;
    Simulator& m_simulator;
    ServerOptions m_options;
    std::unique_ptr<Http> m_http;
    std::atomic<bool> m_stop_requested{false};
    std::atomic<bool> m_run_started{false};
    std::atomic<bool> m_run_finished{false};
};

} // namespace onboard::sim
