#pragma once
// Storage for call_later/call_at callbacks: entries are recycled through a free list owned by
// the loop, so arming and cancelling a callback timer allocates nothing in steady state, and a
// stale timer_handle can always check the entry's generation safely.

#include <cstdint>
#include <memory>
#include <vector>

#include <coloop/detail/callback.hpp>

#include "runtime/driver/timer_wheel.hpp"

namespace coloop::detail {

class loop_scheduler;

/// Life of an entry: armed in the wheel -> due (queued on the ready queue, still cancellable,
/// as in asyncio) -> released when its callback runs or it is cancelled.
struct timer_entry {
  timer_node node;  // first: fire() casts back
  callback fn;
  loop_scheduler* loop = nullptr;
  std::uint64_t generation = 0;
  timer_entry* next_free = nullptr;
  bool due = false;
  bool cancelled = false;
};

class timer_entry_pool {
 public:
  timer_entry* acquire() {
    if (free_ == nullptr) refill();
    timer_entry* e = free_;
    free_ = e->next_free;
    return e;
  }
  void release(timer_entry* e) noexcept {
    e->fn.reset();
    e->due = false;
    e->cancelled = false;
    ++e->generation;
    e->next_free = free_;
    free_ = e;
  }

 private:
  void refill() {
    const std::size_t n = chunks_.empty() ? 64 : 1024;
    chunks_.push_back(std::make_unique<timer_entry[]>(n));
    for (std::size_t i = 0; i < n; ++i) release(&chunks_.back()[i]);
  }
  std::vector<std::unique_ptr<timer_entry[]>> chunks_;
  timer_entry* free_ = nullptr;
};

}  // namespace coloop::detail
