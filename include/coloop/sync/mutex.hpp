#pragma once
// mutex: an asyncio.Lock for tasks. FIFO and without barging: the lock is handed to the waiter
// at the head when it is released, and try_lock fails while anyone waits.

#include <atomic>
#include <coloop/detail/handoff.hpp>
#include <coroutine>
#include <optional>

namespace coloop {

class condition;

/// A FIFO asynchronous lock. All members are thread-safe: tasks on any worker of a runtime (or
/// on different loops) may share it. Destroy it only when no task waits on it.
class mutex final : private detail::handoff_owner {
 public:
  /// Ownership of the locked mutex: movable, unlocks when destroyed.
  class [[nodiscard]] guard {
   public:
    guard() noexcept = default;
    guard(guard&& other) noexcept : m_(other.m_) { other.m_ = nullptr; }
    guard& operator=(guard&& other) noexcept {
      if (this != &other) {
        unlock();
        m_ = other.m_;
        other.m_ = nullptr;
      }
      return *this;
    }
    ~guard() { unlock(); }
    /// Unlocks early, handing the mutex to the next waiter; no-op if the guard owns nothing.
    void unlock() noexcept {
      if (coloop::mutex* m = m_) {
        m_ = nullptr;
        m->unlock();
      }
    }
    bool owns_lock() const noexcept { return m_ != nullptr; }
    explicit operator bool() const noexcept { return m_ != nullptr; }
    /// The mutex it locks, or nullptr.
    coloop::mutex* mutex() const noexcept { return m_; }

   private:
    friend class coloop::mutex;
    friend class coloop::condition;
    explicit guard(coloop::mutex& m) noexcept : m_(&m) {}
    coloop::mutex* m_ = nullptr;
  };

  /// What lock() returns: co_await it for a guard.
  class [[nodiscard]] lock_awaiter : private detail::handoff_waiter {
   public:
    lock_awaiter(mutex& m, bool cancellable) noexcept
        : handoff_waiter(m), m_(&m), cancellable_(cancellable) {}
    bool await_ready() noexcept {
      if (!m_->try_lock_fast()) return false;
      set_state(detail::handoff_state::taken);
      return spend();
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      if (state() == detail::handoff_state::taken) return requeue(h);
      return m_->suspend(*this, h, cancellable_ ? detail::cancel_state_of(h) : nullptr);
    }
    guard await_resume() {
      check_resumed();
      return guard(*m_);
    }

   private:
    friend class coloop::mutex;
    mutex* m_;
    bool cancellable_;
  };

  mutex() noexcept = default;

  /// Waits for the lock, FIFO. Cancellable: a cancelled wait throws cancelled_error and leaves
  /// the mutex as it was; a cancel that arrives after the lock was handed over stays pending for
  /// the task's next await (the lock is not lost).
  lock_awaiter lock() noexcept { return lock_awaiter(*this, true); }
  /// The lock if it is free and nobody waits for it (no barging), else nullopt.
  std::optional<guard> try_lock() noexcept {
    if (!try_lock_fast()) return std::nullopt;
    return guard(*this);
  }
  /// Whether some task holds it (a snapshot).
  bool locked() const noexcept { return state_.load(std::memory_order_relaxed) != unlocked; }

 private:
  friend class condition;
  static constexpr unsigned unlocked = 0, locked_alone = 1, locked_waited = 2;

  bool try_lock_fast() noexcept {
    unsigned expected = unlocked;
    // acquire: the previous owner's writes are visible to the new owner.
    return state_.compare_exchange_strong(expected, locked_alone, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  bool unlock_fast() noexcept {
    unsigned expected = locked_alone;
    // release: publishes the owner's writes to whoever locks next.
    return state_.compare_exchange_strong(expected, unlocked, std::memory_order_release,
                                          std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (!unlock_fast()) unlock_slow();
  }
  void unlock_slow() noexcept;
  /// Under lock_: the owner lets go; the head waiter (if any) becomes the owner.
  void hand_on(detail::wake_batch& woken) noexcept;
  /// Unlocks on behalf of condition::wait, adding the next owner to `woken`.
  void unlock_into(detail::wake_batch& woken) noexcept;
  /// Under the condition's lock: a notified condition waiter joins this mutex's queue (or takes
  /// the lock at once if it is free), so notified waiters re-take the mutex in notification order.
  void take_notified(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept;
  /// Under lock_: takes the lock if it is free, else marks it waited for. True: taken.
  bool take_or_mark_waited() noexcept;
  bool suspend(lock_awaiter& a, std::coroutine_handle<> h, detail::cancel_state* c) noexcept;
  lock_awaiter relock() noexcept { return lock_awaiter(*this, false); }

  void withdrawn(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;
  void abandoned(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;

  // unlocked, locked_alone (0 -> 1 and back without lock_), or locked_waited (only under lock_).
  std::atomic<unsigned> state_{unlocked};
  detail::handoff_list waiters_;
};

}  // namespace coloop
