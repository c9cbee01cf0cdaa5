// udp_socket: datagrams through io_op attempts of sendto/recvfrom with the peer address kept in
// the operation (so the awaiting frame owns it and nothing is allocated).

#include <errno.h>
#include <sys/socket.h>

#include <coloop/net/udp.hpp>
#include <stdexcept>
#include <string>

#include "net/socket_ops.hpp"
#include "runtime/os/sockets.hpp"

namespace coloop {
namespace {

bool attempt_sendto(detail::io_op* op) noexcept {
  for (;;) {
    const ssize_t r = ::sendto(op->fd->fd, op->buffer, op->length, detail::os::send_flags,
                               static_cast<const sockaddr*>(op->address), op->address_length);
    const int err = r < 0 ? errno : 0;
    if (err != EINTR) return detail::settle_attempt(op, r, err);
  }
}

bool attempt_recvfrom(detail::io_op* op) noexcept {
  for (;;) {
    auto len = static_cast<socklen_t>(op->address_length);
    const ssize_t r = ::recvfrom(op->fd->fd, op->buffer, op->length, 0,
                                 static_cast<sockaddr*>(op->address), &len);
    const int err = r < 0 ? errno : 0;
    if (err == EINTR) continue;
    op->address_length = len;
    return detail::settle_attempt(op, r, err);
  }
}

}  // namespace

udp_socket udp_socket::bind(const endpoint& local) {
  static constexpr const char* what = "coloop::udp_socket::bind";
  if (!local.is_ip()) throw std::invalid_argument(std::string(what) + ": not an IP endpoint");
  udp_socket s;
  s.fd_ = detail::open_socket(local, SOCK_DGRAM, what);
  if (::bind(s.fd_.native_handle(), static_cast<const sockaddr*>(local.data()), local.size()) < 0) {
    detail::throw_errno(errno, what);
  }
  return s;
}

void udp_socket::connect(const endpoint& peer) {
  static constexpr const char* what = "coloop::udp_socket::connect";
  if (!fd_.is_open()) throw std::system_error(make_error_code(errc::closed), what);
  if (::connect(fd_.native_handle(), static_cast<const sockaddr*>(peer.data()), peer.size()) < 0) {
    detail::throw_errno(errno, what);
  }
}

task<std::size_t> udp_socket::send_to(const void* buf, std::size_t n, endpoint peer) {
  detail::fd_io_awaiter op(fd_.entry(), detail::io_dir::write, &attempt_sendto,
                           const_cast<void*>(buf), n, "coloop::udp_socket::send_to");
  op.with_address(const_cast<void*>(peer.data()), peer.size());
  co_return co_await op;
}

task<datagram_info> udp_socket::recv_from(void* buf, std::size_t n) {
  sockaddr_storage from{};
  detail::fd_io_awaiter op(fd_.entry(), detail::io_dir::read, &attempt_recvfrom, buf, n,
                           "coloop::udp_socket::recv_from");
  op.with_address(&from, sizeof from);
  const std::size_t size = co_await op;
  co_return datagram_info{size, endpoint::from_raw(&from, op.address_length())};
}

endpoint udp_socket::local_endpoint() const {
  return detail::socket_name(fd_.native_handle(), false, "coloop::udp_socket::local_endpoint");
}

}  // namespace coloop
