// A wake-up fd, the cross-thread wake of the epoll and io_uring reactors: the reactor polls
// fd() for readability, any thread calls notify(), the loop's thread drain()s it. Linux: one
// eventfd, notify and drain inline (wake_fd_linux.hpp). Elsewhere: a non-blocking,
// close-on-exec pipe whose read end is polled (wake_fd_portable.cpp).
#pragma once

#include "runtime/os/config.hpp"

namespace coloop::detail::os {

class wake_fd {
 public:
  /// Opens the fd(s); throws std::system_error naming the call that failed (fd exhaustion).
  wake_fd();
  ~wake_fd();
  wake_fd(const wake_fd&) = delete;
  wake_fd& operator=(const wake_fd&) = delete;

  /// The fd to poll for readability; readable from a notify() until the next drain().
  int fd() const noexcept { return read_; }
  /// Makes fd() readable. Any thread; never blocks (a full pipe or counter is already readable).
  void notify() noexcept;
  /// Makes fd() unreadable again, unless a notify() races with it. The polling thread only.
  void drain() noexcept;

 private:
  int read_ = -1;
  int write_ = -1;  // the same fd as read_ for an eventfd
};

}  // namespace coloop::detail::os

#if !COLOOP_PORTABLE_FALLBACKS
#include "runtime/os/wake_fd_linux.hpp"
#endif
