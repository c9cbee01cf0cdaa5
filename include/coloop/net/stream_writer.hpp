#pragma once
// stream_writer: buffered writes to a connected stream socket with flow control
// (asyncio.StreamWriter over its transport).

#include <coloop/core/task.hpp>
#include <coloop/net/endpoint.hpp>
#include <cstddef>
#include <memory>
#include <string_view>

namespace coloop {

namespace detail {
struct stream_transport;
}

/// The writing half of a stream (see make_streams, open_connection, start_server). Move-only; use
/// it on its loop's thread. write() sends at once what the socket takes and buffers the rest,
/// which a background task flushes; drain() is the flow control: it waits while the buffer is
/// above the high-water mark until it falls to the low one. Destroying the writer close()s it.
///
/// Errors: std::system_error with the socket's errno (EPIPE, ECONNRESET, ...) once a write
/// failed (the buffered bytes are then dropped), errc::closed after close(), abort() or
/// write_eof() (for writes). A failure concerns this stream only.
class stream_writer {
 public:
  static constexpr std::size_t default_high_water = 64 * 1024;
  static constexpr std::size_t default_low_water = 16 * 1024;

  stream_writer() noexcept = default;
  /// For make_streams: the writing half of `transport`.
  explicit stream_writer(std::shared_ptr<detail::stream_transport> transport) noexcept;
  stream_writer(stream_writer&&) noexcept = default;
  stream_writer& operator=(stream_writer&& other) noexcept;
  ~stream_writer();

  /// Sends `data` now as far as the socket takes it, buffers the rest (never blocks, never
  /// suspends). Throws the error that broke the stream, or errc::closed after close(), abort()
  /// or write_eof().
  void write(std::string_view data);
  /// Waits while more than the high-water mark is buffered, until at most the low-water mark is.
  /// Throws the error that broke the stream, errc::closed after abort() or when close() is
  /// called while it waits, cancelled_error when cancelled (the buffered data is kept).
  task<void> drain();
  /// Sends what is buffered, then shuts the write side down (the peer reads end of stream);
  /// reading goes on. Throws as write() does; an error of the shutdown itself breaks the stream.
  void write_eof();
  /// Flushes the buffer in the background, then closes the socket (the reader too: its pending
  /// read throws errc::closed). Idempotent; never throws.
  void close() noexcept;
  /// Closes the socket now, dropping the buffered bytes. Idempotent; never throws.
  void abort() noexcept;
  /// Waits until the socket is closed (after close(): once everything was sent). Throws the
  /// error that broke the stream, if any; cancellable (the close goes on).
  task<void> wait_closed();
  /// Whether close() or abort() was called, or a write failed.
  bool is_closing() const noexcept;

  /// Bytes buffered, not yet taken by the socket.
  std::size_t buffer_size() const noexcept;
  /// Sets the flow-control marks; std::invalid_argument unless low <= high.
  void set_write_buffer_limits(std::size_t high, std::size_t low);
  /// The peer's and this side's address (asyncio's get_extra_info("peername"/"sockname")).
  /// Throw std::system_error (errc::closed once closed).
  endpoint remote_endpoint() const;
  endpoint local_endpoint() const;
  /// Whether this writer belongs to a stream (false when default-constructed or moved from).
  bool valid() const noexcept { return transport_ != nullptr; }

 private:
  detail::stream_transport& checked() const;
  std::shared_ptr<detail::stream_transport> transport_;
};

}  // namespace coloop
