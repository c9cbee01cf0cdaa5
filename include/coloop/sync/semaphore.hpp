#pragma once
// semaphore: an asyncio.Semaphore for tasks, FIFO with multi-permit requests (tokio's
// acquire_many): a large request at the head is served before smaller ones behind it.

#include <atomic>
#include <coloop/detail/handoff.hpp>
#include <coroutine>
#include <cstddef>
#include <limits>
#include <optional>

namespace coloop {

/// A FIFO counting semaphore. All members are thread-safe; release() may also be called from a
/// thread that runs no loop (the woken task resumes on its own loop or runtime). Destroy it only
/// when no task waits on it.
class semaphore final : private detail::handoff_owner {
 public:
  /// The most permits it can hold or a request can ask for.
  static constexpr std::size_t max_permits = std::numeric_limits<std::size_t>::max() >> 2;

  /// k acquired permits: movable, gives them back when destroyed.
  class [[nodiscard]] permit {
   public:
    permit() noexcept = default;
    permit(permit&& other) noexcept : s_(other.s_), k_(other.k_) { other.s_ = nullptr; }
    permit& operator=(permit&& other) noexcept {
      if (this != &other) {
        release();
        s_ = other.s_;
        k_ = other.k_;
        other.s_ = nullptr;
      }
      return *this;
    }
    ~permit() { release(); }
    /// Gives the permits back early; no-op if it holds none.
    void release() noexcept {
      if (semaphore* s = s_) {
        s_ = nullptr;
        s->give_back(k_);
      }
    }
    /// How many permits it holds (0 once released).
    std::size_t count() const noexcept { return s_ != nullptr ? k_ : 0; }
    /// Keeps the permits acquired: they are not given back (for a manual release() later).
    void forget() noexcept { s_ = nullptr; }

   private:
    friend class semaphore;
    permit(semaphore& s, std::size_t k) noexcept : s_(&s), k_(k) {}
    semaphore* s_ = nullptr;
    std::size_t k_ = 0;
  };

  /// What acquire() returns: co_await it for a permit.
  class [[nodiscard]] acquire_awaiter : private detail::handoff_waiter {
   public:
    acquire_awaiter(semaphore& s, std::size_t k) noexcept : handoff_waiter(s), s_(&s), k_(k) {}
    bool await_ready() noexcept {
      if (!s_->try_take_fast(k_)) return false;
      set_state(detail::handoff_state::taken);
      return spend();
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      if (state() == detail::handoff_state::taken) return requeue(h);
      return s_->suspend(*this, h, detail::cancel_state_of(h));
    }
    permit await_resume() {
      check_resumed();
      return permit(*s_, k_);
    }

   private:
    friend class semaphore;
    semaphore* s_;
    std::size_t k_;
  };

  /// Starts with `initial` permits; std::invalid_argument past max_permits.
  explicit semaphore(std::size_t initial);

  /// Waits for k permits, FIFO. std::invalid_argument (at the call) if k is 0 or past
  /// max_permits. Cancellable: a cancelled wait throws cancelled_error and takes nothing (the
  /// waiters behind it may then be served); a cancel after the hand-over stays pending.
  acquire_awaiter acquire(std::size_t k = 1) {
    if (k - 1 >= max_permits) throw_bad_request("semaphore::acquire", k);  // k == 0 wraps
    return acquire_awaiter(*this, k);
  }
  /// k permits if they are there and nobody waits (no barging), else nullopt; k as in acquire.
  std::optional<permit> try_acquire(std::size_t k = 1);
  /// Adds k permits (for permits taken with permit::forget, or to raise the count). Any thread.
  /// std::overflow_error past max_permits; k = 0 does nothing.
  void release(std::size_t k = 1);
  /// Permits free and not yet handed to a waiter (a snapshot).
  std::size_t available() const noexcept { return state_.load(std::memory_order_relaxed) >> 1; }

 private:
  static constexpr std::size_t waited = 1;  // low bit of state_: the list is non-empty

  bool try_take_fast(std::size_t k) noexcept {
    std::size_t s = state_.load(std::memory_order_relaxed);
    // acquire: the releaser's writes are visible to whoever takes its permits.
    while ((s & waited) == 0 && (s >> 1) >= k) {
      if (state_.compare_exchange_weak(s, s - (k << 1), std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  [[noreturn]] static void throw_bad_request(const char* what, std::size_t k);
  void give_back(std::size_t k) noexcept {
    std::size_t s = state_.load(std::memory_order_relaxed);
    while ((s & waited) == 0) {
      // release: publishes the holder's writes to whoever takes the permits next.
      if (state_.compare_exchange_weak(s, s + (k << 1), std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
    give_back_slow(k);
  }
  void give_back_slow(std::size_t k) noexcept;
  /// Under lock_: `k` permits come back, to the waiters first.
  void put_back(std::size_t k, detail::wake_batch& woken) noexcept;
  /// Under lock_ with `waited` set: serves the head while `free` covers it, then stores the rest.
  void dispatch(std::size_t free, detail::wake_batch& woken) noexcept;
  bool suspend(acquire_awaiter& a, std::coroutine_handle<> h, detail::cancel_state* c) noexcept;
  void withdrawn(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;
  void abandoned(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;
  static std::size_t request_of(detail::handoff_waiter& w) noexcept;

  // permits << 1 | waited. Without `waited` it moves by CAS without lock_; `waited` is set and
  // cleared only under lock_, and while it is set the word changes only under lock_.
  std::atomic<std::size_t> state_;
  detail::handoff_list waiters_;
};

}  // namespace coloop
