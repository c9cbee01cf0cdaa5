#pragma once
// TCP: tcp_stream (a connection) and tcp_listener (a bound, listening socket).

#include <coloop/core/task.hpp>
#include <coloop/io/async_fd.hpp>
#include <coloop/net/endpoint.hpp>
#include <coloop/net/stream_socket.hpp>
#include <cstdint>
#include <string>

namespace coloop {

/// A TCP connection, TCP_NODELAY on from the start. See stream_socket for I/O and errors.
class tcp_stream : public stream_socket {
 public:
  tcp_stream() noexcept = default;
  explicit tcp_stream(async_fd fd) noexcept : stream_socket(std::move(fd)) {}

  /// Connects to `peer` on the running loop. Throws std::system_error (ECONNREFUSED, ...),
  /// std::logic_error without a running loop; cancellable (wait_for gives a connect timeout).
  static task<tcp_stream> connect(endpoint peer);
  /// Resolves `host` (an IP literal is used as is) and tries each address in turn; throws the
  /// last address's error when none connects, std::invalid_argument for a bad host name.
  static task<tcp_stream> connect(std::string host, std::uint16_t port);

  /// TCP_NODELAY (on by default) and SO_KEEPALIVE (off by default). Throw std::system_error.
  void set_nodelay(bool on);
  void set_keepalive(bool on);
};

struct tcp_listen_options {
  int backlog = 1024;
  bool reuse_address = true;  ///< SO_REUSEADDR: rebind while old connections sit in TIME_WAIT
  bool reuse_port = false;    ///< SO_REUSEPORT: several listeners (one per thread) on one port
};

/// A listening TCP socket on the running loop.
class tcp_listener {
 public:
  tcp_listener() noexcept = default;
  /// Binds and listens (port 0 picks a free port: see local_endpoint()). Throws
  /// std::system_error (EADDRINUSE, EACCES, ...), std::invalid_argument for a unix endpoint,
  /// std::logic_error without a running loop.
  static tcp_listener bind(const endpoint& local, tcp_listen_options options = {});

  /// The next connection. When the process is out of fds (EMFILE, ENFILE) or memory, waits and
  /// retries with a growing delay (10 ms to 1 s) instead of failing or spinning. Throws
  /// std::system_error (errc::closed once closed); cancel-safe (no connection is lost).
  task<tcp_stream> accept();
  endpoint local_endpoint() const;
  void close() noexcept { fd_.close(); }
  bool is_open() const noexcept { return fd_.is_open(); }
  int native_handle() const noexcept { return fd_.native_handle(); }

 private:
  async_fd fd_;
};

}  // namespace coloop
