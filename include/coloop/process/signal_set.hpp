#pragma once
// signal_set: POSIX signals as an awaitable on the event loop (asyncio's add_signal_handler).

#include <coloop/core/task.hpp>
#include <coloop/io/async_fd.hpp>
#include <initializer_list>

namespace coloop {

/// Receives the given signals (SIGINT, SIGTERM, ...) as values instead of their default action,
/// whichever thread the kernel delivers them to. Like libuv, it installs a process-wide handler
/// for each signal (over SIG_IGN too) and restores the previous disposition when the last set
/// watching that signal closes; it blocks no signal in any thread, so threads started before it
/// (the default pool, the runtime's workers) and child processes are unaffected. Several sets, on
/// one loop or on several, may watch the same signal: each receives it. Coalescing: a burst of
/// the same signal before wait() takes it may be delivered once. Works on an event loop and on
/// the runtime (wait() may run on any worker); one wait() at a time per set.
class signal_set {
 public:
  /// Throws std::invalid_argument for a signal number the OS rejects (or SIGKILL/SIGSTOP),
  /// std::logic_error without a running loop, std::length_error past 128 open sets,
  /// std::system_error if the OS refuses.
  explicit signal_set(std::initializer_list<int> signals);
  signal_set(const signal_set&) = delete;
  signal_set& operator=(const signal_set&) = delete;
  ~signal_set() { close(); }

  /// The number of the next signal received (the lowest number first when several are
  /// pending). Cancellable (a cancelled wait takes no signal); errc::closed once closed.
  task<int> wait();
  /// Stops receiving; a signal no other set watches gets back the disposition it had before.
  /// A wait() in progress fails with errc::closed. Idempotent; use it where wait() runs.
  void close() noexcept;

 private:
  async_fd fd_;  // read end of the wake pipe
  int slot_ = -1;        // the registration in the process-wide table; -1 once closed
};

}  // namespace coloop
