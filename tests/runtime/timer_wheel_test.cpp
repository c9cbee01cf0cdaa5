// timer_wheel: ordering against a std::map model, FIFO, never early, cancel-while-due (with
// freed memory, for ASan), re-arming from callbacks, 1M timers, INT64_MAX, next_deadline.

#include "runtime/driver/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

namespace coloop::detail {
namespace {

constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000 * ms;
constexpr std::int64_t hour = 3'600 * sec;

// A node that appends its id to a log when it fires.
struct logged_node : timer_node {
  int id = 0;
  std::vector<int>* log = nullptr;
  logged_node() { fire = &on_fire; }
  static void on_fire(timer_node* n) noexcept {
    auto* self = static_cast<logged_node*>(n);
    self->log->push_back(self->id);
  }
};

TEST(timer_wheel, empty_wheel) {
  timer_wheel w(5 * sec);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.next_deadline(), never);
  EXPECT_EQ(w.expire(never), 0u);
  EXPECT_EQ(w.next_deadline(), never);
}

TEST(timer_wheel, size_counts_armed_timers) {
  timer_wheel w(0);
  std::vector<int> log;
  logged_node a, b, c;
  for (logged_node* n : {&a, &b, &c}) n->log = &log;
  a.deadline = 10;
  b.deadline = 20 * sec;
  c.deadline = 3 * hour;
  w.insert(a);
  w.insert(b);
  w.insert(c);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_TRUE(a.armed() && b.armed() && c.armed());
  w.remove(b);
  EXPECT_FALSE(b.armed());
  EXPECT_EQ(w.size(), 2u);
  w.remove(b);  // not armed: no-op
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.expire(10), 1u);
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(w.size(), 1u);
  w.remove(a);  // already fired: no-op
  EXPECT_EQ(w.size(), 1u);
  w.remove(c);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.next_deadline(), never);
  EXPECT_EQ(log, std::vector<int>{0});
}

TEST(timer_wheel, never_early) {
  // Deadlines 1 ns after now, on both sides of tick boundaries and across levels.
  for (std::int64_t now : {std::int64_t{0}, std::int64_t{65535}, std::int64_t{65536},
                           std::int64_t{(1 << 22) - 1}, 17 * sec + 3, 5 * hour - 1}) {
    timer_wheel w(now);
    std::vector<int> log;
    logged_node n;
    n.log = &log;
    n.deadline = now + 1;
    w.insert(n);
    EXPECT_LE(w.next_deadline(), now + 1);
    EXPECT_EQ(w.expire(now), 0u) << now;
    EXPECT_TRUE(n.armed());
    EXPECT_EQ(w.expire(now + 1), 1u) << now;
    EXPECT_FALSE(n.armed());
    // Same again with a due timer beside it in the same tick, so the tick is scanned.
    logged_node due_now;
    due_now.log = &log;
    due_now.deadline = now;
    n.deadline = now + 1;
    w.insert(n);
    w.insert(due_now);
    EXPECT_EQ(w.expire(now), 1u) << now;
    EXPECT_TRUE(n.armed());
    EXPECT_FALSE(due_now.armed());
    EXPECT_EQ(w.expire(now + 1), 1u) << now;
  }
  // A far deadline: every intermediate time up to it fires nothing.
  timer_wheel w(0);
  std::vector<int> log;
  logged_node n;
  n.log = &log;
  n.deadline = 2 * hour + 12345;
  w.insert(n);
  for (std::int64_t t = 0; t < n.deadline; t += 7 * sec + 13) EXPECT_EQ(w.expire(t), 0u);
  EXPECT_EQ(w.expire(n.deadline - 1), 0u);
  EXPECT_EQ(w.expire(n.deadline), 1u);
}

TEST(timer_wheel, fifo_among_equal_deadlines) {
  timer_wheel w(0);
  std::vector<int> log;
  std::vector<logged_node> nodes(3000);
  // Three deadlines interleaved; equal deadlines must keep insertion order.
  const std::int64_t deadlines[3] = {50 * ms, 50 * ms + 1, 50 * ms - 1};
  for (int i = 0; i < 3000; ++i) {
    nodes[static_cast<std::size_t>(i)].id = i;
    nodes[static_cast<std::size_t>(i)].log = &log;
    nodes[static_cast<std::size_t>(i)].deadline = deadlines[i % 3];
    w.insert(nodes[static_cast<std::size_t>(i)]);
  }
  EXPECT_EQ(w.expire(60 * ms), 3000u);
  std::vector<int> expected;
  for (int r : {2, 0, 1}) {
    for (int i = r; i < 3000; i += 3) expected.push_back(i);
  }
  EXPECT_EQ(log, expected);
}

TEST(timer_wheel, fifo_survives_cascading) {
  // a goes in a high level (far away), b is inserted later when the same deadline is near (level
  // 0); a was inserted first, so it fires first.
  const std::int64_t d = 3 * hour + 777;
  timer_wheel w(0);
  std::vector<int> log;
  logged_node a, b;
  a.id = 1;
  b.id = 2;
  a.log = b.log = &log;
  a.deadline = b.deadline = d;
  w.insert(a);
  EXPECT_EQ(w.expire(d - 100), 0u);
  w.insert(b);
  EXPECT_EQ(w.expire(d), 2u);
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
}

TEST(timer_wheel, past_and_negative_deadlines_fire_next_expire) {
  timer_wheel w(10 * sec);
  std::vector<int> log;
  logged_node a, b, c;
  a.id = 1;
  b.id = 2;
  c.id = 3;
  a.log = b.log = c.log = &log;
  a.deadline = 10 * sec - 1;
  b.deadline = -5;
  c.deadline = std::numeric_limits<std::int64_t>::min();
  w.insert(a);
  w.insert(b);
  w.insert(c);
  EXPECT_LE(w.next_deadline(), c.deadline);
  EXPECT_EQ(w.expire(10 * sec), 3u);
  EXPECT_EQ(log, (std::vector<int>{3, 2, 1}));
}

TEST(timer_wheel, int64_max_deadline) {
  timer_wheel w(0);
  std::vector<int> log;
  logged_node far, near;
  far.id = 1;
  near.id = 2;
  far.log = near.log = &log;
  far.deadline = never;
  near.deadline = never - 1;
  w.insert(far);
  w.insert(near);
  EXPECT_LE(w.next_deadline(), never - 1);
  EXPECT_EQ(w.expire(100 * 24 * hour), 0u);
  EXPECT_EQ(w.expire(never - 2), 0u);
  EXPECT_EQ(w.expire(never - 1), 1u);
  EXPECT_LE(w.next_deadline(), never);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.expire(never), 1u);
  EXPECT_EQ(log, (std::vector<int>{2, 1}));
  EXPECT_EQ(w.next_deadline(), never);
}

TEST(timer_wheel, next_deadline_leads_to_the_timer_through_cascades) {
  // Driving time by next_deadline() alone (what a virtual clock does) reaches a far timer in a
  // few steps: one per level at most, each never later than the deadline.
  for (std::int64_t d : {std::int64_t{70'000}, 300 * ms, 40 * sec, 7 * hour, 400 * 24 * hour}) {
    timer_wheel w(1234);
    std::vector<int> log;
    logged_node n;
    n.log = &log;
    n.deadline = d;
    w.insert(n);
    std::int64_t now = 1234;
    int steps = 0;
    while (n.armed()) {
      const std::int64_t next = w.next_deadline();
      ASSERT_LE(next, d);
      ASSERT_GE(next, now) << "no progress";
      now = next;
      w.expire(now);
      ASSERT_LE(++steps, timer_wheel::levels + 1) << d;
    }
    EXPECT_EQ(now, d);
    EXPECT_EQ(w.next_deadline(), never);
  }
}

// --- callbacks that cancel, free and re-arm ---------------------------------------------------

struct cancelling_node : timer_node {
  timer_wheel* wheel = nullptr;
  timer_node* victim = nullptr;  // heap-allocated, removed and deleted by this callback
  int* fired = nullptr;
  static void on_fire(timer_node* n) noexcept {
    auto* self = static_cast<cancelling_node*>(n);
    ++*self->fired;
    self->wheel->remove(*self->victim);
    delete static_cast<logged_node*>(self->victim);  // ASan: the wheel must not touch it again
  }
};

TEST(timer_wheel, callback_cancels_and_frees_a_timer_due_in_the_same_expire) {
  // Victims: same tick, another tick, and equal deadline (later seq) as the canceller.
  for (std::int64_t victim_deadline : {std::int64_t{1000}, 5 * ms, std::int64_t{500}}) {
    timer_wheel w(0);
    std::vector<int> log;
    int fired = 0;
    auto* victim = new logged_node;
    victim->id = 99;
    victim->log = &log;
    victim->deadline = victim_deadline;
    cancelling_node killer;
    killer.fire = &cancelling_node::on_fire;
    killer.deadline = 500;
    killer.wheel = &w;
    killer.victim = victim;
    killer.fired = &fired;
    logged_node after;  // due after the victim: the due list must stay intact
    after.id = 7;
    after.log = &log;
    after.deadline = 6 * ms;
    w.insert(killer);
    w.insert(*victim);
    w.insert(after);
    EXPECT_EQ(w.size(), 3u);
    EXPECT_EQ(w.expire(10 * ms), 2u);
    EXPECT_TRUE(w.empty());
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(log, std::vector<int>{7});
  }
}

struct self_freeing_node : timer_node {
  std::vector<int>* log = nullptr;
  static void on_fire(timer_node* n) noexcept {
    auto* self = static_cast<self_freeing_node*>(n);
    self->log->push_back(static_cast<int>(self->deadline));
    delete self;  // the wheel unlinked it before the call and must not touch it after
  }
};

TEST(timer_wheel, callback_may_free_its_own_node) {
  timer_wheel w(0);
  std::vector<int> log;
  for (int i = 0; i < 100; ++i) {
    auto* n = new self_freeing_node;
    n->fire = &self_freeing_node::on_fire;
    n->log = &log;
    n->deadline = (i * 37) % 100;
    w.insert(*n);
  }
  EXPECT_EQ(w.expire(100), 100u);
  ASSERT_EQ(log.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(log[static_cast<std::size_t>(i)], i);
}

struct rearming_node : timer_node {
  timer_wheel* wheel = nullptr;
  std::int64_t rearm_at = 0;
  int fired = 0;
  static void on_fire(timer_node* n) noexcept {
    auto* self = static_cast<rearming_node*>(n);
    ++self->fired;
    self->deadline = self->rearm_at;
    self->wheel->insert(*self);
  }
};

TEST(timer_wheel, rearm_at_or_before_now_fires_on_the_next_expire) {
  timer_wheel w(0);
  rearming_node n;
  n.fire = &rearming_node::on_fire;
  n.wheel = &w;
  n.deadline = 10 * ms;
  w.insert(n);
  for (std::int64_t rearm_at : {10 * ms, 10 * ms - 1, std::int64_t{0}, 10 * ms - 70'000}) {
    n.rearm_at = rearm_at;
    const int before = n.fired;
    EXPECT_EQ(w.expire(10 * ms), 1u);  // would loop forever if the re-armed node fired again
    EXPECT_EQ(n.fired, before + 1);
    EXPECT_TRUE(n.armed());
    EXPECT_LE(w.next_deadline(), rearm_at);
  }
  EXPECT_EQ(w.expire(10 * ms), 1u);
  w.remove(n);
  EXPECT_TRUE(w.empty());
}

TEST(timer_wheel, one_million_timers_expire_in_order) {
  constexpr std::size_t count = 1'000'000;
  const std::int64_t start = 123 * sec;
  timer_wheel w(start);
  std::vector<int> log;
  log.reserve(count);
  std::vector<logged_node> nodes(count);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> spread(0, 60 * sec);
  for (std::size_t i = 0; i < count; ++i) {
    nodes[i].id = static_cast<int>(i);
    nodes[i].log = &log;
    // Every 16th deadline repeats one of 16 values: many equal deadlines.
    nodes[i].deadline =
        start + (i % 16 == 0 ? static_cast<std::int64_t>(i % 256) * sec / 8 : spread(rng));
    w.insert(nodes[i]);
  }
  EXPECT_EQ(w.size(), count);
  // Half by a walk of uneven steps, the rest in one jump of an hour.
  std::size_t fired = 0;
  std::int64_t now = start;
  for (; now < start + 30 * sec; now += 17 * ms + 4321) fired += w.expire(now);
  fired += w.expire(now + hour);
  EXPECT_EQ(fired, count);
  EXPECT_TRUE(w.empty());
  ASSERT_EQ(log.size(), count);
  for (std::size_t i = 1; i < count; ++i) {
    const logged_node& a = nodes[static_cast<std::size_t>(log[i - 1])];
    const logged_node& b = nodes[static_cast<std::size_t>(log[i])];
    ASSERT_TRUE(a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id)) << i;
  }
}

// --- randomized model check ------------------------------------------------------------------
// A std::map keyed by (deadline, insertion number) is the reference. Callbacks check that they
// fire in exactly the model's order and never early, and randomly cancel (and free) other timers
// -- including ones due in the same expire() -- and arm new ones, some already due.

class model {
 public:
  using key = std::pair<std::int64_t, std::uint64_t>;
  struct node : timer_node {
    model* owner = nullptr;
    key k;
    std::size_t live_index = 0;
  };

  struct stats {  // proof that the run exercised what it claims to
    std::size_t fired = 0;
    std::size_t cancelled_while_due = 0;
    std::size_t max_batch = 0;
  };
  const stats& totals() const { return stats_; }

  explicit model(std::uint64_t seed) : rng_(seed), now_(start_of(seed)), wheel_(now_) {}
  model(const model&) = delete;
  model& operator=(const model&) = delete;
  ~model() {
    for (node* n : live_) delete n;
  }

  void run(int steps) {
    for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
      const std::int64_t op = pick(0, 99);
      if (op < 45) {
        arm(random_deadline());
      } else if (op < 47) {  // a burst: large batches to sort, crowded slots
        for (int j = 0; j < 300; ++j) arm(random_deadline());
      } else if (op < 60) {
        cancel_random();
      } else {
        advance(random_step());
      }
      check_invariants();
    }
    // Drain by following next_deadline() alone, as a loop on a virtual clock does: each timer is
    // reached in a bounded number of empty steps (cascades, one stale lower bound).
    int idle_steps = 0;
    while (!armed_.empty() && !::testing::Test::HasFatalFailure()) {
      const std::int64_t next = wheel_.next_deadline();
      ASSERT_NE(next, never);
      const std::size_t fired = advance_to(std::max(now_, next));
      idle_steps = fired == 0 ? idle_steps + 1 : 0;
      ASSERT_LE(idle_steps, timer_wheel::levels + 2) << "next_deadline() makes no progress";
      check_invariants();
    }
    EXPECT_TRUE(wheel_.empty());
  }

 private:
  static std::int64_t start_of(std::uint64_t seed) {
    return static_cast<std::int64_t>(seed % 7) * 987'654'321'123;  // various phases and levels
  }
  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }

  std::int64_t random_deadline() {
    switch (pick(0, 9)) {
      case 0:
        return now_ - pick(0, 5 * ms);  // already due
      case 1:
        return now_ + pick(0, 3);  // equal deadlines, tick edges
      case 2:
        return (now_ >> 16 << 16) + pick(0, 2) * 65536 - pick(0, 1);
      case 3:
        return now_ + pick(0, 200'000);  // within a few ticks
      case 4:
        return now_ + pick(0, 100 * ms);
      case 5:
        return now_ + pick(0, 60 * sec);
      case 6:
        return now_ + 30 * sec;  // the typical timeout: many equal
      case 7:
        return now_ + pick(0, 10 * hour);
      case 8:
        return pick(0, 99) == 0 ? never : now_ + pick(0, 400 * 24 * hour);
      default:
        return now_ + pick(0, 2 * ms);
    }
  }
  std::int64_t random_step() {
    switch (pick(0, 7)) {
      case 0:
        return 0;
      case 1:
        return pick(0, 100'000);
      case 2:
        return pick(0, 50 * ms);
      case 3:
        return pick(0, 20 * sec);
      case 4:
        return pick(1, 30) * hour;  // a manual clock's big jump
      case 5:
        return pick(0, 3) == 0 ? pick(1, 200) * 24 * hour : pick(0, 2 * ms);
      default:
        return std::max<std::int64_t>(0, wheel_.next_deadline() - now_);  // as the loop
    }
  }

  void arm(std::int64_t deadline) {
    auto* n = new node;
    n->owner = this;
    n->deadline = deadline;
    n->fire = &on_fire;
    n->k = {deadline, seq_++};
    n->live_index = live_.size();
    live_.push_back(n);
    armed_.emplace(n->k, n);
    wheel_.insert(*n);
  }
  void forget(node* n) {  // drops n from the model (not the wheel) and frees it
    armed_.erase(n->k);
    due_.erase(n->k);
    live_.back()->live_index = n->live_index;
    live_[n->live_index] = live_.back();
    live_.pop_back();
    delete n;
  }
  void cancel_random() {
    if (live_.empty()) return;
    node* n = live_[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(live_.size()) - 1))];
    wheel_.remove(*n);
    EXPECT_FALSE(n->armed());
    forget(n);
  }

  void advance(std::int64_t step) {
    if (now_ > never / 2 - step) return;  // keep clear of overflow; INT64_MAX is the drain's
    advance_to(now_ + step);
  }
  std::size_t advance_to(std::int64_t t) {
    now_ = t;
    due_.clear();
    for (auto it = armed_.begin(); it != armed_.end() && it->first.first <= now_; ++it) {
      due_.insert(*it);
    }
    const std::size_t expected = due_.size();
    in_expire_ = true;
    cancelled_in_call_ = 0;
    const std::size_t fired = wheel_.expire(now_);
    in_expire_ = false;
    EXPECT_TRUE(due_.empty()) << due_.size() << " due timers did not fire";
    EXPECT_EQ(fired + cancelled_in_call_, expected);
    stats_.fired += fired;
    stats_.cancelled_while_due += cancelled_in_call_;
    stats_.max_batch = std::max(stats_.max_batch, fired);
    return fired;
  }

  static void on_fire(timer_node* tn) noexcept {
    auto* n = static_cast<node*>(tn);
    n->owner->fired(n);
  }
  void fired(node* n) {
    EXPECT_TRUE(in_expire_);
    EXPECT_FALSE(n->armed());
    EXPECT_LE(n->deadline, now_) << "fired early";
    ASSERT_FALSE(due_.empty()) << "fired a timer that was not due";
    EXPECT_EQ(due_.begin()->first, n->k) << "out of order";
    forget(n);
    if (pick(0, 2) == 0 && !live_.empty()) {  // cancel (and free) another, maybe one due now
      node* victim =
          live_[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(live_.size()) - 1))];
      if (due_.count(victim->k) != 0) ++cancelled_in_call_;
      wheel_.remove(*victim);
      forget(victim);
    }
    if (pick(0, 2) == 0) arm(now_ - pick(-2 * ms, 2 * ms));  // often due: next call, not this
  }

  void check_invariants() {
    ASSERT_EQ(wheel_.size(), armed_.size());
    ASSERT_EQ(wheel_.empty(), armed_.empty());
    const std::int64_t next = wheel_.next_deadline();
    if (armed_.empty()) {
      ASSERT_EQ(next, never);
    } else {
      ASSERT_LE(next, armed_.begin()->first.first) << "next_deadline() later than the earliest";
    }
  }

  std::mt19937_64 rng_;
  std::int64_t now_;
  timer_wheel wheel_;
  std::uint64_t seq_ = 0;
  std::map<key, node*> armed_;
  std::map<key, node*> due_;  // armed and due in the current expire() call
  std::vector<node*> live_;
  bool in_expire_ = false;
  std::size_t cancelled_in_call_ = 0;
  stats stats_;
};

TEST(timer_wheel, randomized_against_a_map) {
  model::stats all;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(seed);
    model m(seed);
    m.run(4000);
    if (HasFatalFailure()) return;
    all.fired += m.totals().fired;
    all.cancelled_while_due += m.totals().cancelled_while_due;
    all.max_batch = std::max(all.max_batch, m.totals().max_batch);
  }
  std::printf("fired %zu, cancelled while due %zu, largest batch %zu\n", all.fired,
              all.cancelled_while_due, all.max_batch);
  EXPECT_GT(all.fired, 100'000u);
  EXPECT_GT(all.cancelled_while_due, 100u);
  EXPECT_GT(all.max_batch, 100u);
}

}  // namespace
}  // namespace coloop::detail
