#pragma once
// UDP: udp_socket, datagrams to and from any peer, or one connected peer.

#include <coloop/core/task.hpp>
#include <coloop/io/async_fd.hpp>
#include <coloop/net/endpoint.hpp>
#include <cstddef>

namespace coloop {

struct datagram_info {
  std::size_t size = 0;  ///< bytes received (a longer datagram was truncated to the buffer)
  endpoint peer;
};

/// A UDP socket on the running loop. I/O errors are std::system_error with the errno (e.g.
/// ECONNREFUSED on a connected socket whose peer has no listener), errc::closed once closed.
class udp_socket {
 public:
  udp_socket() noexcept = default;
  /// Binds to `local` (port 0 picks one). Throws std::system_error, std::invalid_argument for
  /// a unix endpoint, std::logic_error without a running loop.
  static udp_socket bind(const endpoint& local);

  /// Sets the default peer: send() goes there and only its datagrams are received. Throws
  /// std::system_error.
  void connect(const endpoint& peer);
  /// Sends one datagram; yields the bytes sent. Cancellable.
  task<std::size_t> send_to(const void* buf, std::size_t n, endpoint peer);
  /// Receives one datagram and its sender. Cancel-safe (a cancelled receive took nothing).
  task<datagram_info> recv_from(void* buf, std::size_t n);
  /// Send and receive with the connected peer.
  detail::fd_io_awaiter send(const void* buf, std::size_t n) noexcept {
    return fd_.write_some(buf, n);
  }
  detail::fd_io_awaiter recv(void* buf, std::size_t n) noexcept { return fd_.read_some(buf, n); }

  endpoint local_endpoint() const;
  void close() noexcept { fd_.close(); }
  bool is_open() const noexcept { return fd_.is_open(); }

 private:
  async_fd fd_;
};

}  // namespace coloop
