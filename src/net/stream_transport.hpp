#pragma once
// stream_transport: the socket and write state a stream_reader and stream_writer share, plus the
// I/O step both use. Private to src/net.

#include <coloop/io/async_fd.hpp>
#include <coloop/net/stream_socket.hpp>
#include <coloop/net/streams.hpp>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/io/fd_entry.hpp"
#include <coloop/detail/wait_list.hpp>

namespace coloop::detail {

struct stream_transport;

/// One syscall attempt on a stream's socket, as an awaitable that never holds a buffer while it
/// waits. When readiness is cached it runs `attempt` inside submit and completes at once;
/// otherwise it waits for the next readiness edge *without* transferring anything and yields
/// `retry`: the caller then tries again. So a read buffer may be a thread-local scratch area
/// (an idle connection holds none), and the write buffer (a write step sends the transport's
/// buffered bytes, looked up when it starts) may grow or be compacted while the flusher waits.
/// The step starts under the transport's lock, so the socket cannot be closed under it.
/// Cancel-safe: a cancelled wait transferred nothing.
class [[nodiscard]] io_step {
 public:
  static constexpr std::size_t retry = static_cast<std::size_t>(-1);

  /// A read of up to `length` bytes into `buffer`.
  io_step(stream_transport& t, void* buffer, std::size_t length, const char* what) noexcept;
  /// A send of the transport's buffered bytes.
  io_step(stream_transport& t, const char* what) noexcept;
  io_step(const io_step&) = delete;
  io_step& operator=(const io_step&) = delete;
  ~io_step();

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    return start(waiter, cancel_state_of(waiter));
  }
  /// The bytes transferred (0 for a read at end of stream), or `retry`. Throws as
  /// fd_io_awaiter does (std::system_error, errc::closed, cancelled_error).
  std::size_t await_resume() const;

 private:
  bool start(std::coroutine_handle<> waiter, cancel_state* cancel);
  stream_transport& t_;
  io_op op_;
  const char* what_;
  bool waited_ = false;
};

/// The async_fd inside a stream_socket (its fd_ is protected; a pointer to member reaches it).
async_fd& fd_of(stream_socket& socket) noexcept;

/// Shared by a stream's reader, writer and flusher task; destroyed (closing the socket) with the
/// last of them. On the runtime these run on any worker: every field below `mutex` is guarded
/// by it (see transport_scope); on an event_loop the lock is skipped.
struct stream_transport : std::enable_shared_from_this<stream_transport> {
  /// `pipe`: `s` holds one end of a pipe, not a socket: writes use write() (SIGPIPE held off)
  /// and a half-close closes the fd (a pipe end is only ever read or only ever written).
  stream_transport(stream_socket s, const stream_options& options, bool pipe = false);
  ~stream_transport();

  // The functions below are called inside a transport_scope; what they wake is woken as it ends.
  fd_entry* entry() noexcept { return fd_of(socket).entry(); }
  std::size_t buffered() const noexcept { return out.size() - out_begin; }
  /// Records the first failure: drops the buffer, wakes drain().
  void fail(std::exception_ptr e) noexcept;
  /// Called when nothing is left to send: shuts down or closes as requested.
  void flushed() noexcept;
  void close_socket() noexcept;
  /// write_eof() once flushed: shutdown(SHUT_WR) on a socket, close() on a pipe. A failure is
  /// recorded (fail).
  void shut_write() noexcept;
  /// The attempt function of a write: send() on a socket, write() on a pipe.
  bool (*write_attempt() const noexcept)(io_op*) noexcept {
    return pipe ? &attempt_write : &attempt_send_stream;
  }
  /// Starts the flusher task for the buffered bytes.
  void start_flusher();

  const bool shared;  // on the runtime: take `mutex`
  const bool pipe;    // the fd is a pipe end (see the constructor)
  mutable std::mutex mutex;
  stream_socket socket;
  std::size_t limit;
  std::size_t high_water;
  std::size_t low_water;

  std::string out;  // unsent bytes are out[out_begin, size)
  std::size_t out_begin = 0;
  std::exception_ptr error;  // the failure that broke the stream
  bool flushing = false;     // the flusher task runs (exactly while bytes are buffered)
  bool closing = false;      // close() or abort(): close the socket once flushed
  bool aborted = false;
  bool eof_requested = false;  // write_eof(): shut down once flushed
  bool closed = false;         // the socket was closed by the writer side
  enum wake : unsigned char { wake_drain = 1, wake_closed = 2 };
  unsigned char to_wake = 0;  // what the current scope's changes must wake on leaving
  wait_list drain_waiters;    // woken at the low-water mark, on failure and on close
  wait_list closed_waiters;   // woken when closed
};

/// Holds a transport's lock (on the runtime) for a scope. On leaving it releases the lock and
/// only then wakes the waiters the scope's changes asked for (to_wake): the wait lists check
/// their predicates under their own lock, and those take the transport's, so waking under it
/// could deadlock.
class transport_scope {
 public:
  explicit transport_scope(stream_transport& t) noexcept;
  ~transport_scope();

 private:
  stream_transport& t_;
  std::unique_lock<std::mutex> lock_;
};

/// The thread's scratch area reads go through (never held across a suspension).
inline constexpr std::size_t scratch_size = 64 * 1024;
char* scratch() noexcept;

}  // namespace coloop::detail
