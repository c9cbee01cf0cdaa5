#pragma once
// async_fd: a non-blocking file descriptor registered with the event loop (or runtime) of its
// thread, with cancel-safe read/write awaitables. The building block of pipes, sockets,
// subprocess stdio and whatever fd a user brings (asyncio's add_reader, tokio's AsyncFd).
// No OS headers here: the syscalls live in src/io/async_fd.cpp.

#include <coloop/core/task.hpp>
#include <coloop/detail/io_op.hpp>
#include <coloop/detail/promise_base.hpp>
#include <coroutine>
#include <cstddef>
#include <utility>

namespace coloop::detail {

class driver;

// The attempt functions of io_op (one syscall each, EINTR retried, EAGAIN → false).
bool attempt_read(io_op* op) noexcept;
bool attempt_send(io_op* op) noexcept;   // sockets: send(MSG_NOSIGNAL)
bool attempt_write(io_op* op) noexcept;  // anything else: write() with SIGPIPE held off
// Stream sockets: as read/send, and a short transfer also clears the cached readiness (the
// receive queue is drained or the send buffer full), saving the EAGAIN syscall that would
// otherwise follow. Not for datagrams: a short datagram says nothing about the queue behind it.
bool attempt_read_stream(io_op* op) noexcept;
bool attempt_send_stream(io_op* op) noexcept;
// Completes as soon as the fd is readable (cached or reported), consuming nothing.
bool attempt_readable(io_op* op) noexcept;
/// Finishes an attempt from a syscall's return value and errno: true when the operation is done
/// (result or error set); false on EAGAIN, which also clears the cached readiness.
bool settle_attempt(io_op* op, long r, int err) noexcept;
/// Throws the exception for a failed op: std::system_error(errno, generic_category()) for a
/// positive error, std::system_error(coloop::errc) for a negative one.
[[noreturn]] void throw_io_error(int error, const char* what);

/// Awaiter of one read or write: embeds its io_op, so awaiting allocates nothing. Movable until
/// awaited (so wait_for can take it), pinned after.
class [[nodiscard]] fd_io_awaiter {
 public:
  /// `kind` lets a completion backend (io_uring) run the operation itself; `attempt` must do
  /// the same as that kind then (see io_kind).
  fd_io_awaiter(fd_entry* entry, io_dir dir, bool (*attempt)(io_op*) noexcept, void* buffer,
                std::size_t length, const char* what, io_kind kind = io_kind::other) noexcept
      : what_(what) {
    op_.attempt = attempt;
    op_.fd = entry;
    op_.dir = dir;
    op_.buffer = buffer;
    op_.length = length;
    op_.kind = kind;
  }
  fd_io_awaiter(fd_io_awaiter&& other) noexcept
      : fd_io_awaiter(other.op_.fd, other.op_.dir, other.op_.attempt, other.op_.buffer,
                      other.op_.length, other.what_, other.op_.kind) {
    with_address(other.op_.address, other.op_.address_length);
  }
  /// Gives the operation a sockaddr buffer (recvfrom, accept: capacity; sendto: size).
  void with_address(void* address, unsigned length) & noexcept {
    op_.address = address;
    op_.address_length = length;
  }
  /// The sockaddr size the OS wrote, once the operation completed.
  unsigned address_length() const noexcept { return op_.address_length; }
  fd_io_awaiter& operator=(fd_io_awaiter&&) = delete;
  /// The frame is destroyed while the operation waits: withdraw it (it transferred nothing).
  ~fd_io_awaiter() {
    if (op_.queued) withdraw(op_);
  }

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    return submit(op_, waiter, cancel_state_of(waiter));
  }
  std::size_t await_resume() const {
    if (op_.cancelled) throw_cancelled();
    if (op_.error != 0) throw_io_error(op_.error, what_);
    return op_.result;
  }

 private:
  io_op op_;
  const char* what_;
};

}  // namespace coloop::detail

namespace coloop {

/// Owns a file descriptor, non-blocking and close-on-exec, registered with the event loop
/// running on the constructing thread. Move-only; use it on that loop's thread only, and close
/// or destroy it before the loop is closed. Do not move or destroy it while one of its
/// write_all() tasks runs. At most one read_some and one write_some should wait at a time (more
/// are served FIFO).
class async_fd {
  using fd_io_awaiter = detail::fd_io_awaiter;
  using io_dir = detail::io_dir;
  using io_kind = detail::io_kind;

 public:
  async_fd() noexcept = default;
  /// Takes ownership of `fd` (even when it throws: the fd is closed then), makes it
  /// non-blocking and close-on-exec and registers it with the current loop. Throws
  /// std::logic_error when no loop runs on this thread, std::system_error when the fd cannot be
  /// set up or polled (EPERM for a regular file).
  explicit async_fd(int fd);
  /// Takes a socket that is already non-blocking and close-on-exec (made with SOCK_NONBLOCK |
  /// SOCK_CLOEXEC), skipping the checks; errors as above.
  struct adopt_socket_t {};
  async_fd(int fd, adopt_socket_t);
  async_fd(async_fd&& other) noexcept;
  async_fd& operator=(async_fd&& other) noexcept;
  async_fd(const async_fd&) = delete;
  async_fd& operator=(const async_fd&) = delete;
  ~async_fd() { close(); }

  /// Awaitable: reads up to `n` bytes into `buf`; yields the byte count, 0 at end of stream.
  /// Throws std::system_error (errno; errc::closed once the fd is closed), cancelled_error when
  /// the task is cancelled while it waits; a cancelled read has consumed no bytes.
  fd_io_awaiter read_some(void* buf, std::size_t n) noexcept {
    return {entry_, io_dir::read, &detail::attempt_read, buf, n, "coloop::async_fd::read_some",
            is_socket_ ? io_kind::recv : io_kind::other};
  }
  /// Awaitable: writes up to `n` bytes from `buf`; yields the byte count written (at least 1
  /// when n > 0). Never raises SIGPIPE: a peer that is gone gives std::system_error(EPIPE).
  /// Errors and cancellation as read_some; a cancelled write has written nothing.
  fd_io_awaiter write_some(const void* buf, std::size_t n) noexcept {
    return {entry_,
            io_dir::write,
            is_socket_ ? &detail::attempt_send : &detail::attempt_write,
            const_cast<void*>(buf),
            n,
            "coloop::async_fd::write_some",
            is_socket_ ? io_kind::send : io_kind::other};
  }
  /// Awaitable: completes once the fd is (or may be) readable, reading nothing; pair it with
  /// try_read so no buffer is held while waiting. Errors and cancellation as read_some.
  fd_io_awaiter wait_readable() noexcept {
    return {entry_, io_dir::read, &detail::attempt_readable, nullptr, 0,
            "coloop::async_fd::wait_readable"};
  }
  /// One non-blocking read: the byte count (0 at end of stream), or -1 when nothing is there
  /// (the cached readiness is cleared then). For byte streams (pipes, stream sockets) with no
  /// read_some waiting. Throws std::system_error (errc::closed when closed).
  long try_read(void* buf, std::size_t n);
  /// One non-blocking write: the byte count, or -1 when the fd is full. Errors as try_read.
  long try_write(const void* buf, std::size_t n);

  /// Writes all `n` bytes (a loop of write_some). On an error or a cancel, a prefix may have
  /// been written. `buf` and this async_fd must stay put until the task finishes.
  task<void> write_all(const void* buf, std::size_t n);

  /// Deregisters and closes the fd; operations still waiting (of other tasks) resume with
  /// std::system_error(errc::closed). Idempotent; never throws.
  void close() noexcept;
  bool is_open() const noexcept { return entry_ != nullptr; }
  /// The fd, or -1 once closed.
  int native_handle() const noexcept;
  /// The reactor's entry, for operations built elsewhere (accept, connect); null once closed.
  detail::fd_entry* entry() const noexcept { return entry_; }

 private:
  async_fd(int fd, bool adopt);  // both public constructors; `adopt`: adopt_socket_t's
  detail::fd_entry* entry_ = nullptr;
  detail::driver* loop_ = nullptr;
  bool is_socket_ = false;
};

}  // namespace coloop
