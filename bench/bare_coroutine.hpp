#pragma once
// The least a lazy, awaitable coroutine can be, for what task<T> adds to it: task_bench (time)
// and ir_ops (instructions) measure both in the same binary.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>

#include <coloop/core/frame_pool.hpp>

namespace coloop_bench {

/// The least a lazy, awaitable coroutine returning int can be: no cancellation, no exception
/// slot, no join state, no stack bound. Same frame allocator as task<T>.
class bare {
 public:
  struct promise_type {
    static void* operator new(std::size_t n) { return coloop::detail::frame_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
      coloop::detail::frame_deallocate(p, n);
    }
    bare get_return_object() noexcept {
      return bare{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().continuation;
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_value(int v) noexcept { value = v; }
    void unhandled_exception() noexcept { std::terminate(); }
    std::coroutine_handle<> continuation;
    int value = 0;
  };
  explicit bare(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  bare(bare&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  ~bare() {
    if (h_) h_.destroy();
  }
  bool await_ready() noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
    h_.promise().continuation = c;
    return h_;
  }
  int await_resume() noexcept { return h_.promise().value; }

 private:
  std::coroutine_handle<promise_type> h_;
};

}  // namespace coloop_bench
