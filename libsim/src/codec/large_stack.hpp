#pragma once
// Runs a function on a large stack of its own. Fibers have small stacks (64 KiB by default), and
// c-blosc's compressor keeps a 64 KiB hash table on the stack: such calls switch to this stack
// for their duration.

#include <exception>
#include <memory>
#include <utility>

#include <boost/context/fiber.hpp>
#include <boost/context/preallocated.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

namespace sim::detail {

class large_stack {
  public:
    static constexpr std::size_t size = std::size_t{1} << 20;

    /// Runs `f()` on this thread's large stack and returns when it has; rethrows its exception.
    template <class F>
    static void run(F&& f) {
        thread_local large_stack stack;
        stack.run_here(std::forward<F>(f));
    }

  private:
    // The stack is allocated once and reused: the fiber must not free it when it ends.
    struct keep_stack {
        boost::context::stack_context allocate() { return {}; }
        void deallocate(boost::context::stack_context&) noexcept {}
    };

    large_stack() : sctx_(alloc_.allocate()) {}
    ~large_stack() { alloc_.deallocate(sctx_); }

    template <class F>
    void run_here(F&& f) {
        namespace ctx = boost::context;
        std::exception_ptr error;
        ctx::fiber on_stack(std::allocator_arg, ctx::preallocated(sctx_.sp, sctx_.size, sctx_),
                            keep_stack{}, [&](ctx::fiber&& back) {
                                try {
                                    f();
                                } catch (...) {
                                    error = std::current_exception();
                                }
                                return std::move(back);
                            });
        std::move(on_stack).resume();
        if (error) std::rethrow_exception(error);
    }

    boost::context::protected_fixedsize_stack alloc_{size};
    boost::context::stack_context sctx_;
};

}  // namespace sim::detail
