// One file call between its awaiter and what runs it.
//
// Where it runs: by the reactor of this thread if it runs such calls (io_uring, on an event
// loop or a runtime, writes an SQE: reactor::runs_file_op, start_file_op), which start() asks
// before it arms the cancel slot; otherwise on the default thread_pool as one blocking syscall
// (pread/pwrite at an explicit offset, so nothing depends on the fd's own position).
//
// The request is a small heap object with two references, the awaiter's and the runner's (a
// pool job or the reactor), so either side may finish first. phase_ orders the hand-over:
//   pending   --runner-->     running  --runner--> posting --> posted     (outcome delivered)
//   pending   --cancel/drop--> dropped                                    (never ran)
//   running   --cancel/drop--> dropped (open, fsync, size, close: "prompt" calls that touch
//             nothing of the caller's): the waiter resumes with cancelled_error at once; the
//             runner later drops the outcome, closing an fd an open returned (tokio#7979).
//   running   --drop-->        abandoned --runner--> dropped  (read/write: the buffer is the
//             caller's, so a dying awaiter waits for the runner to be done with it)
// A cancel of a running read or write is not prompt: on io_uring it sends an ASYNC_CANCEL and
// the CQE decides (-ECANCELED: cancelled_error, nothing transferred; a result: delivered, and
// the cancel applies at the next await); on the pool the call completes and is delivered. So a
// sequential read delivers its bytes (and advances the position) or leaves the position alone.

#include "fs/file_request.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <coloop/detail/scheduler.hpp>
#include <coloop/executor/to_thread.hpp>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "fs/fs_hooks.hpp"
#include "runtime/context.hpp"
#include "runtime/driver/reactor.hpp"

namespace coloop::detail {

fs_hooks& fs_test_hooks() noexcept {
  static fs_hooks hooks;
  return hooks;
}

namespace {
long blocking_call(const file_op& op) noexcept {
  long r;
  do {
    switch (op.op) {
      case file_op::kind::open:
        r = ::open(op.path, op.flags | O_CLOEXEC, op.perms);
        break;
      case file_op::kind::read:
        r = ::pread(op.fd, op.buffer, op.length, static_cast<off_t>(op.offset));
        break;
      case file_op::kind::write:
        r = op.offset == ~std::uint64_t{0}
                ? ::write(op.fd, op.buffer, op.length)
                : ::pwrite(op.fd, op.buffer, op.length, static_cast<off_t>(op.offset));
        break;
      case file_op::kind::fsync:
        r = ::fsync(op.fd);
        break;
      case file_op::kind::close:
        r = ::close(op.fd);
        if (r < 0 && errno == EINTR) r = 0;  // Linux closed it anyway; retrying could close another
        break;
      case file_op::kind::size: {
        struct stat st {};
        r = ::fstat(op.fd, &st);
        if (r == 0) r = static_cast<long>(st.st_size);
        break;
      }
    }
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}
}  // namespace

file_request::file_request(kind k, int file_fd, const char* api, std::string name)
    : cancel_slot{&on_cancel}, path_(std::move(name)), api_(api) {
  op = k;
  fd = file_fd;
  done = &on_done;
}

file_request::file_request(std::string name, int open_flags)
    : file_request(kind::open, -1, "coloop::file::open", std::move(name)) {
  path = path_.c_str();
  flags = open_flags;
  perms = 0666;
}

file_request::~file_request() {
  if (op == kind::open && result_ >= 0) ::close(static_cast<int>(result_));  // never taken
}

void file_request::release() noexcept {
  // acq_rel: the last owner must see everything the other wrote (the result, a late fd).
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

bool file_request::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  sched_ = current_scheduler();
  if (sched_ == nullptr) {
    throw std::logic_error(std::string(api_) + ": awaited outside an event loop or runtime");
  }
  if (op == kind::close && fd < 0) {
    result_ = 0;  // closing a closed file: nothing to do
    return false;
  }
  waiter_ = waiter;
  if (op == kind::close) cancel = nullptr;  // a close always runs: the fd is already given up
  // Everything on_cancel reads is set before arm() publishes the slot (its acq_rel CAS): a
  // cancel from another thread may run as soon as it is armed.
  reactor* const r = current_reactor();
  if (r != nullptr && r->runs_file_op(op)) {
    via_ = r;
    phase_.store(running, std::memory_order_relaxed);  // published by arm() and the reactor's lock
  }
  cancel_ = cancel;
  // The runner's reference is taken before arming: once armed, a cancel from another worker may
  // withdraw the call and resume the waiter there, whose awaiter then drops its reference while
  // this thread is still handing the call over (taken after arming, that freed the request
  // under us). Relaxed: published to a cancel by arm() and to the runner by the hand-off.
  refs_.fetch_add(1, std::memory_order_relaxed);
  if (cancel != nullptr && !cancel->arm(this)) {
    refs_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: nobody else has seen it
    cancel_ = nullptr;
    cancelled_ = true;  // a cancel was pending: never started
    return false;
  }
  if (auto* armed = fs_test_hooks().armed.load(std::memory_order_acquire)) armed(op);
  if (via_ != nullptr) {
    r->start_file_op(*this);  // may already be done: touch nothing more
    return true;
  }
  try {
    default_thread_pool()->submit([this] { run_blocking(); });
  } catch (...) {
    int expected = pending;
    // acq_rel: as on_cancel. Lost: a cancel withdrew it and resumes the waiter (whose awaiter
    // may already be gone), so suspend and drop the runner's reference as its job would have.
    if (!phase_.compare_exchange_strong(expected, dropped, std::memory_order_acq_rel)) {
      release();
      return true;
    }
    refs_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: the awaiter's stays, on this thread
    if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
    throw;
  }
  return true;
}

void file_request::run_blocking() noexcept {
  int expected = pending;
  // acq_rel: acquire sees a cancel's `dropped`; release publishes `running` to it.
  if (!phase_.compare_exchange_strong(expected, running, std::memory_order_acq_rel)) {
    release();  // dropped before it ran
    return;
  }
  if (auto* before = fs_test_hooks().before_call.load(std::memory_order_acquire)) before(op);
  settle(blocking_call(*this));
}

void file_request::on_done(file_op* op, long outcome) noexcept {
  static_cast<file_request*>(op)->settle(outcome);
}

void file_request::settle(long outcome) noexcept {
  result_ = outcome;
  int expected = running;
  // acq_rel: release orders result_ before the waiter sees `posting`; acquire sees `dropped`.
  if (phase_.compare_exchange_strong(expected, posting, std::memory_order_acq_rel)) {
    post_from_any_thread(sched_, waiter_);  // false: the scheduler is gone and the frame with it
    // Release: an abandoning awaiter may free the scheduler once it sees this.
    phase_.store(posted, std::memory_order_release);
  } else {
    if (op == kind::open && result_ >= 0) ::close(static_cast<int>(std::exchange(result_, -1)));
    // Release: the abandoning awaiter waits for this before its buffer dies.
    if (expected == abandoned) phase_.store(dropped, std::memory_order_release);
  }
  const auto kind_done = op;
  auto* settled = fs_test_hooks().settled.load(std::memory_order_acquire);
  release();
  if (settled != nullptr) settled(kind_done);
}

cancel_outcome file_request::on_cancel(cancel_slot* slot) noexcept {
  auto* self = static_cast<file_request*>(slot);
  int expected = pending;
  // acq_rel: pairs with the runner's exchanges (which of the two owns the outcome).
  bool withdrawn =
      self->phase_.compare_exchange_strong(expected, dropped, std::memory_order_acq_rel);
  if (!withdrawn && expected == running && self->prompt()) {
    withdrawn = self->phase_.compare_exchange_strong(expected, dropped, std::memory_order_acq_rel);
  }
  if (self->via_ != nullptr && (withdrawn || expected == running)) {
    // Relaxed: only tells finish() that an -ECANCELED may be this cancel's doing.
    self->cancel_sent_.store(true, std::memory_order_relaxed);
    self->via_->cancel_file_op(*self);  // a no-op once the kernel gave it back
  }
  if (!withdrawn) return cancel_outcome::completed();  // the outcome is on its way
  self->cancelled_ = true;
  self->cancel_ = nullptr;  // the cancel_state dropped this slot
  return {self->waiter_, self->sched_};
}

std::uint64_t file_request::finish() {
  cancel_state* const cancel = std::exchange(cancel_, nullptr);
  if (cancel != nullptr) cancel->disarm();
  if (cancelled_) throw_cancelled();
  if (cancel_sent_.load(std::memory_order_relaxed) &&
      (result_ == -ECANCELED || result_ == -EINTR)) {
    if (cancel != nullptr) (void)cancel->consume_pending();  // this is that cancel
    throw_cancelled();
  }
  if (result_ < 0) {
    std::string what = api_;
    if (!path_.empty()) what += " " + path_;
    throw std::system_error(static_cast<int>(-result_), std::generic_category(), what);
  }
  const auto n = static_cast<std::uint64_t>(result_);
  if (advance != nullptr) *advance += n;
  return n;
}

void file_request::drop(bool suspended) noexcept {
  if (suspended) {
    // The frame dies while the call is out (its loop is closing): nobody is to be resumed.
    if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
    for (;;) {
      int p = phase_.load(std::memory_order_acquire);
      if (p == pending || (p == running && prompt())) {
        // acq_rel: as on_cancel.
        if (!phase_.compare_exchange_strong(p, dropped, std::memory_order_acq_rel)) continue;
        if (via_ != nullptr) via_->cancel_file_op(*this);
        break;
      }
      if (p == running) {
        if (!phase_.compare_exchange_strong(p, abandoned, std::memory_order_acq_rel)) continue;
        if (via_ != nullptr) {
          via_->cancel_file_op(*this);
          via_->wait_file_op(*this);  // then done() runs here or on the thread that reaped it
        }
        while (phase_.load(std::memory_order_acquire) != dropped) std::this_thread::yield();
        break;
      }
      if (p == posting) {  // the runner is posting to the scheduler: let it finish
        std::this_thread::yield();
        continue;
      }
      break;  // posted or dropped
    }
  }
  release();
}

// --- the awaiters' entry points (include/coloop/fs/file.hpp) -------------------------------------

bool start_file_request(file_request* req, std::coroutine_handle<> waiter, cancel_state* cancel) {
  return req->start(waiter, cancel);
}

std::uint64_t finish_file_request(file_request* req) { return req->finish(); }

void drop_file_request(file_request* req, bool suspended) noexcept { req->drop(suspended); }

}  // namespace coloop::detail
