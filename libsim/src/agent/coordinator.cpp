#include <sim/agent/coordinator.hpp>

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

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
    wait_queue done;
    for (std::size_t i = 0; i < n; ++i) {
        sim::spawn([&, i] {
            try {
                f(i);
            } catch (...) {
                if (!error) error = std::current_exception();
            }
            if (--left == 0) done.notify_all();
        });
    }
    done.wait([&] { return left == 0; });
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
    for_all(links_.size(), [&](std::size_t i) { out[i] = ask(i, "clock/settle"); });
    ++stats_.waves;
    return out;
}

coordinator::report coordinator::ask(std::size_t i, const char* method) {
    try {
        report r = method == std::string_view("clock/begin")
                       ? parse(links_[i].remote().call(method, time_, until_))
                       : parse(links_[i].remote().call(method, until_));
        last_[i] = r;
        return r;
    } catch (const timeout_error&) {
        throw timeout_error(urls_[i] + " did not answer " + method);
    }
}

void coordinator::abort() noexcept {
    // abort, not close: close waits for the writer, and a fiber that yields here could find the
    // coordinator gone when it resumes (the step it ends unwinds meanwhile).
    for (rpc::connection& link : links_)
        link.abort();
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
    time_ = t;
    last_.assign(links_.size(), std::nullopt);
    // The counts of each container's last answer in this step, for the error of a step that
    // times out.
    auto counts = [&] {
        std::string detail;
        for (std::size_t i = 0; i < last_.size(); ++i) {
            detail += "; " + urls_[i] + ": ";
            if (!last_[i]) {
                detail += "no answer in this step";
                continue;
            }
            detail += "sent " + std::to_string(last_[i]->counts.sent) + ", received " +
                      std::to_string(last_[i]->counts.received) + ", held " +
                      std::to_string(last_[i]->counts.held);
        }
        return detail;
    };
    try {
        return run_step();
    } catch (const timeout_error& e) {
        throw timeout_error(fmt::format("step to {} not over within {} ms: {} (last counts{})", t,
                                        options_.step_timeout.count(), e.what(), counts()));
    }
}

std::optional<double> coordinator::run_step() {
    std::vector<report> now(links_.size());
    for_all(links_.size(), [&](std::size_t i) { now[i] = ask(i, "clock/begin"); });
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
                now[i] = ask(i, now[i].counts.held > 0 ? "clock/deliver" : "clock/settle");
            });
            ++stats_.waves;
            before.clear();
            continue;
        }
        if (until_.expired()) {
            throw timeout_error("the containers are not quiet: " +
                                std::to_string(total.sent - std::min(total.sent, total.received)) +
                                " messages never arrived");
        }
        before = std::move(now);
        now = wave();
    }
}

}  // namespace sim
