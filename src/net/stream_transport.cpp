// stream_transport: what a stream's reader, writer and flusher share, and io_step, the I/O step
// they all use, which never holds a buffer while it waits (see stream_transport.hpp).
//
// Write side invariants: `flushing` is true exactly while a flusher task runs, and bytes are
// buffered (out[out_begin, size)) only while it does (or until the failure that ends it is
// recorded). write() tries the socket directly only when nothing is buffered, so bytes are never
// reordered. The flusher owns a shared_ptr to the transport: buffered bytes still go out after
// the writer is destroyed. Shutdown order: flushed() drops the buffer, wakes drain(), shuts the
// write side down if write_eof() asked, and closes the socket if close() asked; abort() closes at
// once, and the flusher, resuming with errc::closed, records nothing.
//
// On the runtime the writer's caller, the flusher and the reader may run on different workers:
// every change of the write state happens in a transport_scope, and io_step starts its syscall
// under the same lock (so close_socket() cannot free the fd entry it uses).

#include "net/stream_transport.hpp"

#include "core/metrics_source.hpp"

#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/spawn.hpp>
#include <utility>

namespace coloop::detail {
namespace {

struct socket_access : stream_socket {
  static constexpr async_fd stream_socket::*fd = &socket_access::fd_;
};

thread_local char scratch_area[scratch_size];

std::unique_lock<std::mutex> lock_if_shared(stream_transport& t) {
  return t.shared ? std::unique_lock(t.mutex) : std::unique_lock<std::mutex>();
}

task<void> flush_loop(std::shared_ptr<stream_transport> t) {
  for (;;) {
    std::exception_ptr failure;
    std::size_t n = io_step::retry;
    try {
      io_step step(*t, "coloop::stream_writer (flush)");
      n = co_await step;
    } catch (...) {
      failure = std::current_exception();
    }
    transport_scope scope(*t);
    if (failure) {
      t->fail(std::move(failure));
    } else if (n != io_step::retry && !t->aborted) {  // aborted: the buffer is gone already
      t->out_begin += n;
      if (t->buffered() <= t->low_water) t->to_wake |= stream_transport::wake_drain;
    }
    if (t->buffered() == 0) {  // decided under the lock: write() appends only while flushing
      t->flushing = false;
      t->flushed();
      co_return;
    }
  }
}

}  // namespace

io_step::io_step(stream_transport& t, void* buffer, std::size_t length, const char* what) noexcept
    : t_(t), what_(what) {
  op_.attempt = &attempt_read_stream;
  op_.dir = io_dir::read;
  op_.buffer = buffer;
  op_.length = length;
  op_.shared_buffer = true;  // reads may go to the thread's scratch area
}

io_step::io_step(stream_transport& t, const char* what) noexcept : t_(t), what_(what) {
  op_.attempt = t.write_attempt();
  op_.dir = io_dir::write;
  op_.shared_buffer = true;  // the buffer may move while the step waits
}

io_step::~io_step() {
  if (!waited_) return;  // never queued
  const std::unique_lock lock = lock_if_shared(t_);  // the socket is not closed meanwhile
  if (op_.queued) withdraw(op_);
}

bool io_step::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  // Released on return, perhaps after the op completed and resumed us on another worker: that
  // worker's next step waits for it, and ~stream_transport takes the lock before freeing it.
  const std::unique_lock lock = lock_if_shared(t_);
  op_.fd = t_.entry();  // null once closed: submit fails the op with errc::closed
  if (op_.dir == io_dir::write) {
    op_.buffer = t_.out.data() + t_.out_begin;
    op_.length = t_.buffered();
  }
  // Queued, submit makes the op only wait for readiness (shared_buffer): nothing is transferred
  // before this task runs again, on whichever thread.
  waited_ = true;  // set first: once queued the op may complete and resume us on another worker
  if (submit(op_, waiter, cancel)) return true;  // queued, or yielded to the coop budget: retry
  waited_ = false;  // done at once, failed, or cancel pending
  return false;
}

std::size_t io_step::await_resume() const {
  if (op_.cancelled) throw_cancelled();
  if (op_.error != 0) throw_io_error(op_.error, what_);
  if (waited_) return retry;
  count(op_.dir == io_dir::read ? thread_count::stream_bytes_read
                                : thread_count::stream_bytes_written,
        op_.result);
  return op_.result;
}

async_fd& fd_of(stream_socket& socket) noexcept { return socket.*socket_access::fd; }

char* scratch() noexcept { return scratch_area; }

stream_transport::stream_transport(stream_socket s, const stream_options& options, bool is_pipe)
    : shared(fd_of(s).entry() != nullptr && fd_of(s).entry()->shared),
      pipe(is_pipe),
      socket(std::move(s)),
      limit(options.limit),
      high_water(options.high_water),
      low_water(options.low_water) {}

stream_transport::~stream_transport() {
  // An io_step that queued may still be releasing the lock on the thread that started it.
  const std::unique_lock lock = lock_if_shared(*this);
}

void stream_transport::fail(std::exception_ptr e) noexcept {
  if (!aborted && !error) error = std::move(e);
  std::string().swap(out);
  out_begin = 0;
  to_wake |= wake_drain;
}

void stream_transport::flushed() noexcept {
  std::string().swap(out);
  out_begin = 0;
  to_wake |= wake_drain;
  if (eof_requested && !error && !closed) shut_write();
  if (closing) close_socket();
}

void stream_transport::shut_write() noexcept {
  if (pipe) {
    close_socket();  // the reader at the other end sees end of stream
    return;
  }
  try {
    socket.shutdown_write();
  } catch (...) {
    fail(std::current_exception());
  }
}

void stream_transport::close_socket() noexcept {
  if (closed) return;
  closed = true;
  socket.close();  // a pending read of the reader resumes with errc::closed
  to_wake |= wake_drain | wake_closed;
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

transport_scope::transport_scope(stream_transport& t) noexcept : t_(t), lock_(lock_if_shared(t)) {}

transport_scope::~transport_scope() {
  const unsigned wake = std::exchange(t_.to_wake, 0);
  if (lock_.owns_lock()) lock_.unlock();
  if ((wake & stream_transport::wake_drain) != 0) t_.drain_waiters.notify_all();
  if ((wake & stream_transport::wake_closed) != 0) t_.closed_waiters.notify_all();
}

}  // namespace coloop::detail
