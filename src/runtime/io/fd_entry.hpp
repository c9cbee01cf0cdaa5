#pragma once
// What the backends share to run operations on a registered fd (its lock, the readiness fast
// path, the queues) and what they call to report on it. Private to the runtime (the backends and
// io_ops.cpp) and to the layers above that build operations on an entry (io's async_fd, net's
// streams).

#include <atomic>
#include <coroutine>
#include <utility>

#include <coloop/detail/io_op.hpp>
#include <coloop/detail/scheduler.hpp>

namespace coloop::detail {

[[noreturn]] void throw_no_scheduler_for_io();
/// std::system_error of errno `err` (generic category), saying `what` failed.
[[noreturn]] void throw_errno(int err, const char* what);

void lock_entry_slow(fd_entry& e) noexcept;

/// `d` as an index of an entry's per-direction arrays (ready, head, tail).
constexpr int index(io_dir d) noexcept { return static_cast<int>(d); }

/// Holds an fd_entry's lock for a scope when the entry is shared (a no-op on an event_loop).
class entry_lock {
 public:
  explicit entry_lock(fd_entry& e) noexcept : e_(e.shared ? &e : nullptr) {
    if (e_ != nullptr && e_->locked.exchange(true, std::memory_order_acquire)) lock_entry_slow(e);
  }
  ~entry_lock() { unlock(); }
  void unlock() noexcept {
    if (e_ != nullptr) std::exchange(e_, nullptr)->locked.store(false, std::memory_order_release);
  }
  entry_lock(const entry_lock&) = delete;
  entry_lock& operator=(const entry_lock&) = delete;

 private:
  fd_entry* e_;
};

/// Called by backends when `entry` became readable and/or writable: completes queued operations
/// in order until one would block, posting their waiters.
void on_ready(fd_entry& entry, bool readable, bool writable) noexcept;
/// Completes every queued operation of `entry` with `error` (e.g. on deregistration).
void fail_all(fd_entry& entry, int error) noexcept;
/// Takes `op` out of its fd's queue (also for io_uring, which runs the queues itself). Callers
/// hold the entry's lock when it is shared.
void unlink(io_op& op) noexcept;

// The parts of a reactor's submit that every backend shares: begin_submit first, then
// attempt_now and enqueue under the entry's lock.

/// Clears `op`'s result and finds the scheduler to resume on; nullptr when a pending cancel was
/// consumed instead (op.cancelled set: finish at once). std::logic_error without a scheduler.
inline scheduler* begin_submit(io_op& op, cancel_state* cancel) {
  op.cancelled = false;
  op.error = 0;
  op.result = 0;
  scheduler* const sched = current_scheduler();
  if (sched == nullptr) [[unlikely]] throw_no_scheduler_for_io();
  if (cancel != nullptr && cancel->consume_pending()) {
    op.cancelled = true;  // a cancel was pending: don't even try the syscall
    return nullptr;
  }
  return sched;
}

enum class attempt_outcome {
  done,   // finished at once: the awaiter continues without suspending
  yield,  // the coop budget is spent: unlock, post_yield the waiter and suspend (the op holds
          // its result, or for a shared_buffer op was not tried)
  queue,  // not possible now: enqueue it
};
/// The readiness fast path: when readiness is cached and nobody is queued ahead, runs the
/// syscall now (coop budget included); EAGAIN clears the cached readiness.
inline attempt_outcome attempt_now(io_op& op, fd_entry& e) noexcept {
  const int d = index(op.dir);
  if (!e.ready[d] || e.head[d] != nullptr) return attempt_outcome::queue;
  // Coop budget: past it the task resumes on a later step instead of continuing at once.
  const bool in_budget = spend_budget();
  // A shared buffer is scratch that another task may fill before this one resumes: past the
  // budget, yield before the syscall (result 0, nothing transferred); the awaiter tries again.
  if (!in_budget && op.shared_buffer) [[unlikely]] return attempt_outcome::yield;
  if (op.attempt(&op)) {
    // Done; past the budget the result waits in the op while the task yields.
    return in_budget ? attempt_outcome::done : attempt_outcome::yield;
  }
  e.ready[d] = false;
  return attempt_outcome::queue;
}
/// Arms `op`'s cancel slot with `on_cancel` and appends it to its queue. False (nothing queued,
/// op.cancelled set) when a cancel request was pending.
bool enqueue(io_op& op, fd_entry& e, std::coroutine_handle<> waiter, scheduler* sched,
             cancel_state* cancel, cancel_outcome (*on_cancel)(cancel_slot*) noexcept) noexcept;
}  // namespace coloop::detail
