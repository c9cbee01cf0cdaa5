#pragma once
// Idle-worker coordination (tokio's `Idle`): how many workers are searching for work and how
// many are parked, and which ones to wake.
//
// Design. One 32-bit atomic holds both counts (searching in the low 16 bits, parked in the high
// 16), so "nobody searching and somebody parked" is read in one operation. The list of parked
// workers sits behind a mutex; it is touched only on the slow paths (parking, waking).
//   - At most half the workers (rounded up) search at once (transition_worker_to_searching
//     refuses beyond), so an idle runtime does not burn every core stealing from empty queues.
//   - After making work available, a producer asks worker_to_notify(): it wakes a parked worker
//     only if nobody searches (a searcher will find the work) and somebody is parked. The woken
//     worker counts as searching at once, so a burst of pushes wakes one worker, not all.
//   - A searcher that finds work leaves searching; if it was the last searcher it must notify
//     one more worker (the work it found may have company), which chains the wake-ups.
// Lost wake-ups. notify_should_wakeup() and transition_worker_to_parked() are both
// read-modify-writes on the state, so one is ordered after the other: either the producer sees
// the worker parked (and wakes it), or the parking worker's RMW acquires the producer's, and its
// re-check of the queues after parking (the runtime's job) sees the work.
//
// Thread safety: every member may be called from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace coloop::detail::mt {

class idle {
 public:
  /// `num_workers` in [1, 65535].
  explicit idle(std::size_t num_workers);

  /// Becomes a searcher unless half the workers (rounded up) already search; returns whether it
  /// did. Racy by design: two workers may both pass the check (tokio accepts the same).
  bool transition_worker_to_searching() noexcept;
  /// Stops searching (found work or about to park); returns true if this was the last searcher,
  /// in which case the caller must notify a parked worker if there is work left anywhere.
  bool transition_worker_from_searching() noexcept;

  /// Whether a producer that just queued work should wake a worker: nobody searches and somebody
  /// is parked. A read-modify-write, see "Lost wake-ups" above.
  bool notify_should_wakeup() const noexcept;
  /// Picks a parked worker to wake and marks it unparked and searching, or nullopt when
  /// notify_should_wakeup() is false. The caller then unparks that worker's parker.
  std::optional<std::size_t> worker_to_notify();

  /// Records `worker` as parked (leaving searching if `is_searching`); returns true if it was the
  /// last searcher, in which case the caller re-checks every queue before sleeping. Does not
  /// allocate.
  bool transition_worker_to_parked(std::size_t worker, bool is_searching);
  /// Removes `worker` from the parked set if there (it woke for another reason: the I/O driver,
  /// a timeout, shutdown); returns whether it was parked. It comes back not searching.
  bool unpark_worker_by_id(std::size_t worker);
  bool is_parked(std::size_t worker) const;

  std::size_t num_searching() const noexcept;
  std::size_t num_parked() const noexcept;
  std::size_t num_workers() const noexcept { return num_workers_; }

 private:
  static constexpr std::uint32_t searching_one = 1;
  static constexpr std::uint32_t parked_one = 1u << 16;
  static constexpr std::uint32_t field_mask = 0xffff;

  const std::size_t num_workers_;
  mutable std::atomic<std::uint32_t> state_{0};  // searching | parked << 16
  mutable std::mutex mutex_;
  std::vector<std::size_t> sleepers_;  // parked workers, capacity reserved up front
};

}  // namespace coloop::detail::mt
