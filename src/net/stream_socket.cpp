// stream_socket, tcp_stream and tcp_listener: thin layers over async_fd and socket_ops.

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <coloop/core/errors.hpp>
#include <coloop/net/resolve.hpp>
#include <coloop/net/stream_socket.hpp>
#include <coloop/net/tcp.hpp>
#include <exception>
#include <stdexcept>
#include <system_error>

#include "net/socket_ops.hpp"

namespace coloop {

void stream_socket::shutdown_write() {
  static constexpr const char* what = "coloop::stream_socket::shutdown_write";
  const int fd = fd_.native_handle();
  if (fd < 0) throw std::system_error(make_error_code(errc::closed), what);
  if (::shutdown(fd, SHUT_WR) < 0) detail::throw_errno(errno, what);
}

task<void> stream_socket::write_all(const void* buf, std::size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const std::size_t k = co_await write_some(p, n);
    p += k;
    n -= k;
  }
}

endpoint stream_socket::local_endpoint() const {
  return detail::socket_name(fd_.native_handle(), false, "coloop::stream_socket::local_endpoint");
}

endpoint stream_socket::remote_endpoint() const {
  return detail::socket_name(fd_.native_handle(), true, "coloop::stream_socket::remote_endpoint");
}

task<tcp_stream> tcp_stream::connect(endpoint peer) {
  static constexpr const char* what = "coloop::tcp_stream::connect";
  if (!peer.is_ip()) throw std::invalid_argument(std::string(what) + ": not an IP endpoint");
  tcp_stream s(detail::open_socket(peer, SOCK_STREAM, what));
  s.set_nodelay(true);
  co_await detail::connect_socket(s.fd_, peer, what);
  co_return s;
}

task<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port) {
  const std::vector<endpoint> peers = co_await resolve(host, port);
  std::exception_ptr last;
  for (const endpoint& peer : peers) {
    try {
      co_return co_await connect(peer);
    } catch (const std::system_error& e) {
      if (e.code() == errc::cancelled) throw;
      last = std::current_exception();
    }
  }
  std::rethrow_exception(last);  // resolve never yields an empty list
}

void tcp_stream::set_nodelay(bool on) {
  detail::set_int_option(fd_.native_handle(), IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0,
                         "coloop::tcp_stream::set_nodelay");
}

void tcp_stream::set_keepalive(bool on) {
  detail::set_int_option(fd_.native_handle(), SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0,
                         "coloop::tcp_stream::set_keepalive");
}

tcp_listener tcp_listener::bind(const endpoint& local, tcp_listen_options options) {
  static constexpr const char* what = "coloop::tcp_listener::bind";
  if (!local.is_ip()) throw std::invalid_argument(std::string(what) + ": not an IP endpoint");
  tcp_listener l;
  l.fd_ = detail::open_socket(local, SOCK_STREAM, what);
  const int fd = l.fd_.native_handle();
  if (options.reuse_address) detail::set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, what);
  if (options.reuse_port) detail::set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1, what);
  detail::bind_and_listen(l.fd_, local, options.backlog, what);
  return l;
}

task<tcp_stream> tcp_listener::accept() {
  tcp_stream s(co_await detail::accept_socket(fd_, "coloop::tcp_listener::accept"));
  s.set_nodelay(true);
  co_return s;
}

endpoint tcp_listener::local_endpoint() const {
  return detail::socket_name(fd_.native_handle(), false, "coloop::tcp_listener::local_endpoint");
}

}  // namespace coloop
