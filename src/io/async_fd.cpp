// async_fd: ownership and registration of a non-blocking fd, and the syscalls of its operations
// (the attempt functions io_ops.cpp calls when an operation may complete).
//
// Invariants: entry_ and loop_ are both set or both null; the fd is registered exactly while
// entry_ is set, and is closed right after it is deregistered (so no other thread can reuse the
// number while the reactor still watches it). An attempt function runs one syscall (EINTR
// retried) and reports EAGAIN by clearing the cached readiness and returning false.
//
// SIGPIPE: sockets use send(MSG_NOSIGNAL; runtime/os/sockets.hpp). write() on a pipe whose
// reader is gone raises SIGPIPE in the calling thread, and a library must not change the
// process's disposition (SIG_IGN), so write_without_sigpipe blocks SIGPIPE for this thread only
// around the write and, if the write failed with EPIPE, consumes the SIGPIPE it raised
// (runtime/os/sigpipe.hpp: a zero-timeout sigtimedwait on Linux) before restoring the mask. A
// SIGPIPE that was already pending (the thread had it blocked) is left alone: standard signals
// do not queue, so the write cannot have added a second one. It costs two extra syscalls per
// pipe write; sockets, the hot path, pay nothing.
//
// Shutdown: close() deregisters (waiting operations fail with errc::closed, posted) and then
// closes the fd. The loop destroys its tasks before its reactor, so an async_fd living in a task
// frame is closed in time; one that outlives its loop is a bug (documented on the class).

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coloop/core/errors.hpp>
#include <coloop/io/async_fd.hpp>
#include <system_error>
#include <utility>

#include "runtime/context.hpp"
#include "runtime/io/fd_entry.hpp"
#include "runtime/os/sigpipe.hpp"
#include "runtime/os/sockets.hpp"

namespace coloop::detail {
namespace {

/// write(2) that reports EPIPE without letting a SIGPIPE reach the process (see the top).
ssize_t write_without_sigpipe(int fd, const void* buf, std::size_t n) noexcept {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const bool was_blocked = sigismember(&old, SIGPIPE) == 1;
  bool was_pending = false;
  if (was_blocked) {  // unblocked, a pending SIGPIPE would have been delivered already
    sigset_t pending;
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE) == 1;
  }
  const ssize_t r = ::write(fd, buf, n);
  const int err = errno;
  if (r < 0 && err == EPIPE && !was_pending) os::discard_pending_sigpipe();
  if (!was_blocked) pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return r;
}

/// Runs `call(op)`, a syscall, until it is not interrupted, and settles `op` with its outcome.
template <class Call>
bool attempt_syscall(io_op* op, Call call) noexcept {
  for (;;) {
    const ssize_t r = call(op);
    const int err = r < 0 ? errno : 0;
    if (err != EINTR) return settle_attempt(op, r, err);
  }
}

/// Closes the fd it holds unless released (set to -1): constructors own the fd even when they
/// throw.
struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

bool settle_attempt(io_op* op, long r, int err) noexcept {
  if (r >= 0) {
    op->result = static_cast<std::size_t>(r);
    op->error = 0;
    return true;
  }
  if (err == EAGAIN || err == EWOULDBLOCK) {
    op->fd->ready[index(op->dir)] = false;
    return false;
  }
  op->error = err;
  return true;
}

bool attempt_read(io_op* op) noexcept {
  return attempt_syscall(op, [](io_op* o) { return ::read(o->fd->fd, o->buffer, o->length); });
}

bool attempt_send(io_op* op) noexcept {
  return attempt_syscall(
      op, [](io_op* o) { return ::send(o->fd->fd, o->buffer, o->length, os::send_flags); });
}

bool attempt_read_stream(io_op* op) noexcept {
  const bool done = attempt_read(op);
  if (done && op->error == 0 && op->result > 0 && op->result < op->length && !op->fd->peer_closed) {
    op->fd->ready[0] = false;
  }
  return done;
}

bool attempt_send_stream(io_op* op) noexcept {
  const bool done = attempt_send(op);
  if (done && op->error == 0 && op->result < op->length && !op->fd->peer_closed)
    op->fd->ready[1] = false;
  return done;
}

bool attempt_readable(io_op*) noexcept { return true; }

bool attempt_write(io_op* op) noexcept {
  return attempt_syscall(
      op, [](io_op* o) { return write_without_sigpipe(o->fd->fd, o->buffer, o->length); });
}

void throw_io_error(int error, const char* what) {
  if (error < 0) throw std::system_error(make_error_code(static_cast<errc>(-error)), what);
  throw_errno(error, what);
}

namespace {

/// try_read / try_write: one attempt, and only with readiness cached (edge-triggered: without
/// it the syscall would only return EAGAIN); -1 when it would block.
long try_once(fd_entry* e, io_dir d, void* buf, std::size_t n, bool (*attempt)(io_op*) noexcept,
              const char* what) {
  if (e == nullptr) throw_io_error(-static_cast<int>(errc::closed), what);
  io_op op;
  op.fd = e;
  op.dir = d;
  op.buffer = buf;
  op.length = n;
  entry_lock lock(*e);
  if (!e->ready[index(d)] || !attempt(&op)) return -1;
  lock.unlock();
  if (op.error != 0) throw_io_error(op.error, what);
  return static_cast<long>(op.result);
}

}  // namespace

}  // namespace coloop::detail

namespace coloop {
using detail::current_driver;
using detail::driver;
using detail::fd_closer;
using detail::io_dir;
using detail::throw_errno;

async_fd::async_fd(int fd) : async_fd(fd, false) {}

async_fd::async_fd(int fd, adopt_socket_t) : async_fd(fd, true) {}

async_fd::async_fd(int fd, bool adopt) : is_socket_(adopt) {
  fd_closer guard{fd};
  if (fd < 0) throw_errno(EBADF, "coloop::async_fd");
  driver& loop = current_driver("coloop::async_fd");
  if (!adopt) {
    const int status = ::fcntl(fd, F_GETFL);
    if (status < 0) throw_errno(errno, "coloop::async_fd: fcntl(F_GETFL)");
    if ((status & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, status | O_NONBLOCK) < 0) {
      throw_errno(errno, "coloop::async_fd: fcntl(F_SETFL)");
    }
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) throw_errno(errno, "coloop::async_fd: fcntl(F_GETFD)");
    if ((flags & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
      throw_errno(errno, "coloop::async_fd: fcntl(F_SETFD)");
    }
    struct stat st {};
    if (::fstat(fd, &st) < 0) throw_errno(errno, "coloop::async_fd: fstat");
    is_socket_ = S_ISSOCK(st.st_mode);
  }
  entry_ = loop.register_fd(fd);
  loop_ = &loop;
  guard.fd = -1;
}

async_fd::async_fd(async_fd&& other) noexcept
    : entry_(std::exchange(other.entry_, nullptr)),
      loop_(std::exchange(other.loop_, nullptr)),
      is_socket_(other.is_socket_) {}

async_fd& async_fd::operator=(async_fd&& other) noexcept {
  if (this != &other) {
    close();
    entry_ = std::exchange(other.entry_, nullptr);
    loop_ = std::exchange(other.loop_, nullptr);
    is_socket_ = other.is_socket_;
  }
  return *this;
}

void async_fd::close() noexcept {
  if (entry_ == nullptr) return;
  const int fd = entry_->fd;
  std::exchange(loop_, nullptr)->deregister_fd(std::exchange(entry_, nullptr));
  ::close(fd);  // Linux closes the fd even when this fails (EINTR included): never retry
}

long async_fd::try_read(void* buf, std::size_t n) {
  return detail::try_once(entry_, io_dir::read, buf, n, &detail::attempt_read_stream,
                          "coloop::async_fd::try_read");
}

long async_fd::try_write(const void* buf, std::size_t n) {
  return detail::try_once(entry_, io_dir::write, const_cast<void*>(buf), n,
                          is_socket_ ? &detail::attempt_send_stream : &detail::attempt_write,
                          "coloop::async_fd::try_write");
}

int async_fd::native_handle() const noexcept { return entry_ != nullptr ? entry_->fd : -1; }

task<void> async_fd::write_all(const void* buf, std::size_t n) {
  const auto* p = static_cast<const std::byte*>(buf);
  while (n > 0) {
    const std::size_t k = co_await write_some(p, n);
    p += k;
    n -= k;
  }
}

}  // namespace coloop
