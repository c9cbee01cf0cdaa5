#pragma once
// The SIGCHLD fallback of subprocess exits, for systems without pidfds (see sigchld_reaper.cpp).

namespace coloop::detail::sigchld {

/// Has the reaper reap child `pid` as soon as it exits (a background thread woken by SIGCHLD,
/// the one waiter of that child). Returns the read end of a close-on-exec pipe that receives the
/// child's raw waitpid status (an int, written whole) and then end of file; end of file alone
/// when the child was reaped by someone else (ECHILD). Closing it early is fine: the child is
/// still reaped. Throws std::system_error (fd or thread exhaustion). Thread-safe.
int watch_child(int pid);

}  // namespace coloop::detail::sigchld
