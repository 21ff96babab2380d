#include "sim/server.hpp"

#include "core/error.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>

namespace onboard::sim {

namespace {

constexpr int k_listen_backlog = 1024;
constexpr std::size_t k_keep_alive_max_count = 1'000'000'000;

int socket_port(const sockaddr_storage& address) {
    if (address.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
    }
    if (address.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
    }
    return -1;
}

// Whether `fd` is the accepted socket between our local port and the request's peer port.
bool is_connection(int fd, const httplib::Request& request) {
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_length = sizeof local;
    socklen_t peer_length = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) {
        return false;
    }
    return socket_port(local) == request.local_port && socket_port(peer) == request.remote_port;
}

// The request's socket among this process's descriptors, or -1.
int find_connection(const httplib::Request& request) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
        int fd = -1;
        try {
            fd = std::stoi(entry.path().filename().string());
        } catch (const std::exception&) {
            continue;
        }
        if (is_connection(fd, request)) {
            return fd;
        }
    }
    return -1;
}

// What this thread knows of the connection it serves: an httplib worker serves one connection at a time,
// so the socket found for its first request is checked, not searched for, on the next ones.
struct ThreadConnection {
    int fd = -1;
    bool corked = false;
};

thread_local ThreadConnection t_connection;

// cpp-httplib 0.11 does not tell handlers their socket: this finds it.
int connection_fd(const httplib::Request& request) {
    if (t_connection.fd < 0 || !is_connection(t_connection.fd, request)) {
        t_connection.fd = find_connection(request);
    }
    return t_connection.fd;
}

// httplib sends a response's headers and its body with two send() calls, so each answer costs two TCP
// segments (and the client two wake-ups); corking the socket until the logger runs, after both, makes it one.
void cork_connection(const httplib::Request& request) {
    const bool keep_alive = request.version == "HTTP/1.1" && request.get_header_value("Connection") != "close";
    if (!keep_alive) {
        return; // a connection used once is not worth finding
    }
    const int fd = connection_fd(request);
    const int on = 1;
    t_connection.corked = fd >= 0 && ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0;
}

void uncork_connection() {
    if (t_connection.corked) {
        const int off = 0;
        ::setsockopt(t_connection.fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
        t_connection.corked = false;
    }
}

// cpp-httplib 0.11 gives handlers no way to abort a connection, so shut the request's socket down: the
// client then sees the connection close with no response (curl: "Empty reply from server"), and
// httplib's own write fails and closes the socket.
void drop_connection(const httplib::Request& request) {
    if (const int fd = connection_fd(request); fd >= 0) {
        ::shutdown(fd, SHUT_RDWR);
    }
}

} // namespace

// httplib's server with access to its listening socket, to listen again with a real backlog.
class Server::Http : public httplib::Server {
public:
    bool relisten(int backlog) { return ::listen(svr_sock_, backlog) == 0; }
};

Server::Server(Simulator& simulator, ServerOptions options)
    : m_simulator(simulator), m_options(std::move(options)), m_http(std::make_unique<Http>()) {
    std::signal(SIGPIPE, SIG_IGN);
    const std::size_t threads = static_cast<std::size_t>(std::max(1, m_options.threads));
    m_http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    m_http->set_keep_alive_max_count(k_keep_alive_max_count);
    m_http->set_tcp_nodelay(true);
    // httplib's default options add SO_REUSEPORT, with which a second simulator could listen on a port
    // in use and silently take half of its connections; SO_REUSEADDR alone still allows a quick restart.
    m_http->set_socket_options([](int sock) {
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    auto handler = [this](const httplib::Request& request, httplib::Response& response) {
        Reply reply = m_simulator.handle(request.method, request.path, request.body,
                                         request.get_header_value("Authorization"));
        if (reply.delay_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
        }
        if (reply.action == Reply::Action::drop) {
            drop_connection(request);
        } else {
            cork_connection(request);
        }
        response.status = reply.status;
        for (const auto& [name, value] : reply.headers) {
            response.set_header(name, value);
        }
        response.set_content(std::move(reply.body), reply.content_type.c_str());
    };
    // httplib calls its logger once the response is written.
    m_http->set_logger([](const httplib::Request&, const httplib::Response&) { uncork_connection(); });
    // One catch-all route per method: the simulator routes by path itself.
    m_http->Get(".*", handler);
    m_http->Post(".*", handler);
    m_http->Put(".*", handler);
    m_http->Patch(".*", handler);
    m_http->Delete(".*", handler);
}

Server::~Server() = default;

int Server::bind() {
    int port = m_options.port;
    if (port == 0) {
        port = m_http->bind_to_any_port(m_options.host);
    } else if (!m_http->bind_to_port(m_options.host, port)) {
        port = -1;
    }
    if (port <= 0) {
        throw UsageError("prismatic-sim: cannot listen on " + m_options.host + ":" +
                         std::to_string(m_options.port));
    }
    // httplib listens with a backlog of 5: connection bursts would lose SYNs and stall a second.
    if (!m_http->relisten(k_listen_backlog)) {
        throw UsageError("prismatic-sim: cannot listen on " + m_options.host + ":" + std::to_string(port));
    }
    return port;
}

void Server::run() {
    // httplib's stop() does nothing to a server that is not listening yet, so a stop() between bind()
    // and here would be lost; run() and stop() each announce themselves and look at the other's flag
    // (sequentially consistent), so at least one of them sees the other.
    m_run_started = true;
    if (!m_stop_requested) {
        m_http->listen_after_bind();
    }
    m_run_finished = true;
}

void Server::stop() {
    m_stop_requested = true;
    if (!m_run_started) {
        return;
    }
    while (!m_http->is_running() && !m_run_finished) {
        std::this_thread::yield();
    }
    m_http->stop();
}

bool Server::is_running() const {
    return m_http->is_running();
}

} // namespace onboard::sim
