#include <sim/mosaik/simulator.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>
#include <boost/fiber/operations.hpp>

#include <sim/channel/channel.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/mosaik/protocol.hpp>
#include <sim/rpc/request.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/stream.hpp>

#include "dispatcher.hpp"

namespace sim::mosaik {

namespace {

array strings(const std::vector<std::string>& v) {
    array a;
    for (const auto& s : v)
        a.push_back(value(s));
    return a;
}

const char* type_name(sim_type t) {
    switch (t) {
        case sim_type::time_based:
            return "time-based";
        case sim_type::event_based:
            return "event-based";
        case sim_type::hybrid:
            return "hybrid";
    }
    return "time-based";
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

value meta::to_value() const {
    map models_value;
    for (const auto& [name, m] : models) {
        map mv;
        mv.insert_or_assign(value("public"), value(m.is_public));
        mv.insert_or_assign(value("params"), value(strings(m.params)));
        mv.insert_or_assign(value("attrs"), value(strings(m.attrs)));
        if (m.any_inputs) mv.insert_or_assign(value("any_inputs"), value(true));
        if (!m.trigger.empty()) mv.insert_or_assign(value("trigger"), value(strings(m.trigger)));
        if (!m.non_persistent.empty()) {
            mv.insert_or_assign(value("non-persistent"), value(strings(m.non_persistent)));
        }
        models_value.insert_or_assign(value(name), value(std::move(mv)));
    }
    map out;
    out.insert_or_assign(value("api_version"), value(api_version));
    // API 2 masters know no type: every simulator is time-based for them.
    if (!api_version.starts_with("2.")) out.insert_or_assign(value("type"), value(type_name(type)));
    out.insert_or_assign(value("models"), value(std::move(models_value)));
    if (!extra_methods.empty()) {
        out.insert_or_assign(value("extra_methods"), value(strings(extra_methods)));
    }
    return value(std::move(out));
}

value entity::to_value() const {
    map out;
    out.insert_or_assign(value("eid"), value(eid));
    out.insert_or_assign(value("type"), value(type));
    if (!rel.empty()) out.insert_or_assign(value("rel"), value(strings(rel)));
    if (!children.empty()) {
        array kids;
        for (const auto& c : children)
            kids.push_back(c.to_value());
        out.insert_or_assign(value("children"), value(std::move(kids)));
    }
    if (!extra_info.is_nil()) out.insert_or_assign(value("extra_info"), extra_info);
    return value(std::move(out));
}

void simulator::init(const std::string&, double, const map&) {}

void simulator::extra_method_raw(std::string name,
                                 std::function<value(const array&, const map&)> f) {
    extras_.expose_raw(
        name, [f = std::move(f)](rpc::call_arguments call) { return f(call.args, call.kwargs); });
    extra_names_.push_back(std::move(name));
}

// ---- mosaik's calls, checked
// ---------------------------------------------------------------------

dispatcher::dispatcher(simulator& sim, requester requests)
    : sim_(sim), requests_(std::move(requests)) {
    sim_.remote_.dispatcher_ = this;
}

dispatcher::~dispatcher() {
    sim_.remote_.dispatcher_ = nullptr;
}

value remote::call(std::string_view name, array args) {
    if (dispatcher_ == nullptr) throw std::logic_error("mosaik: no connection to mosaik");
    return dispatcher_->call(name, std::move(args));
}

double remote::get_progress() {
    return call("get_progress", {}).as<double>();
}
value remote::get_related_entities(const value& entities) {
    return call("get_related_entities", entities.is_nil() ? array{} : array{entities});
}
value remote::get_data(const value& wanted) {
    return call("get_data", array{wanted});
}
void remote::set_data(const value& data) {
    call("set_data", array{data});
}
void remote::set_event(std::int64_t time) {
    call("set_event", array{value(time)});
}

value dispatcher::call(std::string_view name, array args) {
    if (!in_step_) {
        throw std::logic_error("mosaik: " + std::string(name) +
                               " can be called only during step (mosaik answers only then)");
    }
    return requests_(name, std::move(args));
}

const model& dispatcher::model_of(const std::string& eid, const char* call) const {
    auto it = entities_.find(eid);
    if (it == entities_.end()) {
        throw failure("ValueError",
                      fmt::format("{}: no entity \"{}\" in {}", call, eid, sim_.sid_));
    }
    return meta_.models.at(it->second);
}

void dispatcher::remember(const entity& e) {
    if (!entities_.emplace(e.eid, e.type).second) {
        throw failure("ValueError", fmt::format("create: entity id \"{}\" made twice", e.eid));
    }
    if (meta_.models.find(e.type) == meta_.models.end()) {
        throw failure(
            "ValueError",
            fmt::format("create: entity \"{}\" has model \"{}\", which the meta does not have",
                        e.eid, e.type));
    }
    for (const auto& c : e.children)
        remember(c);
}

value dispatcher::init(const array& args, const map& kwargs) {
    if (args.empty() || !args[0].is_string()) {
        throw failure("TypeError", "init: expected the simulator id as the first argument");
    }
    sim_.sid_ = args[0].as_string();
    double resolution = 1.0;
    map params;
    for (const auto& [k, v] : kwargs) {
        if (k == value("time_resolution")) {
            resolution = v.as<double>();
        } else {
            params.insert_or_assign(k, v);
        }
    }
    sim_.init(sim_.sid_, resolution, params);
    meta_ = sim_.meta();
    meta_.extra_methods = sim_.extra_names_;
    initialized_ = true;
    return meta_.to_value();
}

value dispatcher::create(const array& args, const map& kwargs) {
    if (args.size() != 2 || !args[0].is_integer() || !args[1].is_string()) {
        throw failure("TypeError", "create: expected (num, model)");
    }
    const auto num = args[0].as<std::int64_t>();
    const std::string& model_name = args[1].as_string();
    auto it = meta_.models.find(model_name);
    if (it == meta_.models.end() || !it->second.is_public) {
        std::vector<std::string> names;
        for (const auto& [n, m] : meta_.models)
            if (m.is_public) names.push_back(n);
        throw failure("ValueError", fmt::format("create: no public model \"{}\" (models: {})",
                                                model_name, fmt::join(names, ", ")));
    }
    for (const auto& [k, v] : kwargs) {
        if (!k.is_string() || !contains(it->second.params, k.as_string())) {
            throw failure(
                "TypeError",
                fmt::format("create: model {} has no parameter \"{}\" (params: {})", model_name,
                            k.is_string() ? k.as_string() : to_display_string(k),
                            fmt::join(it->second.params, ", ")));
        }
    }
    auto made = sim_.create(static_cast<int>(num), model_name, kwargs);
    if (static_cast<std::int64_t>(made.size()) != num) {
        throw failure("ValueError", fmt::format("create: asked for {} {} entities, made {}", num,
                                                model_name, made.size()));
    }
    array out;
    for (const auto& e : made) {
        if (e.type != model_name) {
            throw failure("ValueError", fmt::format("create: asked for {}, made \"{}\" of model {}",
                                                    model_name, e.eid, e.type));
        }
        remember(e);
        out.push_back(e.to_value());
    }
    return value(std::move(out));
}

value dispatcher::step(const array& args) {
    if (args.size() < 2 || !args[0].is_integer() || !args[1].is_map()) {
        throw failure("TypeError", "step: expected (time, inputs, max_advance)");
    }
    return step(args[0].as<std::int64_t>(), args[1],
                args.size() >= 3 && args[2].is_integer() ? args[2].as<std::int64_t>() : -1);
}

value dispatcher::step(std::int64_t time, const value& inputs, std::int64_t max_advance) {
    if (!inputs.is_map()) throw failure("TypeError", "step: the inputs are not a mapping");
    mosaik::inputs in;
    for (const auto& [eid_v, attrs] : inputs.as_map()) {
        const std::string eid = eid_v.is_string() ? eid_v.as_string() : to_display_string(eid_v);
        const model& m = model_of(eid, "step");
        if (!attrs.is_map())
            throw failure("TypeError",
                          fmt::format("step: inputs of \"{}\" are not a mapping", eid));
        auto& dest = in[eid];
        for (const auto& [attr_v, sources] : attrs.as_map()) {
            const std::string attr =
                attr_v.is_string() ? attr_v.as_string() : to_display_string(attr_v);
            if (!m.any_inputs && !contains(m.attrs, attr)) {
                throw failure(
                    "ValueError",
                    fmt::format("step: entity \"{}\" ({}) has no input \"{}\" (attrs: {})", eid,
                                entities_.at(eid), attr, fmt::join(m.attrs, ", ")));
            }
            if (!sources.is_map()) {
                throw failure(
                    "TypeError",
                    fmt::format("step: input \"{}\" of \"{}\" is not a mapping", attr, eid));
            }
            auto& by_source = dest[attr];
            for (const auto& [src, v] : sources.as_map())
                by_source.insert_or_assign(
                    src.is_string() ? src.as_string() : to_display_string(src), v);
        }
    }
    in_step_ = true;
    std::optional<std::int64_t> next;
    try {
        next = sim_.step(time, in, max_advance);
    } catch (...) {
        in_step_ = false;
        throw;
    }
    in_step_ = false;
    if (next && *next <= time) {
        throw failure(
            "ValueError",
            fmt::format("step: the next step ({}) must come after this one ({})", *next, time));
    }
    if (!next && meta_.type == sim_type::time_based) {
        throw failure(
            "ValueError",
            fmt::format("step: a time-based simulator must return its next step (at {})", time));
    }
    return next ? value(*next) : value();
}

value dispatcher::get_data(const array& args) {
    if (args.size() != 1 || !args[0].is_map())
        throw failure("TypeError", "get_data: expected (outputs)");
    mosaik::outputs wanted;
    for (const auto& [eid_v, attrs] : args[0].as_map()) {
        const std::string eid = eid_v.is_string() ? eid_v.as_string() : to_display_string(eid_v);
        const model& m = model_of(eid, "get_data");
        if (!attrs.is_array())
            throw failure("TypeError",
                          fmt::format("get_data: attributes of \"{}\" are not a list", eid));
        auto& list = wanted[eid];
        for (const auto& a : attrs.as_array()) {
            const std::string attr = a.is_string() ? a.as_string() : to_display_string(a);
            if (!contains(m.attrs, attr)) {
                throw failure(
                    "ValueError",
                    fmt::format("get_data: entity \"{}\" ({}) has no output \"{}\" (attrs: {})",
                                eid, entities_.at(eid), attr, fmt::join(m.attrs, ", ")));
            }
            list.push_back(attr);
        }
    }
    return sim_.get_data(wanted);
}

// Not an rpc::router: mosaik's calls are not aiomas calls. `stop` gets no answer, a failed `init`
// closes the connection instead of answering, a failure is `[type, message, traceback]` rather
// than a traceback's text, and which calls are allowed depends on the simulator's state (init
// first; step only between setup_done and stop). A router answers every call it resolves.
value dispatcher::dispatch(const std::string& name, array& args, map& kwargs) {
    if (name == "init") return init(args, kwargs);
    if (!initialized_) throw failure("RuntimeError", name + ": init has not been called");
    if (name == "create") return create(args, kwargs);
    if (name == "setup_done") {
        sim_.setup_done();
        return {};
    }
    if (name == "step") return step(args);
    if (name == "get_data") return get_data(args);
    if (sim_.extras_.contains(name)) {
        // The router binds the arguments to the declared parameters (a TypeError otherwise).
        return (*sim_.extras_.resolve(name).function)({args, kwargs});
    }
    throw failure("AttributeError", fmt::format("{} has no method \"{}\"",
                                                sim_.sid_.empty() ? "simulator" : sim_.sid_, name));
}

namespace {

// Serves mosaik over one connection until `stop` or the connection ends.
int serve_connection(simulator& sim, channel& ch) {
    dispatcher calls(sim, [&ch](std::string_view name, array args) {
        return mosaik::send(ch, rpc::make_request(std::string(name), std::move(args)));
    });
    auto log = log::get("mosaik");
    for (;;) {
        std::optional<request> got;
        try {
            got.emplace(ch.recv());
        } catch (const connection_closed& e) {
            log->error("mosaik closed the connection without stop: {}", e.what());
            return 1;
        }
        request& req = *got;
        if (!rpc::as_request(req.content())) {
            req.fail_with(value(
                array{value("TypeError"), value("expected [name, [args], {kwargs}]"), value("")}));
            continue;
        }
        // Mutable: extra methods take their arguments from the request.
        const rpc::request_ref c = rpc::parse_request(req.content());
        const std::string name = c.path;
        if (name == "stop") {
            // mosaik waits for no answer: finish, close, exit.
            req.no_reply();
            try {
                calls.finalize();
            } catch (const std::exception& e) {
                log->error("finalize: {}", e.what());
            }
            ch.close();
            return 0;
        }
        try {
            value answer = calls.dispatch(name, c.args, c.kwargs);
            if (name == "init" && answer.is_map()) {
                // This loop answers requests one at a time, in order: a libsim master may send
                // get_data right behind step (mosaik ignores keys it does not know).
                answer.as_map().insert_or_assign(value("libsim"),
                                                 value(map{{value("in_order"), value(true)}}));
            }
            req.reply(answer);
        } catch (const std::exception& e) {
            if (name == "init") {
                // mosaik expects a failed init to close the connection, not to answer.
                log->error("init failed: {}", e.what());
                req.no_reply();
                ch.abort();
                return 1;
            }
            log->warn("{} failed: {}: {}", name, exception_type_name(e), e.what());
            req.fail_with(failure_reply(e));
        }
    }
}

}  // namespace

// ---- the command line and the connection
// ------------------------------------------------------------

std::optional<options> parse_command_line(int argc, char** argv, const std::string& description) {
    options o;
    CLI::App app{description, argc > 0 ? argv[0] : "simulator"};
    app.add_option("address", o.address,
                   "HOST:PORT: where mosaik listens (or, with --remote, where to listen)")
        ->required();
    app.add_flag("-r,--remote", o.remote,
                 "listen on HOST:PORT and wait for mosaik to connect (mosaik's connect: starter)");
    app.add_option("-t,--timeout", o.timeout,
                   "seconds to connect, or to wait for mosaik to connect")
        ->capture_default_str();
    app.add_option("-l,--log-level", o.log_level, "debug, info, warning, error")
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        app.exit(e);
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        throw std::invalid_argument(e.what());
    }
    if (o.address.find(':') == std::string::npos) {
        throw std::invalid_argument("expected HOST:PORT, got \"" + o.address + "\"");
    }
    return o;
}

int serve(simulator& sim, const options& opts) {
    const std::string level = opts.log_level == "warning" ? "warn" : opts.log_level;
    log::configure(level);
    auto log = log::get("mosaik");
    channel_options co;
    co.codec = "json";
    // mosaik may take long between two calls; our own calls (during step) wait for its answer.
    co.default_timeout = std::chrono::hours(24);
    // SIM_BUSY_POLL_US: poll for mosaik's next message this long before blocking (a core burns
    // while idle; pays off when mosaik runs on another core: waking one costs 60-100 us here).
    runtime_options ro;
    if (const char* busy = std::getenv("SIM_BUSY_POLL_US")) {
        ro.busy_poll = std::chrono::microseconds(std::atoi(busy));
    }
    runtime rt(ro);
    return rt.run([&]() -> int {
        const auto timeout =
            std::chrono::milliseconds(static_cast<std::int64_t>(opts.timeout * 1000));
        const std::string url = "tcp://" + opts.address;
        std::optional<channel> ch;
        try {
            if (opts.remote) {
                // Shared with the watchdog, which may wake after this block has ended.
                std::shared_ptr<listener> l = listen_on(address::parse(url), {});
                auto connected = std::make_shared<bool>(false);
                spawn([l, connected, timeout] {
                    // Gives up waiting for mosaik after the timeout.
                    const auto until = std::chrono::steady_clock::now() + timeout;
                    while (!*connected && std::chrono::steady_clock::now() < until)
                        boost::this_fiber::sleep_for(std::chrono::milliseconds(20));
                    l->close();
                });
                boost::system::error_code ec;
                auto s = l->accept(ec);
                *connected = true;
                l->close();  // only the first connection: mosaik's
                if (!s) {
                    log->error("no connection from mosaik on {} within {} s", opts.address,
                               opts.timeout);
                    return 1;
                }
                ch.emplace(std::move(s), co);
            } else {
                ch.emplace(open_connection(url, co, connect_options{.timeout = timeout}));
            }
        } catch (const std::exception& e) {
            log->error("cannot reach mosaik at {}: {}", opts.address, e.what());
            return 1;
        }
        return serve_connection(sim, *ch);
    });
}

}  // namespace sim::mosaik
