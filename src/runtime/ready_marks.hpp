#pragma once
// Debug mode's scheduling delay: when each entry of a FIFO run queue became ready, at no cost to
// pushing. After each step (and, on the event loop, each poll) the scheduler's debug path records
// a mark: the queue's tail and the time the step began (the poll's: when it returned). The
// first mark whose tail exceeds an entry's position p is the step (or poll) that pushed it, so
// it was woken no earlier than that time, and "its step's start - that time" is how long it
// waited, counting the part of the waker's step before the wake (at most one step's length
// more than the truth: a waker that keeps running after the wake does delay the woken).
// Positions are the queue's own, unsigned and wrapping (compared by difference).
//
// The event loop's ready_queue::withdraw can lower the tail (a joiner takes back its child's
// queued first step); a mark above the new tail is lowered to it when the next mark is taken, so
// later pushes at the reused positions find the later mark. A withdraw and a push in the same
// step reuse a position unseen: that entry is then timed from an older mark (at worst from when
// the withdrawn entry was queued, itself still waiting in the queue).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <type_traits>

namespace coloop::detail {

template <class Position>
class ready_marks {
 public:
  /// The queue's positions are [head, tail); those pushed since the last mark were pushed at or
  /// after `now`.
  void mark(Position head, Position tail, std::int64_t now) {
    std::deque<mark_t>& q = marks_ ? *marks_ : marks_.emplace();
    while (!q.empty() && !after(q.front().tail, head)) q.pop_front();  // popped
    for (auto m = q.rbegin(); m != q.rend() && after(m->tail, tail); ++m) {
      m->tail = tail;  // withdrawn entries: positions from `tail` on are pushed from now on
    }
    // Equal tails (just lowered): a lookup finds the oldest of them; the others are dead.
    while (q.size() >= 2 && q[q.size() - 2].tail == q.back().tail) q.pop_back();
    if (tail == head || (!q.empty() && q.back().tail == tail)) return;  // nothing new
    q.push_back({tail, now});
  }
  /// When the entry at `position` was queued, at the earliest; `now` if no mark covers it.
  std::int64_t queued_at(Position position, std::int64_t now) const noexcept {
    if (!marks_) return now;
    for (const mark_t& m : *marks_) {  // front first: marks below `position` are popped soon
      if (after(m.tail, position)) return m.time;
    }
    return now;
  }
  void clear() noexcept { marks_.reset(); }

 private:
  static_assert(std::is_unsigned_v<Position>);
  /// a > b on a wrapping position (the two less than half the range apart).
  static bool after(Position a, Position b) noexcept {
    return static_cast<std::make_signed_t<Position>>(a - b) > 0;
  }
  struct mark_t {
    Position tail;
    std::int64_t time;
  };
  // Tails increasing, times non-decreasing. Made by the first mark: libstdc++'s deque allocates
  // when constructed, and every loop and worker has one, debug mode or not.
  std::optional<std::deque<mark_t>> marks_;
};

}  // namespace coloop::detail
