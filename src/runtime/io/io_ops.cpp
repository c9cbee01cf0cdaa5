// Readiness-based I/O operations, shared by every readiness backend (epoll, kqueue, libuv's
// uv_poll_t): the backend only reports "this fd became readable/writable"; everything else
// (cached readiness, the FIFO queues of waiting operations, cancellation) lives here.
//
// Invariants, per fd_entry and direction d (under the entry's lock on a multi-threaded runtime,
// where workers submit and cancel while the driver thread reports readiness):
//  - ready[d] is true unless the last syscall in direction d returned EAGAIN; only a readiness
//    report from the backend sets it again (edge-triggered: one report per new edge).
//  - The syscall of an operation runs only while the operation is being completed: either at
//    submit (readiness cached, nobody queued ahead) or from on_ready (it is the queue's head).
//    So a queued operation has transferred no data yet, and withdrawing it (cancel, frame
//    destruction) loses nothing.
//  - An operation is in the queue exactly when op.queued; its cancel slot is armed while it is
//    queued (or not at all when op.cancel is null). Completing it unlinks it under the lock and
//    disarms the slot after the lock is released; a canceller takes the slot, then the lock, and
//    either finds it queued (withdraws it; the waiter resumes with cancelled_error) or not (the
//    result is on its way and the request stays pending for the task's next await): never both,
//    never neither.
//  - Waiters are always posted to their scheduler, never resumed inline, so no user code runs
//    while a queue is being walked, and an operation is never touched after its waiter is
//    posted (the frame that holds it may be resumed and destroyed any time after).
//
// Fairness: operations complete in submission order per direction; a new operation never
// overtakes a queued one even when readiness is cached. Across tasks, an operation completed at
// once spends the step's coop budget (scheduler.hpp); an empty budget requeues the task.

#include <coloop/detail/io_op.hpp>

#include <stdexcept>
#include <system_error>
#include <vector>

#include <coloop/core/errors.hpp>
#include <coloop/detail/scheduler.hpp>

#include "core/cpu_relax.hpp"
#include "runtime/io/readiness_reactor.hpp"

namespace coloop::detail {

void unlink(io_op& op) noexcept {
  fd_entry& e = *op.fd;
  const int d = index(op.dir);
  (op.prev != nullptr ? op.prev->next : e.head[d]) = op.next;
  (op.next != nullptr ? op.next->prev : e.tail[d]) = op.prev;
  op.next = op.prev = nullptr;
  op.queued = false;
}

namespace {

/// The attempt of a queued shared_buffer operation: readiness came; nothing is transferred.
bool attempt_probe(io_op* op) noexcept {
  op->result = 0;
  op->error = 0;
  return true;
}

/// Appends `op` to its fd's queue in its direction.
void link_tail(fd_entry& e, io_op& op) noexcept {
  const int d = index(op.dir);
  op.next = nullptr;
  op.prev = e.tail[d];
  (e.tail[d] != nullptr ? e.tail[d]->next : e.head[d]) = &op;
  e.tail[d] = &op;
  op.queued = true;
}

/// Finished operations, collected under the entry's lock and resumed after it is released:
/// disarming may wait for a canceller that needs that lock (cancellation.hpp).
class finished_list {
 public:
  void add(io_op& op) noexcept {
    unlink(op);
    *tail_ = &op;  // unlink left op.next null
    tail_ = &op.next;
  }
  /// Disarms and posts every operation, oldest first. Call with the entry unlocked.
  void resume_all() noexcept {
    io_op* op = head_;
    while (op != nullptr) {
      io_op* next = op->next;
      if (op->cancel != nullptr) op->cancel->disarm();
      op->sched->post(op->waiter);  // the frame holding `op` may run (and die) from here on
      op = next;
    }
  }

 private:
  io_op* head_ = nullptr;
  io_op** tail_ = &head_;
};

/// cancel_slot::on_cancel of a queued operation.
cancel_outcome cancel_queued(cancel_slot* slot) noexcept {
  auto& op = *static_cast<io_op*>(slot);
  entry_lock lock(*op.fd);
  if (!op.queued) return cancel_outcome::completed();  // the result is delivered instead
  unlink(op);  // the slot was taken by cancel_state::request already
  op.cancelled = true;
  return {op.waiter, op.sched};
}

/// `d` became ready: completes its queued operations in FIFO order while the syscall succeeds.
void drain(fd_entry& e, io_dir d, finished_list& done) noexcept {
  const int i = index(d);
  e.ready[i] = true;
  while (io_op* op = e.head[i]) {
    if (!op->attempt(op)) {
      e.ready[i] = false;  // EAGAIN: wait for the next edge (the attempt should have said so)
      return;
    }
    done.add(*op);
  }
}

}  // namespace

bool submit_to_closed(io_op& op) noexcept {
  op.cancelled = false;
  op.result = 0;
  op.error = -static_cast<int>(errc::closed);
  return false;
}

void throw_no_scheduler_for_io() {
  throw std::logic_error("coloop: I/O awaited outside an event loop (no scheduler on this thread)");
}

void throw_errno(int err, const char* what) {
  throw std::system_error(err, std::generic_category(), what);
}

bool enqueue(io_op& op, fd_entry& e, std::coroutine_handle<> waiter, scheduler* sched,
             cancel_state* cancel, cancel_outcome (*on_cancel)(cancel_slot*) noexcept) noexcept {
  // Armed under the entry lock: a canceller takes the slot, then this lock, and finds the
  // operation queued. Nothing is disarmed under the lock (cancellation.hpp).
  op.on_cancel = on_cancel;
  if (cancel != nullptr && !cancel->arm(&op)) {
    op.cancelled = true;  // requested just now
    return false;
  }
  op.waiter = waiter;
  op.sched = sched;
  op.cancel = cancel;
  // A shared buffer must be filled right before its task resumes, on the thread it resumes on:
  // queued, the operation only waits for readiness and the awaiter transfers after.
  if (op.shared_buffer) op.attempt = &attempt_probe;
  link_tail(e, op);
  return true;
}

bool readiness_reactor::submit(io_op& op, std::coroutine_handle<> waiter, cancel_state* cancel) {
  scheduler* const sched = begin_submit(op, cancel);
  if (sched == nullptr) return false;
  fd_entry& e = *op.fd;
  entry_lock lock(e);
  switch (attempt_now(op, e)) {
    case attempt_outcome::done:
      return false;  // no trip through the loop
    case attempt_outcome::yield:
      lock.unlock();
      sched->post_yield(waiter);
      return true;
    case attempt_outcome::queue:
      break;
  }
  if (!enqueue(op, e, waiter, sched, cancel, &cancel_queued)) return false;
  auto on_queued = static_cast<readiness_reactor*>(e.owner)->on_queued_;
  if (on_queued != nullptr && e.head[index(op.dir)] == &op) on_queued(e, op.dir);
  return true;
}

void on_ready(fd_entry& entry, bool readable, bool writable) noexcept {
  finished_list done;
  {
    entry_lock lock(entry);
    if (readable) drain(entry, io_dir::read, done);
    if (writable) drain(entry, io_dir::write, done);
  }
  done.resume_all();
}

void fail_all(fd_entry& entry, int error) noexcept {
  finished_list done;
  {
    entry_lock lock(entry);
    for (io_dir d : {io_dir::read, io_dir::write}) {
      while (io_op* op = entry.head[index(d)]) {
        op->error = error;
        op->result = 0;
        done.add(*op);
      }
    }
  }
  done.resume_all();
}

void withdraw(io_op& op) noexcept {
  if (op.fd != nullptr) op.fd->owner->withdraw(op);
}

fd_entry* readiness_reactor::adopt(readiness_entry& e) noexcept {
  e.owner = this;
  e.submit = &readiness_reactor::submit;
  e.ready[0] = e.ready[1] = true;
  live_.push_front(e);
  return &e;
}

void readiness_reactor::forget(readiness_entry& e) noexcept {
  fail_all(e, -static_cast<int>(errc::closed));
  live_.remove(e);
}

readiness_entry* readiness_reactor::take_leaked() noexcept {
  readiness_entry* e = live_.pop_front();
  if (e != nullptr) {
    for (io_dir d : {io_dir::read, io_dir::write}) {
      while (io_op* op = e->head[index(d)]) withdraw(*op);
    }
  }
  return e;
}

std::vector<int> readiness_reactor::open_fds() const {
  std::vector<int> fds;
  for (const readiness_entry* e = live_.front(); e != nullptr; e = e->next_) fds.push_back(e->fd);
  return fds;
}

void readiness_reactor::withdraw(io_op& op) noexcept {
  {
    entry_lock lock(*op.fd);
    if (!op.queued) return;
    unlink(op);
  }
  if (op.cancel != nullptr) op.cancel->disarm();
}

void lock_entry_slow(fd_entry& e) noexcept {
  do {
    while (e.locked.load(std::memory_order_relaxed)) cpu_relax();
  } while (e.locked.exchange(true, std::memory_order_acquire));
}

}  // namespace coloop::detail
