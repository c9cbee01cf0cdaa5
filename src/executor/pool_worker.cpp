// thread_pool workers and shutdown (the admission side is in thread_pool.cpp).
//
// A worker loops: pop a job under the lock and run it without the lock; on an empty queue spin
// once (if no other worker spins), then park; beyond core_threads the park has a keep-alive
// deadline, and a worker that reaches it with the queue still empty exits, moving its
// std::thread to exited_ for the next push or shutdown to join.
//
// Invariants: threads_ counts workers that have not decided to exit; a worker decides to exit
// only under the lock with the queue empty, so a queued job always has a worker. Once closing_
// is set no worker touches its workers_ element, so shutdown may take them all.
//
// Shutdown order: see thread_pool.cpp (refuse, cancel queued, wake, join).

#include <pthread.h>
#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
#include <pthread_np.h>
#endif

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/cpu_relax.hpp"
#include "executor/pool_core.hpp"

namespace coloop::detail {
namespace {

void name_this_thread(const std::string& prefix, std::size_t index) {
  char suffix[24];
  const int n = std::snprintf(suffix, sizeof suffix, "-%zu", index);
  constexpr int os_limit = 15;  // Linux: 16 bytes with the terminator
  const int keep = std::max(0, std::min(static_cast<int>(prefix.size()), os_limit - n));
  std::string name(prefix, 0, static_cast<std::size_t>(keep));
  name.append(suffix, static_cast<std::size_t>(std::min(n, os_limit)));
  // Each system spells it its own way (none of them is a Linux-only call with a fallback).
#if defined(__APPLE__)
  ::pthread_setname_np(name.c_str());  // macOS names the calling thread only
#elif defined(__NetBSD__)
  ::pthread_setname_np(::pthread_self(), "%s", const_cast<char*>(name.c_str()));
#elif defined(__OpenBSD__)
  ::pthread_set_name_np(::pthread_self(), name.c_str());
#else
  ::pthread_setname_np(::pthread_self(), name.c_str());
#endif
}

}  // namespace

void pool_core::worker_main(std::size_t index, std::list<std::thread>::iterator self) {
  name_this_thread(name_prefix_, index);
  std::unique_lock lock(mutex_);
  bool spun = false;
  std::chrono::steady_clock::time_point deadline{};  // of this idle spell ({}: not begun)
  for (;;) {
    if (pool_job* job = pop_locked()) {
      spun = false;
      deadline = {};
      lock.unlock();
      job->invoke();
      job->complete();
      lock.lock();
      ++completed_;
      --running_;
      continue;
    }
    if (closing_) break;
    if (!spun && spin_iterations_ > 0 && spinning_ == 0) {
      ++spinning_;
      lock.unlock();
      // relaxed: a hint; the worker looks at the queue under the lock afterwards.
      spin_until(spin_iterations_,
                 [this] { return queued_hint_.load(std::memory_order_relaxed) != 0; });
      lock.lock();
      --spinning_;
      spun = true;
      continue;  // look again under the lock before parking
    }
    spun = false;
    ++parked_;
    if (threads_ <= core_threads_) {
      wake_.wait(lock);
      --parked_;
      continue;
    }
    if (deadline == decltype(deadline){}) deadline = std::chrono::steady_clock::now() + keep_alive_;
    const bool timed_out = wake_.wait_until(lock, deadline) == std::cv_status::timeout;
    --parked_;
    if (timed_out && queue_.empty() && !closing_ && threads_ > core_threads_) {
      --threads_;
      exited_.push_back(std::move(*self));
      workers_.erase(self);
      return;
    }
  }
  --threads_;  // closing: shutdown joins this thread through workers_
}

void pool_core::shutdown(shutdown_mode mode) {
  std::lock_guard serial(shutdown_mutex_);
  pool_job* cancelled = nullptr;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    closing_flag_.store(true, std::memory_order_release);  // pairs with closing()'s acquire
    if (mode == shutdown_mode::cancel) {
      cancelled = queue_.take_all();
      for (pool_job* j = cancelled; j != nullptr; j = j->next_) j->in_queue_ = false;
      queued_ = 0;
      queued_hint_.store(0, std::memory_order_relaxed);
    }
  }
  wake_.notify_all();
  while (cancelled != nullptr) {
    pool_job* next = cancelled->next_;  // read first: complete() may free the job
    cancelled->prev_ = cancelled->next_ = nullptr;
    cancelled->fail(std::make_exception_ptr(cancelled_error()));
    cancelled->complete();
    cancelled = next;
  }
  std::vector<std::thread> to_join;
  {
    std::lock_guard lock(mutex_);
    to_join.swap(exited_);
    for (std::thread& t : workers_) to_join.push_back(std::move(t));
    workers_.clear();
  }
  const std::thread::id me = std::this_thread::get_id();
  for (std::thread& t : to_join) {
    if (t.get_id() == me) {
      t.detach();  // shutdown from one of our own jobs: this thread exits when the job returns
    } else {
      t.join();
    }
  }
}

}  // namespace coloop::detail

namespace coloop {

thread_pool::thread_pool(thread_pool_options options)
    : options_(std::move(options)), core_(std::make_shared<detail::pool_core>(options_)) {}

thread_pool::~thread_pool() {
  try {
    core_->shutdown(shutdown_mode::drain);
  } catch (...) {  // a failed join: nothing better to do in a destructor
  }
}

void thread_pool::shutdown(shutdown_mode mode) { core_->shutdown(mode); }
bool thread_pool::is_shut_down() const noexcept { return core_->closing(); }
thread_pool_stats thread_pool::stats() const { return core_->stats(); }

void thread_pool::submit_job(detail::pool_job* job) {
  std::exception_ptr refusal;
  const auto admitted = core_->push(job, refusal);
  if (admitted == detail::pool_core::admission::queued) return;
  if (admitted == detail::pool_core::admission::run_here) job->invoke();
  job->release();
  if (refusal) std::rethrow_exception(refusal);
}

}  // namespace coloop
