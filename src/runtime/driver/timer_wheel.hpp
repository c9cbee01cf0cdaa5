#pragma once
// The event loop's timer store: a hierarchical timing wheel (tokio style). Insert and remove are
// O(1) and never allocate; expire() finds work through per-level occupancy bitmaps, so jumping
// hours ahead costs the occupied slots, not the elapsed ticks. Single-threaded: the loop owns it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <coloop/detail/intrusive_list.hpp>
#include <coloop/detail/timer_node.hpp>

namespace coloop::detail {

/// Hierarchical timing wheel: 8 levels of 64 slots over ticks of 2^16 ns, which covers the whole
/// non-negative int64 ns range, so no overflow list is needed. Not thread-safe; not reentrant
/// (a fire callback may insert, remove and query, but must not call expire()).
class timer_wheel {
 public:
  static constexpr int tick_shift = 16;  // 65.536 us per level-0 slot
  static constexpr int slot_bits = 6;    // 64 slots per level
  static constexpr int slots = 1 << slot_bits;
  static constexpr int levels = 8;  // 16 + 8 * 6 = 64 bits >= any int64 deadline

  explicit timer_wheel(std::int64_t now_ns) noexcept;
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  /// Arms `n` (must not be armed). O(1), no allocation. A past deadline fires on the next expire.
  void insert(timer_node& n) noexcept;
  /// Disarms `n`; no-op if not armed. O(1). Afterwards the wheel holds no pointer to `n`.
  void remove(timer_node& n) noexcept;
  /// Armed timers (including those due and not yet fired inside expire()).
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// A time <= the earliest armed deadline at which expire() must next be called (possibly
  /// earlier: the start of a higher-level slot that needs cascading); INT64_MAX when empty.
  std::int64_t next_deadline() noexcept;
  /// Fires every timer armed before this call with deadline <= now_ns, ordered by (deadline,
  /// insertion). Timers armed by the callbacks wait for the next call. Returns how many fired.
  /// Does not throw (a failed growth of the sort scratch falls back to insertion sorting).
  /// Must not be called from a fire callback.
  std::size_t expire(std::int64_t now_ns);

  enum state : std::uint8_t { idle = 0, in_wheel = 1, due = 2 };

  /// Totals since construction, for metrics: readable from any thread (the wheel's writer is
  /// one thread at a time, which bumps them with a relaxed load + store).
  std::uint64_t armed_total() const noexcept { return armed_.load(std::memory_order_relaxed); }
  std::uint64_t fired_total() const noexcept { return fired_.load(std::memory_order_relaxed); }
  std::uint64_t cancelled_total() const noexcept {
    return cancelled_.load(std::memory_order_relaxed);
  }

 private:
  struct expiration {
    int level;
    int slot;
    std::uint64_t start;  // first tick covered by the slot
  };
  struct sort_key {
    std::int64_t deadline;
    std::uint64_t seq;
    timer_node* node;
  };
  bool next_expiration(expiration& e) const noexcept;
  void place(timer_node& n) noexcept;
  void unlink_slot(timer_node& n) noexcept;
  void insert_due(timer_node& n) noexcept;
  void append_due(timer_node* batch, std::size_t count) noexcept;
  void take_slot(int slot, std::int64_t now_ns) noexcept;
  void cascade(const expiration& e) noexcept;

  timer_node* heads_[levels][slots] = {};
  std::uint64_t occupied_[levels] = {};
  std::int64_t slot_min_[slots];  // level 0: lower bound of the deadlines in each slot
  intrusive_list<timer_node> due_;
  std::uint64_t elapsed_;  // current tick: every node's tick is >= it
  std::uint64_t next_seq_ = 0;
  std::size_t size_ = 0;
  // next_deadline()'s bound, cached until an insert, a remove or an expire() with work: each
  // poll asks for it and expire() compares with it, so neither scans the levels while nothing
  // changed (most turns of an I/O-bound loop).
  std::int64_t bound_ = 0;
  bool bound_known_ = false;
  std::vector<sort_key> scratch_;  // sort buffer; capacity reused across expire() calls
  std::atomic<std::uint64_t> armed_{0};
  std::atomic<std::uint64_t> fired_{0};
  std::atomic<std::uint64_t> cancelled_{0};
};

}  // namespace coloop::detail
