#pragma once
// wait_list: tasks parked until a condition changes (drain, wait_closed, serve_forever). Private
// to src/net. Intrusive: a waiting awaiter lives in its coroutine frame, so waiting allocates
// nothing. Loop thread only.

#include <coloop/core/cancellation.hpp>
#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/scheduler.hpp>
#include <coroutine>

namespace coloop::detail {

class wait_list {
 public:
  /// Suspends until notify_all(). Cancellable: a cancelled wait throws cancelled_error.
  class awaiter : private cancel_slot {
   public:
    explicit awaiter(wait_list& list) noexcept : cancel_slot{&on_cancel}, list_(&list) {}
    awaiter(awaiter&& other) noexcept : awaiter(*other.list_) {}
    awaiter& operator=(awaiter&&) = delete;
    ~awaiter() { leave(); }

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiter) noexcept {
      return enter(waiter, cancel_state_of(waiter));
    }
    void await_resume() const {
      if (cancelled_) throw_cancelled();
    }

   private:
    friend class wait_list;
    bool enter(std::coroutine_handle<> waiter, cancel_state* cancel) noexcept;
    void leave() noexcept;  // unlinks without resuming (frame destroyed while waiting)
    static cancel_outcome on_cancel(cancel_slot* self) noexcept;

    wait_list* list_;
    awaiter* prev_ = nullptr;
    awaiter* next_ = nullptr;
    std::coroutine_handle<> waiter_;
    scheduler* sched_ = nullptr;
    cancel_state* cancel_ = nullptr;
    bool queued_ = false;
    bool cancelled_ = false;
  };

  wait_list() noexcept = default;
  wait_list(const wait_list&) = delete;
  wait_list& operator=(const wait_list&) = delete;
  ~wait_list() { notify_all(); }

  awaiter wait() noexcept { return awaiter(*this); }
  /// Posts every waiter to its scheduler (none runs inline).
  void notify_all() noexcept;
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  void unlink(awaiter& a) noexcept;
  awaiter* head_ = nullptr;
  awaiter* tail_ = nullptr;
};

}  // namespace coloop::detail
