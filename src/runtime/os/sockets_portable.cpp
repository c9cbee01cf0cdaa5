// The portable sockets (runtime/os/sockets.hpp): what macOS and the BSDs run, and Linux with
// COLOOP_PORTABLE_FALLBACKS=ON. The plain call, then fcntl. Between the two, a fork+exec on
// another thread could inherit the fd: a window every system without the SOCK_CLOEXEC flag
// has. macOS sockets also get SO_NOSIGPIPE, its stand-in for send's MSG_NOSIGNAL.

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include "runtime/os/sockets.hpp"

namespace coloop::detail::os {
namespace {

/// Closes `fd` after a failure, errno kept; -1.
int close_failed(int fd) noexcept {
  const int err = errno;
  ::close(fd);
  errno = err;
  return -1;
}

/// Gives `fd` the flags the Linux calls would have; on failure closes it and returns -1, errno
/// kept. `fd` < 0 (the call failed) passes through.
int finish(int fd, bool nonblocking) noexcept {
  if (fd < 0) return fd;
  bool ok = ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
  if (ok && nonblocking) ok = ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0;
#ifdef SO_NOSIGPIPE
  const int on = 1;
  if (ok) ok = ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) == 0;
#endif
  return ok ? fd : close_failed(fd);
}

}  // namespace

int socket_nonblocking_cloexec(int family, int type, int protocol) noexcept {
  return finish(::socket(family, type, protocol), true);
}

int socket_cloexec(int family, int type, int protocol) noexcept {
  return finish(::socket(family, type, protocol), false);
}

int socketpair_nonblocking_cloexec(int family, int type, int protocol, int fds[2]) noexcept {
  if (::socketpair(family, type, protocol, fds) < 0) return -1;
  for (int i = 0; i < 2; ++i) {
    if (finish(fds[i], true) < 0) return close_failed(fds[1 - i]);  // fds[i] is closed
  }
  return 0;
}

int accept_nonblocking_cloexec(int listener, sockaddr* address, socklen_t* length) noexcept {
  return finish(::accept(listener, address, length), true);
}

void cloexec_pipe(int fds[2], const char* what, bool nonblocking) {
  // Every coloop fd is close-on-exec, so only a fork by the application's own code can inherit
  // the pipe in the window between the calls.
  if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), what);
  for (int fd : {fds[0], fds[1]}) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        (nonblocking && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      throw std::system_error(err, std::generic_category(), what);
    }
  }
}

}  // namespace coloop::detail::os
