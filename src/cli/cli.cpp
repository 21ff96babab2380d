#include "cli/cli.hpp"

#include "cli/job_setup.hpp"
#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "cli/report_commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "http/url.hpp"
#include "loader/importer.hpp"
#include "report/filter.hpp"
#include "report/retry.hpp"
#include "report/summary.hpp"
#include "store/store.hpp"
#include "worker/pool.hpp"
#include "workflow/rows.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace onboard::cli {

namespace {

// Counted by the SIGINT/SIGTERM/SIGHUP handler; a signal handler can reach nothing else.
std::atomic<int> g_interrupts{0};

extern "C" void on_interrupt(int) { g_interrupts.fetch_add(1); }

// For import and run: a closed pipe (`onboard run ... | head`) makes writes fail with EPIPE instead
// of killing the command with rows in flight; the output checks report it at the end (exit 2). The
// read-only commands keep the default, and end quietly under `| head` as other tools do.
void ignore_closed_pipes() { std::signal(SIGPIPE, SIG_IGN); }

struct ImportCommand {
    std::string file;
    std::vector<std::string> maps;
    std::string delimiter;
    bool no_progress = false;
};

struct RunCommand {
    worker::PoolOptions pool;
    std::string api_url;
    std::string refresh_token_file;
    std::int64_t import_id = 0;
    CLI::Option* import_option = nullptr; // given: only that import, which must exist (0 too)
    bool retry_failed = false;
    bool json = false;
    bool no_progress = false;
    std::string log_file;
};

std::shared_ptr<core::Secrets> start_logging(const GlobalOptions& global, const std::string& file = "") {
    auto secrets = std::make_shared<core::Secrets>();
    core::setup_logging(core::parse_log_level(global.log_level), secrets, file);
    return secrets;
}

std::optional<char> parse_delimiter(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    if (text == "," || text == ";") {
        return text[0];
    }
    if (text == "tab" || text == "\\t" || text == "\t") {
        return '\t';
    }
    throw UsageError("--delimiter must be ',', ';' or 'tab', not \"" + text + "\"");
}

int run_import(const GlobalOptions& global, const ImportCommand& command) {
    start_logging(global);
    const workflow::Workflow job = load_job(global);
    loader::ImportOptions options;
    options.path = command.file;
    for (const auto& input : job.inputs()) {
        options.inputs.push_back({input.name, input.type, input.required});
    }
    options.run_inputs = run_input_names(job);
    for (const auto& map : command.maps) {
        const auto equals = map.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == map.size()) {
            throw UsageError("--map expects input=Column, not \"" + map + "\"");
        }
        options.overrides.emplace_back(map.substr(0, equals), map.substr(equals + 1));
    }
    options.delimiter = parse_delimiter(command.delimiter);
    ProgressLine progress(!command.no_progress);
    const double started = store::now_unix();
    options.progress = [&](std::int64_t records) { progress.update_import(records, store::now_unix() - started); };
    store::Store store(global.db);
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::signal(SIGHUP, on_interrupt); // the terminal closed: stop as cleanly as for SIGTERM
    ignore_closed_pipes();
    options.stop = &g_interrupts;
    const loader::ImportSummary summary = loader::import_csv(options, store);
    progress.finish();
    std::cout << loader::describe(summary, command.file);
    if (summary.interrupted) {
        return k_exit_interrupted;
    }
    return summary.counts.rejected > 0 ? k_exit_rows_failed : k_exit_ok;
}

int run_check(const GlobalOptions& global) {
    start_logging(global);
    const workflow::Workflow job = load_job(global);
    for (const auto& warning : job.warnings()) {
        std::cerr << "warning: " << warning << '\n';
    }
    std::size_t batch_steps = 0;
    for (const auto& step : job.steps()) {
        batch_steps += step.batch_scoped ? 1 : 0;
    }
    std::cout << (global.workflow.empty() ? default_workflow_path() : global.workflow) << ": ok ("
              << job.steps().size() << " steps, " << batch_steps << " once per batch, "
              << job.steps().size() - batch_steps << " per row)\n";
    for (const auto& step : job.steps()) {
        if (step.batch_scoped) {
            continue;
        }
        if (const std::string problem = workflow::batching_problem(step); !problem.empty()) {
            std::cout << "note: step \"" << step.id << "\" cannot send several rows in one request "
                      << "(--rows-per-request): " << problem << '\n';
        } else {
            std::cout << "step \"" << step.id << "\" can send several rows in one request (--rows-per-request)\n";
        }
    }
    return k_exit_ok;
}

// The refresh token goes to this host: https, or plain http to this machine's loopback only. The
// URL is read by libcurl's own parser, so the host checked is the one libcurl connects to.
void check_api_url(const std::string& url) {
    const std::optional<http::UrlParts> parts = http::parse_url(url);
    if (!parts || (parts->scheme != "https" && parts->scheme != "http")) {
        throw UsageError("--api-url \"" + url + "\": give an https:// URL (e.g. https://app.prismatic.io)");
    }
    if (parts->has_userinfo) {
        // libcurl would send it as Basic credentials, and "http://127.0.0.1@host" is not loopback.
        throw UsageError("--api-url \"" + url + "\": a user name or password in the URL is not used; give the "
                         "address alone");
    }
    if (parts->scheme == "http" && !http::is_loopback_host(parts->host)) {
        throw UsageError("--api-url \"" + url + "\": plain http would send the refresh token in clear text; use https");
    }
}

int exit_code_for(const worker::RunTotals& totals, const store::StateCounts& counts) {
    if (totals.aborted) {
        return k_exit_aborted;
    }
    if (totals.interrupted) {
        return k_exit_interrupted;
    }
    return counts.failed + counts.rejected + counts.outcome_unknown > 0 ? k_exit_rows_failed : k_exit_ok;
}

// What this run did, beside the summary of the rows it ran (README "JSON field names").
core::Json run_json(const worker::RunTotals& totals) {
    core::Json run = core::Json::object();
    run.set("succeeded", totals.succeeded);
    run.set("reconciled", totals.reconciled);
    run.set("failed", totals.failed);
    run.set("retries", totals.retries);
    run.set("requests", totals.requests);
    run.set("batches", totals.batches);
    run.set("handed_back", totals.released);
    run.set("left_unknown", totals.left_unknown);
    run.set("taken_over", totals.taken_over);
    run.set("elapsed_s", std::round(totals.elapsed_seconds * 1000.0) / 1000.0);
    run.set("stopped", totals.aborted ? "aborted" : totals.interrupted ? "interrupted" : "finished");
    return run;
}

// Throws UsageError naming the first option whose value is out of range.
void check_numeric_options(const worker::PoolOptions& options) {
    const std::pair<const char*, bool> positive[] = {
        {"--workers", options.workers >= 1},
        {"--batch-size", options.batch_size >= 1},
        {"--rows-per-request", options.rows_per_request >= 1},
        {"--max-attempts", options.max_attempts >= 1},
        {"--timeout", std::isfinite(options.timeout_seconds) && options.timeout_seconds > 0},
        {"--lease-seconds", std::isfinite(options.lease_seconds) && options.lease_seconds > 0},
        {"--max-auth-failures", options.max_auth_failures >= 1},
    };
    for (const auto& [name, ok] : positive) {
        if (!ok) {
            throw UsageError(std::string(name) + " must be positive");
        }
    }
    if (!std::isfinite(options.rate) || options.rate < 0) {
        throw UsageError("--rate must be a number of requests per second: 0 (unlimited) or more");
    }
}

// A refused refresh token, explained: with rotating tokens the file may hold a newer one, or a run
// stopped during a refresh may have retired it.
std::string refused_token_hint(const std::string& token_file, const std::string& text_at_start) {
    if (!token_file.empty()) {
        std::ifstream in(token_file);
        const std::string now{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (in && now != text_at_start) {
            return "; the refresh token file changed during this run (rotated by this run or another one "
                   "sharing it): run again to use the newest token";
        }
    }
    return "; if the server rotates refresh tokens, another run, or a run stopped during a refresh "
           "(kill -9, a crash), may have retired it: get a new one (prism me:token --type refresh)";
}

int run_run(const GlobalOptions& global, RunCommand& command) {
    keep_secrets_out_of_core_dumps();
    if (!command.log_file.empty()) {
        refuse_database_as_output(command.log_file, global.db, "run --log-file");
    }
    auto secrets = start_logging(global, command.log_file);
    const workflow::Workflow job = load_job(global);
    for (const auto& warning : job.warnings()) {
        spdlog::warn("{}", warning);
    }
    core::Json run_inputs = collect_run_inputs(job, command.refresh_token_file, *secrets);
    worker::PoolOptions options = command.pool;
    options.api_url = !command.api_url.empty() ? command.api_url : job.default_server_url();
    check_api_url(options.api_url);
    options.refresh_token_file = command.refresh_token_file;
    if (command.import_option != nullptr && command.import_option->count() > 0) {
        options.import_id = command.import_id;
    }
    check_numeric_options(options);
    if (!options.refresh_token_file.empty()) {
        check_token_file_writable(options.refresh_token_file);
    }
    store::Store store(global.db, store::OpenMode::existing);
    report::require_import(store, options.import_id, "run");
    if (command.retry_failed) {
        report::RetryFilter filter;
        filter.import_id = options.import_id;
        const auto requeued = report::requeue_failed(store, filter);
        // Under --json stdout carries the summary alone.
        (command.json ? std::cerr : std::cout) << "requeued " << requeued << " failed row"
                                               << (requeued == 1 ? "" : "s") << '\n';
    }
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::signal(SIGHUP, on_interrupt); // the terminal closed: stop as cleanly as for SIGTERM
    ignore_closed_pipes();
    std::string token_file_at_start;
    if (!options.refresh_token_file.empty()) {
        std::ifstream in(options.refresh_token_file);
        token_file_at_start.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ProgressLine progress(!command.no_progress);
    worker::Pool pool(store, job, options, std::move(run_inputs), secrets);
    const worker::RunTotals totals = pool.run(g_interrupts, [&](const worker::RunTotals& t) { progress.update(t); });
    progress.finish();
    const report::ImportSummary summary = report::summarize(store, options.import_id);
    if (command.json) {
        core::Json out = report::summary_json(summary);
        out.set("run", run_json(totals));
        std::cout << out.dump() << '\n';
    } else {
        std::cout << "run: " << totals.succeeded << " succeeded (" << totals.reconciled << " reconciled), "
                  << totals.failed << " failed, " << totals.retries << (totals.retries == 1 ? " retry, " : " retries, ")
                  << totals.batches << (totals.batches == 1 ? " batch, " : " batches, ") << totals.requests << " requests (token refreshes and lookups included) in " << format_duration(totals.elapsed_seconds)
                  << '\n';
        if (totals.interrupted || totals.released > 0 || totals.left_unknown > 0) {
            const auto left = summary.counts.pending + summary.counts.in_flight + summary.counts.outcome_unknown;
            std::cout << "run: " << (totals.interrupted ? "interrupted; " : "") << totals.released << " row"
                      << (totals.released == 1 ? "" : "s") << " handed back unsent, ";
            if (totals.left_unknown > 0) {
                std::cout << totals.left_unknown << " left to look up (their requests may have reached the server), ";
            }
            std::cout << left << " row" << (left == 1 ? "" : "s")
                      << " left to do; `onboard run` continues them\n";
        }
        std::cout << report::format_summary(summary);
    }
    if (totals.aborted) {
        std::string reason = totals.abort_reason;
        if (reason.find("the refresh token is wrong or revoked") != std::string::npos) {
            reason += refused_token_hint(options.refresh_token_file, token_file_at_start);
        }
        std::cerr << "error: run stopped: " << secrets->redact(reason) << '\n';
    }
    return exit_code_for(totals, summary.counts);
}

void add_import(CLI::App& app, GlobalOptions& global, ImportCommand& command, int& exit_code) {
    auto* sub = app.add_subcommand("import", "read a CSV of customers into the queue");
    add_global_options(*sub, global);
    sub->add_option("file", command.file, "the CSV file")->required();
    sub->add_option("--map", command.maps, "input=Column: take a workflow input from this column");
    sub->add_option("--delimiter", command.delimiter, "',', ';' or 'tab' (default: detected from the header)");
    sub->add_flag("--no-progress", command.no_progress, "no progress line on the terminal");
    sub->callback([&] { exit_code = run_import(global, command); });
}

void add_run(CLI::App& app, GlobalOptions& global, RunCommand& command, int& exit_code) {
    auto* sub = app.add_subcommand("run", "send the queued rows to Prismatic");
    add_global_options(*sub, global);
    auto& pool = command.pool;
    sub->add_option("--workers", pool.workers, "requests in flight")->capture_default_str();
    sub->add_option("--batch-size", pool.batch_size, "rows per batch (one token refresh each)")->capture_default_str();
    sub->add_option("--api-url", command.api_url, "Prismatic base URL (default: the OpenAPI server)")
        ->envname("PRISMATIC_URL");
    sub->add_option("--refresh-token-file", command.refresh_token_file,
                    "file holding the refresh token (else env PRISMATIC_REFRESH_TOKEN)");
    command.import_option = sub->add_option("--import", command.import_id, "only rows of this import");
    sub->add_option("--rows-per-request", pool.rows_per_request,
                    "rows' mutations per GraphQL document, under aliases (1: one row per request)")
        ->capture_default_str();
    sub->add_option("--timeout", pool.timeout_seconds, "seconds per request")->capture_default_str();
    sub->add_option("--max-attempts", pool.max_attempts, "create attempts per row")->capture_default_str();
    sub->add_option("--rate", pool.rate, "requests/s shared by all workers (0: unlimited)")->capture_default_str();
    sub->add_option("--lease-seconds", pool.lease_seconds, "how long a crashed run holds its rows")
        ->capture_default_str();
    sub->add_option("--max-auth-failures", pool.max_auth_failures, "consecutive 401s with a fresh token before stopping")
        ->capture_default_str();
    sub->add_flag("--retry-failed", command.retry_failed, "requeue failed rows first");
    sub->add_flag("--json", command.json, "print the summary as JSON");
    sub->add_flag("--no-progress", command.no_progress, "no progress line on the terminal");
    sub->add_option("--log-file", command.log_file, "write the log here instead of stderr");
    sub->callback([&] { exit_code = run_run(global, command); });
}

// What went wrong writing stdout (a full disk, an I/O error), or "": output that never arrived must
// not pass for success. Flushes first, so a write held in a buffer is tried now.
std::string stdout_problem() {
    errno = 0;
    std::cout.flush();
    const int flush_error = errno;
    if (std::cout && std::fflush(stdout) == 0 && std::ferror(stdout) == 0) {
        return "";
    }
    const int error = errno != 0 ? errno : flush_error != 0 ? flush_error : EIO;
    return std::string("cannot write to stdout: ") + std::strerror(error);
}

} // namespace

void refuse_database_as_output(const std::string& path, const std::string& db, const std::string& where) {
    std::error_code error;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        const std::string file = db + suffix;
        if (path == file || (std::filesystem::exists(path, error) && std::filesystem::exists(file, error) &&
                             std::filesystem::equivalent(path, file, error))) {
            throw UsageError(where + ": \"" + path + "\" is the results database" +
                             (*suffix != '\0' ? std::string(" (its ") + (suffix + 1) + " file)" : std::string()) +
                             "; writing there would destroy every recorded result");
        }
    }
}

// A token typed as an option (--refresh-token, --token, --refresh_token=..., to any command) is
// refused before CLI11 sees it: CLI11 would print its value back as an unexpected argument.
void refuse_token_arguments(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument(argv[i]);
        if (argument == "--") {
            return;
        }
        if (argument.size() < 2 || argument[0] != '-') {
            continue;
        }
        const std::string name(argument.substr(0, argument.find('=')));
        const bool option_name = std::all_of(name.begin(), name.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || c == '-' || c == '_';
        });
        if (!option_name) {
            continue; // a value such as SQL that starts with "--", not an option
        }
        std::string lowered = name;
        std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lowered.find("token") != std::string::npos && lowered != "--refresh-token-file") {
            throw UsageError(name + ": a token on the command line is visible to every user of this machine (ps) "
                             "and kept in shell history; set PRISMATIC_REFRESH_TOKEN or pass --refresh-token-file "
                             "(the value given is not printed)");
        }
    }
}

// CLI11 answers a mistyped command ("onboard stauts") with "A subcommand is required": name it
// and the commands there are instead.
void refuse_unknown_command(const CLI::App& app, int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') {
        return; // an option first (--help, --version, --db ...): CLI11 says what is wrong
    }
    const std::string given = argv[1];
    std::string known;
    for (const CLI::App* command : app.get_subcommands({})) {
        if (command->get_name() == given) {
            return;
        }
        known += (known.empty() ? "" : ", ") + command->get_name();
    }
    throw UsageError("unknown command \"" + core::printable(given) + "\"; the commands are " + known +
                     " (onboard --help)");
}

int run(int argc, char** argv) {
    CLI::App app{"onboard: create Prismatic customers from a CSV, exactly once, and know what happened to every row"};
    app.set_version_flag("--version", std::string("onboard ") + ONBOARD_VERSION);
    app.require_subcommand(1);
    GlobalOptions global;
    if (const char* db = std::getenv("ONBOARD_DB"); db != nullptr && *db != '\0') {
        global.db = db;
    }
    int exit_code = k_exit_ok;
    ImportCommand import_command;
    RunCommand run_command;
    add_import(app, global, import_command, exit_code);
    add_run(app, global, run_command, exit_code);
    auto* check = app.add_subcommand("check", "validate a workflow before any request");
    add_global_options(*check, global);
    check->add_option("workflow", global.workflow, "the Arazzo file (default: the shipped job)");
    check->callback([&] { exit_code = run_check(global); });
    add_report_commands(app, global, exit_code);
    try {
        refuse_token_arguments(argc, argv);
        refuse_unknown_command(app, argc, argv);
        app.parse(argc, argv);
        if (const std::string problem = stdout_problem(); !problem.empty()) {
            std::cerr << "error: " << problem << '\n';
            // Lost output outweighs failed rows; a stopped or interrupted run keeps saying so.
            return exit_code == k_exit_ok || exit_code == k_exit_rows_failed ? k_exit_usage : exit_code;
        }
        return exit_code;
    } catch (const CLI::ParseError& e) {
        if (app.exit(e) != 0) {
            return k_exit_usage;
        }
        if (const std::string problem = stdout_problem(); !problem.empty()) { // --help, --version
            std::cerr << "error: " << problem << '\n';
            return k_exit_usage;
        }
        return k_exit_ok;
    } catch (const InputError& e) {
        std::cerr << "error: " << e.what() << '\n';
        return k_exit_usage;
    } catch (const RunAborted& e) {
        std::cerr << "error: " << e.what() << '\n';
        return k_exit_aborted;
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << '\n';
        return k_exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "error: unexpected: " << e.what() << '\n';
        return k_exit_usage;
    }
}

} // namespace onboard::cli
