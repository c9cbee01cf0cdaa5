// A thread_pool job's life between the awaiting coroutine and the pool.
//
// References: an awaited job starts with two (the awaiter's and the pool's), a submitted one with
// one (the pool's). The pool drops its reference after complete() (or when the job is withdrawn,
// refused or run by the caller); the awaiter drops its reference in its destructor.
//
// Withdraw vs run: a job is in the queue (in_queue_, under the pool's mutex) or it is not; a
// cancel withdraws it only while it is queued, so the job either runs or is withdrawn, never
// both. Once a worker took it, the cancel stays pending and the outcome is delivered.
//
// Completion vs a dying awaiter (the loop closes with the job in flight), ordered by phase_:
//   1. the completing thread exchanges pending -> posting; if it saw `abandoned` it posts nothing;
//   2. otherwise it posts the waiter to its scheduler, then stores `posted`;
//   3. an awaiter destroyed before resuming first withdraws the job if still queued, else
//      exchanges in `abandoned`, and if it saw `posting` spins until `posted`: the post is a few
//      hundred ns, and after it the completing thread no longer touches the scheduler.

#include <coloop/detail/executor_job.hpp>
#include <stdexcept>
#include <thread>

#include "core/log_format.hpp"
#include "executor/pool_core.hpp"

namespace coloop::detail {

void report_job_exception(std::exception_ptr e) noexcept {
  log_exception(log_level::error, e, "coloop: exception escaped a thread_pool job",
                "coloop: non-standard exception escaped a thread_pool job");
}

void pool_job::complete() noexcept {
  if (waiter_) {
    // acq_rel: acquire sees an awaiter's `abandoned`; release orders the outcome before it.
    if (phase_.exchange(job_phase::posting, std::memory_order_acq_rel) != job_phase::abandoned) {
      try {
        scheduler_->post_threadsafe(waiter_);
      } catch (...) {  // the loop is closed: its close() destroys the waiting frame
      }
      // Release: the abandoning awaiter may free the scheduler once it sees this.
      phase_.store(job_phase::posted, std::memory_order_release);
    }
  }
  release();
}

bool pool_job::suspend(pool_core& pool, std::coroutine_handle<> waiter, cancel_state* cancel) {
  scheduler* sched = current_scheduler();
  if (sched == nullptr) {
    release();
    throw std::logic_error("coloop::thread_pool::run: awaited outside an event loop or sync_wait");
  }
  pool_ = &pool;
  waiter_ = waiter;
  scheduler_ = sched;
  if (cancel != nullptr && !cancel->arm(this)) {
    withdrawn_ = true;  // cancelled before it was submitted: never runs
    release();
    return false;
  }
  cancel_ = cancel;
  const pool_core::admission admitted = pool.push(this, refused_);
  // Queued: the job may already be done and the waiter posted; touch nothing more.
  if (admitted == pool_core::admission::queued) return true;
  if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
  if (admitted == pool_core::admission::run_here) invoke();
  waiter_ = {};
  release();
  return false;
}

void pool_job::resumed() {
  if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
  if (withdrawn_) throw_cancelled();
  if (refused_) std::rethrow_exception(refused_);
}

cancel_outcome pool_job::on_cancel(cancel_slot* self) noexcept {
  auto* job = static_cast<pool_job*>(self);
  // Running or done: its outcome is on the way.
  if (!job->pool_->withdraw(job)) return cancel_outcome::completed();
  job->withdrawn_ = true;
  job->cancel_ = nullptr;  // the cancel_state already dropped this slot
  const cancel_outcome out{job->waiter_, job->scheduler_};
  job->release();  // the pool's reference: the job will never run
  return out;
}

void pool_job::abandon() noexcept {
  if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
  if (withdrawn_ || pool_ == nullptr) return;
  if (pool_->withdraw(this)) {
    release();  // the pool's reference
    return;
  }
  // acq_rel: see whether the completing thread is mid-post, and publish `abandoned` to it.
  if (phase_.exchange(job_phase::abandoned, std::memory_order_acq_rel) == job_phase::posting) {
    while (phase_.load(std::memory_order_acquire) != job_phase::posted) std::this_thread::yield();
  }
}

}  // namespace coloop::detail
