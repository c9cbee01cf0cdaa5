// The portable wake_fd (runtime/os/wake_fd.hpp): what macOS and the BSDs run, and Linux with
// COLOOP_PORTABLE_FALLBACKS=ON. A pipe: notify writes a byte, drain reads until the pipe is
// empty. pipe() + fcntl rather than pipe2, which macOS lacks; a fork+exec on another thread in
// between could inherit the ends, as everywhere without pipe2. Both ends are non-blocking:
// a notify on a full pipe (a wake-up pending anyway) must not block.

#include <errno.h>
#include <unistd.h>

#include "runtime/os/sockets.hpp"
#include "runtime/os/wake_fd.hpp"

namespace coloop::detail::os {

wake_fd::wake_fd() {
  int ends[2];
  cloexec_pipe(ends, "pipe", true);
  read_ = ends[0];
  write_ = ends[1];
}

wake_fd::~wake_fd() {
  ::close(read_);
  ::close(write_);
}

void wake_fd::notify() noexcept {
  const char one = 1;
  // EAGAIN: the pipe is full, so a wake-up is pending anyway. EINTR: try again.
  while (::write(write_, &one, 1) < 0 && errno == EINTR) {
  }
}

void wake_fd::drain() noexcept {
  char buf[64];
  for (;;) {
    const ssize_t n = ::read(read_, buf, sizeof buf);
    if (n == static_cast<ssize_t>(sizeof buf) || (n < 0 && errno == EINTR)) continue;
    return;  // short read or EAGAIN: empty now
  }
}

}  // namespace coloop::detail::os
