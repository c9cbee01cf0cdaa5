// Hierarchical timing wheel (after tokio's time driver). Time is counted in ticks of 2^16 ns
// (65.5 us): fine enough that a level-0 slot holds few timers to sort and that no poll wakes up
// early by a visible amount (epoll timeouts are whole ms), coarse enough that 8 levels of 64
// slots (6 bits each) span 2^64 ns, so every int64 deadline has a slot and INT64_MAX needs no
// special case. Level k slot s covers the ticks whose k-th 6-bit digit is s.
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
// level-0 slot moves its due nodes to the due list. Then the due list is sorted by (deadline,
// seq) through a reusable scratch array and fired one node at a time; remove() can unlink a due
// node, so a callback may cancel (and free) a timer due in the same call. Timers inserted by
// callbacks go into the wheel and wait for the next expire().

#include "runtime/timer_wheel.hpp"

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
  const int level = (std::bit_width(diff) - 1) / slot_bits;
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
  place(n);
}

void timer_wheel::unlink_slot(timer_node& n) noexcept {
  timer_node*& head = heads_[n.level_][n.slot_];
  if (n.prev_ != nullptr) {
    n.prev_->next_ = n.next_;
  } else {
    head = n.next_;
  }
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
    (n.prev_ != nullptr ? n.prev_->next_ : due_head_) = n.next_;
    (n.next_ != nullptr ? n.next_->prev_ : due_tail_) = n.prev_;
    --due_count_;
  }
  n.prev_ = n.next_ = nullptr;
  n.state_ = idle;
  --size_;
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
  std::int64_t best = never;
  if (due_head_ != nullptr) {  // only seen by a fire callback, or after expire() threw
    for (timer_node* n = due_head_; n != nullptr; n = due_sorted_ ? nullptr : n->next_) {
      best = std::min(best, n->deadline);
    }
  }
  expiration e;
  if (!next_expiration(e)) return best;
  const std::int64_t slot_bound =
      e.level == 0 ? slot_min_[e.slot] : static_cast<std::int64_t>(e.start << tick_shift);
  return std::min(best, slot_bound);
}

void timer_wheel::push_due(timer_node& n) noexcept {
  n.state_ = due;
  n.next_ = nullptr;
  n.prev_ = due_tail_;
  (due_tail_ != nullptr ? due_tail_->next_ : due_head_) = &n;
  due_tail_ = &n;
  ++due_count_;
}

// Moves the nodes of level-0 slot `slot` with deadline <= now_ns to the due list and recomputes
// the slot's exact minimum from the ones left.
void timer_wheel::take_slot(int slot, std::int64_t now_ns) noexcept {
  if (slot_min_[slot] > now_ns) return;
  timer_node* n = heads_[0][slot];
  heads_[0][slot] = nullptr;
  std::int64_t min = never;
  while (n != nullptr) {
    timer_node* next = n->next_;
    if (n->deadline <= now_ns) {
      push_due(*n);
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

// Orders the due list by (deadline, seq). Sorting keys copied into one array keeps the
// comparisons in cache; the array's capacity is kept for the next call.
void timer_wheel::sort_due() {
  if (due_sorted_) return;
  if (due_count_ > 1) {
    scratch_.clear();
    scratch_.reserve(due_count_);  // may throw: the due list is untouched, still armed
    bool sorted = true;
    for (timer_node* n = due_head_; n != nullptr; n = n->next_) {
      if (!scratch_.empty()) {
        const sort_key& p = scratch_.back();
        sorted = sorted && (p.deadline < n->deadline || (p.deadline == n->deadline && p.seq < n->seq_));
      }
      scratch_.push_back({n->deadline, n->seq_, n});
    }
    if (!sorted) {
      std::sort(scratch_.begin(), scratch_.end(), [](const sort_key& a, const sort_key& b) {
        return a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq;
      });
      timer_node* prev = nullptr;
      for (const sort_key& k : scratch_) {
        k.node->prev_ = prev;
        (prev != nullptr ? prev->next_ : due_head_) = k.node;
        prev = k.node;
      }
      prev->next_ = nullptr;
      due_tail_ = prev;
    }
    scratch_.clear();
  }
  due_sorted_ = true;
}

std::size_t timer_wheel::expire(std::int64_t now_ns) {
  const std::uint64_t now_tick = tick_of(now_ns);
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
  if (due_head_ == nullptr) return 0;
  due_sorted_ = false;
  sort_due();
  std::size_t fired = 0;
  while (timer_node* n = due_head_) {
    due_head_ = n->next_;
    (due_head_ != nullptr ? due_head_->prev_ : due_tail_) = nullptr;
    n->prev_ = n->next_ = nullptr;
    n->state_ = idle;
    --due_count_;
    --size_;
    ++fired;
    n->fire(n);  // may insert, remove (even due nodes) and free n
  }
  return fired;
}

}  // namespace coloop::detail
