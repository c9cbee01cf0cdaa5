#pragma once
// signal_set: POSIX signals as an awaitable on the event loop (asyncio's add_signal_handler).

#include <coloop/core/task.hpp>
#include <coloop/detail/async_fd.hpp>
#include <initializer_list>

namespace coloop {

/// Receives the given signals (SIGINT, SIGTERM, ...) on the running loop instead of their
/// default action. The constructor blocks them in the calling thread, so create the set before
/// starting other threads (they inherit the mask); a thread that does not block them may still
/// take their default action. The destructor (or close()) unblocks what it blocked. Use on the
/// loop's thread only.
class signal_set {
 public:
  /// Throws std::invalid_argument for a signal number the OS rejects (or SIGKILL/SIGSTOP),
  /// std::logic_error without a running loop, std::system_error if the OS refuses.
  explicit signal_set(std::initializer_list<int> signals);
  signal_set(const signal_set&) = delete;
  signal_set& operator=(const signal_set&) = delete;
  ~signal_set() { close(); }

  /// The number of the next signal received. Cancellable; errc::closed once closed.
  task<int> wait();
  /// Stops receiving and restores the calling thread's mask for these signals. Idempotent.
  void close() noexcept;

 private:
  detail::async_fd fd_;
  unsigned long long blocked_ = 0;  // bit n-1: signal n was blocked by us
};

}  // namespace coloop
