#include "http/client.hpp"

#include "core/error.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <optional>
#include <mutex>

namespace onboard::http {

namespace {

// curl_global_init is not thread-safe; do it once per process.
void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return text;
}

// An easy handle and everything libcurl points into while it carries an exchange. Kept for the
// next exchange: its constant options are set once, and its URL, method and header list are only
// set again when a request differs (curl_easy_reset and a new header list per request cost more
// than the rest of a request's preparation).
struct Transfer {
    std::uint64_t tag = 0;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    Headers header_list_of;    // the request headers header_list was built from
    std::string url;           // as last set on the handle
    std::string method;
    bool posting = false;      // CURLOPT_POST (else CURLOPT_HTTPGET) is set
    std::string body;
    int sends = 0;             // times libcurl was about to send this request (on_before_send)
    Response response;
    std::chrono::steady_clock::time_point started;

    Transfer() = default;
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    ~Transfer() {
        curl_slist_free_all(header_list);
        if (easy != nullptr) {
            curl_easy_cleanup(easy);
        }
    }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<Transfer*>(user)->response.body.append(data, size * count);
    return size * count;
}

// libcurl resends a request by itself when a reused connection dies before any answer byte
// ("Connection died, retrying a fresh connect"): for a POST that the server committed before
// closing, that is a second customer. libcurl calls this before every send of the request, the
// resend included; refusing a second one turns that resend into an error, classified as an
// unknown outcome. (The body is given whole, CURLOPT_POSTFIELDS, so headers and body leave in one
// send.)
int on_before_send(void* user, char*, char*, int, int) {
    auto* transfer = static_cast<Transfer*>(user);
    return ++transfer->sends == 1 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        transfer->response.headers.clear(); // a new response (after 100-continue or a redirect)
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        transfer->response.headers.emplace_back(lower(std::string(trim(line.substr(0, colon)))),
                                                std::string(trim(line.substr(colon + 1))));
    }
    return size * count;
}

// Whether any byte of the request left this process: if none did, resending is always safe.
bool request_was_sent(CURL* easy) {
    long request_size = 0;
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
    return request_size > 0;
}

void classify_failure(CURLcode code, CURL* easy, Response& response) {
    response.failure_message = curl_easy_strerror(code);
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        response.failure = Failure::connect;
        return;
    case CURLE_ABORTED_BY_CALLBACK:
        // A reused connection died after our request went out: libcurl wanted to resend it.
        response.failure = Failure::connection_lost;
        response.failure_message = "connection closed with no response after the request was sent";
        return;
    case CURLE_OPERATION_TIMEDOUT:
        response.failure = request_was_sent(easy) ? Failure::timeout : Failure::connect;
        return;
    default:
        response.failure = request_was_sent(easy) ? Failure::connection_lost : Failure::connect;
    }
}

} // namespace

std::optional<std::string_view> Response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
            return value;
        }
    }
    return std::nullopt;
}

struct Client::Impl {
    ClientOptions options;
    CURLM* multi = nullptr;
    std::vector<std::unique_ptr<Transfer>> active;
    std::vector<std::unique_ptr<Transfer>> idle; // reused: their connections' DNS cache and TLS sessions stay warm
    // libcurl's sockets are watched with epoll and driven by curl_multi_socket_action, so a wait and
    // the work after it cost what the active sockets need, not a walk over every transfer and fd.
    int epoll_fd = -1;
    int wake_fd = -1; // an eventfd in epoll_fd: wake() makes it readable
    std::optional<std::chrono::steady_clock::time_point> timer; // when libcurl wants to be called

    // What each socket is registered with in epoll_fd (indexed by descriptor; 0 = not registered),
    // so a change costs one epoll_ctl and no failed guess between ADD and MOD.
    std::vector<std::uint32_t> registered;

    void watch(curl_socket_t socket, std::uint32_t events) {
        if (static_cast<std::size_t>(socket) >= registered.size()) {
            registered.resize(static_cast<std::size_t>(socket) + 1, 0);
        }
        std::uint32_t& now = registered[static_cast<std::size_t>(socket)];
        if (events == 0) {
            if (now != 0) {
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, socket, nullptr);
            }
            now = 0;
            return;
        }
        epoll_event event{};
        event.events = events;
        event.data.fd = socket;
        // The guess is only wrong for a descriptor closed behind libcurl's back (then reused).
        if (epoll_ctl(epoll_fd, now == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event) != 0) {
            epoll_ctl(epoll_fd, errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event);
        }
        now = events;
    }

    static int on_socket(CURL*, curl_socket_t socket, int what, void* user, void*) {
        auto* impl = static_cast<Impl*>(user);
        impl->watch(socket, what == CURL_POLL_REMOVE
                                ? 0u
                                : ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u));
        return 0;
    }

    static int on_timer(CURLM*, long timeout_ms, void* user) {
        auto* impl = static_cast<Impl*>(user);
        if (timeout_ms < 0) {
            impl->timer.reset();
        } else {
            impl->timer = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        }
        return 0;
    }

    void run_due_timer() {
        if (timer && *timer <= std::chrono::steady_clock::now()) {
            timer.reset();
            int running = 0;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
    }

    // Waits up to `timeout_ms` (less when libcurl's timer is due sooner) and lets libcurl act on
    // the sockets that became ready.
    void wait_and_act(int timeout_ms) {
        if (timer) {
            const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*timer - std::chrono::steady_clock::now());
            timeout_ms = static_cast<int>(std::clamp<std::int64_t>(until.count() + 1, 0, timeout_ms));
        }
        std::array<epoll_event, 256> events{};
        const int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.fd == wake_fd) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto got = read(wake_fd, &count, sizeof count);
                continue;
            }
            const int mask = ((events[i].events & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0) |
                             ((events[i].events & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0) |
                             ((events[i].events & (EPOLLERR | EPOLLHUP)) != 0 ? CURL_CSELECT_ERR : 0);
            int running = 0;
            curl_multi_socket_action(multi, events[i].data.fd, mask, &running);
        }
        run_due_timer();
    }

    std::unique_ptr<Transfer> take_transfer() {
        if (!idle.empty()) {
            std::unique_ptr<Transfer> transfer = std::move(idle.back());
            idle.pop_back();
            return transfer;
        }
        auto transfer = std::make_unique<Transfer>();
        transfer->easy = curl_easy_init();
        if (transfer->easy == nullptr) {
            throw HttpError("cannot create a libcurl handle", 0, false);
        }
        set_constant_options(*transfer);
        return transfer;
    }

    void set_constant_options(Transfer& transfer) const {
        CURL* easy = transfer.easy;
        curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_seconds * 1000));
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(options.connect_timeout_seconds * 1000));
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "onboard/" ONBOARD_VERSION);
        curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_before_send);
        curl_easy_setopt(easy, CURLOPT_PREREQDATA, &transfer);
    }

    static void configure(Transfer& transfer, const Request& request) {
        CURL* easy = transfer.easy;
        transfer.response = Response();
        transfer.sends = 0;
        if (transfer.url != request.url) {
            transfer.url = request.url;
            curl_easy_setopt(easy, CURLOPT_URL, transfer.url.c_str());
        }
        const bool has_body = request.method != "GET" || !request.body.empty();
        if (transfer.method != request.method || transfer.posting != has_body) {
            transfer.method = request.method;
            transfer.posting = has_body;
            curl_easy_setopt(easy, has_body ? CURLOPT_POST : CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, transfer.method.c_str());
        }
        transfer.body = request.body;
        if (has_body) {
            // Not copied by libcurl: `body` lives as long as the exchange.
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer.body.size()));
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer.body.data());
        }
        if (transfer.header_list == nullptr || transfer.header_list_of != request.headers) {
            curl_slist_free_all(transfer.header_list);
            // No "Expect: 100-continue" round trip for large bodies.
            transfer.header_list = curl_slist_append(nullptr, "Expect:");
            for (const auto& [name, value] : request.headers) {
                const std::string line = name + ": " + value;
                transfer.header_list = curl_slist_append(transfer.header_list, line.c_str());
            }
            transfer.header_list_of = request.headers;
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer.header_list);
        }
    }

    Response finish(Transfer& transfer, CURLcode code) {
        Response response = std::move(transfer.response);
        response.duration_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - transfer.started).count();
        if (code == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
            response.status = static_cast<int>(status);
        } else {
            response.headers.clear();
            response.body.clear();
            classify_failure(code, transfer.easy, response);
        }
        curl_multi_remove_handle(multi, transfer.easy);
        return response;
    }
};

Client::Client(ClientOptions options) : m_impl(std::make_unique<Impl>()) {
    global_init_once();
    m_impl->options = options;
    m_impl->multi = curl_multi_init();
    if (m_impl->multi == nullptr) {
        throw HttpError("cannot initialise libcurl", 0, false);
    }
    curl_multi_setopt(m_impl->multi, CURLMOPT_MAXCONNECTS, options.max_connections);
    curl_multi_setopt(m_impl->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    m_impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (m_impl->epoll_fd < 0) {
        curl_multi_cleanup(m_impl->multi);
        throw HttpError(std::string("cannot create an epoll instance: ") + std::strerror(errno), 0, false);
    }
    m_impl->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.fd = m_impl->wake_fd;
    if (m_impl->wake_fd < 0 || epoll_ctl(m_impl->epoll_fd, EPOLL_CTL_ADD, m_impl->wake_fd, &wake) != 0) {
        const std::string reason = std::strerror(errno);
        if (m_impl->wake_fd >= 0) {
            close(m_impl->wake_fd);
        }
        close(m_impl->epoll_fd);
        curl_multi_cleanup(m_impl->multi);
        throw HttpError("cannot create an eventfd: " + reason, 0, false);
    }
    curl_multi_setopt(m_impl->multi, CURLMOPT_SOCKETFUNCTION, Impl::on_socket);
    curl_multi_setopt(m_impl->multi, CURLMOPT_SOCKETDATA, m_impl.get());
    curl_multi_setopt(m_impl->multi, CURLMOPT_TIMERFUNCTION, Impl::on_timer);
    curl_multi_setopt(m_impl->multi, CURLMOPT_TIMERDATA, m_impl.get());
}

Client::~Client() {
    for (auto& transfer : m_impl->active) {
        curl_multi_remove_handle(m_impl->multi, transfer->easy);
    }
    m_impl->active.clear();
    m_impl->idle.clear();
    curl_multi_cleanup(m_impl->multi);
    close(m_impl->wake_fd);
    close(m_impl->epoll_fd);
}

void Client::start(std::uint64_t tag, const Request& request) {
    std::unique_ptr<Transfer> transfer = m_impl->take_transfer();
    transfer->tag = tag;
    m_impl->configure(*transfer, request);
    transfer->started = std::chrono::steady_clock::now();
    if (const CURLMcode code = curl_multi_add_handle(m_impl->multi, transfer->easy); code != CURLM_OK) {
        throw HttpError(std::string("cannot start request: ") + curl_multi_strerror(code), 0, false);
    }
    m_impl->active.push_back(std::move(transfer));
    // Sent now rather than at the next poll: the server starts on it while the caller goes on.
    m_impl->run_due_timer();
}

std::vector<std::pair<std::uint64_t, Response>> Client::poll(int timeout_ms) {
    std::vector<std::pair<std::uint64_t, Response>> done;
    // Transfers just added are started by libcurl's timer (due at once); with nothing in flight the
    // wait still lasts the timeout: the caller is waiting for a timer, not spinning.
    m_impl->run_due_timer();
    m_impl->wait_and_act(timeout_ms);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(m_impl->multi, &queued)) {
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        Transfer* transfer = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
        const CURLcode code = message->data.result;
        done.emplace_back(transfer->tag, m_impl->finish(*transfer, code));
        auto& active = m_impl->active;
        const auto owned = std::find_if(active.begin(), active.end(),
                                        [transfer](const auto& item) { return item.get() == transfer; });
        m_impl->idle.push_back(std::move(*owned));
        active.erase(owned);
    }
    return done;
}

std::size_t Client::in_flight() const { return m_impl->active.size(); }

void Client::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = write(m_impl->wake_fd, &one, sizeof one);
}

} // namespace onboard::http
