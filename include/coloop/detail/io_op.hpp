#pragma once
// layer: runtime
// An I/O operation as the reactor sees it. It lives inside the awaiter (so in the coroutine
// frame): submitting one allocates nothing. No OS headers here.

#include <atomic>
#include <coroutine>

#include <coloop/core/cancellation.hpp>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace coloop::detail {

class scheduler;
class reactor;
struct fd_entry;

enum class io_dir : unsigned char { read = 0, write = 1 };

/// What an operation does, for completion backends (io_uring) that hand it to the kernel instead
/// of calling `attempt`. `other` (and any op on a readiness backend) runs `attempt` on readiness.
enum class io_kind : unsigned char {
  other,
  recv,    // a socket read into the op's own buffer (read/recv)
  send,    // a socket write (send with MSG_NOSIGNAL)
  accept,  // accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) into address/address_length
};

struct io_op : cancel_slot {
  /// Tries the syscall once. Returns true when the operation is finished (result_/error_ set),
  /// false on EAGAIN (it stays queued until the next readiness edge).
  bool (*attempt)(io_op* self) noexcept = nullptr;

  fd_entry* fd = nullptr;
  io_dir dir = io_dir::read;
  void* buffer = nullptr;
  std::size_t length = 0;
  void* address = nullptr;      // sockaddr bytes (recvfrom, sendto, accept), or null
  unsigned address_length = 0;  // in: capacity or size; out: size written by the OS
  std::size_t result = 0;       // bytes transferred (accept: the new fd)
  int error = 0;                // errno, or -static_cast<int>(errc) for coloop errors
  bool cancelled = false;
  bool queued = false;
  // The buffer is shared (a thread's scratch area): the transfer must happen right before the
  // awaiter resumes, on its thread. When the coop budget is spent submit yields before the
  // syscall instead, and a queued one only waits for readiness (result 0: the awaiter retries).
  bool shared_buffer = false;
  io_kind kind = io_kind::other;
  std::uint8_t backend_state = 0;  // completion backends' private flags (in the kernel, ...)

  std::coroutine_handle<> waiter;
  scheduler* sched = nullptr;
  cancel_state* cancel = nullptr;
  io_op* next = nullptr;
  io_op* prev = nullptr;
};

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
  // Backend hook, or null (epoll, kqueue: their interest is permanent). submit calls it when an
  // operation is queued on an empty queue, so a backend whose OS interest is level-triggered
  // (libuv's uv_poll_t) can ask for that direction only while someone waits on it.
  void (*on_queued)(fd_entry& entry, io_dir dir) noexcept = nullptr;
  // Set by a completion backend (io_uring) on its entries: submit() and withdraw() hand this
  // fd's operations to completion->start()/cancel(). Null for readiness backends.
  reactor* completion = nullptr;
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

/// Starts `op`: runs the syscall at once if readiness is cached, otherwise (or on EAGAIN) queues
/// it and registers it for cancellation. Returns true when the caller must suspend: the op is
/// then queued, or (coop budget spent) its waiter is already posted with the op completed, or
/// for a shared_buffer op not even tried (result 0, error 0, not cancelled). An op whose
/// fd was closed completes at once with errc::closed; std::logic_error without a running loop.
bool submit(io_op& op, std::coroutine_handle<> waiter, cancel_state* cancel);
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
/// Withdraws a queued operation without resuming it (its awaiter is being destroyed).
void withdraw(io_op& op) noexcept;

}  // namespace coloop::detail
