#include <sim/runtime/wait_for_stop.hpp>

#include <memory>
#include <stdexcept>

#include <boost/asio/signal_set.hpp>

#include <sim/runtime/runtime.hpp>
#include <sim/runtime/wait_queue.hpp>

namespace sim {

int wait_for_stop(std::initializer_list<int> signals) {
    runtime* rt = runtime::current();
    if (rt == nullptr)
        throw std::logic_error("sim::wait_for_stop: this thread runs no sim::runtime");
    // Shared with the signal handler and the stop hook, which may run after this returns.
    struct state {
        explicit state(boost::asio::io_context& io) : set(io) {}
        boost::asio::signal_set set;
        wait_queue woken;
        int signal = 0;
        bool stop_requested = false;
    };
    auto st = std::make_shared<state>(rt->io());
    for (int s : signals)
        st->set.add(s);
    st->set.async_wait([st](const boost::system::error_code& ec, int number) {
        if (!ec) st->signal = number;
        st->woken.notify_all();
    });
    const auto hook = rt->add_stop_hook([st] {
        st->stop_requested = true;
        st->woken.notify_all();
    });
    st->woken.wait([&] { return st->signal != 0 || st->stop_requested; });
    rt->remove_stop_hook(hook);
    boost::system::error_code ignored;
    st->set.cancel(ignored);
    return st->signal;
}

}  // namespace sim
