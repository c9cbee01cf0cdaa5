// The process layer's per-OS seam (DESIGN.md §1; the pattern of src/runtime/os/): how a child's
// exit becomes readable on an fd. Linux: pidfd_open, inline (child_os_linux.hpp). Elsewhere,
// and on Linux with COLOOP_PORTABLE_FALLBACKS=ON (child_os_portable.cpp): no pidfds, so exits
// come through SIGCHLD (sigchld_reaper.cpp), and no closefrom file action (close-on-exec alone
// keeps coloop's fds out). Close-on-exec pipes: runtime/os/sockets.hpp.
#pragma once

#include <spawn.h>

#include "runtime/os/config.hpp"
#include "runtime/os/sockets.hpp"

namespace coloop::detail::os {

#if COLOOP_PORTABLE_FALLBACKS
/// A pidfd for process `pid` (close-on-exec), readable once it has exited; -1 with errno set
/// when there is none (ENOSYS: this OS, or this kernel before 5.3, has no pidfds). Never throws.
int open_pidfd(int pid) noexcept;
/// Adds "close every fd from `lowest` up" to a spawn's file actions, so the child gets no fd the
/// application opened without close-on-exec either; returns 0 or an errno. Portable: does
/// nothing and returns 0.
int add_close_from(posix_spawn_file_actions_t* actions, int lowest) noexcept;
#endif

}  // namespace coloop::detail::os

#if !COLOOP_PORTABLE_FALLBACKS
#include "process/os/child_os_linux.hpp"
#endif
