#include <sim/runtime/runtime.hpp>

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <new>

#include <map>
#include <mutex>
#include <stdexcept>

#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/operations.hpp>

#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

#include "runtime/asio_scheduler.hpp"

#if defined(SIM_ASAN)
#include <dlfcn.h>
#endif

namespace sim {

namespace {
thread_local runtime* current_runtime = nullptr;
}

#if defined(SIM_ASAN)
// Boost.Fiber switches stacks without telling AddressSanitizer. When an exception is thrown, ASan
// unpoisons the thread's stack above the throw, because the frames there are about to be unwound
// and would leave stale redzones behind; on a fiber's stack it refuses ("stack type: default"), and
// the stale poison then shows up as false stack-buffer-overflows. This replaces ASan's
// __asan_handle_no_return: on a fiber stack of ours it does the same cleanup itself; anywhere
// else it calls ASan's own.
namespace detail {
namespace {
struct stack_range {
    char* bottom;
    char* top;
};
std::mutex& stacks_mutex() {
    static std::mutex m;
    return m;
}
std::map<char*, stack_range>& stacks() {  // by top
    static std::map<char*, stack_range> s;
    return s;
}
}  // namespace

void asan_register_stack(void* top, std::size_t size) noexcept {
    auto* t = static_cast<char*>(top);
    std::lock_guard lock(stacks_mutex());
    stacks()[t] = {t - size, t};
}

void asan_unregister_stack(void* top) noexcept {
    std::lock_guard lock(stacks_mutex());
    stacks().erase(static_cast<char*>(top));
}
}  // namespace detail
#endif

}  // namespace sim

#if defined(SIM_ASAN)
extern "C" void __asan_handle_no_return() {
    auto* sp = static_cast<char*>(__builtin_frame_address(0));
    {
        std::lock_guard lock(sim::detail::stacks_mutex());
        auto& s = sim::detail::stacks();
        auto it = s.lower_bound(sp);  // the first stack whose top is at or above sp
        if (it != s.end() && it->second.bottom <= sp) {
            char* from = sp - 4096 > it->second.bottom ? sp - 4096 : it->second.bottom;
            ASAN_UNPOISON_MEMORY_REGION(from, static_cast<std::size_t>(it->second.top - from));
            return;
        }
    }
    using handler = void (*)();
    static auto real = reinterpret_cast<handler>(dlsym(RTLD_NEXT, "__asan_handle_no_return"));
    if (real != nullptr) real();
}
#endif

namespace sim {

namespace detail {

namespace {
std::size_t page_size() noexcept {
    static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}
}  // namespace

stack_pool::stack_pool(std::size_t stack_size) {
    const std::size_t page = page_size();
    size_ = (std::max<std::size_t>(stack_size, 4 * page) + page - 1) / page * page;
}

stack_pool::~stack_pool() {
    for (const chunk& c : chunks_)
        ::munmap(c.base, c.bytes);
}

boost::context::stack_context stack_pool::allocate() {
    char* bottom = nullptr;
    if (!free_.empty()) {
        bottom = static_cast<char*>(free_.back());
        free_.pop_back();
    } else {
        if (next_ == end_) {
            // Chunks grow with use: 16 stacks, then twice as many each time, up to 1024.
            const std::size_t count = std::min<std::size_t>(
                std::size_t{16} << std::min<std::size_t>(chunks_.size(), 6), 1024);
            const std::size_t bytes = count * size_;
            void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (base == MAP_FAILED) throw std::bad_alloc();
            chunks_.push_back({base, bytes});
            next_ = static_cast<char*>(base);
            end_ = next_ + bytes;
        }
        bottom = next_;
        next_ += size_;
    }
    boost::context::stack_context sctx;
    sctx.size = size_;
    sctx.sp = bottom + size_;
    return sctx;
}

void stack_pool::deallocate(boost::context::stack_context& sctx) noexcept {
    try {
        free_.push_back(static_cast<char*>(sctx.sp) - sctx.size);
    } catch (...) {
        // Out of memory for the free list: the stack stays mapped, unused, until the runtime goes.
    }
}

}  // namespace detail

struct runtime::hooks {
    std::map<std::uint64_t, std::function<void()>> entries;
    std::uint64_t next_id = 1;
    wait_queue stop_waiters;  // fibers in wait_for_stop_request
};

struct runtime::scheduler_link {
    detail::scheduler_hooks hooks;
};

runtime::runtime(runtime_options options)
    : options_(std::move(options)),
      work_(boost::asio::make_work_guard(io_)),
      pooled_stacks_(
          detail::pooled_stack(std::make_shared<detail::stack_pool>(options_.stack_size))),
      guarded_stacks_(options_.stack_size),
      hooks_(std::make_unique<hooks>()),
      scheduler_(std::make_unique<scheduler_link>()) {}

runtime::~runtime() {
    if (attached_ && current_runtime == this) detach();
    if (thread_.joinable()) {
        stop();
        thread_.join();
    }
}

runtime* runtime::current() noexcept {
    return current_runtime;
}

void runtime::enter() {
    if (current_runtime != nullptr) {
        throw std::logic_error("this thread already runs runtime " +
                               current_runtime->options_.name);
    }
    current_runtime = this;
    stop_requested_ = false;
    stopping_.store(false, std::memory_order_release);
    if (io_.stopped()) io_.restart();
    boost::fibers::use_scheduling_algorithm<detail::asio_scheduler>(io_, options_.busy_poll,
                                                                    scheduler_->hooks);
}

void runtime::leave() noexcept {
    // The thread may use fibers later without us: give it back Boost's own scheduler.
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
    current_runtime = nullptr;
}

void runtime::report(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const cancelled&) {
        // Called off on purpose (a removed agent, a shutdown): the fiber's normal end.
    } catch (const std::exception& ex) {
        log::get("runtime")->error("{}: a fiber ended with an exception: {}", options_.name,
                                   ex.what());
    } catch (...) {
        log::get("runtime")->error("{}: a fiber ended with an exception of unknown type",
                                   options_.name);
    }
}

void runtime::wait_for_fibers() {
    std::unique_lock lock(mutex_);
    std::optional<std::chrono::steady_clock::time_point> warn_at;
    while (live_.load(std::memory_order_acquire) > 0) {
        if (!stop_requested_) {
            changed_.wait(lock);
            continue;
        }
        // Stopping: say so when fibers take long to end (one that never ends hangs the stop).
        auto now = std::chrono::steady_clock::now();
        if (!warn_at) warn_at = now + std::chrono::seconds(5);
        if (now >= *warn_at) {
            log::get("runtime")->warn("{}: stopping, still waiting for {} fibers to finish",
                                      options_.name, live_.load());
            *warn_at += std::chrono::seconds(5);
        }
        changed_.wait_until(lock, *warn_at);
    }
}

void runtime::request_stop_here() {
    if (stop_requested_) return;
    stop_requested_ = true;
    stopping_.store(true, std::memory_order_release);
    hooks_->stop_waiters.notify_all();
    run_stop_hooks();
    std::unique_lock lock(mutex_);
    changed_.notify_all();
}

void runtime::run_stop_hooks() {
    auto entries = std::move(hooks_->entries);
    hooks_->entries.clear();
    // Each in its own fiber: one hook that waits (a channel flushing its writer) holds up no other.
    for (auto& [id, hook] : entries) {
        live_.fetch_add(1, std::memory_order_acq_rel);
        launch(std::move(hook));
    }
}

std::uint64_t runtime::add_stop_hook(std::function<void()> hook) {
    std::uint64_t id = hooks_->next_id++;
    if (stop_requested_) {
        live_.fetch_add(1, std::memory_order_acq_rel);
        launch(std::move(hook));
        return id;
    }
    hooks_->entries.emplace(id, std::move(hook));
    return id;
}

void runtime::remove_stop_hook(std::uint64_t id) noexcept {
    hooks_->entries.erase(id);
}

void runtime::wait_idle() {
    detail::fiber_waiter waiter;
    scheduler_->hooks.idle_waiters.push_back(&waiter);
    waiter.wait();
}

std::size_t runtime::ready_fibers() const noexcept {
    auto* s = scheduler_->hooks.scheduler;
    return s == nullptr ? 0 : s->ready_workers();
}

void runtime::start() {
    if (thread_.joinable()) throw std::logic_error("runtime " + options_.name + " already started");
    thread_ = std::thread([this] {
        std::string name = options_.name.substr(0, 15);  // the kernel's limit
        pthread_setname_np(pthread_self(), name.c_str());
        try {
            run([this] {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [this] { return stop_requested_; });
            });
        } catch (const std::exception& e) {
            log::get("runtime")->error("{}: {}", options_.name, e.what());
        }
    });
}

void runtime::attach() {
    enter();
    attached_ = true;
}

void runtime::detach() {
    if (!attached_) return;
    if (current_runtime != this)
        throw std::logic_error("runtime::detach: not on the attached thread");
    request_stop_here();
    wait_for_fibers();
    attached_ = false;
    leave();
}

void runtime::stop() {
    if (current_runtime == this) {
        request_stop_here();
        return;
    }
    // From another thread: a fiber of the runtime does it. Counted as a fiber, so that run()
    // cannot return in between.
    live_.fetch_add(1, std::memory_order_acq_rel);
    boost::asio::post(io_, [this] { launch([this] { request_stop_here(); }); });
}

bool runtime::wait_for_stop_request(std::chrono::steady_clock::time_point until) {
    if (current_runtime != this)
        throw std::logic_error("runtime " + options_.name + ": waited on from another thread");
    return hooks_->stop_waiters.wait_until(until, [this] { return stop_requested_; });
}

void runtime::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace sim
