#pragma once
// The base of the readiness backends (epoll, kqueue, libuv's uv_poll_t): operations run their
// syscall when the fd is ready, by io_ops.cpp's queues; the backend only registers fds, reports
// readiness (on_ready) and wakes. See io_ops.cpp for the invariants.

#include "core/monotonic.hpp"
#include "runtime/driver/reactor.hpp"
#include "runtime/io/fd_entry.hpp"
#include "runtime/tsan_signals.hpp"

#include <errno.h>
#include <time.h>

#include <algorithm>
#include <coroutine>
#include <cstdint>

#include <coloop/detail/intrusive_list.hpp>

namespace coloop::detail {

/// An fd_entry of a readiness backend, linked into its reactor's list of live entries.
struct readiness_entry : fd_entry {
  readiness_entry* prev_ = nullptr;
  readiness_entry* next_ = nullptr;
};

class readiness_reactor : public reactor {
 public:
  void withdraw(io_op& op) noexcept final;
  std::vector<int> open_fds() const final;

 protected:
  /// Called by register_fd once the OS watches the new entry's fd: its operations run by
  /// readiness (submit below), its readiness is unknown (the first operation just tries the
  /// syscall) and it is live until forget(). Returns `e`.
  fd_entry* adopt(readiness_entry& e) noexcept;
  /// deregister_fd's common part: the waiting operations fail with errc::closed, `e` is no
  /// longer live. The backend then frees it.
  void forget(readiness_entry& e) noexcept;
  /// For the destructor: an entry still live (a handle leaked past its loop), withdrawn from
  /// silently and no longer live, for the backend to free; null when none is left.
  readiness_entry* take_leaked() noexcept;

  /// `on_queued`, or null (epoll, kqueue: their interest is permanent), runs under the entry's
  /// lock when an operation queues on an empty direction, so a backend whose OS interest is
  /// level-triggered (libuv) can ask for that direction only while someone waits on it.
  explicit readiness_reactor(void (*on_queued)(fd_entry&, io_dir) noexcept = nullptr) noexcept
      : on_queued_(on_queued) {}

  // For the epoll and kqueue waits:
  /// `ns` in `ts`, or null (no limit) when negative.
  static timespec* as_timespec(std::int64_t ns, timespec& ts) noexcept {
    if (ns < 0) return nullptr;
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return &ts;
  }
  /// `wait(timeout_ns)`, an OS wait returning -1 with errno on failure (a negative timeout: no
  /// limit), retried after EINTR with the time left. Throws std::system_error naming `what`.
  template <class Wait>
  static int wait_past_eintr(std::int64_t timeout_ns, const char* what, Wait wait) {
    const std::int64_t deadline = timeout_ns > 0 ? monotonic_ns() + timeout_ns : 0;
    for (;;) {
      const int n = wait(timeout_ns);
      if (n >= 0) return n;
      if (errno != EINTR) throw_errno(errno, what);
      run_deferred_signal_handlers();  // TSan only: epoll_pwait2 is not intercepted
      if (timeout_ns > 0) timeout_ns = std::max<std::int64_t>(deadline - monotonic_ns(), 0);
    }
  }

 private:
  /// fd_entry::submit of every entry: the readiness fast path, else queue until on_ready.
  static bool submit(io_op& op, std::coroutine_handle<> waiter, cancel_state* cancel);
  void (*const on_queued_)(fd_entry&, io_dir) noexcept;
  intrusive_list<readiness_entry> live_;
};

}  // namespace coloop::detail
