#include "transport/local_transport.hpp"

#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include <boost/fiber/operations.hpp>

#include <sim/core/error.hpp>
#include <sim/framing/frame.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/transport/local_faults.hpp>

namespace sim::detail {

namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// One direction of a connection. The writer and the reader may run on different threads: the
// mutex guards the data, and a waiting fiber is woken on its own runtime's thread.
struct pipe {
    struct chunk {
        std::vector<std::byte> bytes;
        clock::time_point ready_at;
    };

    std::mutex mutex;
    std::deque<chunk> chunks;
    std::size_t head_offset = 0;  // consumed bytes of chunks.front()
    std::size_t queued = 0;       // bytes in chunks, not yet read
    std::size_t capacity = 0;
    bool eof = false;           // nothing more will come: the reader gets the end after draining
    bool write_closed = false;  // the writer may not write any more
    clock::time_point last_ready{};  // delays keep the stream's order

    runtime* reader_rt = nullptr;
    runtime* writer_rt = nullptr;
    fiber_waiter* reader_waiting = nullptr;
    fiber_waiter* writer_waiting = nullptr;
};

// Wakes `*slot` (if still waiting) on `rt`'s thread; `p` keeps the pipe alive until then.
void wake_on(runtime* rt, std::shared_ptr<pipe> p, fiber_waiter* pipe::*slot) {
    asio::post(rt->io(), [p = std::move(p), slot] {
        fiber_waiter* w = nullptr;
        {
            std::lock_guard lock(p->mutex);
            w = (*p).*slot;
            (*p).*slot = nullptr;
        }
        if (w != nullptr) w->wake();
    });
}

struct connection {
    std::shared_ptr<pipe> to_server = std::make_shared<pipe>();
    std::shared_ptr<pipe> to_client = std::make_shared<pipe>();
    std::shared_ptr<local_faults> faults;
    std::string name;
};

class local_stream final : public stream {
  public:
    local_stream(std::shared_ptr<connection> c, bool server)
        : conn_(std::move(c)), server_(server) {}
    ~local_stream() override { close(); }

    std::size_t read_some(std::span<std::byte> buffer, boost::system::error_code& ec) override {
        pipe& in = *incoming();
        std::unique_lock lock(in.mutex);
        for (;;) {
            if (in.queued > 0) {
                auto& head = in.chunks.front();
                if (head.ready_at > clock::now()) {
                    // A delayed frame: wait for its time (frames behind it wait too).
                    auto until = head.ready_at;
                    lock.unlock();
                    boost::this_fiber::sleep_until(until);
                    lock.lock();
                    continue;
                }
                std::size_t n = 0;
                while (n < buffer.size() && !in.chunks.empty() &&
                       in.chunks.front().ready_at <= clock::now()) {
                    auto& c = in.chunks.front();
                    std::size_t take = std::min(buffer.size() - n, c.bytes.size() - in.head_offset);
                    std::memcpy(buffer.data() + n, c.bytes.data() + in.head_offset, take);
                    n += take;
                    in.head_offset += take;
                    if (in.head_offset == c.bytes.size()) {
                        in.chunks.pop_front();
                        in.head_offset = 0;
                    }
                }
                in.queued -= n;
                if (in.writer_waiting != nullptr)
                    wake_on(in.writer_rt, incoming(), &pipe::writer_waiting);
                ec = {};
                return n;
            }
            if (in.eof) {
                ec = asio::error::eof;
                return 0;
            }
            fiber_waiter waiter;
            in.reader_waiting = &waiter;
            lock.unlock();
            waiter.wait();
            lock.lock();
        }
    }

    void write(std::span<const asio::const_buffer> buffers,
               boost::system::error_code& ec) override {
        ec = {};
        for (const auto& b : buffers) {
            auto bytes = std::span(static_cast<const std::byte*>(b.data()), b.size());
            if (!conn_->faults) {
                send(bytes, clock::time_point{}, ec);
            } else {
                send_with_faults(bytes, ec);
            }
            if (ec) return;
        }
    }

    void close() noexcept override {
        if (closed_) return;
        closed_ = true;
        // What we sent still arrives (as TCP delivers it); what comes to us is dropped.
        {
            auto out = outgoing();
            std::lock_guard lock(out->mutex);
            out->eof = true;
            out->write_closed = true;
            if (out->reader_waiting != nullptr) wake_on(out->reader_rt, out, &pipe::reader_waiting);
        }
        {
            auto in = incoming();
            std::lock_guard lock(in->mutex);
            in->eof = true;
            in->write_closed = true;
            in->chunks.clear();
            in->queued = 0;
            in->head_offset = 0;
            if (in->reader_waiting != nullptr) wake_on(in->reader_rt, in, &pipe::reader_waiting);
            if (in->writer_waiting != nullptr) wake_on(in->writer_rt, in, &pipe::writer_waiting);
        }
    }

    std::string peer() const override { return "local://" + conn_->name; }

  private:
    std::shared_ptr<pipe> incoming() const { return server_ ? conn_->to_server : conn_->to_client; }
    std::shared_ptr<pipe> outgoing() const { return server_ ? conn_->to_client : conn_->to_server; }
    direction out_direction() const {
        return server_ ? direction::to_client : direction::to_server;
    }

    // Appends to the outgoing pipe, waiting while it is full.
    void send(std::span<const std::byte> bytes, clock::time_point ready_at,
              boost::system::error_code& ec) {
        auto out = outgoing();
        std::unique_lock lock(out->mutex);
        while (!bytes.empty()) {
            if (out->write_closed) {
                ec = asio::error::broken_pipe;
                return;
            }
            if (out->queued >= out->capacity) {
                fiber_waiter waiter;
                out->writer_waiting = &waiter;
                lock.unlock();
                waiter.wait();
                lock.lock();
                continue;
            }
            std::size_t n = std::min(bytes.size(), out->capacity - out->queued);
            if (ready_at < out->last_ready) ready_at = out->last_ready;
            out->last_ready = ready_at;
            out->chunks.push_back(
                {std::vector<std::byte>(bytes.begin(), bytes.begin() + n), ready_at});
            out->queued += n;
            bytes = bytes.subspan(n);
            if (out->reader_waiting != nullptr) wake_on(out->reader_rt, out, &pipe::reader_waiting);
        }
    }

    // Breaks the connection as a network failure would: what was sent arrives, then the end.
    void break_connection() {
        for (auto p : {outgoing(), incoming()}) {
            std::lock_guard lock(p->mutex);
            p->eof = true;
            p->write_closed = true;
            if (p->reader_waiting != nullptr) wake_on(p->reader_rt, p, &pipe::reader_waiting);
            if (p->writer_waiting != nullptr) wake_on(p->writer_rt, p, &pipe::writer_waiting);
        }
    }

    void send_with_faults(std::span<const std::byte> bytes, boost::system::error_code& ec) {
        const local_faults& f = *conn_->faults;
        const auto& limit = server_ ? f.close_to_client_at : f.close_to_server_at;
        if (limit) {
            std::uint64_t room = *limit > sent_ ? *limit - sent_ : 0;
            if (bytes.size() >= room) {
                sent_ += room;
                deliver_frames(bytes.first(room), ec);
                break_connection();
                if (!ec) ec = asio::error::connection_reset;
                return;
            }
        }
        sent_ += bytes.size();
        deliver_frames(bytes, ec);
    }

    // Cuts the outgoing bytes into frames for the on_frame hook; bytes of an unfinished frame wait
    // for the rest.
    void deliver_frames(std::span<const std::byte> bytes, boost::system::error_code& ec) {
        const local_faults& f = *conn_->faults;
        if (!f.on_frame) {
            send(bytes, clock::time_point{}, ec);
            return;
        }
        partial_.insert(partial_.end(), bytes.begin(), bytes.end());
        std::size_t at = 0;
        while (partial_.size() - at >= frame_header_size) {
            std::size_t len = frame_header_size + read_frame_header(partial_.data() + at);
            if (partial_.size() - at < len) break;
            auto frame = std::span<const std::byte>(partial_.data() + at, len);
            fault_action act = f.on_frame(out_direction(), frames_++, frame);
            if (act.what == fault_action::kind::deliver) {
                auto ready = act.delay.count() > 0 ? clock::now() + act.delay : clock::time_point{};
                send(frame, ready, ec);
                if (ec) return;
            }
            at += len;
        }
        partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(at));
    }

    std::shared_ptr<connection> conn_;
    bool server_;
    bool closed_ = false;
    std::uint64_t sent_ = 0;
    std::uint64_t frames_ = 0;
    std::vector<std::byte> partial_;
};

class local_listener;

struct registry {
    std::mutex mutex;
    std::map<std::string, local_listener*> listeners;
};

registry& names() {
    static registry r;
    return r;
}

class local_listener final : public listener {
  public:
    local_listener(runtime& rt, const address& at, const transport_options& o)
        : rt_(rt), name_(at.name), options_(o) {
        auto& r = names();
        std::lock_guard lock(r.mutex);
        if (!r.listeners.emplace(name_, this).second) {
            throw connection_error("cannot listen on " + at.to_string() + ": the name is taken");
        }
    }
    ~local_listener() override { close(); }

    std::unique_ptr<stream> accept(boost::system::error_code& ec) override {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (closed_) {
                ec = asio::error::operation_aborted;
                return nullptr;
            }
            if (!pending_.empty()) {
                auto s = std::move(pending_.front());
                pending_.pop_front();
                ec = {};
                return s;
            }
            fiber_waiter waiter;
            waiting_ = &waiter;
            lock.unlock();
            waiter.wait();
            lock.lock();
        }
    }

    void close() noexcept override {
        {
            auto& r = names();
            std::lock_guard lock(r.mutex);
            auto it = r.listeners.find(name_);
            if (it != r.listeners.end() && it->second == this) r.listeners.erase(it);
        }
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        pending_.clear();
        if (waiting_ != nullptr) {
            // close() runs on the listener's own thread: wake directly.
            std::exchange(waiting_, nullptr)->wake();
        }
    }

    address local_address() const override { return address::local(name_); }

    // Called under the registry lock by a connecting runtime (any thread).
    std::unique_ptr<stream> connect(runtime& client_rt, const transport_options& o) {
        auto c = std::make_shared<connection>();
        c->faults = o.faults;
        c->name = name_;
        for (auto [p, reader, writer] : {std::tuple{c->to_server, &rt_, &client_rt},
                                         std::tuple{c->to_client, &client_rt, &rt_}}) {
            p->capacity = o.local_capacity != 0 ? o.local_capacity : options_.local_capacity;
            p->reader_rt = reader;
            p->writer_rt = writer;
        }
        auto server_end = std::make_unique<local_stream>(c, true);
        auto client_end = std::make_unique<local_stream>(c, false);
        std::lock_guard lock(mutex_);
        if (closed_) return nullptr;
        pending_.push_back(std::move(server_end));
        if (waiting_ != nullptr) {
            fiber_waiter* w = std::exchange(waiting_, nullptr);
            asio::post(rt_.io(), [w] { w->wake(); });
        }
        return client_end;
    }

  private:
    runtime& rt_;
    std::string name_;
    transport_options options_;
    std::mutex mutex_;
    std::deque<std::unique_ptr<stream>> pending_;
    fiber_waiter* waiting_ = nullptr;
    bool closed_ = false;
};

}  // namespace

std::unique_ptr<stream> connect_local(runtime& rt, const address& to, const transport_options& o,
                                      boost::system::error_code& ec) {
    auto& r = names();
    std::lock_guard lock(r.mutex);
    auto it = r.listeners.find(to.name);
    std::unique_ptr<stream> s = it == r.listeners.end() ? nullptr : it->second->connect(rt, o);
    ec = s ? boost::system::error_code() : asio::error::connection_refused;
    return s;
}

std::unique_ptr<listener> listen_local(runtime& rt, const address& at, const transport_options& o) {
    return std::make_unique<local_listener>(rt, at, o);
}

}  // namespace sim::detail
