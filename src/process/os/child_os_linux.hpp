// Linux's open_pidfd (process/os/child_os.hpp, contract there). Only
// child_os.hpp includes this file.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture
#endif

namespace coloop::detail::os {

inline int open_pidfd(int pid) noexcept {
  // pidfds are close-on-exec from birth. glibc's pidfd_open wrapper needs 2.36: call it direct.
  // Non-blocking from birth too (Linux 5.10; EINVAL before), which saves async_fd an fcntl.
  constexpr unsigned pidfd_nonblock = O_NONBLOCK;  // PIDFD_NONBLOCK
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, pidfd_nonblock));
  if (fd >= 0 || errno != EINVAL) return fd;
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

inline int add_close_from(posix_spawn_file_actions_t* actions, int lowest) noexcept {
  // glibc 2.34+: close_range in the child, after the dup2s of the file actions.
  return ::posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

}  // namespace coloop::detail::os
