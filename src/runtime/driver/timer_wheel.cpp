// Hierarchical timing wheel (after tokio's time driver). Time is counted in ticks of 2^16 ns
// (65.5 us), and level k slot s covers the ticks whose k-th 6-bit digit is s. The tick does not
// limit precision: nodes keep their exact ns deadline, a level-0 slot (one tick) is sorted when it
// is taken and next_deadline() reports its exact minimum. The tick trades the per-tick scan and
// sort against cascades: 2^16 ns keeps a level-0 slot small, puts a 30 s timeout on level 3 (at
// most 3 cascades, and most timeouts are cancelled first), and makes 16 + 8 levels x 6 bits = 64
// bits, so every int64 deadline, INT64_MAX included, has a slot and no overflow list is needed.
//
// Invariants:
// - elapsed_ only grows. A node with tick t (its deadline's tick, raised to elapsed_ if past)
//   sits at level k = the highest 6-bit digit where t and elapsed_ differ (0 if none), slot =
//   digit k of t. Hence level k only holds ticks above elapsed_'s slot there (level 0: at or
//   above), every level-0 node precedes every level-1 node, and so on: the earliest occupied
//   slot is the first set bit at or after elapsed_'s digit in the lowest non-empty level, and no
//   bitmap search ever wraps around.
// - Only the level-0 slot at elapsed_ can hold deadlines earlier than its start (past
//   deadlines, raised at insert); any other node's deadline lies inside its slot's range.
// - slot_min_[s] <= every deadline in level-0 slot s (exact after expire() scans the slot,
//   possibly stale-low after a remove; INT64_MAX when empty).
// - A node is in exactly one list (a slot or the due list) iff armed; state_ says which.
//
// expire(now): move the earliest occupied slot down while it starts at or before now: a
// level-k slot cascades (its nodes are re-placed relative to the slot start, landing lower), a
// level-0 slot moves its due nodes, sorted by (deadline, seq) through a reusable scratch array,
// to the end of the due list. Then the due list is fired one node at a time; remove() can unlink
// a due node, so a callback may cancel (and free) a timer due in the same call. Timers inserted
// by callbacks go into the wheel and wait for the next expire(). Nothing throws: without memory
// for the scratch array a batch is insertion-sorted, as small batches always are.

#include "runtime/driver/timer_wheel.hpp"
#include "runtime/driver/driver_stats.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>

namespace coloop::detail {
namespace {

constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t slot_mask = timer_wheel::slots - 1;

std::uint64_t tick_of(std::int64_t ns) noexcept {
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns) >> timer_wheel::tick_shift;
}

int shift_of(int level) noexcept { return level * timer_wheel::slot_bits; }

}  // namespace

timer_wheel::timer_wheel(std::int64_t now_ns) noexcept : elapsed_(tick_of(now_ns)) {
  std::fill(std::begin(slot_min_), std::end(slot_min_), never);
}

void timer_wheel::place(timer_node& n) noexcept {
  const std::uint64_t tick = std::max(tick_of(n.deadline), elapsed_);
  const std::uint64_t diff = (elapsed_ ^ tick) | slot_mask;
  const int level = (static_cast<int>(std::bit_width(diff)) - 1) / slot_bits;
  const auto slot = static_cast<int>((tick >> shift_of(level)) & slot_mask);
  timer_node*& head = heads_[level][slot];
  n.prev_ = nullptr;
  n.next_ = head;
  if (head != nullptr) head->prev_ = &n;
  head = &n;
  occupied_[level] |= std::uint64_t{1} << slot;
  if (level == 0 && n.deadline < slot_min_[slot]) slot_min_[slot] = n.deadline;
  n.level_ = static_cast<std::uint8_t>(level);
  n.slot_ = static_cast<std::uint8_t>(slot);
  n.state_ = in_wheel;
}

void timer_wheel::insert(timer_node& n) noexcept {
  assert(!n.armed() && "timer_wheel::insert: node already armed");
  n.seq_ = next_seq_++;
  ++size_;
  bound_known_ = false;
  driver_stats::bump(armed_);  // one writer: the wheel is not thread-safe
  place(n);
}

void timer_wheel::unlink_slot(timer_node& n) noexcept {
  timer_node*& head = heads_[n.level_][n.slot_];
  (n.prev_ != nullptr ? n.prev_->next_ : head) = n.next_;
  if (n.next_ != nullptr) n.next_->prev_ = n.prev_;
  if (head == nullptr) {
    occupied_[n.level_] &= ~(std::uint64_t{1} << n.slot_);
    if (n.level_ == 0) slot_min_[n.slot_] = never;
  }
}

void timer_wheel::remove(timer_node& n) noexcept {
  if (n.state_ == idle) return;
  if (n.state_ == in_wheel) {
    unlink_slot(n);
  } else {
    due_.remove(n);
  }
  n.prev_ = n.next_ = nullptr;
  n.state_ = idle;
  --size_;
  bound_known_ = false;
  driver_stats::bump(cancelled_);
}

bool timer_wheel::next_expiration(expiration& e) const noexcept {
  for (int level = 0; level < levels; ++level) {
    const int shift = shift_of(level);
    const auto digit = static_cast<int>((elapsed_ >> shift) & slot_mask);
    assert((occupied_[level] & ((std::uint64_t{1} << digit) - 1)) == 0 && "wheel wrapped");
    const std::uint64_t bits = occupied_[level] & (~std::uint64_t{0} << digit);
    if (bits == 0) continue;
    e.level = level;
    e.slot = std::countr_zero(bits);
    const int span = shift + slot_bits;  // <= 48: the prefix shift below is well defined
    e.start = ((elapsed_ >> span) << span) | (static_cast<std::uint64_t>(e.slot) << shift);
    return true;
  }
  return false;
}

std::int64_t timer_wheel::next_deadline() noexcept {
  if (!bound_known_) {
    expiration e;
    bound_ = !next_expiration(e) ? never
             : e.level == 0      ? slot_min_[e.slot]
                                 : static_cast<std::int64_t>(e.start << tick_shift);
    bound_known_ = true;
  }
  // The due list is non-empty only while expire() fires; it is sorted, its head is its minimum.
  return due_.empty() ? bound_ : std::min(due_.front()->deadline, bound_);
}

// Insertion from the tail: how small batches are added, and any batch when memory is short.
void timer_wheel::insert_due(timer_node& n) noexcept {
  timer_node* after = due_.back();
  while (after != nullptr && (n.deadline < after->deadline ||
                              (n.deadline == after->deadline && n.seq_ < after->seq_))) {
    after = after->prev_;
  }
  due_.insert_after(after, n);
}

// Appends a batch (chained through next_, in state `due` already) to the due list in (deadline,
// seq) order. A large batch is sorted as keys copied into one array, which keeps the comparisons
// in cache; the array's capacity is kept for the next call.
void timer_wheel::append_due(timer_node* batch, std::size_t count) noexcept {
  constexpr std::size_t small_batch = 16;  // insertion sort is cheaper up to about here
  if (count > small_batch) {
    try {
      scratch_.reserve(count);  // the only throw: nothing below allocates or throws
      for (timer_node* n = batch; n != nullptr; n = n->next_) {
        scratch_.push_back({n->deadline, n->seq_, n});
      }
      std::sort(scratch_.begin(), scratch_.end(), [](const sort_key& a, const sort_key& b) {
        return a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq;
      });
      for (const sort_key& k : scratch_) due_.push_back(*k.node);
      scratch_.clear();
      return;
    } catch (...) {  // no memory: fall back to insertion, slower but never lossy
    }
  }
  while (batch != nullptr) {
    timer_node* next = batch->next_;
    insert_due(*batch);
    batch = next;
  }
}

// Moves the nodes of level-0 slot `slot` due by now_ns to the due list and recomputes the slot's
// exact minimum from the ones left. Slots are taken in tick order and only the first can hold
// raised (past) deadlines, so sorting each slot's batch on its own keeps the due list sorted.
void timer_wheel::take_slot(int slot, std::int64_t now_ns) noexcept {
  if (slot_min_[slot] > now_ns) return;
  timer_node* n = heads_[0][slot];
  heads_[0][slot] = nullptr;
  timer_node* batch = nullptr;
  std::size_t count = 0;
  std::int64_t min = never;
  while (n != nullptr) {
    timer_node* next = n->next_;
    if (n->deadline <= now_ns) {
      n->state_ = due;  // append_due links it there
      n->next_ = batch;
      batch = n;
      ++count;
    } else {
      n->prev_ = nullptr;
      n->next_ = heads_[0][slot];
      if (n->next_ != nullptr) n->next_->prev_ = n;
      heads_[0][slot] = n;
      min = std::min(min, n->deadline);
    }
    n = next;
  }
  slot_min_[slot] = min;
  if (heads_[0][slot] == nullptr) occupied_[0] &= ~(std::uint64_t{1} << slot);
  append_due(batch, count);
}

// Re-places the nodes of a higher-level slot relative to its start: each lands lower.
void timer_wheel::cascade(const expiration& e) noexcept {
  timer_node* n = heads_[e.level][e.slot];
  heads_[e.level][e.slot] = nullptr;
  occupied_[e.level] &= ~(std::uint64_t{1} << e.slot);
  elapsed_ = e.start;
  while (n != nullptr) {
    timer_node* next = n->next_;
    place(*n);
    n = next;
  }
}

std::size_t timer_wheel::expire(std::int64_t now_ns) {
  assert(due_.empty() && "timer_wheel::expire called from a fire callback");
  const std::uint64_t now_tick = tick_of(now_ns);
  if (now_ns < next_deadline()) {  // nothing to fire or cascade: most calls, a cached compare
    if (size_ == 0) elapsed_ = std::max(elapsed_, now_tick);  // an empty wheel has no invariant
    return 0;
  }
  bound_known_ = false;  // the slots change below
  expiration e;
  while (next_expiration(e)) {
    if (e.level > 0) {
      if (e.start > now_tick) break;
      cascade(e);
    } else if (e.start < now_tick) {
      elapsed_ = e.start;
      take_slot(e.slot, now_ns);  // the whole slot is due
    } else {
      take_slot(e.slot, now_ns);  // the current tick: only what is due by now_ns
      break;
    }
  }
  elapsed_ = std::max(elapsed_, now_tick);
  std::size_t fired = 0;
  while (timer_node* n = due_.pop_front()) {
    n->state_ = idle;
    --size_;
    ++fired;
    // Counted before it fires: on a runtime the woken task may run (and read the metrics) on
    // another worker before this loop ends.
    driver_stats::bump(fired_);
    n->fire(n);  // may insert, remove (even due nodes) and free n
  }
  return fired;
}

}  // namespace coloop::detail
