#pragma once
// The reactor's record of a registered fd, and what backends call to report on it. Private to
// the runtime (the backends and io_ops.cpp) and to the layers above that build operations on an
// entry (io's async_fd, net's stream writer): io_op.hpp, which awaiters embed, only names it.

#include <atomic>
#include <coroutine>
#include <utility>

#include <coloop/detail/io_op.hpp>

namespace coloop::detail {

/// Per registered fd: cached readiness and FIFO queues of waiting operations, per direction.
/// On a multi-threaded runtime (`shared`) the fields below `locked` are guarded by it: workers
/// submit while the driver thread reports readiness. On an event_loop the lock is never taken.
struct fd_entry {
  int fd = -1;
  bool shared = false;
  std::atomic<bool> locked{false};
  bool ready[2] = {false, false};  // cached: the last syscall did not return EAGAIN
  io_op* head[2] = {nullptr, nullptr};
  io_op* tail[2] = {nullptr, nullptr};
  // Sticky: the backend saw the peer's end of stream, a hang-up or an error. No new edge will
  // follow, so a short read must not clear the cached readiness any more.
  std::atomic<bool> peer_closed{false};
  void* backend = nullptr;  // backend-private
  reactor* owner = nullptr;  // set by register_fd: submit() and withdraw() go to it
};

void lock_entry_slow(fd_entry& e) noexcept;

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
/// The attempt of a queued shared_buffer operation: readiness came; nothing is transferred.
bool attempt_probe(io_op* op) noexcept;
/// Appends `op` to its fd's queue in its direction / takes it out (for backends that keep the
/// queues themselves, like io_uring). Callers hold the entry's lock when it is shared.
void link_tail(fd_entry& e, io_op& op) noexcept;
void unlink(io_op& op) noexcept;

// The two halves of a reactor's submit that every backend shares. Call both under the entry's
// lock.

enum class attempt_outcome {
  done,   // finished at once: the awaiter continues without suspending
  yield,  // the coop budget is spent: unlock, post_yield the waiter and suspend (the op holds
          // its result, or for a shared_buffer op was not tried)
  queue,  // not possible now: enqueue it
};
/// The readiness fast path: when readiness is cached and nobody is queued ahead, runs the
/// syscall now (coop budget included); EAGAIN clears the cached readiness.
attempt_outcome attempt_now(io_op& op, fd_entry& e) noexcept;
/// Arms `op`'s cancel slot with `on_cancel` and appends it to its queue. False (nothing queued,
/// op.cancelled set) when a cancel request was pending.
bool enqueue(io_op& op, fd_entry& e, std::coroutine_handle<> waiter, scheduler* sched,
             cancel_state* cancel, cancel_outcome (*on_cancel)(cancel_slot*) noexcept) noexcept;
}  // namespace coloop::detail
