#pragma once
// stream_reader: buffered reads from a connected stream socket (asyncio.StreamReader), and the
// errors its reads throw: limit_overrun_error and incomplete_read_error.

#include <coloop/core/task.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace coloop {

namespace detail {
struct stream_transport;
}

/// A read passed the reader's limit (errc::limit_overrun), like asyncio.LimitOverrunError.
class limit_overrun_error : public std::system_error {
 public:
  limit_overrun_error(std::size_t consumed, const char* what);
  /// read_until: how many buffered bytes to consume to get past the problem (nothing was
  /// consumed). read_line: how many bytes were discarded (the whole over-long line).
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

/// The stream ended before a read was satisfied (errc::incomplete_read), like
/// asyncio.IncompleteReadError. The partial bytes were consumed from the reader.
class incomplete_read_error : public std::system_error {
 public:
  incomplete_read_error(std::string partial, std::optional<std::size_t> expected);
  /// The bytes read before the end of stream.
  const std::string& partial() const noexcept { return *partial_; }
  /// The byte count asked for (read_exactly), or none (read_until).
  std::optional<std::size_t> expected() const noexcept { return expected_; }

 private:
  std::shared_ptr<const std::string> partial_;  // shared: copying the exception never throws
  std::optional<std::size_t> expected_;
};

/// The reading half of a stream (see make_streams, open_connection, start_server). Move-only; use
/// it on its loop's thread; one read at a time, and do not move or destroy the reader while a
/// read of it is pending. Reads go straight to the socket; only bytes read past what a call
/// returns are kept (the buffer is released when it empties, so an idle reader holds none).
///
/// Errors: std::system_error with the socket's errno (ECONNRESET, ...) or errc::closed once the
/// stream's writer closed or aborted it. Cancellation: a cancelled read throws cancelled_error
/// and loses no byte: whatever arrived stays buffered for the next read.
class stream_reader {
 public:
  static constexpr std::size_t default_limit = 64 * 1024;
  /// read(): read to the end of stream.
  static constexpr std::size_t all = static_cast<std::size_t>(-1);

  stream_reader() noexcept = default;
  /// For make_streams: the reading half of `transport`.
  explicit stream_reader(std::shared_ptr<detail::stream_transport> transport) noexcept;
  stream_reader(stream_reader&&) noexcept = default;
  stream_reader& operator=(stream_reader&&) noexcept = default;
  ~stream_reader();

  /// Up to `n` bytes, at least one unless the stream ended ("" at end of stream, or n == 0);
  /// read(all) (the default) reads to the end of stream, with no limit.
  task<std::string> read(std::size_t n = all);
  /// Like read(n) into `buf` (no allocation): the byte count, 0 at end of stream or for n == 0.
  task<std::size_t> read_into(void* buf, std::size_t n);
  /// Exactly `n` bytes (no limit applies; nothing is preallocated for a large n). Throws
  /// incomplete_read_error carrying the bytes read when the stream ends first.
  task<std::string> read_exactly(std::size_t n);
  /// The next line, "\n" included; at end of stream the last partial line without it, then "".
  /// A line whose length (without "\n") passes the limit is read and discarded through its
  /// "\n" (or the end of stream), then limit_overrun_error is thrown: the next read starts at
  /// the next line. Cancelled while discarding, the next read_line goes on discarding.
  task<std::string> read_line();
  /// The data up to and including `separator`. Throws std::invalid_argument for an empty
  /// separator; limit_overrun_error when the separator is not within the first limit() bytes
  /// (nothing consumed: the data stays buffered, read_exactly(e.consumed()) skips it);
  /// incomplete_read_error carrying the rest of the stream (consumed) when it ends first.
  task<std::string> read_until(std::string_view separator);
  /// Whether the end of stream has been seen and every byte before it read (no I/O).
  bool at_eof() const noexcept;

  /// Bytes buffered (read from the socket, not yet returned).
  std::size_t buffered() const noexcept { return buffer_.size() - begin_; }
  std::size_t limit() const noexcept { return limit_; }
  /// Whether this reader belongs to a stream (false when default-constructed or moved from).
  bool valid() const noexcept { return transport_ != nullptr; }

 private:
  enum class line_mode : unsigned char { until, line };
  task<std::string> read_until_impl(std::string_view fixed, std::string owned, line_mode mode);
  task<std::string> scan(std::string_view separator, line_mode mode);  // the slow path
  task<std::size_t> skip_long_line();  // discards through the next "\n"; the count discarded
  task<std::size_t> fill();            // one read into the buffer; 0 at end of stream
  std::string take(std::size_t n);
  void skip(std::size_t n) noexcept;  // drops the first n buffered bytes
  void stash(const char* data, std::size_t n);
  void keep(const char* data, std::size_t n);  // a read's `n` bytes: stashed, or 0: end of stream
  /// Held by each read coroutine: throws errc::closed without a stream and, in debug mode, marks
  /// a read under way, throwing std::logic_error if one already is (two tasks reading at once).
  class one_reader {
   public:
    explicit one_reader(stream_reader& r);
    ~one_reader();
    one_reader(const one_reader&) = delete;
    one_reader& operator=(const one_reader&) = delete;

   private:
    stream_reader* marked_;  // null outside debug mode
  };

  std::shared_ptr<detail::stream_transport> transport_;
  std::string buffer_;  // buffered bytes are buffer_[begin_, size)
  std::size_t begin_ = 0;
  std::size_t limit_ = default_limit;
  bool eof_ = false;
  std::size_t skipped_ = 0;     // bytes of the over-long line discarded so far
  bool skipping_line_ = false;  // read_line is (or, cancelled, was) discarding an over-long line
  bool reading_ = false;        // debug mode: a read is under way (one_reader)
};

}  // namespace coloop
