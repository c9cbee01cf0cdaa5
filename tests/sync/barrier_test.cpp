// barrier: arrival indices, reuse over cycles, abort, cancels before and during the wait (the
// count as if the waiter never arrived), and a cancel racing the releasing arrival 10,000 times
// on the runtime.

#include <coloop/sync/barrier.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <coloop/core/errors.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "support/flavour.hpp"
#include "sync/notify_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::ending;
using coloop::test::ending_of;
using coloop::test::manual;
using coloop::test::until_idle;

task<std::size_t> arrive(coloop::barrier& b) { co_return co_await b.arrive_and_wait(); }

class Barrier : public coloop::test::flavour_test {};

TEST_P(Barrier, TheLastArrivalReleasesAllWithTheirIndices) {
  run([]() -> task<void> {
    coloop::barrier b(3);
    EXPECT_EQ(b.parties(), 3u);
    auto first = coloop::spawn(arrive, std::ref(b));
    co_await until_idle();
    auto second = coloop::spawn(arrive, std::ref(b));
    co_await until_idle();
    EXPECT_EQ(b.n_waiting(), 2u);
    EXPECT_FALSE(first.done());
    EXPECT_EQ(co_await b.arrive_and_wait(), 2u);  // the releasing arrival: the last index
    EXPECT_EQ(co_await first, 0u);
    EXPECT_EQ(co_await second, 1u);
    EXPECT_EQ(b.n_waiting(), 0u);
  }(), manual());
}

task<std::vector<std::size_t>> cycles(coloop::barrier& b, int n) {
  std::vector<std::size_t> out;
  for (int i = 0; i < n; ++i) out.push_back(co_await b.arrive_and_wait());
  co_return out;
}

TEST_P(Barrier, IsReusableCycleAfterCycle) {
  run([]() -> task<void> {
    coloop::barrier b(3);
    std::vector<coloop::join_handle<std::vector<std::size_t>>> parties;
    for (int i = 0; i < 3; ++i) parties.push_back(coloop::spawn(cycles, std::ref(b), 5));
    std::vector<std::vector<std::size_t>> got;
    for (auto& p : parties) got.push_back(co_await p);
    for (int cycle = 0; cycle < 5; ++cycle) {
      std::vector<std::size_t> indices;
      for (auto& g : got) indices.push_back(g[static_cast<std::size_t>(cycle)]);
      std::sort(indices.begin(), indices.end());
      EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2})) << "cycle " << cycle;
    }
  }(), manual());
}

TEST_P(Barrier, OnePartyNeverWaits) {
  run([]() -> task<void> {
    coloop::barrier b(1);
    EXPECT_EQ(co_await b.arrive_and_wait(), 0u);
    EXPECT_EQ(co_await b.arrive_and_wait(), 0u);
  }(), manual());
}

TEST_P(Barrier, AbortBreaksCurrentAndFutureWaiters) {
  run([]() -> task<void> {
    coloop::barrier b(3);
    auto w1 = coloop::spawn(arrive, std::ref(b));
    auto w2 = coloop::spawn(arrive, std::ref(b));
    co_await until_idle();
    EXPECT_FALSE(b.broken());
    b.abort();
    EXPECT_TRUE(b.broken());
    EXPECT_EQ(b.n_waiting(), 0u);
    EXPECT_EQ(co_await ending_of(w1), ending::closed);
    EXPECT_EQ(co_await ending_of(w2), ending::closed);
    auto late = coloop::spawn(arrive, std::ref(b));
    EXPECT_EQ(co_await ending_of(late), ending::closed);
    b.abort();  // idempotent
  }(), manual());
}

TEST_P(Barrier, CancelWhileWaitingLeavesTheCountAsIfItNeverArrived) {
  run([]() -> task<void> {
    coloop::barrier b(3);
    std::vector<coloop::join_handle<std::size_t>> waiters;
    for (int i = 0; i < 2; ++i) {
      waiters.push_back(coloop::spawn(arrive, std::ref(b)));
      co_await until_idle();
    }
    EXPECT_EQ(b.n_waiting(), 2u);
    waiters[0].cancel();
    EXPECT_EQ(co_await ending_of(waiters[0]), ending::cancelled);
    EXPECT_EQ(b.n_waiting(), 1u);
    auto third = coloop::spawn(arrive, std::ref(b));
    co_await until_idle();
    EXPECT_FALSE(waiters[1].done());  // the cancelled arrival does not count
    EXPECT_EQ(b.n_waiting(), 2u);
    EXPECT_EQ(co_await b.arrive_and_wait(), 2u);
    EXPECT_EQ(co_await waiters[1], 0u);  // indices among those that stayed
    EXPECT_EQ(co_await third, 1u);
  }(), manual());
}

TEST_P(Barrier, CancelBeforeArrivingDoesNotArrive) {
  run([]() -> task<void> {
    coloop::barrier b(2);
    auto h = coloop::spawn(arrive, std::ref(b));
    h.cancel();
    EXPECT_EQ(co_await ending_of(h), ending::cancelled);
    EXPECT_EQ(b.n_waiting(), 0u);
    auto other = coloop::spawn(arrive, std::ref(b));
    co_await until_idle();
    EXPECT_FALSE(other.done());
    EXPECT_EQ(co_await b.arrive_and_wait(), 1u);
    EXPECT_EQ(co_await other, 0u);
  }(), manual());
}

TEST_P(Barrier, AbortIsAClosedSystemError) {
  run([]() -> task<void> {
    coloop::barrier b(2);
    b.abort();
    try {
      (void)co_await b.arrive_and_wait();
      ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), coloop::make_error_code(coloop::errc::closed));
    }
  }(), manual());
}

TEST_P(Barrier, ZeroPartiesIsRejected) { EXPECT_THROW(coloop::barrier(0), std::invalid_argument); }

COLOOP_INSTANTIATE_FLAVOURS(Barrier);

task<int> cancel_races(int rounds) {
  int bad = 0;
  for (int i = 0; i < rounds; ++i) {
    coloop::barrier b(2);
    auto a = coloop::spawn(arrive, std::ref(b));
    for (int y = 0; y < i % 3; ++y) co_await coloop::yield();
    coloop::join_handle<std::size_t> c;
    if (i % 2 == 0) {
      a.cancel();
      c = coloop::spawn(arrive, std::ref(b));
    } else {
      c = coloop::spawn(arrive, std::ref(b));
      a.cancel();
    }
    if (co_await ending_of(a) == ending::returned) {
      // Released together with c: the two indices are 0 and 1.
      if (co_await a + co_await c != 1) ++bad;
    } else {
      // a took its arrival back: c waits for a partner (or arrives after this one).
      const std::size_t mine = co_await b.arrive_and_wait();
      if (mine + co_await c != 1) ++bad;
    }
    if (b.n_waiting() != 0) ++bad;
  }
  co_return bad;
}

TEST(BarrierRace, CancelRacingTheReleaseIsNeverLostOrDoubled10000Times) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(rt.block_on(cancel_races(10'000)), 0);
}

}  // namespace
