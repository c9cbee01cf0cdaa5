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

}  // namespace coloop::detail::sigchld
