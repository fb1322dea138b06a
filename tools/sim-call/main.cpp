// sim-call: call one function on a libsim or aiomas RPC server from the command line, as grpcurl
// does for gRPC; with --repeat, a small load generator.
//
//   sim-call ADDRESS PATH [ARG...] [--kw NAME=VALUE...] [--codec C] [--timeout S] [TLS options]
//   sim-call ADDRESS PATH [ARG...] --repeat N [--concurrency K] [--quiet]
//
// Exit status: 0 success, 1 remote error, 2 usage error, 3 cannot connect, timeout, connection
// lost or protocol error.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include <boost/fiber/operations.hpp>

#include <sim/codec/json_codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/rpc/request.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/wait_queue.hpp>

namespace {

constexpr int exit_remote = 1;
constexpr int exit_usage = 2;
constexpr int exit_failure = 3;

using clock_type = std::chrono::steady_clock;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct settings {
    std::string address;
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> kwargs;
    std::string codec = "json";
    double timeout = 10.0;
    std::string tls_ca;
    std::string tls_cert;
    std::string tls_key;
    std::string tls_server_name;
    std::size_t repeat = 1;
    std::size_t concurrency = 1;
    bool quiet = false;
};

// ---- the command line ---------------------------------------------------------------------------

// The options, which drive the split of argv into options and positionals: CLI11 cannot do it
// itself, as it would read "-1" as an option.
constexpr std::string_view flag_options[] = {"--help", "-h", "--quiet", "-q"};
constexpr std::string_view value_options[] = {
    "--kw",     "--codec",       "-c",        "--timeout",         "-t",
    "--tls-ca", "--tls-cert",    "--tls-key", "--tls-server-name", "--repeat",
    "-n",       "--concurrency", "-k"};

enum class option_kind { none, flag, takes_value };

option_kind find_option(std::string_view token) {
    for (auto name : flag_options) {
        if (name == token) return option_kind::flag;
    }
    for (auto name : value_options) {
        if (name == token) return option_kind::takes_value;
    }
    return option_kind::none;
}

struct split_command_line {
    std::vector<std::string> for_cli;  // argv for CLI11
    std::vector<std::string> args;     // the function's arguments, as written
};

// Rewrites argv as `options -- ADDRESS PATH` for CLI11 and keeps the function's arguments apart:
// CLI11 would read "-1" as an option and split "[1,2]" into two values. Option values are
// attached to their option (`--timeout=-1`, `-n5`) so that CLI11 takes them as values.
split_command_line split_arguments(int argc, char** argv) {
    std::vector<std::string> options;
    std::vector<std::string> positionals;
    bool only_positionals = false;
    for (int i = 1; i < argc; ++i) {
        std::string token = argv[i];
        if (only_positionals) {
            positionals.push_back(std::move(token));
            continue;
        }
        if (token == "--") {
            only_positionals = true;
            continue;
        }
        if (option_kind kind = find_option(token); kind != option_kind::none) {
            if (kind == option_kind::takes_value && i + 1 < argc) {
                std::string v = argv[++i];
                options.push_back(token.starts_with("--") ? token + "=" + v : token + v);
            } else {
                options.push_back(std::move(token));  // a flag, or a missing value CLI11 reports
            }
            continue;
        }
        if (token.starts_with("--")) {
            std::string_view name = std::string_view(token).substr(0, token.find('='));
            if (find_option(name) == option_kind::none) {
                throw usage_error("unknown option " + std::string(name) +
                                  " (an argument that starts with -- goes after a lone --)");
            }
            options.push_back(std::move(token));
            continue;
        }
        positionals.push_back(std::move(token));
    }
    split_command_line out;
    out.for_cli.emplace_back(argc > 0 ? argv[0] : "sim-call");
    for (auto& o : options)
        out.for_cli.push_back(std::move(o));
    out.for_cli.emplace_back("--");
    for (std::size_t i = 0; i < positionals.size(); ++i) {
        if (i < 2) {
            out.for_cli.push_back(std::move(positionals[i]));
        } else {
            out.args.push_back(std::move(positionals[i]));
        }
    }
    return out;
}

const char* const description =
    "Calls one function on a libsim or aiomas RPC server and prints its result as one line of\n"
    "JSON on standard output; the remote error's traceback goes to standard error.\n"
    "\n"
    "  sim-call ADDRESS PATH [ARG...] [--kw NAME=VALUE...] [options]\n"
    "\n"
    "ADDRESS is tcp://host:port, tcp://[::1]:port or ipc://[/path/to/socket]; TLS (tcp only)\n"
    "with --tls-ca, --tls-cert and --tls-key. An address that names an agent\n"
    "(tcp://host:port/3) calls PATH on that agent, that is agents/3/PATH.\n"
    "PATH names the function from the server's root: add, calc/math/add.\n";

const char* const footer =
    "Values (each ARG, and VALUE in --kw NAME=VALUE, which splits at the first '='):\n"
    "  read as JSON: 1 is an integer, 1.5 a float, -1 a number (not an option), true, null,\n"
    "  [1,2] a list, '{\"a\": 1}' a map, '\"abc\"' a string. What is not JSON is a string as\n"
    "  written: hello is \"hello\". The logical notation of sim-frame adds bytes\n"
    "  {\"$bytes\": \"00ff\"} (msgpack codecs only), {\"$float\": \"nan\"|\"inf\"|\"-inf\"},\n"
    "  {\"$bigint\": \"<digits>\"} and maps with non-string keys {\"$map\": [[1, 2]]}.\n"
    "  An ARG that starts with -- goes after a lone --: sim-call ADDR echo -- --not-an-option.\n"
    "Output: the result in the same notation, one line, except that integers beyond 64 bits\n"
    "  print as plain JSON numbers (18446744073709551616), as Python's json writes them; custom\n"
    "  types print as their raw envelope {\"__type__\": [...]}.\n"
    "Load generator: with --repeat N (N > 1) K fibers (--concurrency) make N calls over one\n"
    "  connection; the first call's result is printed (unless --quiet), then one line:\n"
    "  calls: N  errors: E  wall: W s  calls/s: R  latency us: p50 A  p90 B  p99 C  max D\n"
    "  Remote errors are counted and the run goes on; a timeout or a lost connection ends it.\n"
    "  Every call has the --timeout deadline.\n"
    "Timeout: connecting (TCP and TLS handshakes) and each call must finish within --timeout.\n"
    "Logging: libsim's own log is off; SIM_LOG=debug (or info, warn, ...) turns it on.\n"
    "Exit status: 0 success; 1 the remote function raised (its traceback on standard error,\n"
    "  ending with \"Type: message\"); 2 usage error; 3 cannot connect, timeout, connection lost\n"
    "  or protocol error (one line on standard error, \"sim-call: <reason>\"). With --repeat,\n"
    "  the status of the first failure, after the summary.";

// ---- values -------------------------------------------------------------------------------------

// JSON in the logical notation; anything that is not JSON is a bare string. A JSON value with a
// malformed marker ({"$bytes": "zz"}) is an error: the user meant a marker, not a string.
sim::value parse_value(const std::string& text, const std::string& what) {
    sim::value json;
    try {
        sim::json_codec codec(sim::codec_options{.decode_envelopes = false});
        json = codec.decode(text);
    } catch (const sim::serialization_error&) {
        return sim::value(text);
    }
    try {
        return sim::from_logical(json);
    } catch (const sim::serialization_error& e) {
        throw usage_error(what + ": " + e.what());
    }
}

sim::value build_request(const settings& s, const std::string& path) {
    sim::array args;
    args.reserve(s.args.size());
    for (std::size_t i = 0; i < s.args.size(); ++i) {
        args.push_back(parse_value(s.args[i], "argument " + std::to_string(i + 1)));
    }
    sim::map kwargs;
    for (const auto& kv : s.kwargs) {
        std::size_t eq = kv.find('=');
        if (eq == std::string::npos) throw usage_error("--kw " + kv + ": expected NAME=VALUE");
        std::string name = kv.substr(0, eq);
        if (name.empty()) throw usage_error("--kw " + kv + ": empty name");
        if (kwargs.contains(sim::value(name))) throw usage_error("--kw " + name + " given twice");
        kwargs.insert_or_assign(sim::value(name), parse_value(kv.substr(eq + 1), "--kw " + name));
    }
    // Made once and sent as it is by every call of a --repeat run.
    return sim::rpc::make_request(path, std::move(args), std::move(kwargs));
}

// ---- failures -----------------------------------------------------------------------------------

struct failure {
    int status = 0;
    std::string text;  // for standard error, newline included
};

std::string one_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::replace(text.begin(), text.end(), '\r', ' ');
    return text;
}

failure reason(int status, const std::string& text) {
    return {status, "sim-call: " + one_line(text) + "\n"};
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

// The failure being handled; call from a catch block.
failure current_failure(const settings& s) {
    try {
        throw;
    } catch (const sim::remote_error& e) {
        std::string text = e.traceback();
        if (text.empty() || text.back() != '\n') text += '\n';
        return {exit_remote, text};
    } catch (const sim::timeout_error& e) {
        return reason(exit_failure,
                      std::string(e.what()) + " (--timeout " + seconds_text(s.timeout) + " s)");
    } catch (const sim::serialization_error& e) {
        // Encoding happens before anything is sent: the arguments do not fit the codec.
        return reason(exit_usage,
                      "cannot send the arguments with codec " + s.codec + ": " + e.what());
    } catch (const std::exception& e) {
        // connection_error, connection_closed (a protocol error closes the connection and says
        // why), protocol_error, and whatever else: all mean the call could not be made.
        return reason(exit_failure, e.what());
    } catch (...) {
        return reason(exit_failure, "unknown failure");
    }
}

// ---- calling ------------------------------------------------------------------------------------

struct run_report {
    std::optional<failure> connect_failure;
    std::optional<sim::value> first_result;
    std::optional<failure> first_failure;
    std::size_t calls = 0;
    std::size_t errors = 0;
    std::vector<clock_type::duration> latencies;  // of the calls that succeeded
    clock_type::duration wall{};
};

sim::channel_options connection_options(const settings& s) {
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double, std::milli>(std::ceil(s.timeout * 1000.0)));
    sim::channel_options o;
    o.codec = s.codec;
    // Custom types print as their envelopes: we have no serializers for them.
    o.codec_settings.decode_envelopes = false;
    o.default_timeout = timeout;
    o.transport.handshake_timeout = timeout;
    if (!s.tls_ca.empty()) {
        sim::tls_options tls;
        tls.ca_file = s.tls_ca;
        tls.cert_file = s.tls_cert;
        tls.key_file = s.tls_key;
        tls.server_name = s.tls_server_name;
        o.transport.tls = tls;
    }
    return o;
}

// Makes `repeat` calls from `concurrency` fibers over one connection, each with the timeout.
void make_calls(const settings& s, sim::channel& ch, const sim::value& request,
                run_report& report) {
    const auto timeout =
        std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s.timeout));
    const std::size_t workers = std::min(s.concurrency, s.repeat);
    std::size_t next = 0;
    std::size_t running = workers;
    bool stop = false;
    sim::wait_queue done;
    report.latencies.reserve(std::min<std::size_t>(s.repeat, std::size_t{1} << 20));

    auto work = [&] {
        while (!stop && next < s.repeat) {
            const std::size_t index = next++;
            auto start = clock_type::now();
            try {
                sim::value result = ch.send(request, sim::deadline(timeout));
                report.latencies.push_back(clock_type::now() - start);
                if (index == 0) report.first_result = std::move(result);
            } catch (...) {
                failure f = current_failure(s);
                ++report.errors;
                // A remote error leaves the connection usable; anything else would make every
                // later call fail or wait out its timeout.
                if (f.status != exit_remote) stop = true;
                if (!report.first_failure) report.first_failure = std::move(f);
            }
            ++report.calls;
        }
        if (--running == 0) done.notify_all();
    };

    auto start = clock_type::now();
    for (std::size_t i = 1; i < workers; ++i)
        sim::spawn(work);
    work();
    done.wait([&] { return running == 0; });
    report.wall = clock_type::now() - start;
}

run_report run(const settings& s, const sim::address& to, const sim::value& request) {
    sim::runtime rt(sim::runtime_options{.name = "sim-call"});
    return rt.run([&] {
        run_report report;
        sim::rpc::connection conn;
        // Bounded by --timeout: resolving, connecting and TLS share one deadline.
        try {
            conn = sim::rpc::open_connection(to, nullptr, connection_options(s));
        } catch (...) {
            report.connect_failure = current_failure(s);
            return report;
        }
        make_calls(s, conn.channel(), request, report);
        return report;
    });
}

// Nearest-rank percentile of sorted durations, in microseconds.
long long percentile_us(const std::vector<clock_type::duration>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return std::chrono::duration_cast<std::chrono::microseconds>(sorted[rank - 1]).count();
}

std::string summary(run_report& r) {
    std::sort(r.latencies.begin(), r.latencies.end());
    double wall = std::chrono::duration<double>(r.wall).count();
    double rate = wall > 0 ? static_cast<double>(r.calls) / wall : 0.0;
    char buf[256];
    std::snprintf(buf, sizeof buf, "calls: %zu  errors: %zu  wall: %.3f s  calls/s: %.0f", r.calls,
                  r.errors, wall, rate);
    std::string line = buf;
    if (r.latencies.empty()) {
        line += "  latency us: -";
    } else {
        std::snprintf(buf, sizeof buf, "  latency us: p50 %lld  p90 %lld  p99 %lld  max %lld",
                      percentile_us(r.latencies, 50), percentile_us(r.latencies, 90),
                      percentile_us(r.latencies, 99), percentile_us(r.latencies, 100));
        line += buf;
    }
    return line;
}

// Prints a result; false (with the reason on standard error) if it cannot be.
bool print_result(const sim::value& v) {
    std::string text;
    try {
        text = sim::to_logical_json(v, {.big_integers_as_numbers = true});
    } catch (const std::exception& e) {
        std::cerr << "sim-call: cannot print the result: " << one_line(e.what()) << '\n';
        return false;
    }
    std::cout << text << '\n';
    return true;
}

int call(const settings& s) {
    sim::address to;
    try {
        to = sim::address::parse(s.address);
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    if (to.kind == sim::address::scheme::local) {
        throw usage_error("local:// addresses are inside one process: sim-call cannot reach them");
    }
    if (!s.tls_ca.empty() && to.kind != sim::address::scheme::tcp) {
        throw usage_error("TLS needs a tcp:// address");
    }
    if (s.path.empty()) throw usage_error("empty PATH: name a function");
    std::string path = to.agent.empty() ? s.path : "agents/" + to.agent + "/" + s.path;
    sim::value request = build_request(s, path);

    run_report r = run(s, to, request);
    if (r.connect_failure) {
        std::cerr << r.connect_failure->text;
        return r.connect_failure->status;
    }
    int status = 0;
    if (r.first_result && !(s.repeat > 1 && s.quiet)) {
        if (!print_result(*r.first_result)) status = exit_failure;
    }
    if (s.repeat > 1) std::cout << summary(r) << '\n';
    std::cout.flush();
    if (r.first_failure) {
        std::cerr << r.first_failure->text;
        if (r.errors > 1) std::cerr << "sim-call: " << r.errors << " calls failed\n";
        return r.first_failure->status;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    // A peer that hangs up must be an error return, never a signal.
    std::signal(SIGPIPE, SIG_IGN);
    if (const char* env = std::getenv("SIM_LOG"); env == nullptr || *env == '\0') {
        // The tool reports failures itself, in one line; libsim's warnings would repeat them.
        sim::log::configure("off");
    }

    settings s;
    CLI::App app{description, "sim-call"};
    app.footer(footer);
    app.add_option("address", s.address, "tcp://host:port or ipc://[path] (see above)")->required();
    app.add_option("path", s.path, "the function: name, or service/.../name")->required();
    // For the help only: split_arguments keeps the arguments from CLI11.
    std::vector<std::string> args_for_help;
    app.add_option("args", args_for_help, "the function's arguments, one value each (see Values)");
    app.add_option("--kw", s.kwargs, "a keyword argument NAME=VALUE; repeat for more")
        ->type_name("NAME=VALUE");
    std::vector<std::string> codecs(sim::codec_names().begin(), sim::codec_names().end());
    std::string codec_list;
    for (const auto& n : codecs)
        codec_list += (codec_list.empty() ? "" : ", ") + n;
    app.add_option("--codec,-c", s.codec, "codec: " + codec_list + "; the server's")
        ->check(CLI::IsMember(codecs))
        ->capture_default_str();
    app.add_option("--timeout,-t", s.timeout, "seconds to connect, and for each call")
        ->check(CLI::Range(0.001, 1e6))
        ->capture_default_str();
    auto* ca =
        app.add_option("--tls-ca", s.tls_ca, "TLS: CA certificate (PEM) to verify the server")
            ->check(CLI::ExistingFile);
    auto* cert = app.add_option("--tls-cert", s.tls_cert, "TLS: our certificate (PEM)")
                     ->check(CLI::ExistingFile);
    auto* key = app.add_option("--tls-key", s.tls_key, "TLS: our private key (PEM)")
                    ->check(CLI::ExistingFile);
    ca->needs(cert)->needs(key);
    cert->needs(ca)->needs(key);
    key->needs(ca)->needs(cert);
    app.add_option("--tls-server-name", s.tls_server_name,
                   "TLS: the name the server's certificate must carry (default: the host)")
        ->needs(ca);
    app.add_option("--repeat,-n", s.repeat, "make N calls and print a summary (load generator)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
        ->capture_default_str();
    app.add_option("--concurrency,-k", s.concurrency, "with --repeat: K calls in flight at once")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
    app.add_flag("--quiet,-q", s.quiet, "with --repeat: print only the summary");

    try {
        split_command_line split = split_arguments(argc, argv);
        std::vector<char*> cargs;
        cargs.reserve(split.for_cli.size());
        for (auto& a : split.for_cli)
            cargs.push_back(a.data());
        try {
            app.parse(static_cast<int>(cargs.size()), cargs.data());
        } catch (const CLI::ParseError& e) {
            int rc = app.exit(e);
            return rc == 0 ? 0 : exit_usage;
        }
        s.args = std::move(split.args);
        return call(s);
    } catch (const usage_error& e) {
        std::cout.flush();
        std::cerr << "sim-call: " << one_line(e.what())
                  << "\nRun with --help for more information.\n";
        return exit_usage;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "sim-call: " << one_line(e.what()) << '\n';
        return exit_failure;
    }
}
