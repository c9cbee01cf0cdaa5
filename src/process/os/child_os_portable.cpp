// The portable open_pidfd and cloexec_pipe (process/os/child_os.hpp): what macOS and the BSDs
// run, and Linux with COLOOP_PORTABLE_FALLBACKS=ON.

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include "process/os/child_os.hpp"

namespace coloop::detail::os {

int open_pidfd(int) noexcept {
  errno = ENOSYS;
  return -1;
}

void cloexec_pipe(int fds[2], const char* what) {
  // No pipe2 (macOS): a fork+exec on another thread between the calls could inherit the pipe.
  // Every coloop fd is close-on-exec, so only a fork by the application's own code can.
  if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), what);
  for (int i = 0; i < 2; ++i) {
    if (::fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      throw std::system_error(err, std::generic_category(), what);
    }
  }
}

int add_close_from(posix_spawn_file_actions_t*, int) noexcept { return 0; }

}  // namespace coloop::detail::os
