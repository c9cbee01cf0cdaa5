// Linux's sockets behind runtime/os/sockets.hpp (contracts there), inline: accept is on the
// server's hot path. Only sockets.hpp includes this file.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>

namespace coloop::detail::os {

inline int socket_nonblocking_cloexec(int family, int type, int protocol) noexcept {
  return ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
}

inline int socket_cloexec(int family, int type, int protocol) noexcept {
  return ::socket(family, type | SOCK_CLOEXEC, protocol);
}

inline int socketpair_nonblocking_cloexec(int family, int type, int protocol,
                                          int fds[2]) noexcept {
  return ::socketpair(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol, fds);
}

inline int accept_nonblocking_cloexec(int listener, sockaddr* address,
                                      socklen_t* length) noexcept {
  return ::accept4(listener, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

inline void cloexec_pipe(int fds[2], const char* what, bool nonblocking = false) {
  if (::pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)) != 0) {
    throw std::system_error(errno, std::generic_category(), what);
  }
}

}  // namespace coloop::detail::os
