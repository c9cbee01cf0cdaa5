// stream_transport: what a stream's reader, writer and flusher share, and io_step, the I/O step
// they all use.
//
// io_step never lets the reactor transfer data into or out of a buffer while its task waits: it
// runs the syscall only inside submit (readiness cached), and otherwise waits for readiness with
// a probe that transfers nothing, then the caller tries again. So reads can go through one
// thread-local scratch area (no read buffer held by an idle connection) and the write buffer
// can grow or be compacted while the flusher waits.
//
// Write side invariants: `flushing` is true exactly while a flusher task runs, and bytes are
// buffered (out[out_begin, size)) only while it does (or until the failure that ends it is
// recorded). write() tries the socket directly only when nothing is buffered, so bytes are never
// reordered. The flusher owns a shared_ptr to the transport: buffered bytes still go out after
// the writer is destroyed. Shutdown order: flushed() drops the buffer, wakes drain(), shuts the
// write side down if write_eof() asked, and closes the socket if close() asked; abort() closes at
// once, and the flusher, resuming with errc::closed, records nothing.

#include "net/stream_transport.hpp"

#include <coloop/core/errors.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace coloop::detail {
namespace {

struct socket_access : stream_socket {
  static constexpr async_fd stream_socket::*fd = &socket_access::fd_;
};

thread_local char scratch_area[scratch_size];

task<void> flush_loop(std::shared_ptr<stream_transport> t) {
  try {
    while (t->buffered() > 0) {
      io_step step(t->entry(), io_dir::write, &attempt_send_stream, t->out.data() + t->out_begin,
                   t->buffered(), "coloop::stream_writer (flush)");
      const std::size_t n = co_await step;
      if (t->aborted) break;  // the buffer was dropped while the step's result was on its way
      if (n == io_step::retry) continue;
      t->out_begin += n;
      if (t->buffered() <= t->low_water) t->drain_waiters.notify_all();
    }
  } catch (...) {
    t->fail(std::current_exception());
  }
  t->flushing = false;
  t->flushed();
}

}  // namespace

io_step::io_step(fd_entry* entry, io_dir dir, bool (*attempt)(io_op*) noexcept, const void* buffer,
                 std::size_t length, const char* what) noexcept
    : what_(what) {
  op_.attempt = attempt;
  op_.fd = entry;
  op_.dir = dir;
  op_.buffer = const_cast<void*>(buffer);
  op_.length = length;
  op_.shared_buffer = true;  // reads go to the thread's scratch area
}

bool io_step::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  // Queued, submit makes the op only wait for readiness (shared_buffer): nothing is transferred
  // into the scratch area before this task runs again, on whichever thread.
  waited_ = true;  // set first: once queued the op may complete and resume us on another worker
  if (submit(op_, waiter, cancel)) return true;  // queued, or yielded to the coop budget: retry
  waited_ = false;  // done at once, failed, or cancel pending
  return false;
}

std::size_t io_step::await_resume() const {
  if (op_.cancelled) throw_cancelled();
  if (op_.error != 0) throw_io_error(op_.error, what_);
  return waited_ ? retry : op_.result;
}

async_fd& fd_of(stream_socket& socket) noexcept { return socket.*socket_access::fd; }

char* scratch() noexcept { return scratch_area; }

stream_transport::stream_transport(stream_socket s, const stream_options& options)
    : socket(std::move(s)),
      limit(options.limit),
      high_water(options.high_water),
      low_water(options.low_water) {}

void stream_transport::fail(std::exception_ptr e) noexcept {
  if (!aborted && !error) error = std::move(e);
  std::string().swap(out);
  out_begin = 0;
  drain_waiters.notify_all();
}

void stream_transport::flushed() noexcept {
  std::string().swap(out);
  out_begin = 0;
  drain_waiters.notify_all();
  if (eof_requested && !error && !closed) {
    try {
      socket.shutdown_write();
    } catch (...) {
      fail(std::current_exception());
    }
  }
  if (closing) close_socket();
}

void stream_transport::close_socket() noexcept {
  if (closed) return;
  closed = true;
  socket.close();  // a pending read of the reader resumes with errc::closed
  drain_waiters.notify_all();
  closed_waiters.notify_all();
}

void stream_transport::start_flusher() {
  flushing = true;
  try {
    spawn(flush_loop(shared_from_this())).detach();
  } catch (...) {
    flushing = false;
    throw;
  }
}

}  // namespace coloop::detail
