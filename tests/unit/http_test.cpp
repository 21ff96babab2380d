#include "core/json.hpp"
#include "http/client.hpp"
#include "http/url.hpp"
#include "sim/server.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

using onboard::http::Client;
using onboard::http::ClientOptions;
using onboard::http::Failure;
using onboard::http::Request;
using onboard::http::Response;

namespace {

// httplib 0.11 listens with a backlog of 5; this one listens again with a real backlog.
class BackloggedServer : public httplib::Server {
public:
    void relisten() { ::listen(svr_sock_, 128); }
};

// A free loopback port with nothing listening on it.
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

// A loopback server on a free port for the length of a test. Each keep-alive connection holds one
// of its threads, so it has as many as the tests open connections.
class LoopbackServer {
public:
    LoopbackServer() {
        m_server.new_task_queue = [] { return new httplib::ThreadPool(64); };
        m_server.Post("/echo", [](const httplib::Request& request, httplib::Response& response) {
            response.set_header("X-Seen-Auth", request.get_header_value("Authorization"));
            response.set_content(request.body, "application/json");
        });
        m_server.Post("/count", [this](const httplib::Request&, httplib::Response& response) {
            ++m_counted;
            response.set_content("{}", "application/json");
        });
        m_server.Post("/slow", [](const httplib::Request&, httplib::Response& response) {
            std::this_thread::sleep_for(std::chrono::milliseconds(600));
            response.set_content("{}", "application/json");
        });
        m_server.Get("/status/503", [](const httplib::Request&, httplib::Response& response) {
            response.status = 503;
            response.set_content("<html>busy</html>", "text/html");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_server.relisten();
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        // The socket listens from bind_to_any_port on; waiting for is_running() keeps stop() from
        // racing the loop's start (httplib 0.11 has no wait_until_ready).
        while (!m_server.is_running()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ~LoopbackServer() {
        m_server.stop();
        m_thread.join();
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }
    // Requests /count has answered.
    int counted() const { return m_counted; }

private:
    std::atomic<int> m_counted{0};
    BackloggedServer m_server;
    int m_port = 0;
    std::thread m_thread;
};

std::vector<std::pair<std::uint64_t, Response>> wait_for(Client& client, std::size_t count) {
    std::vector<std::pair<std::uint64_t, Response>> all;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
        for (auto& done : client.poll(50)) {
            all.push_back(std::move(done));
        }
    }
    return all;
}

// A self-signed certificate for 127.0.0.1 and its key, as PEM files (no CA vouches for it).
void write_self_signed(const std::string& cert_path, const std::string& key_path) {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    std::FILE* out = std::fopen(cert_path.c_str(), "w");
    PEM_write_X509(out, cert);
    std::fclose(out);
    out = std::fopen(key_path.c_str(), "w");
    PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    X509_free(cert);
    EVP_PKEY_free(key);
}

} // namespace

TEST_CASE("an https server whose certificate nobody vouches for is refused before anything is sent", "[http]") {
    const std::string dir = std::filesystem::temp_directory_path() / ("onboard-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    write_self_signed(dir + "/cert.pem", dir + "/key.pem");
    httplib::SSLServer server((dir + "/cert.pem").c_str(), (dir + "/key.pem").c_str());
    std::atomic<int> handled{0};
    server.Post("/api", [&](const httplib::Request&, httplib::Response& response) {
        ++handled;
        response.set_content("{}", "application/json");
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { server.listen_after_bind(); });
    while (!server.is_running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Client client;
    client.start(1, Request{"POST", "https://127.0.0.1:" + std::to_string(port) + "/api", {}, "{}"});
    const auto done = wait_for(client, 1);
    server.stop();
    serving.join();
    std::filesystem::remove_all(dir);
    REQUIRE(done.size() == 1);
    CHECK(done[0].second.failure == Failure::connect);
    CHECK_FALSE(done[0].second.outcome_unknown());
    CHECK(handled == 0);
}

TEST_CASE("a POST carries its body and headers and returns status, headers and body", "[http]") {
    LoopbackServer server;
    Client client;
    Request request{"POST", server.url("/echo"), {{"Authorization", "Bearer abc"}, {"Content-Type", "application/json"}},
                    R"({"x":1})"};
    client.start(7, request);
    const auto done = wait_for(client, 1);
    REQUIRE(done.size() == 1);
    CHECK(done[0].first == 7);
    const Response& response = done[0].second;
    CHECK(response.failure == Failure::none);
    CHECK(response.status == 200);
    CHECK(response.body == R"({"x":1})");
    CHECK(response.header("x-seen-auth") == std::optional<std::string_view>("Bearer abc"));
    CHECK(client.in_flight() == 0);
}

TEST_CASE("many exchanges are in flight at once on one thread", "[http]") {
    LoopbackServer server;
    Client client;
    for (std::uint64_t tag = 0; tag < 40; ++tag) {
        client.start(tag, Request{"POST", server.url("/echo"), {}, std::to_string(tag)});
    }
    CHECK(client.in_flight() == 40);
    const auto done = wait_for(client, 40);
    REQUIRE(done.size() == 40);
    for (const auto& [tag, response] : done) {
        CHECK(response.body == std::to_string(tag));
    }
}

TEST_CASE("a request on a kept-alive connection leaves when it is started, before any poll", "[http]") {
    LoopbackServer server;
    Client client;
    client.start(1, Request{"POST", server.url("/count"), {}, "{}"});
    REQUIRE(wait_for(client, 1).size() == 1); // the connection is open now
    client.start(2, Request{"POST", server.url("/count"), {}, "{}"});
    // No poll: the server answers the second request all the same.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server.counted() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(server.counted() == 2);
    const auto done = wait_for(client, 1);
    REQUIRE(done.size() == 1);
    CHECK(done[0].first == 2);
}

TEST_CASE("wake ends a poll waiting for nothing, from another thread", "[http]") {
    Client client;
    std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        client.wake();
    });
    const auto before = std::chrono::steady_clock::now();
    CHECK(client.poll(60000).empty());
    waker.join();
    // Woken, not timed out: far less than the minute it was asked to wait.
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(30));
    client.wake(); // a wake with no poll waiting ends the next one
    CHECK(client.poll(60000).empty());
}

TEST_CASE("an HTML error page is a response, not a failure", "[http]") {
    LoopbackServer server;
    Client client;
    client.start(1, Request{"GET", server.url("/status/503"), {}, ""});
    const auto done = wait_for(client, 1);
    REQUIRE(done.size() == 1);
    CHECK(done[0].second.status == 503);
    CHECK(done[0].second.failure == Failure::none);
}

TEST_CASE("a refused connection is a connect failure: nothing was sent", "[http]") {
    Client client;
    client.start(1, Request{"POST", "http://127.0.0.1:" + std::to_string(closed_port()) + "/x", {}, "{}"});
    const auto done = wait_for(client, 1);
    REQUIRE(done.size() == 1);
    CHECK(done[0].second.failure == Failure::connect);
    CHECK_FALSE(done[0].second.outcome_unknown());
}

TEST_CASE("a timeout after the request was sent leaves the outcome unknown", "[http]") {
    LoopbackServer server;
    Client client(ClientOptions{0.2, 1, 16});
    client.start(1, Request{"POST", server.url("/slow"), {}, "{}"});
    const auto done = wait_for(client, 1);
    REQUIRE(done.size() == 1);
    CHECK(done[0].second.failure == Failure::timeout);
    CHECK(done[0].second.outcome_unknown());
}

TEST_CASE("a POST whose reused connection dies unanswered is not resent by libcurl", "[http]") {
    // The simulator commits every mutation, then closes the connection without answering.
    onboard::sim::SimulatorOptions options;
    options.faults.drop_rate = 1.0;
    onboard::sim::Simulator simulator(options);
    onboard::sim::Server server(simulator, {});
    const int port = server.bind();
    std::thread serving([&] { server.run(); });
    while (!server.is_running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    Client client;
    // A refresh is never dropped: it leaves a kept-alive connection for the mutation to reuse.
    client.start(1, Request{"POST", base + "/auth/refresh", {{"Content-Type", "application/json"}},
                            R"({"refresh_token":"sim-refresh-token"})"});
    auto done = wait_for(client, 1);
    REQUIRE(done.size() == 1);
    REQUIRE(done[0].second.status == 200);
    const std::string token = onboard::core::Json::parse(done[0].second.body).find("access_token")->as_string();
    client.start(2, Request{"POST", base + "/api",
                            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
                            R"({"query":"mutation { createCustomer(input: {name: \"Once\"}) { customer { id } } }"})"});
    done = wait_for(client, 1);
    server.stop();
    serving.join();
    REQUIRE(done.size() == 1);
    CHECK(done[0].second.failure == Failure::connection_lost);
    CHECK(done[0].second.outcome_unknown());
    const auto stats = simulator.stats();
    CHECK(stats.find("mutations")->as_int() == 1);
    CHECK(stats.find("duplicates_rejected")->as_int() == 0);
    CHECK(stats.find("customers")->as_int() == 1);
}

TEST_CASE("parse_url reads a URL as libcurl connects to it", "[http]") {
    using onboard::http::is_loopback_host;
    using onboard::http::parse_url;
    const auto plain = parse_url("HTTP://127.0.0.1:8080/api");
    REQUIRE(plain);
    CHECK(plain->scheme == "http");
    CHECK(plain->host == "127.0.0.1");
    CHECK_FALSE(plain->has_userinfo);
    const auto v6 = parse_url("http://[::1]:9/");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(is_loopback_host(v6->host));
    // Before an "@" is a user name: the host contacted is the one after it.
    const auto disguised = parse_url("http://localhost:1@192.0.2.1/");
    REQUIRE(disguised);
    CHECK(disguised->host == "192.0.2.1");
    CHECK(disguised->has_userinfo);
    CHECK_FALSE(is_loopback_host(disguised->host));
    const auto with_password = parse_url("https://user:secret@example.com");
    REQUIRE(with_password);
    CHECK(with_password->has_userinfo);
    CHECK(with_password->host == "example.com");
    const auto no_scheme = parse_url("127.0.0.1:9"); // no scheme is guessed
    CHECK((!no_scheme || (no_scheme->scheme != "http" && no_scheme->scheme != "https")));
    CHECK_FALSE(parse_url("not a url"));
    CHECK(is_loopback_host("LOCALHOST"));
    CHECK_FALSE(is_loopback_host("127.0.0.1.example.com"));
}
