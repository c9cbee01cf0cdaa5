// An exhaustive interleaving check of local_queue's push/pop/steal algorithm.
//
// The functions of src/runtime/multi_thread/local_queue.cpp are transcribed below as small steps,
// one shared-memory access per step (a load of head, a slot read or write, a CAS, the store of
// tail), on a simulated memory with a ring of 4 and 8-bit positions (so a start of 254 crosses the
// wrap). The owner runs a fixed program of pushes and pops; one or two stealers run a number of
// steal attempts. A depth-first search visits every reachable state (states are deduplicated,
// which covers every interleaving without enumerating each one) and checks:
//   - after every step: tail - steal <= capacity and steal <= real <= tail (mod 256);
//   - the owner never stores into a slot a stealer has claimed and not yet read;
//   - nobody reads a slot never written (task 0);
//   - in every final state each pushed task was consumed exactly once (popped, stolen, moved to
//     inject, or still queued).
// The search is sequentially consistent: it checks the algorithm; the memory orders are argued in
// the comments of local_queue.cpp and exercised by the TSan stress tests. Two seeded bugs (room
// counted from real instead of steal; a steal started while another is in flight) must be found,
// which shows the checker has teeth. Keep the steps in sync with local_queue.cpp.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "runtime/mt/fake_tasks.hpp"

namespace {

constexpr std::uint8_t cap = 4, mask = cap - 1, half = cap / 2;
constexpr int max_tasks = 8, max_stealers = 2;

struct op {
  bool push;
  std::uint8_t task;  // 1..max_tasks for a push
};
struct scenario {
  std::vector<op> owner;
  std::vector<int> steals;  // attempts per stealer
  std::uint8_t start = 0;
  bool bug_room_from_real = false;
  bool bug_concurrent_steals = false;
};

struct stealer_state {
  std::uint8_t attempts = 0, step = 0, prev_steal = 0, prev_real = 0, n = 0, i = 0, first = 0;
};
// All fields are bytes, so the struct has no padding and its bytes are its identity.
struct state {
  std::uint8_t steal = 0, real = 0, tail = 0, slot[cap] = {};  // the shared queue
  std::uint8_t op_index = 0, step = 0, h_steal = 0, h_real = 0, o_tail = 0, i = 0, batch[half] = {};
  stealer_state st[max_stealers];
  std::uint8_t seen[max_tasks + 1] = {};  // consumptions per task; [0]: reads of unwritten slots
};

std::uint8_t u8(int v) { return static_cast<std::uint8_t>(v); }

class checker {
 public:
  explicit checker(scenario sc) : sc_(std::move(sc)) {}

  /// Explores every reachable state; returns the first violation, or "" if none.
  std::string run() {
    state s0;
    s0.steal = s0.real = s0.tail = sc_.start;
    std::vector<state> stack{s0};
    visited_.reserve(1 << 20);
    visited_.insert(key(s0));
    while (!stack.empty()) {
      const state s = stack.back();
      stack.pop_back();
      bool any = false;
      for (int t = 0; t <= static_cast<int>(sc_.steals.size()); ++t) {
        if (finished(s, t)) continue;
        any = true;
        state next = s;
        if (t == 0)
          owner_step(next);
        else
          stealer_step(next, t - 1);
        check_invariants(next);
        if (!error_.empty()) return error_;
        if (visited_.insert(key(next)).second) stack.push_back(next);
      }
      if (!any) check_final(s);
      if (!error_.empty()) return error_;
    }
    return {};
  }
  std::size_t states() const { return visited_.size(); }
  std::size_t finals() const { return finals_; }

 private:
  using key_type = std::array<unsigned char, sizeof(state)>;
  struct key_hash {
    std::size_t operator()(const key_type& k) const noexcept {
      return std::hash<std::string_view>{}(
          std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
    }
  };
  static key_type key(const state& s) {
    key_type k;
    std::memcpy(k.data(), &s, sizeof s);
    return k;
  }
  bool finished(const state& s, int t) const {
    if (t == 0) return std::size_t{s.op_index} == sc_.owner.size();
    return s.st[t - 1].attempts == sc_.steals[static_cast<std::size_t>(t - 1)];
  }
  void fail(const std::string& what) {
    if (error_.empty()) error_ = what;
  }
  static void consume(state& s, std::uint8_t task) {
    if (s.seen[task] < 3) ++s.seen[task];
  }
  static void finish_op(state& s) {
    ++s.op_index;
    s.step = 0;
  }

  // local_queue::push_back / push_overflow and local_queue::pop.
  void owner_step(state& s) {
    const op& o = sc_.owner[s.op_index];
    if (o.push) {
      switch (s.step) {
        case 0: {  // load head (acquire); tail is ours
          s.h_steal = s.steal, s.h_real = s.real, s.o_tail = s.tail;
          const std::uint8_t from = sc_.bug_room_from_real ? s.h_real : s.h_steal;
          if (u8(s.o_tail - from) < cap) {
            s.step = 1;
          } else if (s.h_steal != s.h_real) {
            consume(s, o.task);  // the single task goes to inject
            finish_op(s);
          } else {
            s.step = 3;
          }
          break;
        }
        case 1:  // store the slot
          check_not_claimed(s, s.o_tail & mask);
          s.slot[s.o_tail & mask] = o.task;
          s.step = 2;
          break;
        case 2:  // store tail (release)
          s.tail = u8(s.o_tail + 1);
          finish_op(s);
          break;
        case 3:  // push_overflow: CAS head (real, real) -> (real + half, real + half)
          if (s.steal == s.h_real && s.real == s.h_real) {
            s.steal = s.real = u8(s.h_real + half);
            s.i = 0;
            s.step = 4;
          } else {
            s.step = 0;  // lost the race: retry push_back
          }
          break;
        case 4:  // read a claimed slot into the batch
          s.batch[s.i] = s.slot[(s.h_real + s.i) & mask];
          if (++s.i == half) s.step = 5;
          break;
        case 5:  // inject.push_batch(batch + task)
          for (const std::uint8_t t : s.batch) consume(s, t);
          consume(s, o.task);
          finish_op(s);
          break;
      }
      return;
    }
    switch (s.step) {
      case 0:  // load head
        s.h_steal = s.steal, s.h_real = s.real;
        s.step = 1;
        break;
      case 1: {  // (tail is ours) empty? else CAS head; a failed CAS reloads head
        if (s.h_real == s.tail) {
          finish_op(s);
          break;
        }
        const std::uint8_t next_real = u8(s.h_real + 1);
        const std::uint8_t next_steal = s.h_steal == s.h_real ? next_real : s.h_steal;
        if (s.steal == s.h_steal && s.real == s.h_real) {
          s.steal = next_steal, s.real = next_real;
          s.i = s.h_real & mask;
          s.step = 2;
        } else {
          s.h_steal = s.steal, s.h_real = s.real;
        }
        break;
      }
      case 2:  // read the slot
        consume(s, s.slot[s.i]);
        finish_op(s);
        break;
    }
  }

  // local_queue::steal_into / steal_into2; the stealer's own queue is private and starts empty.
  void stealer_step(state& s, int k) {
    stealer_state& t = s.st[k];
    auto attempt_done = [&] {
      ++t.attempts;
      t.step = 0;
    };
    switch (t.step) {
      case 0:  // load head
        t.prev_steal = s.steal, t.prev_real = s.real;
        t.step = 1;
        break;
      case 1: {  // load tail, size the claim
        if (!sc_.bug_concurrent_steals && t.prev_steal != t.prev_real) return attempt_done();
        // With a head loaded before pops and pushes, n may exceed the ring: the CAS then fails.
        std::uint8_t n = u8(s.tail - t.prev_real);
        n = u8(n - n / 2);
        if (n == 0) return attempt_done();
        t.n = n;
        t.step = 2;
        break;
      }
      case 2:  // CAS head (steal, real) -> (steal, real + n); a failed CAS reloads head
        if (s.steal == t.prev_steal && s.real == t.prev_real) {
          if (t.n > half) fail("a successful claim of more than half the ring");
          s.real = u8(t.prev_real + t.n);
          t.first = t.prev_steal;
          t.prev_real = s.real;  // the expected value of the release CAS
          t.i = 0;
          t.step = 3;
        } else {
          t.prev_steal = s.steal, t.prev_real = s.real;
          t.step = 1;
        }
        break;
      case 3:  // copy a claimed slot out
        consume(s, s.slot[(t.first + t.i) & mask]);
        if (++t.i == t.n) t.step = 4;
        break;
      case 4:  // release CAS: (steal, real) -> (real, real); a failed CAS reloads head
        if (s.steal == t.prev_steal && s.real == t.prev_real) {
          s.steal = s.real;
          return attempt_done();
        }
        if (!sc_.bug_concurrent_steals && s.steal == s.real) fail("claim vanished");
        t.prev_steal = s.steal, t.prev_real = s.real;
        break;
    }
  }

  void check_not_claimed(const state& s, int phys) {
    for (std::size_t k = 0; k < sc_.steals.size(); ++k) {
      const stealer_state& t = s.st[k];
      if (t.step != 3) continue;
      for (int j = t.i; j < t.n; ++j) {
        if (((t.first + j) & mask) == phys) fail("owner overwrote a slot a stealer had claimed");
      }
    }
  }

  void check_invariants(const state& s) {
    if (u8(s.tail - s.steal) > cap) fail("tail - steal > capacity");
    if (u8(s.real - s.steal) > u8(s.tail - s.steal)) fail("real outside [steal, tail]");
    if (s.seen[0] != 0) fail("read a slot that was never written");
  }

  void check_final(const state& s) {
    ++finals_;
    int count[max_tasks + 1] = {};
    for (int t = 1; t <= max_tasks; ++t) count[t] = s.seen[t];
    for (std::uint8_t p = s.real; p != s.tail; ++p) ++count[s.slot[p & mask]];
    for (const op& o : sc_.owner) {
      if (!o.push) continue;
      if (count[o.task] != 1) {
        fail("task " + std::to_string(o.task) + " consumed " + std::to_string(count[o.task]) +
             " times");
      }
      count[o.task] = 0;
    }
    for (int t = 1; t <= max_tasks; ++t) {
      if (count[t] != 0) fail("task " + std::to_string(t) + " appeared without a push");
    }
  }

  scenario sc_;
  std::unordered_set<key_type, key_hash> visited_;
  std::size_t finals_ = 0;
  std::string error_;
};

op push(int task) { return {true, static_cast<std::uint8_t>(task)}; }
constexpr op pop{false, 0};

// Sanitizer builds run the biggest scenario from the wrapping start only.
void expect_correct(scenario sc, bool big = false) {
  for (const std::uint8_t start : {std::uint8_t{254}, std::uint8_t{0}}) {
    if (start == 0 && big && coloop::test::sanitizer_slowdown > 1) break;
    sc.start = start;
    checker c(sc);
    const std::string error = c.run();
    EXPECT_EQ(error, "") << "start " << int{start};
    EXPECT_GT(c.finals(), 0u);
    std::printf("start %3d: %zu states, %zu final\n", start, c.states(), c.finals());
  }
}

TEST(mt_local_queue_model, overflow_and_pops_against_one_stealer_twice) {
  expect_correct({{push(1), push(2), push(3), push(4), push(5), pop, push(6), pop}, {2}});
}

TEST(mt_local_queue_model, pushes_and_pops_against_two_stealers) {
  expect_correct({{push(1), push(2), push(3), pop, push(4), push(5), pop}, {1, 1}});
}

TEST(mt_local_queue_model, full_ring_against_two_stealers_twice) {
  expect_correct(
      {{push(1), push(2), push(3), push(4), push(5), push(6), pop, push(7), pop}, {2, 2}}, true);
}

TEST(mt_local_queue_model, finds_room_counted_from_real) {
  scenario sc{{push(1), push(2), push(3), push(4), pop, push(5), push(6), pop}, {1}};
  sc.bug_room_from_real = true;
  const std::string error = checker(sc).run();
  EXPECT_NE(error, "");
  std::printf("found: %s\n", error.c_str());
}

TEST(mt_local_queue_model, finds_concurrent_steals) {
  scenario sc{{push(1), push(2), push(3), push(4), pop}, {1, 1}};
  sc.bug_concurrent_steals = true;
  const std::string error = checker(sc).run();
  EXPECT_NE(error, "");
  std::printf("found: %s\n", error.c_str());
}

}  // namespace
