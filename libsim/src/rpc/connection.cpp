#include <sim/rpc/connection.hpp>

#include <deque>
#include <vector>

#include <sim/core/log.hpp>
#include <sim/rpc/request.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

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
    // A connection to a service of this same runtime: no codec, no socket (the shortcut).
    connection_state(router& service, std::string origin)
        : service_(&service), close_when_unused_(false), origin_(std::move(origin)) {}

    bool is_local() const noexcept { return !channel_; }
    const std::string& peer() const { return channel_ ? channel_->peer() : origin_; }

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
        if (is_local()) return;
        register_references();
        auto self = shared_from_this();
        runtime::current()->spawn([self] { self->serve(); });
    }

    sim::channel& channel() {
        if (!channel_) throw std::logic_error("a connection within one container has no channel");
        return *channel_;
    }
    bool closed() const noexcept { return channel_ ? channel_->closed() : local_closed_; }
    void close() {
        if (channel_) {
            channel_->close();
        } else {
            local_closed_ = true;
        }
    }
    void abort() noexcept {
        if (channel_) {
            channel_->abort();
        } else {
            local_closed_ = true;
        }
    }
    router* service() const noexcept { return service_; }

    void on_close(std::function<void(const std::string&)> callback) {
        if (ended_ || is_local()) {
            if (ended_) callback(channel_->close_reason());
            if (is_local()) on_close_.push_back(std::move(callback));
            return;
        }
        on_close_.push_back(std::move(callback));
    }

    value call(const std::string& path, array args, map kwargs, std::optional<deadline> until) {
        if (is_local()) return call_local(path, std::move(args), std::move(kwargs), until);
        const value request = make_request(path, std::move(args), std::move(kwargs));
        return until ? channel_->send(request, *until) : channel_->send(request);
    }

  private:
    // Services of ours travel as their path and arrive as proxies on this same connection: the
    // codec's fallback serializer, registered after the user's, as aiomas' RpcClient does.
    void register_references() {
        std::weak_ptr<connection_state> weak = shared_from_this();
        channel_->codec().serializers().add(serializer{
            std::nullopt, "service reference",
            [weak](const object& o) -> value {
                auto self = weak.lock();
                if (const auto* ref = o.get_if<service_ref>(); ref != nullptr && self) {
                    if (ref->target == nullptr) {
                        throw serialization_error("a service reference that names no service");
                    }
                    if (self->service_ != nullptr &&
                        &ref->target->root() == &self->service_->root()) {
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
                queue_.push_back(channel_->recv());
                if (signalled_ == 0) signal_worker();
            }
        } catch (const connection_closed& e) {
            log->debug("{}", e.what());
        }
        ended_ = true;
        for (sim::detail::fiber_waiter* w : std::exchange(idle_, {}))
            w->wake();
        for (auto& callback : std::exchange(on_close_, {})) {
            try {
                callback(channel_->close_reason());
            } catch (const std::exception& e) {
                log->error("{}: an on_close callback failed: {}", channel_->peer(), e.what());
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
            // A stack of idle workers, not a wait_queue: the one that idled last is woken first,
            // its stack still warm in the cache.
            sim::detail::fiber_waiter waiter;
            idle_.push_back(&waiter);
            waiter.wait();
            if (ended_) return;
            --signalled_;
        }
    }

    // Resolves and runs a request's function; throws what the function throws.
    value invoke(value& content) {
        const request_ref req = parse_request(content);
        if (service_ == nullptr) throw lookup_error("this side of the connection serves nothing");
        if (req.path.empty()) throw lookup_error("empty path");
        router::target t = service_->resolve(req.path);
        if (t.service != nullptr)
            throw type_error("\"" + req.path + "\" is a service, not a function");
        return (*t.function)({req.args, req.kwargs});
    }

    void dispatch(request& req) {
        try {
            value result = invoke(req.content());
            req.reply(result);
        } catch (const connection_closed&) {
            // The caller went away; nothing to answer (aiomas swallows this too).
        } catch (const cancelled& e) {
            // Called off because the runtime stops: the connection closes next, and the caller's
            // call fails with connection_closed, as every call in flight does. Called off for
            // another reason (its agent was removed), the caller is told.
            if (runtime::current() != nullptr && runtime::current()->stopping()) {
                req.no_reply();
            } else if (!req.answered()) {
                try {
                    auto [type, message] = error_parts(e);
                    req.fail(type, message);
                } catch (const connection_closed&) {
                }
            }
        } catch (const std::exception& e) {
            try {
                if (!req.answered()) {
                    auto [type, message] = error_parts(e);
                    req.fail(type, message);
                }
            } catch (const connection_closed&) {
            }
        }
    }

    static std::pair<std::string, std::string> error_parts(const std::exception& e) {
        return {exception_type_name(e), e.what()};
    }

    // The same-container shortcut: the semantics of a remote call (a fiber of its own for the
    // function, arguments and results as values, errors as remote_error with the same text)
    // without codec and socket.
    value call_local(const std::string& path, array args, map kwargs,
                     std::optional<deadline> until) {
        if (local_closed_)
            throw connection_closed("connection to " + origin_ + " closed by this side");
        struct outcome {
            wait_queue finished;  // the caller, until done (it may give up first)
            bool done = false;
            bool failed = false;
            value result;
        };
        auto out = std::make_shared<outcome>();
        value content = make_request(path, std::move(localize(value(std::move(args))).as_array()),
                                     std::move(localize(value(std::move(kwargs))).as_map()));
        auto self = shared_from_this();
        runtime::current()->spawn([self, out, content = std::move(content)]() mutable {
            try {
                out->result = self->localize(self->invoke(content));
            } catch (const std::exception& e) {
                auto [type, message] = error_parts(e);
                out->failed = true;
                out->result = value(message.empty() ? type + "\n" : type + ": " + message + "\n");
            }
            out->done = true;
            out->finished.notify_all();
        });
        auto deadline_at = until ? until->time_point() : deadline::never().time_point();
        if (!out->finished.wait_until(deadline_at, [&] { return out->done; })) {
            throw timeout_error("call of " + path + " in " + origin_ +
                                " timed out: no result by its deadline");
        }
        if (out->failed) throw remote_error(origin_, out->result.as_string());
        return std::move(out->result);
    }

    // A service reference becomes a proxy of this local connection, as it would arrive over a
    // socket.
    value localize(value v) {
        switch (v.kind()) {
            case value_kind::object: {
                if (const auto* ref = v.get_if<object>()->get_if<service_ref>()) {
                    if (ref->target == nullptr) {
                        throw serialization_error("a service reference that names no service");
                    }
                    return value(object(proxy(handle(), ref->target->path())));
                }
                return v;
            }
            case value_kind::array: {
                for (auto& x : *v.get_if<array>())
                    x = localize(std::move(x));
                return v;
            }
            case value_kind::map: {
                map& m = *v.get_if<map>();
                for (std::size_t i = 0; i < m.size(); ++i)
                    m.mapped_at(i) = localize(std::move(m.mapped_at(i)));
                return v;
            }
            default:
                return v;
        }
    }

    static constexpr std::size_t max_idle_workers = 128;

    std::optional<sim::channel> channel_;
    router* service_;
    bool close_when_unused_;
    std::deque<request> queue_;                     // received, not yet taken by a worker
    std::vector<sim::detail::fiber_waiter*> idle_;  // workers waiting for requests
    std::size_t signalled_ = 0;  // workers started or woken that have not looked yet
    std::weak_ptr<connection_handle> handle_;
    std::vector<std::function<void(const std::string&)>> on_close_;
    bool ended_ = false;
    std::string origin_;  // local connections: what callers see as the peer
    bool local_closed_ = false;
};

connection_handle::~connection_handle() {
    if (close_when_unused_) state_->abort();
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
    if (path.empty())
        throw std::invalid_argument("cannot call the root of a connection: name a function");
    return connection_->state().call(path, std::move(parts.args), std::move(parts.kwargs),
                                     parts.until);
}

std::string proxy::to_string() const {
    std::string peer = connection_ ? connection_->state().peer() : "unbound";
    return "Proxy('" + peer + "', '" + path_ + "')";
}

// ---- connections --------------------------------------------------------------------------------

connection::connection(sim::channel ch, router* service)
    : connection(std::move(ch), service, false) {}

connection::connection(sim::channel ch, router* service, bool close_when_unused) {
    auto state =
        std::make_shared<detail::connection_state>(std::move(ch), service, close_when_unused);
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
    return handle_->state().peer();
}

void connection::close() {
    handle_->state().close();
}

void connection::abort() noexcept {
    if (handle_) handle_->state().abort();
}

bool connection::closed() const {
    return handle_->state().closed();
}

bool connection::is_local() const noexcept {
    return handle_->state().is_local();
}

connection connect_local(router& service, std::string origin) {
    connection c;
    auto state = std::make_shared<detail::connection_state>(service, std::move(origin));
    c.handle_ = state->handle();
    return c;
}

void connection::on_close(std::function<void(const std::string&)> callback) {
    handle_->state().on_close(std::move(callback));
}

connection open_connection(const address& to, router* service, channel_options options,
                           connect_options retry) {
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

server start_server(std::string_view url, router& service,
                    std::function<void(connection)> on_connect, channel_options options) {
    return start_server(address::parse(url), service, std::move(on_connect), std::move(options));
}

}  // namespace sim::rpc
