// The io_uring reactor (Linux): a completion backend (DESIGN.md §5).
//
// io_ops.cpp hands it the operations of its fds (submit, withdraw) and it runs them itself:
//  - recv, send and accept (io_kind) become SQEs on the operation's own buffers; the kernel does
//    the transfer and one CQE reports it;
//  - everything else (io_kind::other: pipe writes, whose SIGPIPE the SQE path could not hold off;
//    datagrams; wait_readable; connect's completion check; reads into a shared scratch buffer,
//    which the kernel must not fill while another task may be using it) keeps the readiness
//    model: `attempt` runs at once when readiness is cached, else a one-shot IORING_OP_POLL_ADD
//    for that fd and direction reports readiness, and `attempt` runs then.
//  - fs calls (file_op.hpp: open, read, write, fsync, close of regular files) are SQEs too, but
//    the fs layer owns their waiters and cancellation: the reactor writes the SQE, sends an
//    ASYNC_CANCEL when asked, and hands the CQE's result to op.done() with no lock held.
// One loop turn is one io_uring_enter: poll() writes the SQEs of the operations started since
// the last turn, submits them and waits for completions in the same call.
//
// Invariants (all on the loop's thread, or, shared by a runtime's workers, under mutex_):
//  - Per entry and direction, operations run in FIFO order from the queue in fd_entry
//    (head/tail); at most the head is in the kernel (state in_kernel), so a cancelled op behind
//    it never reached the kernel, and FIFO order never depends on the kernel's.
//  - SQEs for operations are written only by flush(), right before they are submitted (inside
//    poll(); shared, also by the worker that starts or cancels an op, under the lock). So no
//    written-but-unsubmitted SQE names an fd number that its owner may close (and the OS reuse)
//    in between, and cancelling an op the kernel has not seen is just an unlink. Cancel SQEs
//    name only user_data, so they are written at once.
//  - An op in the kernel stays linked (op.queued) until its CQE is reaped; its entry is not
//    reused while any SQE naming it or its ops is in the kernel (entry.in_kernel), even after
//    deregister_fd, so a CQE never points at another fd. Entries are recycled, never freed
//    before the reactor, and `owner` never changes: a canceller may read it through op.fd
//    before it takes the lock.
//  - Finished ops are collected (done_) and their waiters disarmed and posted only once the
//    lock is released (as io_ops.cpp's finished_list): a disarm may wait for a canceller that
//    needs the lock. Never resumed inline.
//
// Shared by a runtime: the reactor's own state is under mutex_, an entry's fields also under
// its entry lock (try_read and the stream writer use them), always in that order. Workers
// submit what they write at once; the driver waits for completions without the lock (a raw
// io_uring_enter that only waits), then reaps under it. No COOP_TASKRUN (uring_setup.cpp).
//
// Cancellation: a cancel request for an op in the kernel sends IORING_OP_ASYNC_CANCEL and claims
// the request; the op's CQE decides. -ECANCELED: the waiter resumes with cancelled_error. A
// result (bytes, an accepted fd): it is delivered and the task's cancel is requested again, so
// its next await throws; nothing that arrived is lost, and an accepted fd is owned by the task.
// A frame destroyed with its op in the kernel (withdraw, e.g. the loop closing) blocks in
// withdraw() until the kernel has returned the op, because the buffer is in that frame; an fd
// accepted in that window is closed.
//
// Shutdown: the loop destroys its tasks first (each in-kernel op is cancelled and waited for),
// then this reactor, which cancels whatever leaked handles still have in the kernel, waits for
// every CQE, and exits the ring.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <coloop/core/errors.hpp>
#include <coloop/detail/intrusive_list.hpp>
#include <coloop/detail/scheduler.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/io_uring/uring_setup.hpp"
#include "runtime/driver/reactor.hpp"
#include "runtime/io/fd_entry.hpp"
#include "runtime/os/wake_fd.hpp"
#include "runtime/tsan_signals.hpp"

namespace coloop::detail {
namespace {

// io_op::backend_state bits.
enum : std::uint8_t {
  in_kernel = 1,    // its SQE was written; its CQE has not been reaped
  cancel_sent = 2,  // an ASYNC_CANCEL for it was written
  claimed = 4,      // a cancel request was taken over: cancelled, or re-requested on a result
  abandoned = 8,    // the awaiter is being destroyed: reap without resuming anyone
  closing = 16,     // its fd was deregistered: -ECANCELED means errc::closed
  need_poll = 32,   // the kernel said EAGAIN: wait for a poll before the next SQE
  rerequest = 64,   // in done_: a result beat a cancel, request the cancel again
};

// user_data: an io_op* (tag 0), an entry's poll (entry* | 1 read, | 2 write), the wake-up poll
// (3), an fs call (file_op* | 4), or 0 for CQEs to ignore (failed cancels). Ops, entries and
// file_ops are at least 8-byte aligned.
constexpr std::uint64_t ud_wake = 3;
constexpr std::uint64_t ud_file = 4;  // | a file_op* (8-byte aligned): an fs call
constexpr std::size_t max_transfer = 0x7ffff000;  // what read(2)/send(2) do at most anyway

struct uring_entry : fd_entry {
  uring_entry* prev_ = nullptr;  // live_ list: registered, or deregistered with SQEs in flight
  uring_entry* next_ = nullptr;  // also free_'s
  uring_entry* next_dirty = nullptr;
  bool dirty = false;  // in dirty_: flush() may have SQEs to write for it
  bool dead = false;   // deregistered (on free_ once nothing in the kernel names it)
  bool poll_armed[2] = {false, false};
  int in_kernel = 0;  // SQEs in flight whose user_data names this entry or one of its ops
};

uring_entry& entry_of(io_op& op) noexcept { return static_cast<uring_entry&>(*op.fd); }

class uring_reactor final : public reactor {
 public:
  explicit uring_reactor(bool shared) : shared_(shared) {
    setup_ring(ring_, features_, shared);
  }

  ~uring_reactor() override;

  fd_entry* register_fd(int fd) override;
  void deregister_fd(fd_entry* entry) noexcept override;
  std::vector<int> open_fds() const override;
  std::size_t poll(std::int64_t timeout_ns) override;
  void wake() noexcept override { wake_.notify(); }
  const char* name() const noexcept override { return "io_uring"; }
  std::int64_t completion_lag_ns() const noexcept override { return shared_ ? 5'000'000 : 0; }
  void withdraw(io_op& op) noexcept override;
  bool runs_file_op(file_op::kind k) const noexcept override { return k != file_op::kind::size; }
  void start_file_op(file_op& op) override;
  void cancel_file_op(file_op& op) noexcept override;
  void wait_file_op(file_op& op) noexcept override;

 private:
  /// fd_entry::submit of this reactor's entries (self: the entry's owner).
  static bool submit(io_op& op, std::coroutine_handle<> waiter, cancel_state* cancel);
  static cancel_outcome on_cancel(cancel_slot* slot) noexcept;

  /// The reactor's mutex when it is shared (none on an event_loop).
  std::unique_lock<std::mutex> lock() noexcept {
    std::unique_lock held(mutex_, std::defer_lock);
    if (shared_) held.lock();
    return held;
  }
  /// After a worker wrote SQEs (shared): the driver may be waiting and will not submit them.
  void submit_from_worker() noexcept;
  /// Shared: waits (no lock held) until a CQE may be there, the wake-up or `timeout_ns`.
  void wait_for_cqe(std::int64_t timeout_ns) noexcept;
  std::size_t poll_shared(std::int64_t timeout_ns);
  /// Takes the finished ops and fs calls (under the lock); resume_done() then disarms and posts
  /// the ops, and calls the fs calls' done().
  struct done_list {
    io_op* ops;
    file_op* files;
  };
  done_list take_done() noexcept {
    const done_list list{done_, files_done_};
    done_ = nullptr;
    done_tail_ = &done_;
    files_done_ = nullptr;
    return list;
  }
  static void resume_done(done_list list) noexcept;
  /// Takes the finished ops and fs calls, lets go of `held` and resumes them.
  void unlock_and_resume(std::unique_lock<std::mutex>& held) noexcept {
    const done_list done = take_done();
    if (held) held.unlock();
    resume_done(done);
  }

  io_uring_sqe* get_sqe() noexcept;
  void flush() noexcept;
  std::size_t reap() noexcept;
  void handle(std::uint64_t user_data, int res) noexcept;
  void complete(io_op& op, int res) noexcept;
  void poll_done(uring_entry& e, int d, int res) noexcept;
  bool needs_sqe(uring_entry& e, int d) noexcept;
  void touch(uring_entry& e, int d) noexcept {
    if (needs_sqe(e, d)) mark_dirty(e);
  }
  void mark_dirty(uring_entry& e) noexcept {
    if (e.dirty) return;
    e.dirty = true;
    e.next_dirty = dirty_;
    dirty_ = &e;
  }
  void issue(uring_entry& e, int d) noexcept;
  void send_cancel(std::uint64_t target) noexcept;
  /// Marks `op` (in the kernel) with `why` and asks the kernel for it back, once.
  void cancel_in_kernel(io_op& op, std::uint8_t why) noexcept {
    op.backend_state |= why;
    if ((op.backend_state & cancel_sent) != 0) return;
    op.backend_state |= cancel_sent;
    send_cancel(reinterpret_cast<std::uintptr_t>(&op));
  }
  /// Ends every operation of `e` (dead from now on): those in the kernel are cancelled with
  /// `why` (closing, abandoned); the others fail with errc::closed (`resume`) or are withdrawn.
  void drop_ops(uring_entry& e, std::uint8_t why, bool resume) noexcept;
  /// Blocks, reaping completions, until `gone()`: the kernel returned an op or fs call.
  template <class Gone>
  void wait_returned(Gone gone) noexcept;
  /// Unlinks `op` and queues it on done_ (`again`: re-request its cancel instead of disarming).
  void finish(io_op& op, bool again = false) noexcept;
  void maybe_free(uring_entry& e) noexcept;
  void wait_some() noexcept;

  const bool shared_;
  std::mutex mutex_;  // shared: everything below, and the ring's SQ and CQ
  io_uring ring_{};
  unsigned features_ = 0;
  os::wake_fd wake_;  // opened before the ring (the constructor body), closed after it
  bool wake_armed_ = false;
  intrusive_list<uring_entry> live_;
  uring_entry* free_ = nullptr;  // recycled entries, through next_
  uring_entry* dirty_ = nullptr;
  io_op* done_ = nullptr;  // finished ops, oldest first, through next
  io_op** done_tail_ = &done_;
  std::size_t finished_in_flush_ = 0;
  intrusive_list<file_op> files_;  // fs calls in the kernel
  file_op* files_done_ = nullptr;  // fs calls reaped, their done() not called yet, through next_
};

// --- registration ------------------------------------------------------------------------------

fd_entry* uring_reactor::register_fd(int fd) {
  // epoll refuses regular files and directories (EPERM); refuse them here too, so an async_fd
  // behaves the same on every backend.
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw_errno(errno, "fstat");
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    throw_errno(EPERM, "io_uring reactor: regular files and directories are not pollable");
  }
  const auto held = lock();
  uring_entry* e = free_;
  if (e != nullptr) {
    free_ = e->next_;
    e->dead = false;
    e->peer_closed = false;
    e->poll_armed[0] = e->poll_armed[1] = false;  // queues, in_kernel, dirty: empty/0 when freed
  } else {
    e = new uring_entry;
    e->owner = this;  // never changes (see the top)
    e->submit = &submit;
  }
  e->fd = fd;
  e->ready[0] = e->ready[1] = true;  // unknown: the first readiness op just tries the syscall
  live_.push_front(*e);
  return e;
}

void uring_reactor::deregister_fd(fd_entry* entry) noexcept {
  auto& e = static_cast<uring_entry&>(*entry);
  auto held = lock();
  {
    entry_lock entry_held(e);
    drop_ops(e, closing, true);  // one in the kernel resumes when the kernel gives it back
  }
  maybe_free(e);
  submit_from_worker();
  unlock_and_resume(held);
}

std::vector<int> uring_reactor::open_fds() const {
  std::vector<int> fds;
  for (const uring_entry* e = live_.front(); e != nullptr; e = e->next_) {
    if (!e->dead) fds.push_back(e->fd);  // a dead one waits for its SQEs: deregistered already
  }
  return fds;
}

void uring_reactor::drop_ops(uring_entry& e, std::uint8_t why, bool resume) noexcept {
  e.dead = true;
  for (int d = 0; d < 2; ++d) {
    io_op* op = e.head[d];
    while (op != nullptr) {
      io_op* next = op->next;
      if ((op->backend_state & in_kernel) != 0) {
        cancel_in_kernel(*op, why);
      } else if (resume) {
        op->error = -static_cast<int>(errc::closed);
        op->result = 0;
        finish(*op);
      } else {
        unlink(*op);
        if (op->cancel != nullptr) op->cancel->disarm();
      }
      op = next;
    }
    if (e.poll_armed[d])
      send_cancel(reinterpret_cast<std::uintptr_t>(&e) | static_cast<unsigned>(d + 1));
  }
}

void uring_reactor::maybe_free(uring_entry& e) noexcept {
  if (!e.dead || e.in_kernel > 0 || e.dirty) return;  // flush() frees a dirty one
  live_.remove(e);
  e.next_ = free_;
  free_ = &e;
}

uring_reactor::~uring_reactor() {
  // fs calls still in the kernel (an open whose awaiter was cancelled): their done() drops the
  // outcome (closing a late fd) once the kernel gives them back.
  for (file_op* f = files_.front(); f != nullptr; f = f->next_) {
    send_cancel(reinterpret_cast<std::uintptr_t>(f) | ud_file);
  }
  // Handles that outlived their loop: withdraw their operations silently (as epoll does) and
  // take back from the kernel everything that names them before freeing anything.
  for (uring_entry* e = live_.front(); e != nullptr; e = e->next_) {
    drop_ops(*e, abandoned, false);
    e->dirty = false;
  }
  dirty_ = nullptr;
  if (wake_armed_) send_cancel(ud_wake);
  for (;;) {
    bool busy = wake_armed_ || !files_.empty();
    for (uring_entry* e = live_.front(); e != nullptr && !busy; e = e->next_) {
      busy = e->in_kernel > 0;
    }
    if (!busy) break;
    wait_some();
    resume_done({nullptr, std::exchange(files_done_, nullptr)});
  }
  for (uring_entry* list : {live_.front(), free_}) {
    while (uring_entry* e = list) {
      list = e->next_;
      delete e;
    }
  }
  io_uring_queue_exit(&ring_);
}

// --- starting and cancelling operations --------------------------------------------------------

bool uring_reactor::submit(io_op& op, std::coroutine_handle<> waiter, cancel_state* cancel) {
  scheduler* const sched = begin_submit(op, cancel);
  if (sched == nullptr) return false;
  auto& e = static_cast<uring_entry&>(*op.fd);
  auto& self = *static_cast<uring_reactor*>(e.owner);
  auto held = self.lock();
  entry_lock entry_held(e);
  // The readiness fast path also for recv and accept: when the last transfer says the syscall
  // will likely succeed (a read that filled its buffer, a fresh socket, a connection just
  // accepted), one syscall now beats an SQE, a suspension and a CQE; EAGAIN clears the hint and
  // the op goes to the kernel. Not for send, which nearly always succeeds at once: measured on
  // the echo benchmark, a send SQE batched into the turn's io_uring_enter costs less server CPU
  // than a send(2) here.
  if (op.kind != io_kind::send) {
    switch (attempt_now(op, e)) {
      case attempt_outcome::done:
        return false;
      case attempt_outcome::yield:
        entry_held.unlock();
        if (held) held.unlock();
        sched->post_yield(waiter);
        return true;
      case attempt_outcome::queue:
        break;
    }
  }
  op.backend_state = 0;
  if (!enqueue(op, e, waiter, sched, cancel, &on_cancel)) return false;
  self.touch(e, index(op.dir));
  entry_held.unlock();
  self.submit_from_worker();
  self.unlock_and_resume(held);  // `op` may be among them: we may be resumed before returning
  return true;
}

cancel_outcome uring_reactor::on_cancel(cancel_slot* slot) noexcept {
  auto& op = *static_cast<io_op*>(slot);
  auto& self = *static_cast<uring_reactor*>(op.fd->owner);  // valid: see the top
  auto held = self.lock();
  cancel_outcome out = cancel_outcome::completed();  // not queued: the result is on its way
  if (op.queued) {
    uring_entry& e = entry_of(op);
    entry_lock entry_held(e);
    if ((op.backend_state & in_kernel) != 0) {
      self.cancel_in_kernel(op, claimed);  // the CQE decides: cancelled, or delivered again
      out = cancel_outcome::passed_on();  // the CQE resumes the waiter
    } else {
      unlink(op);  // the kernel never saw it; the slot was taken by cancel_state::request
      op.cancelled = true;
      op.backend_state = 0;
      self.touch(e, index(op.dir));  // the next op may become the head
      out = {op.waiter, op.sched};
    }
  }
  self.submit_from_worker();
  self.unlock_and_resume(held);
  return out;
}

void uring_reactor::withdraw(io_op& op) noexcept {
  uring_entry& e = entry_of(op);
  const int d = index(op.dir);
  auto held = lock();
  if (!op.queued) return;
  cancel_state* const armed = (op.backend_state & claimed) == 0 ? op.cancel : nullptr;
  {
    entry_lock entry_held(e);
    if ((op.backend_state & in_kernel) == 0) {
      unlink(op);
      op.backend_state = 0;
      if (!e.dead) touch(e, d);
    } else {
      // The kernel may still write into the op's buffer, which dies with the awaiter: wait.
      cancel_in_kernel(op, abandoned);
    }
  }
  submit_from_worker();
  unlock_and_resume(held);
  if (armed != nullptr) armed->disarm();  // no lock held: a canceller may be waiting for it
  wait_returned([&op] { return (op.backend_state & in_kernel) == 0; });
}

template <class Gone>
void uring_reactor::wait_returned(Gone gone) noexcept {
  for (;;) {
    auto held = lock();
    if (shared_) reap();
    const bool returned = gone();
    unlock_and_resume(held);
    if (returned) return;
    if (shared_) {
      wait_for_cqe(1'000'000);  // another thread may reap our CQE between the check and the wait
    } else {
      wait_some();
    }
  }
}

// --- fs calls (file_op.hpp) ----------------------------------------------------------------------
// The SQE is written at once (shared: under the lock, and submitted at once): it names the path
// (copied by the kernel when submitted; the op owns it until done) or an fd that its file keeps
// open until the call is done, so the flush() rule for sockets does not apply. done() runs from
// resume_done, no lock held, on whichever thread reaped the CQE.

void uring_reactor::start_file_op(file_op& op) {  // not size (no STATX): fstat on the pool
  auto held = lock();
  io_uring_sqe* s = get_sqe();
  switch (op.op) {
    case file_op::kind::open:
      io_uring_prep_openat(s, AT_FDCWD, op.path, op.flags | O_CLOEXEC, op.perms);
      break;
    case file_op::kind::read:
      io_uring_prep_read(s, op.fd, op.buffer, op.length, op.offset);
      break;
    case file_op::kind::write:  // offset ~0: the fd's position (an O_APPEND fd: its end)
      io_uring_prep_write(s, op.fd, op.buffer, op.length, op.offset);
      break;
    case file_op::kind::fsync:
      io_uring_prep_fsync(s, op.fd, 0);
      break;
    case file_op::kind::close:
      io_uring_prep_close(s, op.fd);
      break;
    case file_op::kind::size:
      break;  // refused by runs_file_op
  }
  s->user_data = reinterpret_cast<std::uintptr_t>(&op) | ud_file;
  op.owner = this;
  files_.push_front(op);
  submit_from_worker();
}

void uring_reactor::cancel_file_op(file_op& op) noexcept {
  auto held = lock();
  if (op.owner != this) return;  // reaped already: its done() is on its way
  send_cancel(reinterpret_cast<std::uintptr_t>(&op) | ud_file);
  submit_from_worker();
}

void uring_reactor::wait_file_op(file_op& op) noexcept {
  wait_returned([this, &op] { return op.owner != this; });
}

void uring_reactor::finish(io_op& op, bool again) noexcept {
  unlink(op);
  op.backend_state = again ? rerequest : 0;
  *done_tail_ = &op;
  done_tail_ = &op.next;
}

void uring_reactor::resume_done(done_list done) noexcept {
  // fs calls first: their order is their own, and done() takes no lock.
  while (file_op* f = done.files) {
    done.files = f->next_;
    f->done(f, f->result);  // may free f
  }
  io_op* list = done.ops;
  while (io_op* op = list) {
    list = op->next;
    op->next = nullptr;
    if (op->cancel != nullptr) {
      if ((op->backend_state & rerequest) != 0) {
        op->cancel->request();  // a result that beat the cancel: it applies to the next await
      } else {
        op->cancel->disarm();
      }
    }
    op->backend_state = 0;
    op->sched->post(op->waiter);  // the frame holding `op` may run (and die) from here on
  }
}

void uring_reactor::submit_from_worker() noexcept {
  if (!shared_) return;  // the loop submits in its next poll
  flush();
  const int r = io_uring_submit(&ring_);
  if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) std::terminate();  // ring unusable
}

// --- writing SQEs --------------------------------------------------------------------------------

io_uring_sqe* uring_reactor::get_sqe() noexcept {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  while (s == nullptr) {  // the SQ ring is full: hand it to the kernel and go on
    const int r = io_uring_submit(&ring_);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) std::terminate();  // ring unusable
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

void uring_reactor::send_cancel(std::uint64_t target) noexcept {
  io_uring_sqe* s = get_sqe();
  io_uring_prep_cancel64(s, target, 0);
  s->user_data = 0;
  if ((features_ & IORING_FEAT_CQE_SKIP) != 0) s->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/// Whether the head of direction `d` needs an SQE (its own, or a poll). Completes, on the way,
/// readiness operations that can run now.
bool uring_reactor::needs_sqe(uring_entry& e, int d) noexcept {
  while (io_op* op = e.head[d]) {
    if ((op->backend_state & in_kernel) != 0) return false;
    if (op->kind != io_kind::other) {
      if ((op->backend_state & need_poll) == 0) return true;
    } else if (e.ready[d]) {
      if (op->attempt(op)) {
        finish(*op);
        ++finished_in_flush_;
        continue;
      }
    }
    return !e.poll_armed[d];
  }
  return false;
}

void uring_reactor::issue(uring_entry& e, int d) noexcept {
  io_op& op = *e.head[d];
  if (op.kind == io_kind::other || (op.backend_state & need_poll) != 0) {
    io_uring_sqe* s = get_sqe();
    io_uring_prep_poll_add(s, e.fd, d == 0 ? POLLIN | POLLRDHUP : POLLOUT);
    s->user_data = reinterpret_cast<std::uintptr_t>(&e) | static_cast<unsigned>(d + 1);
    e.poll_armed[d] = true;
    ++e.in_kernel;
    return;
  }
  io_uring_sqe* s = get_sqe();
  const auto len = static_cast<unsigned>(op.length < max_transfer ? op.length : max_transfer);
  switch (op.kind) {
    case io_kind::recv:
      io_uring_prep_recv(s, e.fd, op.buffer, len, 0);
      break;
    case io_kind::send:
      io_uring_prep_send(s, e.fd, op.buffer, len, MSG_NOSIGNAL);
      break;
    case io_kind::accept:
      io_uring_prep_accept(s, e.fd, static_cast<sockaddr*>(op.address),
                           op.address != nullptr ? &op.address_length : nullptr,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case io_kind::other:
      break;  // handled above
  }
  s->user_data = reinterpret_cast<std::uintptr_t>(&op);
  op.backend_state |= in_kernel;
  ++e.in_kernel;
}

void uring_reactor::flush() noexcept {
  while (uring_entry* e = dirty_) {
    dirty_ = e->next_dirty;
    e->dirty = false;
    if (e->dead) {
      maybe_free(*e);
      continue;
    }
    entry_lock held(*e);
    for (int d = 0; d < 2; ++d) {
      if (needs_sqe(*e, d)) issue(*e, d);
    }
  }
  if (!wake_armed_) {
    io_uring_sqe* s = get_sqe();
    io_uring_prep_poll_add(s, wake_.fd(), POLLIN);
    s->user_data = ud_wake;
    wake_armed_ = true;
  }
}

// --- the loop turn -------------------------------------------------------------------------------

std::size_t uring_reactor::poll(std::int64_t timeout_ns) {
  if (shared_) return poll_shared(timeout_ns);
  finished_in_flush_ = 0;
  flush();
  if (finished_in_flush_ > 0) timeout_ns = 0;  // waiters were posted: don't block
  int r;
  if (timeout_ns == 0) {
    r = io_uring_submit(&ring_);
  } else if (timeout_ns < 0) {
    r = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    io_uring_cqe* cqe = nullptr;
    r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  // EINTR (a signal), ETIME (the timeout), EAGAIN/EBUSY (the kernel is short of room for
  // completions: reaping makes room): all mean "reap what is there and go on".
  if (r < 0 && r != -EINTR && r != -ETIME && r != -EAGAIN && r != -EBUSY) {
    resume_done(take_done());
    throw_errno(-r, "io_uring_enter");
  }
  if (r == -EINTR) run_deferred_signal_handlers();  // TSan only: io_uring_enter is not intercepted
  const std::size_t n = reap() + finished_in_flush_;
  resume_done(take_done());
  return n;
}

std::size_t uring_reactor::poll_shared(std::int64_t timeout_ns) {
  std::unique_lock held(mutex_);
  finished_in_flush_ = 0;
  flush();
  const int r = io_uring_submit(&ring_);
  if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) throw_errno(-r, "io_uring_enter");
  std::size_t n = reap() + finished_in_flush_;
  unlock_and_resume(held);
  if (n > 0 || timeout_ns == 0) return n;
  wait_for_cqe(timeout_ns);  // the wake-up poll is armed (flush): wake() ends it
  held.lock();
  n = reap();
  unlock_and_resume(held);
  return n;
}

void uring_reactor::wait_for_cqe(std::int64_t timeout_ns) noexcept {
  // Only waits (nothing to submit), so it needs no lock: workers submit meanwhile.
  constexpr unsigned flags = IORING_ENTER_GETEVENTS;
  const auto fd = static_cast<unsigned>(ring_.ring_fd);
  if (timeout_ns < 0) {
    io_uring_enter(fd, 0, 1, flags, nullptr);
    return;
  }
  __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
  io_uring_getevents_arg arg{};
  arg.sigmask_sz = _NSIG / 8;
  arg.ts = reinterpret_cast<std::uintptr_t>(&ts);
  // liburing types the extended argument as a sigset_t*; with EXT_ARG the kernel reads this.
  io_uring_enter2(fd, 0, 1, flags | IORING_ENTER_EXT_ARG, reinterpret_cast<sigset_t*>(&arg),
                  sizeof arg);
}

/// One blocking io_uring_enter and the completions it brings (for withdraw() and the destructor).
void uring_reactor::wait_some() noexcept {
  const int r = io_uring_submit_and_wait(&ring_, 1);
  if (r < 0 && r != -EINTR && r != -ETIME && r != -EAGAIN && r != -EBUSY) std::terminate();
  reap();
}

std::size_t uring_reactor::reap() noexcept {
  std::size_t n = 0;
  io_uring_cqe* cqes[64];
  for (;;) {
    const unsigned k = io_uring_peek_batch_cqe(&ring_, cqes, 64);
    if (k == 0) return n;
    for (unsigned i = 0; i < k; ++i) handle(cqes[i]->user_data, cqes[i]->res);
    io_uring_cq_advance(&ring_, k);
    n += k;
  }
}

void uring_reactor::handle(std::uint64_t user_data, int res) noexcept {
  if (user_data == 0) return;  // a cancel that found nothing (the target completed first)
  if (user_data == ud_wake) {
    wake_armed_ = false;
    wake_.drain();
    return;
  }
  if ((user_data & 7) == ud_file) {
    auto* f = reinterpret_cast<file_op*>(user_data & ~std::uint64_t{7});
    files_.remove(*f);
    f->owner = nullptr;  // wait_file_op's signal
    f->result = res;
    f->next_ = files_done_;  // done() runs in resume_done, with no lock held
    files_done_ = f;
    return;
  }
  const unsigned tag = user_data & 3;
  auto* op = tag == 0 ? reinterpret_cast<io_op*>(user_data) : nullptr;
  uring_entry& e = op != nullptr ? entry_of(*op)
                                 : *reinterpret_cast<uring_entry*>(user_data & ~std::uint64_t{3});
  {
    entry_lock held(e);
    if (op != nullptr) {
      complete(*op, res);
    } else {
      poll_done(e, static_cast<int>(tag) - 1, res);
    }
  }
  if (e.dead) maybe_free(e);
}

void uring_reactor::complete(io_op& op, int res) noexcept {
  uring_entry& e = entry_of(op);
  const int d = index(op.dir);
  --e.in_kernel;
  op.backend_state &= static_cast<std::uint8_t>(~in_kernel);
  const std::uint8_t st = op.backend_state;
  if ((st & abandoned) != 0) {
    if (op.kind == io_kind::accept && res >= 0) ::close(res);  // nobody is left to own it
    unlink(op);
    op.backend_state = 0;
  } else if ((st & cancel_sent) == 0 && res == -EAGAIN) {
    // A kernel that does not arm a poll for this op: wait for readiness, then resend.
    op.backend_state |= need_poll;
    e.ready[d] = false;
  } else if ((st & cancel_sent) == 0 && op.kind == io_kind::accept && res == -ECONNABORTED) {
    // A connection reset while in the backlog is the peer's business: accept the next one.
  } else {
    const bool stopped = (st & (claimed | closing)) != 0 && res < 0;
    if (stopped) {  // an error (-ECANCELED, -EINTR, ...) after a cancel carries no data
      op.cancelled = (st & claimed) != 0;
      op.error = op.cancelled ? 0 : -static_cast<int>(errc::closed);
      op.result = 0;
    } else if (res < 0) {
      op.error = -res;
      op.result = 0;
    } else {
      op.error = 0;
      op.result = static_cast<std::size_t>(res);
    }
    // The readiness hint for the next op of this direction: a short transfer says the socket is
    // drained (recv) or full (send: for try_write and readiness ops), so the next op goes
    // straight to the kernel; anything else (a full transfer, end of stream, an error, a new
    // connection) is worth one syscall first.
    e.ready[d] = !(res > 0 && static_cast<std::size_t>(res) < op.length) || e.peer_closed;
    // A result that beat the cancel is delivered; the cancel stays pending for the next await.
    finish(op, (st & claimed) != 0 && !stopped);
  }
  if (!e.dead) touch(e, d);
}

void uring_reactor::poll_done(uring_entry& e, int d, int res) noexcept {
  e.poll_armed[d] = false;
  --e.in_kernel;
  if (e.dead) return;
  const auto ev = static_cast<unsigned>(res);
  if (res < 0) {
    e.ready[d] = true;  // let the syscall itself report what is wrong
  } else {
    if ((ev & (POLLRDHUP | POLLHUP | POLLERR)) != 0) e.peer_closed = true;
    if ((ev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0) e.ready[0] = true;
    if ((ev & (POLLOUT | POLLHUP | POLLERR)) != 0) e.ready[1] = true;
  }
  for (int i = 0; i < 2; ++i) {
    io_op* head = e.head[i];
    if (head != nullptr && e.ready[i]) head->backend_state &= static_cast<std::uint8_t>(~need_poll);
    touch(e, i);
  }
}

}  // namespace

std::unique_ptr<reactor> make_io_uring_reactor(bool shared) {
  return std::make_unique<uring_reactor>(shared);
}

}  // namespace coloop::detail
