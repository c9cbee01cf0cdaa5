#pragma once
// barrier: a reusable rendezvous of a fixed number of tasks (asyncio.Barrier).

#include <coroutine>
#include <cstddef>

#include <coloop/detail/handoff.hpp>

namespace coloop {

/// `parties` tasks call arrive_and_wait(); the last to arrive releases them all and the barrier
/// starts its next cycle. abort() breaks it for good: waiters then throw
/// std::system_error(errc::closed). Thread safety: any member from any task on any worker (a
/// woken task resumes on its own loop or runtime). The barrier must outlive its waiters.
class barrier final : private detail::handoff_owner {
 public:
  class [[nodiscard]] awaiter : private detail::handoff_waiter {
   public:
    explicit awaiter(barrier& b) noexcept : handoff_waiter(b), barrier_(&b) {}
    awaiter(awaiter&& other) noexcept : awaiter(*other.barrier_) {}
    awaiter& operator=(awaiter&&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      return enter(h, detail::cancel_state_of(h));
    }
    /// This arrival's index in its cycle, 0..parties-1 (parties-1: the one that released it).
    std::size_t await_resume();

   private:
    friend class barrier;
    bool enter(std::coroutine_handle<> h, detail::cancel_state* cancel) noexcept;

    barrier* barrier_;
    std::size_t index_ = 0;
  };

  /// Throws std::invalid_argument if `parties` is 0.
  explicit barrier(std::size_t parties);
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;

  /// `co_await b.arrive_and_wait()` → this arrival's index in the cycle (0..parties-1, in order
  /// of arrival among those that stayed). Throws std::system_error(errc::closed) once aborted.
  /// Cancellable: a waiter cancelled before its cycle completes throws cancelled_error and
  /// leaves the count as if it had never arrived.
  awaiter arrive_and_wait() noexcept { return awaiter(*this); }
  /// Breaks the barrier: current and future waiters throw std::system_error(errc::closed).
  void abort() noexcept;
  /// How many tasks one cycle needs.
  std::size_t parties() const noexcept { return parties_; }
  /// How many tasks wait in the current cycle (a snapshot).
  std::size_t n_waiting() const noexcept;
  /// Whether abort() was called.
  bool broken() const noexcept;

 private:
  void withdrawn(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;
  void abandoned(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;

  const std::size_t parties_;
  detail::handoff_list waiters_;  // this cycle's, in arrival order; under lock_
  std::size_t waiting_ = 0;
  bool broken_ = false;
};

}  // namespace coloop
