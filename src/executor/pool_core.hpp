#pragma once
// The engine of a thread_pool (private): the job queue, the workers and their parking. Shared
// (shared_ptr) by the thread_pool, its worker threads and every pending run() awaiter, so a
// withdraw from an awaiter never touches a destroyed queue.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include <coloop/detail/executor_job.hpp>
#include <coloop/detail/intrusive_list.hpp>
#include <coloop/executor/thread_pool.hpp>

#include "core/metrics_source.hpp"

namespace coloop::detail {

/// Upper bounds (seconds) of a pool's queue-wait histogram.
inline constexpr double wait_bounds[] = {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01,
                                         0.05,    0.1,     0.5,    1,      5,     10};
inline constexpr std::size_t wait_bucket_count = std::size(wait_bounds);

class pool_core : public std::enable_shared_from_this<pool_core> {
 public:
  explicit pool_core(const thread_pool_options& options);
  ~pool_core();

  enum class admission { queued, run_here, refused };
  /// Queues `job`, or applies the rejection policy: run_here (caller_runs) or refused, with the
  /// reason in `refusal` (errc::rejected, errc::closed, or the exception that stopped it).
  admission push(pool_job* job, std::exception_ptr& refusal) noexcept;
  /// Takes `job` out of the queue if it is still there (it then never runs).
  bool withdraw(pool_job* job) noexcept;
  void shutdown(shutdown_mode mode);
  bool closing() const noexcept { return closing_flag_.load(std::memory_order_acquire); }
  thread_pool_stats stats() const;

 private:
  static void collect(const void* self, metric_writer& out);
  void worker_main(std::size_t index, std::list<std::thread>::iterator self);
  void start_thread_locked();
  void link_back(pool_job* job) noexcept;
  void unlink(pool_job* job) noexcept;
  pool_job* pop_locked() noexcept;
  bool has_room_locked() const noexcept;

  const std::size_t core_threads_;
  const std::size_t max_threads_;
  const std::chrono::nanoseconds keep_alive_;
  const std::size_t queue_capacity_;
  const rejection_policy on_full_;
  const std::string name_prefix_;
  const unsigned spin_iterations_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_.
  intrusive_list<pool_job> queue_;
  std::size_t queued_ = 0;
  std::size_t threads_ = 0;   // live workers
  std::size_t parked_ = 0;    // in wake_.wait
  std::size_t spinning_ = 0;  // polling queued_hint_ without the lock
  std::size_t next_index_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t rejected_ = 0;
  std::size_t running_ = 0;                         // jobs being run by a worker
  local_histogram<wait_bucket_count> queue_wait_;  // written under mutex_
  const unsigned id_;                               // "pool" label
  bool closing_ = false;
  std::list<std::thread> workers_;  // each worker knows its own element
  std::vector<std::thread> exited_;  // workers gone on keep-alive, joined by shutdown
  // Relaxed copy of queued_ for spinners: a stale read only costs one more look under the lock.
  std::atomic<std::size_t> queued_hint_{0};
  std::atomic<bool> closing_flag_{false};

  std::mutex shutdown_mutex_;  // serialises shutdown() calls
};

}  // namespace coloop::detail
