// Socket plumbing shared by tcp, unix and udp sockets: creation, options, names, and the
// accept and connect operations as io_op attempts.
//
// accept: runtime/os's accept_nonblocking_cloexec (Linux: accept4 with SOCK_NONBLOCK |
// SOCK_CLOEXEC, so an accepted fd is never inheritable, not even for an instant). Out of fds
// (EMFILE/ENFILE) or memory, the pending connection stays in the backlog and epoll reports no new
// edge for it, so retrying on readiness would either spin or stall; we sleep with a growing delay
// (10 ms doubling to 1 s, as asyncio pauses for 1 s) and retry, which costs one syscall per delay
// and never loses the connection.
//
// connect: a non-blocking connect returns EINPROGRESS; completion shows as writability. The
// attempt reads SO_ERROR and, when there is none, asks getpeername: only a connected socket
// has a peer, so a cached "writable" from before the handshake cannot be taken for success.

#include "net/socket_ops.hpp"

#include "core/metrics_source.hpp"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <coloop/core/errors.hpp>
#include <coloop/runtime/sleep.hpp>
#include <system_error>

#include "runtime/os/sockets.hpp"

namespace coloop::detail {
namespace {

bool attempt_accept(io_op* op) noexcept {
  for (;;) {
    auto len = static_cast<socklen_t>(op->address_length);
    const int fd =
        os::accept_nonblocking_cloexec(op->fd->fd, static_cast<sockaddr*>(op->address), &len);
    const int err = fd < 0 ? errno : 0;
    // ECONNABORTED: a connection reset while in the backlog is the peer's business, not ours.
    if (err == EINTR || err == ECONNABORTED) continue;
    op->address_length = len;
    return settle_attempt(op, fd, err);
  }
}

bool attempt_finish_connect(io_op* op) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(op->fd->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) return settle_attempt(op, -1, err);
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof peer;
  if (::getpeername(op->fd->fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) {
    return settle_attempt(op, 0, 0);
  }
  return settle_attempt(op, -1, errno == ENOTCONN ? EAGAIN : errno);
}

bool out_of_resources(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

async_fd open_socket(const endpoint& local, int type, const char* what) {
  if (local.family() == endpoint::family_type::none) {
    throw std::invalid_argument(std::string(what) + ": empty endpoint");
  }
  const int family = static_cast<const sockaddr*>(local.data())->sa_family;
  const int fd = os::socket_nonblocking_cloexec(family, type, 0);
  if (fd < 0) throw_errno(errno, what);
  return async_fd(fd, async_fd::adopt_socket_t{});
}

void set_int_option(int fd, int level, int name, int value, const char* what) {
  if (fd < 0) throw std::system_error(make_error_code(errc::closed), what);
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) throw_errno(errno, what);
}

endpoint socket_name(int fd, bool peer, const char* what) {
  if (fd < 0) throw std::system_error(make_error_code(errc::closed), what);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len)
                     : ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (r < 0) throw_errno(errno, what);
  return endpoint::from_raw(&sa, len);
}

void bind_and_listen(async_fd& sock, const endpoint& local, int backlog, const char* what) {
  if (::bind(sock.native_handle(), static_cast<const sockaddr*>(local.data()), local.size()) < 0) {
    throw_errno(errno, what);
  }
  if (::listen(sock.native_handle(), backlog) < 0) throw_errno(errno, what);
}

task<async_fd> accept_socket(async_fd& listener, const char* what) {
  std::chrono::nanoseconds delay = std::chrono::milliseconds(10);
  for (;;) {
    sockaddr_storage peer{};
    fd_io_awaiter op(listener.entry(), io_dir::read, &attempt_accept, nullptr, 0, what,
                     io_kind::accept);
    op.with_address(&peer, sizeof peer);
    int fd = -1;
    try {
      fd = static_cast<int>(co_await op);
    } catch (const std::system_error& e) {
      if (e.code().category() != std::generic_category() || !out_of_resources(e.code().value())) {
        throw;
      }
      count(thread_count::accepts_out_of_resources);
    }
    if (fd >= 0) co_return async_fd(fd, async_fd::adopt_socket_t{});
    co_await sleep_for(delay);
    delay = std::min<std::chrono::nanoseconds>(delay * 2, std::chrono::seconds(1));
  }
}

task<void> connect_socket(async_fd& sock, const endpoint& peer, const char* what) {
  int r;
  do {
    r = ::connect(sock.native_handle(), static_cast<const sockaddr*>(peer.data()), peer.size());
  } while (r < 0 && errno == EINTR);
  if (r == 0) co_return;
  // A unix socket whose listener's backlog is full fails with EAGAIN: an error, not a wait.
  if (errno != EINPROGRESS) throw_errno(errno, what);
  co_await fd_io_awaiter(sock.entry(), io_dir::write, &attempt_finish_connect, nullptr, 0, what);
}

}  // namespace coloop::detail
