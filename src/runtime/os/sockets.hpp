// Sockets and pipes that are close-on-exec (and non-blocking) from the start. Linux: the
// SOCK_NONBLOCK and SOCK_CLOEXEC flags of socket/socketpair, accept4 and pipe2, inline
// (sockets_linux.hpp), so no other thread's exec can ever inherit one. Elsewhere: the plain
// call, then fcntl (sockets_portable.cpp): macOS has neither the flags nor accept4 nor pipe2.
// Every socket function returns what its system call does: the fd (or 0), or -1 with errno set.
#pragma once

#include <sys/socket.h>

#include "runtime/os/config.hpp"

namespace coloop::detail::os {

/// Flags for send/sendto so that writing to a closed connection fails with EPIPE instead of
/// raising SIGPIPE. macOS has no MSG_NOSIGNAL: its sockets get SO_NOSIGPIPE when made, below.
#ifdef MSG_NOSIGNAL
inline constexpr int send_flags = MSG_NOSIGNAL;
#else
inline constexpr int send_flags = 0;
#endif

#if COLOOP_PORTABLE_FALLBACKS

/// socket(2), non-blocking and close-on-exec.
int socket_nonblocking_cloexec(int family, int type, int protocol) noexcept;
/// socket(2), close-on-exec but blocking.
int socket_cloexec(int family, int type, int protocol) noexcept;
/// socketpair(2), both ends non-blocking and close-on-exec.
int socketpair_nonblocking_cloexec(int family, int type, int protocol, int fds[2]) noexcept;
/// accept(2) on `listener`, the new socket non-blocking and close-on-exec. EINTR is returned.
int accept_nonblocking_cloexec(int listener, sockaddr* address, socklen_t* length) noexcept;
/// pipe(2), both ends close-on-exec, and non-blocking when asked; throws std::system_error
/// naming `what`.
void cloexec_pipe(int fds[2], const char* what, bool nonblocking = false);

#endif

}  // namespace coloop::detail::os

#if !COLOOP_PORTABLE_FALLBACKS
#include "runtime/os/sockets_linux.hpp"
#endif
