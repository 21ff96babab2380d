// prismatic-sim: a local Prismatic API (POST /auth/refresh, POST /api GraphQL) for tests and benchmarks.
#include "core/error.hpp"
#include "sim/server.hpp"
#include "sim/simulator.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace {

using namespace onboard;

struct Cli {
    sim::SimulatorOptions simulator;
    sim::ServerOptions server;
    std::string port_file;
    std::string state_file;
    std::string duplicate_field = "field";
};

// CLI::NonNegativeNumber would say "not in range 0.000000 to 1797693134862315708145274237317043567980...".
const CLI::Validator k_whole_number(
    [](std::string& value) -> std::string {
        if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
            return "";
        }
        return "expected a whole number >= 0, got \"" + value + "\"";
    },
    "INT>=0");

void add_options(CLI::App& app, Cli& cli) {
    auto& sim = cli.simulator;
    auto& faults = sim.faults;
    app.add_option("--host", cli.server.host, "Address to listen on")->capture_default_str();
    app.add_option("--port", cli.server.port, "Port to listen on; 0 picks a free one")
        ->capture_default_str()->check(CLI::Range(0, 65535));
    app.add_option("--port-file", cli.port_file, "Write the port to FILE once listening");
    app.add_option("--state", cli.state_file, "Load customers from FILE at start, save them there at exit");
    app.add_option("--threads", cli.server.threads, "Worker threads; each keep-alive connection holds one")
        ->capture_default_str()->check(CLI::Range(1, 4096));
    app.add_option("--refresh-token", sim.refresh_tokens,
                   "Accepted refresh token (repeatable); default: sim-refresh-token")
        ->capture_default_str();
    app.add_flag("--rotate-refresh-tokens", sim.rotate_refresh_tokens,
                 "Each refresh returns a new refresh_token and the used one stops working");
    app.add_option("--token-ttl", sim.token_ttl_seconds, "Access token lifetime in seconds (real: 7 days)")
        ->capture_default_str()->check(k_whole_number);
    app.add_flag("--forbid-mutations", sim.forbid_mutations,
                 "Answer every mutation 403, as for a user without permission to create customers");
    app.add_flag("--refuse-access-tokens", sim.refuse_access_tokens,
                 "Refresh as usual, but answer every /api request 401, however fresh its token");
    app.add_option("--mutation-errors-status", sim.mutation_errors_status,
                   "HTTP status when a createCustomer payload has errors")
        ->capture_default_str()->check(CLI::IsMember({200, 400}));
    app.add_option("--document-errors-status", sim.document_errors_status,
                   "HTTP status of GraphQL syntax, validation and variable errors")
        ->capture_default_str()->check(CLI::IsMember({200, 400}));
    app.add_option("--duplicate-errors-field", cli.duplicate_field,
                   "Payload error field of duplicates: 'field' (name/externalId) or '__all__'")
        ->capture_default_str()->check(CLI::IsMember({"field", "__all__"}));
    app.add_option("--seed", faults.seed, "Seed of fault decisions and ids")->capture_default_str();
    app.add_option("--latency-ms", faults.latency_ms, "Added to every API response")->check(k_whole_number);
    app.add_option("--jitter-ms", faults.jitter_ms, "Random extra latency, 0..N")->check(k_whole_number);
    app.add_option("--fail-rate", faults.fail_rate, "Share of requests answered 500/502/503 with HTML")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--rate-limit", faults.rate_limit, "Requests per second before 429 (0: unlimited)")
        ->check(k_whole_number);
    app.add_option("--drop-rate", faults.drop_rate, "Share of /api requests executed, then closed unanswered")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--graphql-error-rate", faults.graphql_error_rate,
                   "Share of /api requests answered 200 with top-level errors, nothing executed")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--slow-rate", faults.slow_rate, "Share of /api requests executed, then answered after --slow-ms")
        ->check(CLI::Range(0.0, 1.0));
    auto* slow_ms = app.add_option("--slow-ms", faults.slow_ms, "Delay of slow answers (needed by --slow-rate)")
                        ->check(k_whole_number);
    app.get_option("--slow-rate")->needs(slow_ms);
}

void write_port_file(const std::string& path, int port) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << port << '\n';
        if (!out.flush()) {
            throw UsageError("prismatic-sim: cannot write port file \"" + path + "\"");
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        throw UsageError("prismatic-sim: cannot write port file \"" + path + "\"");
    }
}

int serve(Cli& cli) {
    cli.simulator.duplicate_errors_on_all = cli.duplicate_field == "__all__";
    sim::Simulator simulator(cli.simulator);
    if (!cli.state_file.empty()) {
        simulator.load_state(cli.state_file);
    }
    // SIGINT/SIGTERM are taken by one thread with sigwait, so no handler runs on a server thread.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    sim::Server server(simulator, cli.server);
    const int port = server.bind();
    std::atomic<bool> signalled{false};
    std::thread waiter([&] {
        int signal = 0;
        sigwait(&signals, &signal);
        signalled = true;
        server.stop();
    });
    if (!cli.port_file.empty()) {
        write_port_file(cli.port_file, port);
    }
    std::cerr << "prismatic-sim: listening on http://" << cli.server.host << ":" << port << std::endl;
    server.run();
    if (!signalled) {
        pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    if (!cli.state_file.empty()) {
        simulator.save_state(cli.state_file);
    }
    std::cerr << "prismatic-sim: stopped" << std::endl;
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"prismatic-sim: a local Prismatic API (POST /auth/refresh, POST /api GraphQL, GET /_sim/customers,\n"
                 "GET /_sim/stats, POST /_sim/reset, POST /_sim/revoke-tokens). The accepted refresh token defaults to \"sim-refresh-token\"."};
    Cli cli;
    add_options(app, cli);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return serve(cli);
    } catch (const onboard::Error& e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 1;
    }
}
