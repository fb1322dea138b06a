#include <sim/channel/channel.hpp>

#include <deque>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>

#include <boost/fiber/operations.hpp>

#include <sim/channel/message.hpp>
#include <sim/codec/logical.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

namespace sim {

namespace detail {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;
// Ids of sends that gave up, remembered so that their late replies are told from unknown ones.
constexpr std::size_t remembered_given_up = 4096;

struct pending_call {
    enum class outcome { waiting, result, exception, closed };
    wait_queue answered;  // its sender
    outcome state = outcome::waiting;
    value content;
};

}  // namespace

class channel_state : public std::enable_shared_from_this<channel_state> {
  public:
    channel_state(std::unique_ptr<stream> s, channel_options o)
        : stream_(std::move(s)),
          options_(std::move(o)),
          codec_(make_codec(options_.codec, options_.codec_settings)),
          peer_(stream_->peer()),
          reader_(options_.max_frame_size),
          rt_(runtime::current()),
          log_(log::get("channel")),
          holding_(options_.hold_incoming) {
        if (rt_ == nullptr)
            throw std::logic_error("a sim::channel needs a fiber of a sim::runtime");
    }

    void start() {
        auto self = shared_from_this();
        rt_->spawn([self] { self->read_loop(); });
        rt_->spawn([self] { self->write_loop(); });
        std::weak_ptr<channel_state> weak = self;
        stop_hook_ = rt_->add_stop_hook([weak] {
            if (auto s = weak.lock()) s->close(std::chrono::seconds(1));
        });
    }

    // ---- sending requests -------------------------------------------------------------------

    channel::reply exchange(const value& content, deadline until) {
        check_open();
        wait_for_room(until);
        const std::int64_t id = next_id_++;
        // The id is spent even if encoding fails, as in aiomas.
        encode_frame(*codec_, message_type::request, value(id), content, queued_,
                     options_.max_frame_size);
        trace_out(message_type::request, value(id), content);
        ++queued_frames_;
        ++stats_.requests_out;
        ++stats_.messages_sent;
        wake_writer();

        pending_call call;
        pending_.emplace(id, &call);
        if (!call.answered.wait_until(
                until.time_point(), [&] { return call.state != pending_call::outcome::waiting; })) {
            pending_.erase(id);
            remember_given_up(id);
            ++stats_.timeouts;
            if (on_activity_) on_activity_();
            throw timeout_error("request " + std::to_string(id) + " to " + peer_ +
                                " timed out: no reply by its deadline");
        }
        switch (call.state) {
            case pending_call::outcome::result:
                return {message_type::result, std::move(call.content)};
            case pending_call::outcome::exception:
                return {message_type::exception, std::move(call.content)};
            default:
                throw connection_closed(reason_);
        }
    }

    value send(const value& content, deadline until) {
        channel::reply r = exchange(content, until);
        if (r.type == message_type::result) return std::move(r.content);
        const std::string* text = r.content.get_if<std::string>();
        throw remote_error(peer_, text != nullptr ? *text : to_display_string(r.content));
    }

    // ---- receiving requests -----------------------------------------------------------------

    std::optional<request> recv(deadline until) {
        for (;;) {
            if (!incoming_.empty()) {
                auto [id, content] = std::move(incoming_.front());
                incoming_.pop_front();
                return request(shared_from_this(), std::move(id), std::move(content));
            }
            if (closed_) throw connection_closed(reason_);
            if (!receivers_.wait_until(until.time_point())) return std::nullopt;
        }
    }

    void send_reply(message_type type, const value& id, const value& content) {
        check_open();
        try {
            encode_frame(*codec_, type, id, content, queued_, options_.max_frame_size);
            trace_out(type, id, content);
        } catch (const std::exception& e) {
            if (type != message_type::result) throw;
            // aiomas answers an unencodable result with an exception reply describing it.
            std::string text = std::string("SerializationError: ") + e.what() + "\n";
            encode_frame(*codec_, message_type::exception, id, value(text), queued_,
                         options_.max_frame_size);
            trace_out(message_type::exception, id, value(text));
        }
        ++queued_frames_;
        ++stats_.messages_sent;
        wake_writer();
    }

    // ---- closing ----------------------------------------------------------------------------

    void close(std::chrono::milliseconds linger) {
        if (closed_ || closing_) return;
        closing_ = true;
        // Let what is queued leave, then end the connection.
        if (writer_running_) {
            wake_writer();
            (void)writer_done_.wait_until(deadline(linger).time_point(),
                                          [this] { return !writer_running_; });
        }
        end("closed by this side");
    }

    // Ends the connection at once: fails what waits, wakes the fibers.
    void end(std::string reason) {
        if (closed_) return;
        closed_ = true;
        reason_ = "connection to " + peer_ + " " + reason;
        stream_->close();
        rt_->remove_stop_hook(stop_hook_);
        for (auto& [id, call] : pending_) {
            call->state = pending_call::outcome::closed;
            call->answered.notify_one();
        }
        pending_.clear();
        receivers_.notify_all();
        room_waiters_.notify_all();
        writer_idle_.notify_all();
        incoming_.clear();
        held_.clear();
        if (on_activity_) on_activity_();
    }

    bool closed() const noexcept { return closed_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& peer() const noexcept { return peer_; }
    const channel_stats& stats() const noexcept { return stats_; }
    sim::codec& codec() noexcept { return *codec_; }
    const channel_options& options() const noexcept { return options_; }

  private:
    void check_open() const {
        if (closed_) throw connection_closed(reason_);
        if (closing_) throw connection_closed("connection to " + peer_ + " is closing");
    }

    void wait_for_room(deadline until) {
        while (queued_.size() >= options_.max_queued) {
            check_open();
            if (!room_waiters_.wait_until(until.time_point())) {
                ++stats_.timeouts;
                throw timeout_error("request to " + peer_ +
                                    " timed out waiting for room to send (the peer reads slowly)");
            }
        }
        check_open();
    }

    void wake_writer() { writer_idle_.notify_one(); }

    void remember_given_up(std::int64_t id) {
        given_up_.insert(id);
        given_up_order_.push_back(id);
        if (given_up_order_.size() > remembered_given_up) {
            given_up_.erase(given_up_order_.front());
            given_up_order_.pop_front();
        }
    }

    void trace_out(message_type type, const value& id, const value& content) {
        if (!log_->should_log(spdlog::level::trace)) return;
        log_->trace("{} -> {}", peer_, logical(type, id, content));
    }

    static std::string logical(message_type type, const value& id, const value& content) {
        try {
            return to_logical_json(value(array{value(static_cast<int>(type)), id, content}));
        } catch (const std::exception&) {
            return to_display_string(value(array{value(static_cast<int>(type)), id, content}));
        }
    }

    // A peer that breaks the protocol loses its connection, with the reason in the log.
    void protocol_failure(const std::string& why) {
        ++stats_.errors;
        log_->warn("closing the connection to {}: {}", peer_, why);
        end("closed: " + why);
    }

    void read_loop() {
        auto self = shared_from_this();  // outlive the handle while reading
        for (;;) {
            boost::system::error_code ec;
            auto room = reader_.prepare(read_chunk);
            std::size_t n = stream_->read_some(room, ec);
            if (ec) {
                if (!closed_) {
                    std::string why = ec == boost::asio::error::eof ? "closed by the peer"
                                                                    : "lost: " + ec.message();
                    log_->debug("connection to {} {}", peer_, why);
                    end(why);
                }
                return;
            }
            reader_.commit(n);
            stats_.bytes_in += n;
            std::error_code frame_ec;
            while (auto payload = reader_.next(frame_ec)) {
                if (!handle_frame(*payload)) return;
            }
            if (frame_ec) {
                protocol_failure(frame_ec.message() + " (frame at byte " +
                                 std::to_string(reader_.offset()) + " announces " +
                                 std::to_string(reader_.announced()) + " bytes, limit " +
                                 std::to_string(reader_.max_payload()) + ")");
                return;
            }
            if (closed_) return;
        }
    }

    bool handle_frame(std::span<const std::byte> payload) {
        message m;
        try {
            m = decode_message(*codec_, payload);
        } catch (const std::exception& e) {
            protocol_failure(std::string("bad frame: ") + e.what());
            return false;
        }
        ++stats_.frames_in;
        if (log_->should_log(spdlog::level::trace)) {
            log_->trace("{} <- {}", peer_, logical(m.type, m.id, m.content));
        }
        ++stats_.messages_received;
        if (holding_) {
            // Held for a coordinated delivery (deterministic multi-container stepping).
            held_.push_back(std::move(m));
        } else {
            deliver(std::move(m));
        }
        if (on_activity_) on_activity_();
        return true;
    }

  public:
    void hold(bool on) noexcept { holding_ = on; }
    std::size_t held() const noexcept { return held_.size(); }
    const message& held_message(std::size_t i) const {
        if (i >= held_.size())
            throw std::out_of_range("held_message: no held message " + std::to_string(i));
        return held_[i];
    }
    void set_on_activity(std::function<void()> f) { on_activity_ = std::move(f); }
    std::size_t release_held(std::size_t max) {
        std::size_t n = 0;
        while (!held_.empty() && n < max) {
            message m = std::move(held_.front());
            held_.pop_front();
            deliver(std::move(m));
            ++n;
        }
        return n;
    }
    std::size_t pending_calls() const noexcept { return pending_.size(); }

  private:
    // Hands a received message to whoever waits for it: a request to recv(), a reply to its send.
    void deliver(message m) {
        if (m.type == message_type::request) {
            ++stats_.requests_in;
            incoming_.push_back({std::move(m.id), std::move(m.content)});
            receivers_.notify_one();
            return;
        }
        const std::int64_t* id = m.id.get_if<std::int64_t>();
        auto it = id != nullptr ? pending_.find(*id) : pending_.end();
        if (it == pending_.end()) {
            // aiomas drops the connection here; a late or stray reply is not worth that.
            if (id != nullptr && given_up_.contains(*id)) {
                ++stats_.late_replies;
                log_->info("{}: dropped a reply to request {}, which had timed out", peer_, *id);
            } else {
                ++stats_.unknown_replies;
                log_->warn("{}: dropped a reply with unknown id {}", peer_,
                           to_display_string(m.id));
            }
            return;
        }
        pending_call* call = it->second;
        pending_.erase(it);
        call->state = m.type == message_type::result ? pending_call::outcome::result
                                                     : pending_call::outcome::exception;
        call->content = std::move(m.content);
        call->answered.notify_one();
    }

    void write_loop() {
        auto self = shared_from_this();
        writer_running_ = true;
        for (;;) {
            while (queued_.empty()) {
                if (closed_ || closing_) {
                    writer_running_ = false;
                    writer_done_.notify_all();
                    return;
                }
                writer_idle_.wait();
            }
            // Everything queued since the last write leaves in one write.
            std::swap(queued_, writing_);
            std::uint64_t frames = std::exchange(queued_frames_, 0);
            room_waiters_.notify_all();
            boost::asio::const_buffer buffer(writing_.data(), writing_.size());
            boost::system::error_code ec;
            stream_->write(std::span(&buffer, 1), ec);
            if (ec) {
                if (!closed_) end("lost: write failed: " + ec.message());
                writer_running_ = false;
                writer_done_.notify_all();
                return;
            }
            stats_.bytes_out += writing_.size();
            stats_.frames_out += frames;
            writing_.clear();
        }
    }

    std::unique_ptr<stream> stream_;
    channel_options options_;
    std::unique_ptr<sim::codec> codec_;
    std::string peer_;
    frame_reader reader_;
    runtime* rt_;
    std::shared_ptr<spdlog::logger> log_;
    std::uint64_t stop_hook_ = 0;

    std::int64_t next_id_ = 0;
    std::unordered_map<std::int64_t, pending_call*> pending_;
    std::unordered_set<std::int64_t> given_up_;
    std::deque<std::int64_t> given_up_order_;

    struct incoming_request {
        value id;
        value content;
    };
    std::deque<incoming_request> incoming_;
    wait_queue receivers_;  // fibers in recv()

    byte_buffer queued_;
    byte_buffer writing_;
    std::uint64_t queued_frames_ = 0;
    wait_queue writer_idle_;   // the writer, while nothing is queued
    wait_queue writer_done_;   // close(), until the writer has sent what was queued
    wait_queue room_waiters_;  // senders, while the queue is full
    bool writer_running_ = false;

    bool closing_ = false;
    bool closed_ = false;
    bool holding_ = false;
    std::deque<message> held_;
    std::function<void()> on_activity_;
    std::string reason_;
    channel_stats stats_;

    friend class sim::request;
};

}  // namespace detail

// ---- request ----------------------------------------------------------------------------------

request::request(std::shared_ptr<detail::channel_state> state, value id, value content)
    : state_(std::move(state)), id_(std::move(id)), content_(std::move(content)) {}

request::request(request&&) noexcept = default;

request& request::operator=(request&& other) noexcept {
    if (this != &other) {
        drop_unanswered();
        state_ = std::move(other.state_);
        id_ = std::move(other.id_);
        content_ = std::move(other.content_);
        answered_ = other.answered_;
    }
    return *this;
}

request::~request() {
    drop_unanswered();
}

void request::drop_unanswered() noexcept {
    if (!state_ || answered_ || state_->closed()) return;
    // Left unanswered: aiomas would leave the peer waiting forever; we tell it.
    try {
        answer(message_type::exception,
               value("RuntimeError: the request was dropped without a reply\n"));
    } catch (...) {
    }
}

const std::string& request::peer() const noexcept {
    return state_->peer();
}

void request::answer(message_type type, const value& content) {
    if (!state_) throw std::logic_error("sim::request: moved from");
    if (answered_) throw std::logic_error("sim::request: answered twice");
    answered_ = true;
    state_->send_reply(type, id_, content);
}

void request::reply(const value& result) {
    answer(message_type::result, result);
}

void request::fail(std::string_view type, std::string_view message) {
    std::string text(type);
    if (!message.empty()) {
        text += ": ";
        text += message;
    }
    text += "\n";
    answer(message_type::exception, value(std::move(text)));
}

void request::fail(const std::exception& e) {
    fail(exception_type_name(e), e.what());
}

void request::fail_with(const value& content) {
    answer(message_type::exception, content);
}

void request::fail_with_text(std::string text) {
    answer(message_type::exception, value(std::move(text)));
}

// ---- channel ----------------------------------------------------------------------------------

channel::channel(std::unique_ptr<stream> s, channel_options options)
    : state_(std::make_shared<detail::channel_state>(std::move(s), std::move(options))) {
    state_->start();
}

channel::channel(channel&&) noexcept = default;
channel& channel::operator=(channel&& other) noexcept {
    if (this != &other) {
        if (state_) state_->end("closed by this side");
        state_ = std::move(other.state_);
    }
    return *this;
}

channel::~channel() {
    if (state_) state_->end("closed by this side");
}

value channel::send(const value& content, deadline until) {
    return state_->send(content, until);
}

value channel::send(const value& content) {
    return state_->send(content, deadline(state_->options().default_timeout));
}

channel::reply channel::exchange(const value& content, deadline until) {
    return state_->exchange(content, until);
}

request channel::recv() {
    return *state_->recv(deadline::never());
}

std::optional<request> channel::recv(deadline until) {
    return state_->recv(until);
}

void channel::close(std::chrono::milliseconds linger) {
    state_->close(linger);
}

void channel::hold_incoming(bool on) noexcept {
    state_->hold(on);
}

std::size_t channel::held() const noexcept {
    return state_->held();
}

std::size_t channel::release_held(std::size_t max) {
    return state_->release_held(max);
}

const message& channel::held_message(std::size_t i) const {
    return state_->held_message(i);
}

void channel::on_activity(std::function<void()> callback) {
    state_->set_on_activity(std::move(callback));
}

std::size_t channel::pending_calls() const noexcept {
    return state_->pending_calls();
}

void channel::abort() noexcept {
    if (state_) state_->end("closed by this side");
}

bool channel::closed() const noexcept {
    return state_->closed();
}

std::string channel::close_reason() const {
    return state_->reason();
}

const std::string& channel::peer() const noexcept {
    return state_->peer();
}

channel_stats channel::stats() const noexcept {
    return state_->stats();
}

sim::codec& channel::codec() noexcept {
    return state_->codec();
}

const channel_options& channel::options() const noexcept {
    return state_->options();
}

// ---- connecting -------------------------------------------------------------------------------

namespace {

bool worth_retrying(const boost::system::error_code& ec) {
    namespace error = boost::asio::error;
    return ec == error::connection_refused || ec == error::timed_out ||
           ec == error::host_unreachable || ec == error::network_unreachable ||
           ec == boost::system::errc::no_such_file_or_directory;
}

}  // namespace

channel open_connection(const address& to, channel_options options, connect_options retry) {
    deadline give_up(retry.timeout);
    auto delay = retry.first_delay;
    for (;;) {
        boost::system::error_code ec;
        auto s = connect_stream(to, options.transport, ec);
        if (s) return channel(std::move(s), std::move(options));
        if (retry.timeout.count() <= 0 || !worth_retrying(ec) || give_up.expired()) {
            throw connection_error("cannot connect to " + to.to_string() + ": " + ec.message());
        }
        auto wait = std::min<std::chrono::steady_clock::duration>(delay, give_up.remaining());
        boost::this_fiber::sleep_for(wait);
        delay =
            std::min(std::chrono::duration_cast<std::chrono::milliseconds>(delay * retry.backoff),
                     retry.max_delay);
    }
}

channel open_connection(std::string_view url, channel_options options, connect_options retry) {
    return open_connection(address::parse(url), std::move(options), retry);
}

// ---- serving ----------------------------------------------------------------------------------

struct server::state {
    std::unique_ptr<listener> listen;
    address where;
    std::function<void(channel)> on_connect;
    channel_options options;
    std::uint64_t accepted = 0;
    std::uint64_t stop_hook = 0;
    runtime* rt = nullptr;
    bool closed = false;

    void close() noexcept {
        if (closed) return;
        closed = true;
        listen->close();
        rt->remove_stop_hook(stop_hook);
    }
};

server::server(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
server::server(server&&) noexcept = default;
server& server::operator=(server&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
    }
    return *this;
}
server::~server() {
    close();
}

const address& server::local_address() const noexcept {
    return state_->where;
}

void server::close() noexcept {
    if (state_) state_->close();
}

std::uint64_t server::accepted() const noexcept {
    return state_->accepted;
}

server start_server(const address& at, std::function<void(channel)> on_connect,
                    channel_options options) {
    runtime* rt = runtime::current();
    if (rt == nullptr) throw std::logic_error("sim::start_server needs a fiber of a sim::runtime");
    auto st = std::make_shared<server::state>();
    st->listen = listen_on(at, options.transport);
    st->where = st->listen->local_address();
    st->on_connect = std::move(on_connect);
    st->options = std::move(options);
    st->rt = rt;
    std::weak_ptr<server::state> weak = st;
    st->stop_hook = rt->add_stop_hook([weak] {
        if (auto s = weak.lock()) s->close();
    });
    rt->spawn([st] {
        auto log = log::get("transport");
        for (;;) {
            boost::system::error_code ec;
            auto s = st->listen->accept(ec);
            if (!s) {
                if (st->closed || ec == boost::asio::error::operation_aborted) return;
                log->warn("{}: accept failed: {}", st->where.to_string(), ec.message());
                continue;
            }
            ++st->accepted;
            // Each connection in its own fiber: one slow or failing handler holds up no other.
            st->rt->spawn([st, s = std::move(s)]() mutable {
                boost::system::error_code handshake_ec;
                s->handshake(handshake_ec);
                if (handshake_ec) return;  // logged by the transport; the server goes on
                try {
                    st->on_connect(channel(std::move(s), st->options));
                } catch (const connection_closed& e) {
                    // The usual end of a connection handler: its peer went away.
                    log::get("channel")->debug("{}", e.what());
                }
            });
        }
    });
    return server(std::move(st));
}

server start_server(std::string_view url, std::function<void(channel)> on_connect,
                    channel_options options) {
    return start_server(address::parse(url), std::move(on_connect), std::move(options));
}

}  // namespace sim
