#pragma once
// stream_socket: what tcp_stream and unix_stream share, a connected stream socket on the loop.

#include <coloop/core/task.hpp>
#include <coloop/io/async_fd.hpp>
#include <coloop/net/endpoint.hpp>
#include <cstddef>

namespace coloop {

/// A connected stream socket registered with the event loop of its thread. Move-only; use it on
/// that loop's thread only and close it (or let it go) before the loop closes. One reader and one
/// writer may wait at a time. I/O errors are std::system_error with the errno (ECONNRESET,
/// EPIPE, ...), or errc::closed once the socket is closed; SIGPIPE is never raised.
class stream_socket {
 public:
  stream_socket() noexcept = default;
  /// Wraps a connected socket fd (ownership taken).
  explicit stream_socket(async_fd fd) noexcept : fd_(std::move(fd)) {}

  /// Awaitable: up to `n` bytes into `buf`; 0 at end of stream. Cancel-safe: a cancelled read
  /// consumed nothing.
  detail::fd_io_awaiter read_some(void* buf, std::size_t n) noexcept {
    return {fd_.entry(),
            detail::io_dir::read,
            &detail::attempt_read_stream,
            buf,
            n,
            "coloop::stream_socket::read_some",
            detail::io_kind::recv};
  }
  /// Awaitable: writes up to `n` bytes, yields how many (at least 1 when n > 0). A cancelled
  /// write wrote nothing.
  detail::fd_io_awaiter write_some(const void* buf, std::size_t n) noexcept {
    return {fd_.entry(),
            detail::io_dir::write,
            &detail::attempt_send_stream,
            const_cast<void*>(buf),
            n,
            "coloop::stream_socket::write_some",
            detail::io_kind::send};
  }
  /// Awaitable: completes once data (or end of stream, or an error) may be read, consuming
  /// nothing; with try_read_some, a connection holds no buffer while it waits.
  detail::fd_io_awaiter wait_readable() noexcept { return fd_.wait_readable(); }
  /// One non-blocking read: the byte count (0 at end of stream) or -1 when nothing is there.
  /// Throws std::system_error like read_some.
  long try_read_some(void* buf, std::size_t n) { return fd_.try_read(buf, n); }
  /// One non-blocking write: the byte count or -1 when the send buffer is full.
  long try_write_some(const void* buf, std::size_t n) { return fd_.try_write(buf, n); }
  /// Writes all `n` bytes; on an error or cancel a prefix may have been written. `buf` and the
  /// socket must stay put until it finishes.
  task<void> write_all(const void* buf, std::size_t n);
  /// Half-close: the peer reads end of stream, this side can still read. Throws
  /// std::system_error (errc::closed when closed).
  void shutdown_write();
  /// Closes the socket; operations still waiting resume with errc::closed. Idempotent.
  void close() noexcept { fd_.close(); }
  bool is_open() const noexcept { return fd_.is_open(); }
  /// This side's and the peer's address. Throw std::system_error (errc::closed when closed).
  endpoint local_endpoint() const;
  endpoint remote_endpoint() const;
  /// The fd, or -1 once closed.
  int native_handle() const noexcept { return fd_.native_handle(); }

 protected:
  async_fd fd_;
};

}  // namespace coloop
