#pragma once
// Unix-domain stream sockets: unix_stream (a connection) and unix_listener.

#include <coloop/core/task.hpp>
#include <coloop/io/async_fd.hpp>
#include <coloop/net/endpoint.hpp>
#include <coloop/net/stream_socket.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace coloop {

/// A unix-domain stream connection. See stream_socket for I/O and errors.
class unix_stream : public stream_socket {
 public:
  unix_stream() noexcept = default;
  explicit unix_stream(async_fd fd) noexcept : stream_socket(std::move(fd)) {}

  /// Connects to the socket at `path`. Throws std::system_error (ENOENT, ECONNREFUSED, ...),
  /// std::invalid_argument for a bad path; cancellable.
  static task<unix_stream> connect(std::string_view path);
  /// Two connected streams (socketpair). Throws std::system_error.
  static std::pair<unix_stream, unix_stream> pair();
};

/// A listening unix-domain socket. It removes its socket file when closed.
class unix_listener {
 public:
  unix_listener() noexcept = default;
  unix_listener(unix_listener&& other) noexcept;
  unix_listener& operator=(unix_listener&& other) noexcept;
  ~unix_listener() { close(); }

  /// Binds and listens at `path`; a stale socket file there (no one listening) is replaced.
  /// Throws std::system_error (EADDRINUSE when someone listens there, EACCES, ...),
  /// std::invalid_argument for a bad path.
  static unix_listener bind(std::string_view path, int backlog = 1024);
  /// The next connection; EMFILE handling and errors as tcp_listener::accept.
  task<unix_stream> accept();
  const std::string& path() const noexcept { return path_; }
  /// Closes the socket and removes its file. Idempotent.
  void close() noexcept;
  bool is_open() const noexcept { return fd_.is_open(); }

 private:
  async_fd fd_;
  std::string path_;
};

}  // namespace coloop
