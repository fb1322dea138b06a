#include <sim/agent/coordinator.hpp>

#include <algorithm>
#include <exception>

#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>

namespace sim {

namespace {

std::uint64_t count_of(const map& m, std::string_view key) {
    const value* v = m.find(value(std::string(key)));
    if (v == nullptr)
        throw protocol_error(std::string("a container's report lacks \"") + std::string(key) +
                             "\"");
    return from_value<std::uint64_t>(*v);
}

// Runs `f(i)` for every i in [0, n) in fibers of their own, and waits for all; rethrows the
// first failure. Containers in other processes then work in parallel.
template <class F>
void for_all(std::size_t n, F f) {
    if (n == 1) {
        f(0);
        return;
    }
    std::size_t left = n;
    std::exception_ptr error;
    detail::fiber_waiter done;
    for (std::size_t i = 0; i < n; ++i) {
        sim::spawn([&, i] {
            try {
                f(i);
            } catch (...) {
                if (!error) error = std::current_exception();
            }
            if (--left == 0) done.wake();
        });
    }
    done.wait();
    if (error) std::rethrow_exception(error);
}

}  // namespace

coordinator::coordinator(std::vector<std::string> containers, coordinator_options options)
    : options_(std::move(options)), urls_(std::move(containers)) {
    if (urls_.empty()) throw std::invalid_argument("a coordinator needs at least one container");
    for (std::string& url : urls_) {
        while (url.ends_with('/'))
            url.pop_back();
        links_.push_back(rpc::open_connection(url, nullptr, options_.channel));
    }
}

std::vector<coordinator::report> coordinator::wave() {
    std::vector<report> out(links_.size());
    for_all(links_.size(), [&](std::size_t i) {
        out[i] = parse(links_[i].remote().call("clock/settle", until_));
    });
    ++stats_.waves;
    return out;
}

coordinator::report coordinator::parse(const value& v) {
    const map& m = v.as_map();
    report r;
    r.counts.sent = count_of(m, "sent");
    r.counts.received = count_of(m, "received");
    r.counts.held = count_of(m, "held");
    const value* next = m.find(value("next"));
    if (next != nullptr && !next->is_nil()) r.next = from_value<double>(*next);
    return r;
}

std::optional<double> coordinator::step(double t) {
    until_ = deadline(options_.step_timeout);
    std::vector<report> now(links_.size());
    for_all(links_.size(), [&](std::size_t i) {
        now[i] = parse(links_[i].remote().call("clock/begin", t, until_));
    });
    ++stats_.waves;
    std::vector<report> before;
    for (;;) {
        container_counts total;
        for (const report& r : now) {
            total.sent += r.counts.sent;
            total.received += r.counts.received;
            total.held += r.counts.held;
        }
        // Quiet everywhere, as many received as sent, and the same over two waves: nothing is in
        // flight (Mattern's four counters; a container reports only once it is quiet).
        auto same = [](const std::vector<report>& a, const std::vector<report>& b) {
            return a.size() == b.size() &&
                   std::equal(a.begin(), a.end(), b.begin(), [](const report& x, const report& y) {
                       return x.counts.sent == y.counts.sent &&
                              x.counts.received == y.counts.received &&
                              x.counts.held == y.counts.held;
                   });
        };
        if (total.sent == total.received && same(now, before)) {
            if (total.held == 0) {
                ++stats_.steps;
                std::optional<double> next;
                for (const report& r : now) {
                    if (r.next && (!next || *r.next < *next)) next = r.next;
                }
                return next;
            }
            // Deliver what is held, each container in canonical order, and settle again.
            ++stats_.rounds;
            for_all(links_.size(), [&](std::size_t i) {
                now[i] = now[i].counts.held > 0
                             ? parse(links_[i].remote().call("clock/deliver", until_))
                             : parse(links_[i].remote().call("clock/settle", until_));
            });
            ++stats_.waves;
            before.clear();
            continue;
        }
        if (until_.expired()) {
            std::string detail;
            for (std::size_t i = 0; i < now.size(); ++i) {
                detail += "; " + urls_[i] + ": sent " + std::to_string(now[i].counts.sent) +
                          ", received " + std::to_string(now[i].counts.received) + ", held " +
                          std::to_string(now[i].counts.held);
            }
            throw timeout_error("step to " + std::to_string(t) + " not quiet by its deadline: " +
                                std::to_string(total.sent - std::min(total.sent, total.received)) +
                                " messages never arrived" + detail);
        }
        before = std::move(now);
        now = wave();
    }
}

}  // namespace sim
