#pragma once
// layer: executor
// The unit of work of a thread_pool, and the awaiter of thread_pool::run. A job is a small heap
// object shared by the pool and (for run) the awaiting coroutine: each side holds a reference,
// so neither the loop closing under a running job nor a job finishing after its awaiter was
// destroyed can touch freed memory.

#include <atomic>
#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/result.hpp>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace coloop::detail {

class pool_core;

/// Hand-off of a job's completion. `abandoned` is set by an awaiter destroyed before it resumed
/// (a loop closing with the job in flight): the completing thread then posts nothing, and an
/// awaiter that finds `posting` waits for `posted` so the scheduler outlives the post.
enum class job_phase : int { pending, posting, posted, abandoned };

class pool_job : private cancel_slot {
 public:
  pool_job() noexcept : cancel_slot{&on_cancel} {}
  pool_job(const pool_job&) = delete;
  pool_job& operator=(const pool_job&) = delete;

  /// Runs the function and stores its outcome (worker thread, or the caller for caller_runs).
  virtual void invoke() noexcept = 0;
  /// Stores `e` as the outcome without running the function (discarded or cancelled job).
  virtual void fail(std::exception_ptr e) noexcept = 0;
  /// Drops one reference; the last frees the job.
  void release() noexcept {
    // acq_rel: the last owner must see every write the other made before dropping its reference.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  /// After invoke() or fail(): resumes the awaiter on its scheduler (if it still waits) and drops
  /// the pool's reference. Never throws; the job must not be touched afterwards.
  void complete() noexcept;

  // Awaiter side (the awaiting coroutine's thread).
  /// Hands the job to `pool`; false when the awaiter continues at once (refused, run by the
  /// caller, or cancelled before it started). Whenever it returns false or throws, the pool's
  /// reference is already dropped.
  bool suspend(pool_core& pool, std::coroutine_handle<> waiter, cancel_state* cancel);
  void resumed();           // throws cancelled_error if withdrawn, rejected/closed if refused
  void abandon() noexcept;  // the awaiter is destroyed while suspended

  // Pool side, guarded by the pool's mutex.
  pool_job* prev_ = nullptr;
  pool_job* next_ = nullptr;
  bool in_queue_ = false;
  std::int64_t queued_at_ = 0;  // steady clock ns when queued: the pool's queue-wait figure

 protected:
  explicit pool_job(unsigned refs) noexcept : cancel_slot{&on_cancel}, refs_(refs) {}
  virtual ~pool_job() = default;

 private:
  static cancel_outcome on_cancel(cancel_slot* self) noexcept;

  std::atomic<unsigned> refs_{1};
  std::atomic<job_phase> phase_{job_phase::pending};
  // Awaiter's thread only, apart from waiter_/scheduler_ which the worker reads after the
  // hand-off through the pool's mutex.
  std::coroutine_handle<> waiter_;
  scheduler* scheduler_ = nullptr;
  cancel_state* cancel_ = nullptr;
  pool_core* pool_ = nullptr;
  std::exception_ptr refused_;  // the pool's refusal (rejected, closed), thrown by resumed()
  bool withdrawn_ = false;
};

/// A job whose outcome an awaiter reads.
template <class R>
class awaited_job : public pool_job {
 public:
  awaited_job() noexcept : pool_job(2) {}
  void fail(std::exception_ptr e) noexcept override { out_.set_exception(std::move(e)); }
  result<R> out_;
};

/// The callable and arguments of thread_pool::run, stored decayed in the job and called once,
/// all as rvalues, as std::thread does.
template <class F, class... Args>
class awaited_fn_job final : public awaited_job<std::invoke_result_t<F, Args...>> {
  using R = std::invoke_result_t<F, Args...>;

 public:
  template <class G, class... A>
  explicit awaited_fn_job(G&& fn, A&&... args)
      : fn_(std::forward<G>(fn)), args_(std::forward<A>(args)...) {}
  void invoke() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        call();
        this->out_.set_value();
      } else {
        this->out_.set_value(call());
      }
    } catch (...) {
      this->out_.set_exception(std::current_exception());
    }
  }

 private:
  R call() {
    return std::apply(
        [this](Args&... args) -> R { return std::invoke(std::move(fn_), std::move(args)...); },
        args_);
  }

  F fn_;
  [[no_unique_address]] std::tuple<Args...> args_;
};

/// Reports an exception that escaped a fire-and-forget job (stderr).
void report_job_exception(std::exception_ptr e) noexcept;

/// A fire-and-forget job of thread_pool::submit.
template <class F>
class submitted_job final : public pool_job {
 public:
  template <class G>
  explicit submitted_job(G&& fn) : fn_(std::forward<G>(fn)) {}
  void invoke() noexcept override {
    try {
      std::invoke(fn_);
    } catch (...) {
      report_job_exception(std::current_exception());
    }
  }
  void fail(std::exception_ptr) noexcept override {}

 private:
  F fn_;
};

/// The awaitable of thread_pool::run: resumes on the awaiting coroutine's scheduler.
template <class R>
class [[nodiscard]] pool_op {
 public:
  pool_op(std::shared_ptr<pool_core> pool, awaited_job<R>* job) noexcept
      : pool_(std::move(pool)), job_(job) {}
  pool_op(pool_op&& other) noexcept
      : pool_(std::move(other.pool_)), job_(std::exchange(other.job_, nullptr)) {}
  pool_op& operator=(pool_op&&) = delete;
  ~pool_op() {
    if (job_ == nullptr) return;
    if (suspended_) job_->abandon();   // pending when the frame dies: the pool must not resume it
    if (!submitted_) job_->release();  // never handed to the pool: drop the pool's reference too
    job_->release();
  }

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    submitted_ = true;
    // Set before the hand-off: once queued, the job may complete and (on a multi-threaded
    // scheduler) the coroutine resume before suspend() returns.
    suspended_ = true;
    bool queued = false;
    try {
      queued = job_->suspend(*pool_, waiter, cancel_state_of(waiter));
    } catch (...) {
      suspended_ = false;
      throw;
    }
    if (!queued) suspended_ = false;
    return queued;
  }
  R await_resume() {
    suspended_ = false;
    job_->resumed();
    // The pool thread may drop the job's last reference after we resume; it must not hold the
    // exception then (its destructor would race our reads of it, as TSan sees it).
    if (std::exception_ptr e = job_->out_.take_exception()) std::rethrow_exception(std::move(e));
    if constexpr (std::is_void_v<R> || std::is_reference_v<R>) {
      return job_->out_.get();
    } else {
      return std::move(job_->out_).get();
    }
  }

 private:
  std::shared_ptr<pool_core> pool_;
  awaited_job<R>* job_;
  bool submitted_ = false;
  bool suspended_ = false;
};

}  // namespace coloop::detail
