// idle: the design and the lost-wake-up argument are in idle.hpp.

#include "runtime/multi_thread/idle.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace coloop::detail::mt {

idle::idle(std::size_t num_workers) : num_workers_(num_workers) {
  if (num_workers == 0 || num_workers > field_mask) {
    throw std::invalid_argument("coloop: idle needs 1..65535 workers");
  }
  sleepers_.reserve(num_workers);
}

bool idle::transition_worker_to_searching() noexcept {
  // relaxed: only a throttle; the RMW below is what the wake-up protocol relies on.
  const std::uint32_t state = state_.load(std::memory_order_relaxed);
  if (2 * (state & field_mask) >= num_workers_) return false;
  // acq_rel: part of the RMW chain that notify_should_wakeup orders itself against.
  state_.fetch_add(searching_one, std::memory_order_acq_rel);
  return true;
}

bool idle::transition_worker_from_searching() noexcept {
  // acq_rel: a producer's notify_should_wakeup either sees us searching or is acquired by us.
  const std::uint32_t prev = state_.fetch_sub(searching_one, std::memory_order_acq_rel);
  assert((prev & field_mask) > 0);
  return (prev & field_mask) == 1;
}

bool idle::notify_should_wakeup() const noexcept {
  // acq_rel RMW, not a load: it reads the latest state, so it is ordered against a worker's
  // parking RMW (see "Lost wake-ups"): the release publishes the work queued before this call.
  const std::uint32_t state = state_.fetch_add(0, std::memory_order_acq_rel);
  return (state & field_mask) == 0 && (state >> 16) > 0;
}

std::optional<std::size_t> idle::worker_to_notify() {
  if (!notify_should_wakeup()) return std::nullopt;  // the fast path: no lock
  std::lock_guard lock(mutex_);
  // Re-check under the lock: another producer may have woken the last sleeper meanwhile.
  if (!notify_should_wakeup() || sleepers_.empty()) return std::nullopt;
  // acq_rel: one RMW moves the worker from parked to searching, so no second producer sees
  // "nobody searching" for this wake.
  state_.fetch_add(searching_one - parked_one, std::memory_order_acq_rel);
  const std::size_t worker = sleepers_.back();
  sleepers_.pop_back();
  return worker;
}

bool idle::transition_worker_to_parked(std::size_t worker, bool is_searching) {
  assert(worker < num_workers_);
  std::lock_guard lock(mutex_);
  const std::uint32_t delta = parked_one - (is_searching ? searching_one : 0);
  // acq_rel: the parking RMW of "Lost wake-ups": acquires every producer's RMW before it.
  const std::uint32_t prev = state_.fetch_add(delta, std::memory_order_acq_rel);
  sleepers_.push_back(worker);  // never reallocates: reserved num_workers
  return is_searching && (prev & field_mask) == 1;
}

bool idle::unpark_worker_by_id(std::size_t worker) {
  std::lock_guard lock(mutex_);
  const auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
  if (it == sleepers_.end()) return false;
  *it = sleepers_.back();
  sleepers_.pop_back();
  // acq_rel: keeps the state's RMW chain intact for the lost-wake-up argument.
  state_.fetch_sub(parked_one, std::memory_order_acq_rel);
  return true;
}

bool idle::is_parked(std::size_t worker) const {
  std::lock_guard lock(mutex_);
  return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
}

std::size_t idle::num_searching() const noexcept {
  // relaxed: a statistic.
  return state_.load(std::memory_order_relaxed) & field_mask;
}

std::size_t idle::num_parked() const noexcept {
  // relaxed: a statistic.
  return state_.load(std::memory_order_relaxed) >> 16;
}

}  // namespace coloop::detail::mt
