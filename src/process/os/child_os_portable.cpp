// The portable open_pidfd (process/os/child_os.hpp): what macOS and the BSDs run, and Linux
// with COLOOP_PORTABLE_FALLBACKS=ON.

#include <errno.h>

#include "process/os/child_os.hpp"

namespace coloop::detail::os {

int open_pidfd(int) noexcept {
  errno = ENOSYS;
  return -1;
}

int add_close_from(posix_spawn_file_actions_t*, int) noexcept { return 0; }

}  // namespace coloop::detail::os
