#include <sim/agent/container.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

#include <sim/clock/real_clock.hpp>
#include <sim/codec/convert.hpp>
#include <sim/codec/number.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/runtime/use_fiber.hpp>

#include "agent/link_kind.hpp"

namespace sim {

namespace {

value optional_time(const std::optional<double>& t) {
    return t ? number_value(*t) : value();
}

std::optional<std::size_t> parse_id(std::string_view id) {
    std::size_t n = 0;
    if (id.empty() || (id.size() > 1 && id[0] == '0')) return std::nullopt;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc() || end != id.data() + id.size()) return std::nullopt;
    return n;
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

value counts_value(const container_counts& c, const std::optional<double>& next, double now) {
    map m;
    m.insert_or_assign(value("sent"), value(c.sent));
    m.insert_or_assign(value("received"), value(c.received));
    m.insert_or_assign(value("held"), value(c.held));
    m.insert_or_assign(value("next"), optional_time(next));
    m.insert_or_assign(value("time"), number_value(now));
    return value(std::move(m));
}

}  // namespace

// One connection of the container. In a coordinated container a link is classified by its first
// message: a coordinated peer (it says hello; its messages are held and delivered in canonical
// order, and counted), a coordinator's control link (clock/...), or a foreign peer (anything
// else: a Python aiomas container, a tool; delivered at once, not counted).
struct container::link {
    enum class kind { unknown, peer, control, foreign };
    rpc::connection conn;
    kind k = kind::unknown;
    bool outgoing = false;
    std::string peer_name;  // a peer's container name: the canonical order's first key
    std::string url;        // the base URL the opening side dialed: the last key
    // Held messages that arrived before the last `settle`: the ones a coordinator's round
    // delivers. Later arrivals (sent by peers already delivering) wait for the next round.
    std::size_t deliverable = 0;
};

// A connection being opened or open to one peer container, shared by concurrent connects.
struct container::peer_entry {
    rpc::connection conn;
    bool connecting = true;
    std::exception_ptr error;
    wait_queue connected;  // fibers that wait for the attempt of another
};

container::container(std::string_view address_text, container_options options)
    : options_(std::move(options)) {
    rt_ = sim::runtime::current();
    if (rt_ == nullptr) {
        own_rt_ = std::make_unique<sim::runtime>(options_.runtime);
        own_rt_->attach();
        rt_ = own_rt_.get();
    }
    if (const auto* v = std::get_if<virtual_time>(&options_.clock)) {
        auto vc = std::make_unique<sim::virtual_clock>(v->start, v->init_time);
        vclock_ = vc.get();
        clock_ = std::move(vc);
    } else {
        clock_ = std::make_unique<real_clock>();
    }
    // Containers register the date serializer first (aiomas-protocol.md §3.1), then the user's.
    serializer_table table;
    table.add(utc_time::date_serializer());
    const serializer_table& user = options_.channel.codec_settings.serializers;
    for (std::size_t i = 0; i < user.size(); ++i)
        table.add(*user.at(i));
    options_.channel.codec_settings.serializers = std::move(table);

    setup_router();

    sim::address at = sim::address::parse(address_text);
    if (!at.agent.empty()) {
        throw std::invalid_argument("a container binds an address without an agent id, not " +
                                    std::string(address_text));
    }
    channel_options server_options = options_.channel;
    server_options.hold_incoming = options_.coordinated;
    alive_ = std::make_shared<char>(0);
    std::weak_ptr<void> alive = alive_;
    server_.emplace(rpc::start_server(
        at, root_,
        [this, alive](rpc::connection c) {
            if (alive.expired()) return;
            add_link(std::move(c), false, {});
        },
        server_options));
    address_ = server_->local_address();
    if (address_.kind == sim::address::scheme::tcp &&
        (address_.host.empty() || address_.host == "0.0.0.0" || address_.host == "::")) {
        address_.host = host_name();  // as aiomas: peers cannot dial a wildcard
    }
    base_url_ = address_.url("");
    name_ = options_.name.empty() ? base_url_ : options_.name;
    local_ = rpc::connect_local(root_, name_);
    stop_hook_ = rt_->add_stop_hook([this, alive] {
        if (!alive.expired()) stop();
    });
}

container::~container() {
    if (rt_->on_this_thread()) rt_->remove_stop_hook(stop_hook_);
    shutdown();
    server_.reset();
    if (own_rt_) own_rt_->detach();
}

void container::setup_router() {
    root_.add("agents", agents_);
    root_.expose(
        "validate_aid",
        [this](value aid) -> value {
            std::string id = aid.is_string() ? aid.as_string() : to_display_string(aid);
            const agent* a = find(id);
            return a != nullptr ? value(a->type_name()) : value();
        },
        arg("aid"));

    root_.add("clock", clock_router_);
    clock_router_.expose("time", [this] { return number_value(clock_->now()); });
    clock_router_.expose("utcnow", [this] { return clock_->utcnow(); });
    clock_router_.expose("next_event",
                         [this] { return optional_time(virtual_clock().next_event()); });
    clock_router_.expose(
        "set_time", [this](double t) { virtual_clock().set_time(t); }, arg("time"));
    clock_router_.expose(
        "step", [this](double t) { return optional_time(step(t)); }, arg("time"));
    clock_router_.expose(
        "begin",
        [this](double t) {
            begin(t);
            container_counts c = settle();
            return counts_value(c, vclock_->next_event(), vclock_->now());
        },
        arg("time"));
    clock_router_.expose("settle", [this] {
        container_counts c = settle();
        return counts_value(c, virtual_clock().next_event(), vclock_->now());
    });
    clock_router_.expose("deliver", [this] {
        deliver();
        container_counts c = settle();
        return counts_value(c, virtual_clock().next_event(), vclock_->now());
    });

    root_.add("container", container_router_);
    container_router_.expose(
        "hello",
        [this](std::string peer_name, std::string url) {
            (void)peer_name;
            (void)url;  // taken from the held message before it got here (classify)
            return std::make_tuple(name_, options_.coordinated);
        },
        arg("name"), arg("url"));
    container_router_.expose("name", [this] { return name_; });
    container_router_.expose("size", [this] { return live_agents_; });
}

sim::virtual_clock& container::virtual_clock() {
    if (vclock_ == nullptr) {
        throw std::logic_error("container " + name_ +
                               " runs in real time; this needs virtual time");
    }
    return *vclock_;
}

// ---- agents -----------------------------------------------------------------------------------

std::string container::register_agent(agent& a) {
    if (shutting_down_) throw std::logic_error("container " + name_ + " is shutting down");
    std::string id = std::to_string(slots_.size());
    agents_.add(id, a.router_);
    slots_.push_back({&a, nullptr});
    ++live_agents_;
    return id;
}

void container::adopt(const std::string& id, std::unique_ptr<agent> owned) {
    slots_[*parse_id(id)].owned = std::move(owned);
}

void container::unregister_agent(agent& a) noexcept {
    auto index = parse_id(a.id_);
    if (!index || *index >= slots_.size()) return;  // registration itself failed
    if (!a.removed_) {
        a.removed_ = true;
        agents_.remove(a.id_);
        a.scope_.cancel();
        --live_agents_;
    }
    slots_[*index].a = nullptr;
}

agent* container::find(std::string_view id) const noexcept {
    auto index = parse_id(id);
    if (!index || *index >= slots_.size()) return nullptr;
    agent* a = slots_[*index].a;
    return a != nullptr && !a->removed_ ? a : nullptr;
}

bool container::remove(std::string_view id) {
    agent* a = find(id);
    if (a == nullptr) return false;
    remove(*a);
    return true;
}

void container::remove(agent& a) {
    if (a.removed_) return;
    a.removed_ = true;
    agents_.remove(a.id_);
    a.scope_.cancel();
    --live_agents_;
    if (a.busy_ > 0) {
        ++removed_pending_;  // destroyed when its last fiber or call ends (reap)
        return;
    }
    slots_[*parse_id(a.id_)].owned.reset();
}

void container::reap(agent& a) noexcept {
    // Called from inside the agent's last fiber or call: destroy it from a fiber of our own.
    if (a.reaping_) return;
    a.reaping_ = true;
    std::size_t index = *parse_id(a.id_);
    try {
        rt_->spawn([this, index] {
            slot& s = slots_[index];
            if (s.a != nullptr && s.a->busy_ > 0) {
                s.a->reaping_ = false;  // busy again: its next release reaps it
                return;
            }
            s.owned.reset();
            --removed_pending_;
            notify();
        });
    } catch (const std::exception&) {
        // The runtime is gone: the container's destructor frees the agent.
    }
}

// ---- connections ------------------------------------------------------------------------------

container::link& container::add_link(rpc::connection conn, bool outgoing, std::string url) {
    auto owned = std::make_unique<link>();
    link& l = *owned;
    l.conn = conn;
    l.outgoing = outgoing;
    l.url = std::move(url);
    if (!options_.coordinated) l.k = link::kind::foreign;
    links_.push_back(std::move(owned));
    std::weak_ptr<void> alive = alive_;
    link* lp = &l;
    conn.channel().on_activity([this, alive, lp] {
        if (alive.expired()) return;
        if (lp->k == link::kind::unknown) classify(*lp);
        notify();
    });
    conn.on_close([this, alive, lp](const std::string&) {
        if (!alive.expired()) drop_link(lp);
    });
    if (l.k == link::kind::unknown && conn.channel().held() > 0) classify(l);
    return l;
}

void container::drop_link(link* l) noexcept {
    auto it =
        std::find_if(links_.begin(), links_.end(), [l](const auto& p) { return p.get() == l; });
    if (it == links_.end()) return;
    if (l->k == link::kind::peer) {
        const channel_stats& s = l->conn.channel().stats();
        retired_.sent += s.messages_sent;
        retired_.received += s.messages_received;
    }
    l->conn.channel().on_activity(nullptr);
    links_.erase(it);
    notify();
}

void container::classify(link& l) {
    sim::channel& ch = l.conn.channel();
    if (ch.held() == 0) return;
    const detail::link_verdict v = detail::classify_link(ch.held_message(0), l.outgoing);
    switch (v.k) {
        case detail::link_verdict::kind::peer:
            // The answer to our hello stays held like any message from a peer: the connecting
            // fiber resumes when the coordinator delivers it, in canonical order.
            l.k = link::kind::peer;
            l.peer_name = v.peer_name;
            if (v.hello) {
                l.url = v.url;
                ch.release_held(1);
            }
            return;
        case detail::link_verdict::kind::control:
            l.k = link::kind::control;
            ch.hold_incoming(false);
            ch.release_held();
            return;
        case detail::link_verdict::kind::foreign:
            break;
    }
    l.k = link::kind::foreign;
    // Our agents talking to an uncoordinated peer is worth a warning: their results may then
    // depend on timing. A client calling in (a manager's user, a Python peer) is ordinary.
    log::get("agent")->log(
        l.outgoing ? spdlog::level::warn : spdlog::level::debug,
        "{}: {} is not a coordinated libsim container: its messages are delivered as they come, "
        "outside the coordinator's canonical order",
        name_, ch.peer());
    ch.hold_incoming(false);
    ch.release_held();
}

void container::start_fiber(std::function<void()> body) {
    if (holding_starts_) {
        held_starts_.push_back(std::move(body));
        return;
    }
    rt_->spawn(std::move(body));
}

void container::release_starts() {
    holding_starts_ = false;
    for (auto& body : std::exchange(held_starts_, {}))
        rt_->spawn(std::move(body));
}

void container::notify() noexcept {
    events_.notify_all();
}

bool container::wait_event(std::chrono::steady_clock::time_point until) {
    return events_.wait_until(until);
}

rpc::proxy container::connect(std::string_view url, std::optional<deadline> until) {
    sim::address to = sim::address::parse(url);
    if (to.agent.empty()) {
        throw std::invalid_argument("connect needs an agent's address (" + std::string(url) +
                                    " names no agent: add /<id>)");
    }
    std::string aid = to.agent;
    to.agent.clear();
    const std::string base = to.url("");
    if (base == base_url_ || to == address_) {
        if (find(aid) == nullptr) {
            throw lookup_error("Agent \"" + aid + "\" does not exist in Container('" + base_url_ +
                               "')");
        }
        return local_.remote()["agents"][aid];
    }
    return connect_remote(to, base, aid, until);
}

rpc::proxy container::connect_remote(const sim::address& to, const std::string& base,
                                     const std::string& aid, std::optional<deadline> until) {
    if (shutting_down_) throw connection_closed("container " + name_ + " is shutting down");
    std::shared_ptr<peer_entry> entry;
    if (auto it = peers_.find(base); it != peers_.end()) {
        entry = it->second;
        entry->connected.wait([&] { return !entry->connecting; });
        if (entry->error) std::rethrow_exception(entry->error);
    } else {
        entry = std::make_shared<peer_entry>();
        peers_.emplace(base, entry);
        try {
            channel_options o = options_.channel;
            o.hold_incoming = options_.coordinated;
            rpc::connection conn;
            {
                // Until the socket is up the container is not quiet: nothing counts it yet.
                ++connecting_;
                struct done_guard {
                    container* c;
                    ~done_guard() {
                        --c->connecting_;
                        c->notify();
                    }
                } done{this};
                conn = rpc::open_connection(to, &root_, o);
                add_link(conn, true, base);
            }
            if (options_.coordinated) {
                // Tells the peer who we are, so that it can order our messages canonically; its
                // answer, held and delivered like any other, tells us who it is.
                try {
                    conn.remote().call("container/hello", name_, base);
                } catch (const remote_error&) {
                    // A foreign peer (aiomas has no such function): classified foreign.
                }
            }
            entry->conn = conn;
            std::weak_ptr<void> alive = alive_;
            conn.on_close(
                [this, alive, base, weak = std::weak_ptr<peer_entry>(entry)](const std::string&) {
                    if (alive.expired()) return;
                    auto found = peers_.find(base);
                    if (found != peers_.end() && found->second == weak.lock()) peers_.erase(found);
                });
        } catch (...) {
            entry->error = std::current_exception();
            auto found = peers_.find(base);
            if (found != peers_.end() && found->second == entry) peers_.erase(found);
        }
        entry->connecting = false;
        entry->connected.notify_all();
        if (entry->error) std::rethrow_exception(entry->error);
    }
    rpc::proxy root = entry->conn.remote();
    value found = until ? root.call("validate_aid", aid, *until) : root.call("validate_aid", aid);
    if (found.is_nil()) {
        throw lookup_error("Agent \"" + aid + "\" does not exist in Container('" + base + "')");
    }
    return root["agents"][aid];
}

std::size_t container::pending_calls() const {
    std::size_t n = 0;
    for (const auto& l : links_) {
        if (l->k == link::kind::foreign && !l->conn.closed())
            n += l->conn.channel().pending_calls();
    }
    return n;
}

container_counts container::counts() const {
    container_counts c = retired_;
    for (const auto& l : links_) {
        // An outgoing link whose hello is unanswered counts as a peer's: if the answer shows a
        // foreign peer, the hello leaves the counts again, and the totals balance.
        if (l->k != link::kind::peer && !(l->k == link::kind::unknown && l->outgoing)) continue;
        const sim::channel& ch = l->conn.channel();
        c.sent += ch.stats().messages_sent;
        c.received += ch.stats().messages_received;
        c.held += ch.held();
    }
    return c;
}

// ---- time -------------------------------------------------------------------------------------

void container::settle_locally() {
    // Counted, so that shutdown waits for a fiber in here (a clock/ handler) to leave before the
    // container goes; the fiber leaves with `connection_closed` when woken by the shutdown.
    struct settling_guard {
        container* c;
        explicit settling_guard(container* k) : c(k) { ++c->settling_; }
        ~settling_guard() {
            --c->settling_;
            if (c->shutting_down_) c->notify();
        }
    } counted{this};
    auto check = [this] {
        if (shutting_down_) throw connection_closed("container " + name_ + " is shutting down");
    };
    for (;;) {
        check();
        rt_->wait_idle();
        check();
        if (connecting_ == 0 && pending_calls() == 0) return;
        // Something is on its way: a reply, a connection. Channels and connects notify us.
        wait_event(std::chrono::steady_clock::time_point::max());
    }
}

void container::wait_quiet() {
    settle_locally();
}

std::optional<double> container::step(double t) {
    sim::virtual_clock& vc = virtual_clock();
    if (options_.coordinated) {
        throw std::logic_error("container " + name_ + " is coordinated: its coordinator steps it");
    }
    if (t < vc.now() || std::isnan(t)) {
        throw std::invalid_argument(
            "step: the time must be >= " + to_display_string(number_value(vc.now())) + " but is " +
            to_display_string(number_value(t)));
    }
    if (t > vc.now()) vc.set_time(t);
    settle_locally();
    return vc.next_event();
}

void container::begin(double t) {
    sim::virtual_clock& vc = virtual_clock();
    if (t < vc.now() || std::isnan(t)) {
        throw std::invalid_argument(
            "begin: the time must be >= " + to_display_string(number_value(vc.now())) + " but is " +
            to_display_string(number_value(t)));
    }
    if (t > vc.now()) vc.set_time(t);
}

container_counts container::settle() {
    settle_locally();
    for (const auto& l : links_)
        l->deliverable =
            l->k == link::kind::peer && !l->conn.closed() ? l->conn.channel().held() : 0;
    return counts();
}

std::size_t container::deliver() {
    std::vector<link*> order;
    for (const auto& l : links_) {
        if (l->k == link::kind::peer && !l->conn.closed() && l->deliverable > 0)
            order.push_back(l.get());
    }
    // The canonical order: by the sending container's name, then the links it opened before
    // those we opened, then the address dialed. Within a link, in the order sent.
    std::sort(order.begin(), order.end(), [](const link* a, const link* b) {
        return std::tie(a->peer_name, b->outgoing, a->url) <
               std::tie(b->peer_name, a->outgoing, b->url);
    });
    std::size_t n = 0;
    for (link* l : order)
        n += l->conn.channel().release_held(std::exchange(l->deliverable, 0));
    return n;
}

// ---- running ----------------------------------------------------------------------------------

void container::run() {
    stopped_.wait([this] { return stop_requested_; });
}

void container::stop() {
    if (!rt_->on_this_thread()) {
        rt_->spawn([this] { stop(); });
        return;
    }
    stop_requested_ = true;
    stopped_.notify_all();
}

void container::shutdown() noexcept {
    if (shutting_down_) return;
    shutting_down_ = true;
    stop_requested_ = true;
    stopped_.notify_all();
    auto log = log::get("agent");
    try {
        // Every sleep ends with `cancelled`, every timer is off; then the agents go.
        clock_->cancel_all();
        for (slot& s : slots_) {
            if (s.a != nullptr && !s.a->removed_) remove(*s.a);
        }
        release_starts();  // they end at once: their agents are removed
        if (server_) server_->close();
        std::vector<rpc::connection> open;
        for (const auto& l : links_)
            open.push_back(l->conn);
        for (auto& [base, entry] : peers_) {
            if (entry->conn) open.push_back(entry->conn);
        }
        for (auto& c : open)
            c.close();
        local_.close();
        // Agents still busy end as their calls fail and their sleeps are cancelled; fibers
        // waiting for quiet (handlers of clock/ functions) end when woken.
        notify();
        auto warn_at = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (removed_pending_ > 0 || settling_ > 0) {
            if (!wait_event(warn_at)) {
                std::string busy;
                int listed = 0;
                for (const slot& s : slots_) {
                    if (s.a == nullptr || s.a->busy_ == 0 || listed == 5) continue;
                    busy += fmt::format("{}{} ({}, {} fibers or calls)", listed++ > 0 ? ", " : "",
                                        s.a->id_, s.a->type_name(), s.a->busy_);
                }
                log->warn("{}: shutting down, still waiting for {} agents to finish: {}{}", name_,
                          removed_pending_, busy,
                          settling_ > 0 ? fmt::format(" ({} waits for quiet)", settling_) : "");
                warn_at += std::chrono::seconds(5);
            }
        }
        // Let fibers woken by the cancellation (timer fibers of a real clock) see their clock
        // before it goes.
        rt_->wait_idle();
    } catch (const std::exception& e) {
        log->error("{}: while shutting down: {}", name_, e.what());
    }
    alive_.reset();
    for (const auto& l : links_)
        l->conn.channel().on_activity(nullptr);
    links_.clear();
    peers_.clear();
    // Agents made by the user and not destroyed yet find no slot when they go.
    auto slots = std::move(slots_);
    slots_.clear();
    slots.clear();
}

// ---- container_thread -------------------------------------------------------------------------

namespace {
// Runtimes of container threads that did not answer their shutdown stay until the process ends:
// held here, reachable, so that leak checkers do not take them for leaks and nothing destroys
// them under their running thread.
void keep_abandoned(std::unique_ptr<sim::runtime> rt) {
    static std::mutex mutex;
    static auto* kept = new std::vector<std::unique_ptr<sim::runtime>>();  // never destroyed
    std::lock_guard lock(mutex);
    kept->push_back(std::move(rt));
}
}  // namespace

container_thread::container_thread(std::string address, container_options options)
    : rt_(std::make_unique<sim::runtime>([&] {
          runtime_options o = options.runtime;
          if (!options.name.empty()) o.name = options.name.substr(0, 15);
          return o;
      }())),
      name_(options.name.empty() ? address : options.name) {
    rt_->start();
    try {
        rt_->invoke([&] { container_ = std::make_shared<container>(address, std::move(options)); });
    } catch (...) {
        rt_->stop();
        rt_->join();
        throw;
    }
    base_url_ = container_->base_url();
}

container_thread::~container_thread() {
    try {
        // Shut down now, on its thread; the object itself goes with the last reference, which a
        // fiber of `async` whose caller gave up may still hold.
        auto done = rt_->async([c = std::move(container_)]() mutable {
            c->shutdown();
            c.reset();
        });
        if (done.wait_for(shutdown_timeout) != boost::fibers::future_status::ready) {
            // Its thread is busy for good (or waits on something that never comes): joining it
            // would hang the owner. The thread and its runtime stay as they are.
            log::get("agent")->error(
                "container thread {}: no answer to the shutdown within {} ms; leaving it running",
                name_, shutdown_timeout.count());
            keep_abandoned(std::move(rt_));
            return;
        }
        done.get();
    } catch (const std::exception& e) {
        log::get("agent")->error("container thread {}: {}", name_, e.what());
    }
    rt_->stop();
    rt_->join();
}

}  // namespace sim
