#pragma once
// The base of the readiness backends (epoll, kqueue, libuv's uv_poll_t): operations run their
// syscall when the fd is ready, by io_ops.cpp's queues; the backend only registers fds, reports
// readiness (on_ready) and wakes. See io_ops.cpp for the invariants.

#include "runtime/driver/reactor.hpp"
#include "runtime/io/fd_entry.hpp"

#include <coroutine>

namespace coloop::detail {

class readiness_reactor : public reactor {
 public:
  void withdraw(io_op& op) noexcept final;

 protected:
  /// Called by register_fd on a new entry: its operations run by readiness (submit below).
  void adopt(fd_entry& e) noexcept;

  /// `on_queued`, or null (epoll, kqueue: their interest is permanent), runs under the entry's
  /// lock when an operation queues on an empty direction, so a backend whose OS interest is
  /// level-triggered (libuv) can ask for that direction only while someone waits on it.
  explicit readiness_reactor(void (*on_queued)(fd_entry&, io_dir) noexcept = nullptr) noexcept
      : on_queued_(on_queued) {}

 private:
  /// fd_entry::submit of every entry: the readiness fast path, else queue until on_ready.
  static bool submit(io_op& op, std::coroutine_handle<> waiter, cancel_state* cancel);
  void (*const on_queued_)(fd_entry&, io_dir) noexcept;
};

}  // namespace coloop::detail
