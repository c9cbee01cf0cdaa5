// thread_pool: a FIFO job queue served by workers that start on demand and, beyond
// core_threads, exit after keep_alive of idleness (DESIGN.md §6).
//
// Admission (push): a job is accepted when an idle worker or a thread still to be started can
// take it, or when fewer than queue_capacity jobs already wait beyond those; otherwise the
// rejection policy applies. A worker starts when the queue holds more jobs than there are idle
// workers and max_threads allows it.
//
// Parking: an idle worker first polls queued_hint_ for spin_iterations (a wake-up through the
// condition variable costs ~30 µs here), one spinner at a time, then parks. Invariants, all
// under mutex_: a worker always looks at the queue under the lock after spinning and before
// parking, so no job is left behind; push notifies only if more jobs are queued than spinners
// will take and someone is parked, so a busy pool makes no futex calls.
//
// Shutdown (idempotent, serialised by shutdown_mutex_):
//   1. refuse new jobs (closing_);
//   2. cancel mode: unlink every queued job and complete it with cancelled_error;
//   3. wake every worker: each runs what is queued (drain mode) and exits on an empty queue;
//   4. join every worker, including those already gone on keep-alive (a call from a worker
//      detaches that one instead).

#include <algorithm>
#include <coloop/core/errors.hpp>
#include <cstdint>
#include <string>
#include <system_error>

#include "executor/pool_core.hpp"
#include "core/monotonic.hpp"

namespace coloop::detail {
namespace {

std::size_t default_max_threads() {
  const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, hw + 4);
}

constinit std::atomic<unsigned> last_pool_id{0};

std::exception_ptr error_of(errc e, const char* what) {
  return std::make_exception_ptr(std::system_error(make_error_code(e), what));
}

}  // namespace

pool_core::pool_core(const thread_pool_options& o)
    : core_threads_(o.core_threads),
      max_threads_(std::max<std::size_t>(
          1, o.max_threads == 0 ? std::max(default_max_threads(), o.core_threads) : o.max_threads)),
      keep_alive_(o.keep_alive),
      queue_capacity_(o.queue_capacity),
      on_full_(o.on_full),
      name_prefix_(o.name_prefix),
      spin_iterations_(o.spin_iterations),
      // Relaxed: an id needs only to be unique.
      id_(last_pool_id.fetch_add(1, std::memory_order_relaxed) + 1) {
  add_collector(&collect, this);
}

pool_core::~pool_core() { remove_collector(&collect, this); }

void pool_core::collect(const void* self, metric_writer& out) {
  const auto& p = *static_cast<const pool_core*>(self);
  const metrics::label_set labels{{"pool", std::to_string(p.id_)}, {"name", p.name_prefix_}};
  const auto n = [](std::size_t v) { return static_cast<double>(v); };
  std::lock_guard lock(p.mutex_);
  out.gauge("coloop_pool_threads", "Live threads of a thread pool.", labels, n(p.threads_));
  out.gauge("coloop_pool_active_threads", "Pool threads running a job.", labels, n(p.running_));
  out.gauge("coloop_pool_idle_threads", "Pool threads waiting for a job.", labels,
            n(p.parked_ + p.spinning_));
  out.gauge("coloop_pool_queued_jobs", "Jobs waiting for a pool thread.", labels, n(p.queued_));
  out.counter("coloop_pool_completed_jobs_total", "Jobs a pool ran to the end.", labels,
              n(p.completed_));
  out.counter("coloop_pool_rejected_jobs_total", "Jobs refused or discarded when full.", labels,
              n(p.rejected_));
  p.queue_wait_.write(out, "coloop_pool_queue_wait_seconds",
                      "Time a job waited in a pool's queue before a thread took it.", labels,
                      wait_bounds);
}

bool pool_core::has_room_locked() const noexcept {
  // Takers: idle workers plus threads that may still start. A job they take at once does not
  // count against queue_capacity.
  const std::size_t takers =
      parked_ + spinning_ + (max_threads_ - std::min(threads_, max_threads_));
  const std::size_t limit =
      queue_capacity_ > SIZE_MAX - takers ? SIZE_MAX : takers + queue_capacity_;
  return queued_ < limit;
}

pool_core::admission pool_core::push(pool_job* job, std::exception_ptr& refusal) noexcept try {
  pool_job* victim = nullptr;
  std::vector<std::thread> reap;
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      refusal = error_of(errc::closed, "coloop::thread_pool: shut down");
      return admission::refused;
    }
    reap.swap(exited_);
    if (!has_room_locked()) {
      ++rejected_;
      if (on_full_ == rejection_policy::caller_runs) return admission::run_here;
      if (on_full_ == rejection_policy::abort || queue_.empty()) {
        refusal = error_of(errc::rejected, "coloop::thread_pool: queue full");
        return admission::refused;
      }
      victim = queue_.front();  // discard_oldest
      unlink(victim);
    }
    link_back(job);
    if (queued_ > parked_ + spinning_ && threads_ < max_threads_) {
      try {
        start_thread_locked();
      } catch (...) {         // no thread (EAGAIN) or no memory: existing workers will take it
        if (threads_ == 0) {  // nobody would ever run it (and nothing else is queued)
          unlink(job);
          refusal = std::current_exception();
          return admission::refused;
        }
      }
    }
    notify = parked_ > 0 && queued_ > spinning_;
  }
  if (notify) wake_.notify_one();
  for (std::thread& t : reap) t.join();
  if (victim != nullptr) {
    victim->fail(error_of(errc::rejected, "coloop::thread_pool: discarded (queue full)"));
    victim->complete();
  }
  return admission::queued;
} catch (...) {
  refusal = std::current_exception();
  return admission::refused;
}

void pool_core::start_thread_locked() {
  auto it = workers_.emplace(workers_.end());
  try {
    *it = std::thread(
        [self = shared_from_this(), index = next_index_, it] { self->worker_main(index, it); });
  } catch (...) {
    workers_.erase(it);
    throw;
  }
  ++next_index_;
  ++threads_;
}

bool pool_core::withdraw(pool_job* job) noexcept {
  std::lock_guard lock(mutex_);
  if (!job->in_queue_) return false;
  unlink(job);
  return true;
}

void pool_core::link_back(pool_job* job) noexcept {
  queue_.push_back(*job);
  job->in_queue_ = true;
  job->queued_at_ = monotonic_ns();
  queued_hint_.store(++queued_, std::memory_order_relaxed);
}

void pool_core::unlink(pool_job* job) noexcept {
  queue_.remove(*job);
  job->in_queue_ = false;
  queued_hint_.store(--queued_, std::memory_order_relaxed);
}

pool_job* pool_core::pop_locked() noexcept {
  pool_job* job = queue_.front();
  if (job != nullptr) {
    unlink(job);
    ++running_;
    queue_wait_.observe(wait_bounds, static_cast<double>(monotonic_ns() - job->queued_at_) / 1e9);
  }
  return job;
}

thread_pool_stats pool_core::stats() const {
  std::lock_guard lock(mutex_);
  return {threads_, parked_ + spinning_, queued_, completed_, rejected_};
}

}  // namespace coloop::detail
