#pragma once
// Socket plumbing shared by tcp, unix and udp sockets (private to src/net).

#include <coloop/core/task.hpp>
#include <coloop/io/async_fd.hpp>
#include <coloop/net/endpoint.hpp>

#include "runtime/io/fd_entry.hpp"

namespace coloop::detail {

/// A new non-blocking, close-on-exec socket for `local`'s family, registered with the loop.
async_fd open_socket(const endpoint& local, int type, const char* what);
void set_int_option(int fd, int level, int name, int value, const char* what);
/// getsockname / getpeername; errc::closed for fd -1.
endpoint socket_name(int fd, bool peer, const char* what);
/// Binds `sock` to `local` and listens.
void bind_and_listen(async_fd& sock, const endpoint& local, int backlog, const char* what);
/// Accepts one connection as a registered async_fd; backs off on EMFILE/ENFILE/ENOBUFS/ENOMEM.
task<async_fd> accept_socket(async_fd& listener, const char* what);
/// Connects `sock` to `peer`, waiting for the handshake.
task<void> connect_socket(async_fd& sock, const endpoint& peer, const char* what);

}  // namespace coloop::detail
