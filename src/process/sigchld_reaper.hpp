#pragma once
// The SIGCHLD fallback of subprocess exits, for systems without pidfds (see sigchld_reaper.cpp).

namespace coloop::detail::sigchld {

/// Has the reaper reap child `pid` as soon as it exits (a background thread woken by SIGCHLD,
/// the one waiter of that child). Returns the read end of a close-on-exec pipe that receives the
/// child's status as two ints written at once, exit code (-1 if killed) and signal (0 if none),
/// then end of file once it is reaped; end of file alone when someone else reaped it (ECHILD).
/// Closing it early is fine: the child is still reaped. Throws std::system_error (fd or thread
/// exhaustion). Thread-safe.
int watch_child(int pid);

/// Sends `sig` to `pid`, a child given to watch_child, unless the reaper has seen it exit: it
/// may have reaped it already, and the pid may now name another process. Returns 0 (also when
/// the child is gone: nothing sent) or kill()'s errno. Thread-safe.
int signal_child(int pid, int sig) noexcept;

}  // namespace coloop::detail::sigchld
