#include <sim/rpc/connection.hpp>

#include <deque>
#include <vector>

#include <sim/core/log.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>

namespace sim::rpc {

namespace detail {

class connection_state;

// What connection handles and proxies hold. The state itself lives on while its serving fiber
// runs; a handle decides when a connection we opened closes: when the last handle goes.
class connection_handle {
public:
    connection_handle(std::shared_ptr<connection_state> state, bool close_when_unused) noexcept
        : state_(std::move(state)), close_when_unused_(close_when_unused) {}
    ~connection_handle();
    connection_state& state() const noexcept { return *state_; }

private:
    std::shared_ptr<connection_state> state_;
    bool close_when_unused_;
};

class connection_state : public std::enable_shared_from_this<connection_state> {
public:
    connection_state(sim::channel ch, router* service, bool close_when_unused)
        : channel_(std::move(ch)), service_(service), close_when_unused_(close_when_unused) {}

    // A handle for a new proxy or connection object: the live one if any.
    std::shared_ptr<connection_handle> handle() {
        auto h = handle_.lock();
        if (!h) {
            h = std::make_shared<connection_handle>(shared_from_this(), close_when_unused_);
            handle_ = h;
        }
        return h;
    }

    // Called once the state is owned by a shared_ptr.
    void start() {
        register_references();
        auto self = shared_from_this();
        runtime::current()->spawn([self] { self->serve(); });
    }

    sim::channel& channel() noexcept { return channel_; }
    router* service() const noexcept { return service_; }

    void on_close(std::function<void(const std::string&)> callback) {
        if (ended_) {
            callback(channel_.close_reason());
            return;
        }
        on_close_.push_back(std::move(callback));
    }

    value call(const std::string& path, array args, map kwargs, std::optional<deadline> until) {
        array content;
        content.reserve(3);
        content.emplace_back(path);
        content.emplace_back(std::move(args));
        content.emplace_back(std::move(kwargs));
        value request(std::move(content));
        return until ? channel_.send(request, *until) : channel_.send(request);
    }

private:
    // Services of ours travel as their path and arrive as proxies on this same connection: the
    // codec's fallback serializer, registered after the user's, as aiomas' RpcClient does.
    void register_references() {
        std::weak_ptr<connection_state> weak = shared_from_this();
        channel_.codec().serializers().add(serializer{
            std::nullopt, "service reference",
            [weak](const object& o) -> value {
                auto self = weak.lock();
                if (const auto* ref = o.get_if<service_ref>(); ref != nullptr && self) {
                    if (self->service_ != nullptr && &ref->target->root() == &self->service_->root() &&
                        ref->target != nullptr) {
                        return value(ref->target->path());
                    }
                    throw serialization_error("the service \"" + ref->target->path() +
                                              "\" is not served on this connection");
                }
                throw serialization_error("No serializer found for type \"" + o.type_name() + "\"");
            },
            [weak](const value& data) -> value {
                auto self = weak.lock();
                if (!self) throw serialization_error("the connection is gone");
                return value(object(proxy(self->handle(), data.as_string())));
            }});
    }

    // Reads requests and hands each to a worker fiber. Workers are pooled: waking an idle one
    // costs one fiber switch where starting a fiber costs several, and a request still gets a
    // fiber of its own, so a handler that blocks holds up no other request.
    void serve() {
        auto self = shared_from_this();
        auto log = log::get("rpc");
        try {
            for (;;) {
                queue_.push_back(channel_.recv());
                if (signalled_ == 0) signal_worker();
            }
        } catch (const connection_closed& e) {
            log->debug("{}", e.what());
        }
        ended_ = true;
        for (sim::detail::fiber_waiter* w : std::exchange(idle_, {})) w->wake();
        for (auto& callback : std::exchange(on_close_, {})) {
            try {
                callback(channel_.close_reason());
            } catch (const std::exception& e) {
                log->error("{}: an on_close callback failed: {}", channel_.peer(), e.what());
            }
        }
    }

    // Wakes an idle worker, or starts one.
    void signal_worker() {
        ++signalled_;
        if (!idle_.empty()) {
            sim::detail::fiber_waiter* w = idle_.back();
            idle_.pop_back();
            w->wake();
        } else {
            auto self = shared_from_this();
            runtime::current()->spawn([self] { self->work(); });
        }
    }

    // A worker: serves queued requests; idles until woken for more; ends when the connection
    // does, or when enough others idle already. Before it runs a handler (which may block) it
    // makes sure another worker is on its way for what is still queued; when handlers do not
    // block, one worker serves a whole batch and the others find nothing to do.
    void work() {
        auto self = shared_from_this();
        --signalled_;
        for (;;) {
            while (!queue_.empty()) {
                request req = std::move(queue_.front());
                queue_.pop_front();
                if (!queue_.empty() && signalled_ == 0) signal_worker();
                dispatch(req);
            }
            if (ended_ || idle_.size() >= max_idle_workers) return;
            sim::detail::fiber_waiter waiter;
            idle_.push_back(&waiter);
            waiter.wait();
            if (ended_) return;
            --signalled_;
        }
    }

    void dispatch(request& req) {
        try {
            array* content = req.content().get_if<array>();
            if (content == nullptr || content->size() != 3 || !(*content)[0].is_string() ||
                !(*content)[1].is_array() || !(*content)[2].is_map()) {
                throw type_error("a request is [path, args, kwargs] (a string, an array, a map), not " +
                                 to_display_string(req.content()));
            }
            if (service_ == nullptr) throw lookup_error("this side of the connection serves nothing");
            const std::string& path = *(*content)[0].get_if<std::string>();
            if (path.empty()) throw lookup_error("empty path");
            router::target t = service_->resolve(path);
            if (t.service != nullptr) {
                throw type_error("\"" + path + "\" is a service, not a function");
            }
            value result = (*t.function)({*(*content)[1].get_if<array>(), *(*content)[2].get_if<map>()});
            req.reply(result);
        } catch (const connection_closed&) {
            // The caller went away; nothing to answer (aiomas swallows this too).
        } catch (const fault& f) {
            try {
                if (!req.answered()) req.fail(f.type(), f.what());
            } catch (const connection_closed&) {
            }
        } catch (const std::exception& e) {
            try {
                if (!req.answered()) req.fail(e);
            } catch (const connection_closed&) {
            }
        }
    }

    static constexpr std::size_t max_idle_workers = 128;

    sim::channel channel_;
    router* service_;
    bool close_when_unused_;
    std::deque<request> queue_;        // received, not yet taken by a worker
    std::vector<sim::detail::fiber_waiter*> idle_;  // workers waiting for requests
    std::size_t signalled_ = 0;        // workers started or woken that have not looked yet
    std::weak_ptr<connection_handle> handle_;
    std::vector<std::function<void(const std::string&)>> on_close_;
    bool ended_ = false;
};

connection_handle::~connection_handle() {
    if (close_when_unused_) state_->channel().abort();
}

}  // namespace detail

// ---- references and proxies --------------------------------------------------------------------

value ref(router& service) {
    return value(object(service_ref{&service}));
}

proxy proxy::operator[](std::string_view name) const {
    return proxy(connection_, join(name));
}

std::string proxy::join(std::string_view name) const {
    if (path_.empty()) return std::string(name);
    std::string p = path_;
    p += '/';
    p += name;
    return p;
}

value proxy::send(const std::string& path, call_parts parts) const {
    if (!connection_) throw std::logic_error("calling an unbound proxy");
    if (path.empty()) throw std::invalid_argument("cannot call the root of a connection: name a function");
    return connection_->state().call(path, std::move(parts.args), std::move(parts.kwargs), parts.until);
}

std::string proxy::to_string() const {
    std::string peer = connection_ ? connection_->state().channel().peer() : "unbound";
    return "Proxy('" + peer + "', '" + path_ + "')";
}

// ---- connections --------------------------------------------------------------------------------

connection::connection(sim::channel ch, router* service) : connection(std::move(ch), service, false) {}

connection::connection(sim::channel ch, router* service, bool close_when_unused) {
    auto state = std::make_shared<detail::connection_state>(std::move(ch), service, close_when_unused);
    state->start();
    handle_ = state->handle();
}

proxy connection::remote() const {
    return proxy(handle_, "");
}

sim::channel& connection::channel() const {
    return handle_->state().channel();
}

const std::string& connection::peer() const {
    return handle_->state().channel().peer();
}

void connection::close() {
    handle_->state().channel().close();
}

bool connection::closed() const {
    return handle_->state().channel().closed();
}

void connection::on_close(std::function<void(const std::string&)> callback) {
    handle_->state().on_close(std::move(callback));
}

connection open_connection(const address& to, router* service, channel_options options, connect_options retry) {
    return connection(sim::open_connection(to, std::move(options), retry), service, true);
}

connection open_connection(std::string_view url, router* service, channel_options options,
                           connect_options retry) {
    return open_connection(address::parse(url), service, std::move(options), retry);
}

server start_server(const address& at, router& service, std::function<void(connection)> on_connect,
                    channel_options options) {
    return sim::start_server(
        at,
        [&service, on_connect = std::move(on_connect)](sim::channel ch) {
            connection c(std::move(ch), &service);
            if (on_connect) on_connect(c);
        },
        std::move(options));
}

server start_server(std::string_view url, router& service, std::function<void(connection)> on_connect,
                    channel_options options) {
    return start_server(address::parse(url), service, std::move(on_connect), std::move(options));
}

}  // namespace sim::rpc
