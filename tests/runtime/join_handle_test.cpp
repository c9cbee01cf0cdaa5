// spawn / join_handle: results, exceptions, cancellation, detaching and the exception handler.

#include <coloop/runtime/join_handle.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <coloop/core/future.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <coloop/runtime/now.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

coloop::loop_options manual() { return {.manual_clock = true}; }

coloop::task<int> value_after(std::chrono::milliseconds d, int v) {
  co_await coloop::sleep_for(d);
  co_return v;
}

coloop::task<void> fail_after(std::chrono::milliseconds d, const char* what) {
  co_await coloop::sleep_for(d);
  throw std::runtime_error(what);
}

class Spawn : public coloop::test::flavour_test {};
class SpawnOnLoop : public coloop::test::flavour_test {};

TEST_P(Spawn, JoinReturnsTheValue) {
  auto main = []() -> coloop::task<int> {
    auto a = coloop::spawn(value_after(20ms, 1));
    auto b = coloop::spawn(value_after(10ms, 2));
    co_return co_await std::move(a) * 10 + co_await std::move(b);
  };
  EXPECT_EQ(run(main(), manual()), 12);
}

TEST_P(Spawn, SpawnedTasksRunConcurrently) {
  auto main = []() -> coloop::task<long> {
    const auto start = coloop::now();
    std::vector<coloop::join_handle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(coloop::spawn(value_after(50ms, i)));
    for (auto& h : hs) co_await h;
    co_return std::chrono::duration_cast<std::chrono::milliseconds>(coloop::now() - start).count();
  };
  EXPECT_EQ(run(main(), manual()), 50);  // not 100 × 50 ms
}

/// Records that it ran, and whether it ran inside spawn() on the spawning thread.
coloop::task<void> note_start(std::atomic<bool>& started, const std::atomic<bool>& spawning,
                              std::thread::id spawner, std::atomic<bool>& inline_run) {
  inline_run = spawning.load() && std::this_thread::get_id() == spawner;
  started = true;
  co_return;
}

TEST_P(Spawn, TaskStartsOnALaterTurn) {
  // Never inline in spawn(). On the runtime another worker may start it at once, so "not yet
  // started after spawn()" is no test there: check that the spawning thread did not run it
  // during the call.
  auto main = []() -> coloop::task<void> {
    std::atomic<bool> started{false};
    std::atomic<bool> spawning{true};
    std::atomic<bool> inline_run{false};
    auto h = coloop::spawn(note_start(started, spawning, std::this_thread::get_id(), inline_run));
    spawning = false;
    co_await h;
    EXPECT_TRUE(started);
    EXPECT_FALSE(inline_run);
    EXPECT_TRUE(h.done());
  };
  run(main());
}

TEST_P(Spawn, JoinRethrowsTheTaskException) {
  auto main = []() -> coloop::task<std::string> {
    auto h = coloop::spawn(fail_after(1ms, "task failed"));
    try {
      co_await std::move(h);
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no exception";
  };
  EXPECT_EQ(run(main(), manual()), "task failed");
}

TEST_P(Spawn, CancelMakesThePendingAwaitThrowAndTheTaskMayCleanUp) {
  auto main = []() -> coloop::task<void> {
    bool cleaned = false;
    auto h = coloop::spawn([](bool& c) -> coloop::task<int> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        c = true;
        throw;
      }
      co_return 1;
    }(cleaned));
    co_await coloop::sleep_for(1ms);
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_TRUE(cleaned);
  };
  run(main(), manual());
}

TEST_P(Spawn, CancelBeforeTheTaskStartsIsDeliveredAtItsFirstAwait) {
  auto main = []() -> coloop::task<void> {
    int progress = 0;
    auto h = coloop::spawn([](int& p) -> coloop::task<void> {
      p = 1;  // runs: cancellation is delivered at a suspension point
      co_await coloop::sleep_for(1ms);
      p = 2;
    }(progress));
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(progress, 1);
  };
  run(main(), manual());
}

TEST_P(Spawn, TaskThatCatchesCancellationCanReturnAValue) {
  auto main = []() -> coloop::task<int> {
    auto h = coloop::spawn([]() -> coloop::task<int> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        co_return -1;
      }
      co_return 1;
    }());
    co_await coloop::yield();
    h.cancel();
    co_return co_await h;
  };
  EXPECT_EQ(run(main(), manual()), -1);
}

TEST_P(Spawn, CancellingTheJoinerCancelsTheJoinedTask) {
  auto main = []() -> coloop::task<void> {
    bool inner_cancelled = false;
    auto inner = [](bool& flag) -> coloop::task<void> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        flag = true;
        throw;
      }
    };
    auto outer = coloop::spawn([](coloop::join_handle<void> h) -> coloop::task<void> {
      co_await std::move(h);
    }(coloop::spawn(inner(inner_cancelled))));
    co_await coloop::sleep_for(1ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, coloop::cancelled_error);
    EXPECT_TRUE(inner_cancelled);
  };
  run(main(), manual());
}

TEST_P(Spawn, ResultThatRacesTheCancelIsDelivered) {
  // The task completes (its joiner is queued) and then cancel() lands: the value is not lost.
  auto main = []() -> coloop::task<int> {
    coloop::promise<int> p;
    auto h = coloop::spawn([](coloop::future<int> f) -> coloop::task<int> {
      co_return co_await f;
    }(p.get_future()));
    co_await coloop::yield();  // the task now waits on the future
    p.set_value(7);            // its resumption is queued
    h.cancel();                // too late to withdraw: stays pending, value delivered
    co_return co_await h;
  };
  EXPECT_EQ(run(main()), 7);
}

coloop::task<void> append(std::vector<int>& out, int v) {
  out.push_back(v);
  co_return;
}

coloop::task<void> append_after_yield(std::vector<int>& out, int v) {
  out.push_back(v);
  co_await coloop::yield();
  out.push_back(v + 10);
}

TEST_P(SpawnOnLoop, UnjoinedTasksStartInSpawnOrderOnTheNextTurn) {
  auto main = []() -> coloop::task<void> {
    std::vector<int> out;
    auto a = coloop::spawn(append(out, 1));
    auto b = coloop::spawn(append(out, 2));
    auto c = coloop::spawn(append(out, 3));
    EXPECT_TRUE(out.empty());
    co_await coloop::yield();
    EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
    co_await c;
    co_await a;
  };
  run(main());
}

TEST_P(SpawnOnLoop, JoiningATaskThatHasNotStartedRunsItAtOnceAndTheOthersKeepTheirOrder) {
  auto main = []() -> coloop::task<void> {
    std::vector<int> out;
    const std::size_t before = coloop::test::live_tasks();
    auto a = coloop::spawn(append(out, 1));
    auto b = coloop::spawn(append_after_yield(out, 2));
    auto c = coloop::spawn(append(out, 3));
    co_await b;  // b starts in this turn, ahead of a; a and c then run in spawn order
    EXPECT_EQ(out, (std::vector<int>{2, 1, 3, 12}));
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(c.done());
    EXPECT_EQ(coloop::test::live_tasks(), before);
  };
  run(main());
}

TEST_P(SpawnOnLoop, JoiningATaskThatAlreadyStartedWaitsForIt) {
  auto main = []() -> coloop::task<void> {
    std::vector<int> out;
    auto b = coloop::spawn(append_after_yield(out, 2));
    co_await coloop::yield();
    EXPECT_EQ(out, (std::vector<int>{2}));
    auto a = coloop::spawn(append(out, 1));
    co_await b;  // started: no help, the joiner waits for b's next step (queued before a)
    EXPECT_EQ(out, (std::vector<int>{2, 12}));
    co_await a;
    EXPECT_EQ(out, (std::vector<int>{2, 12, 1}));
  };
  run(main());
}

TEST_P(SpawnOnLoop, DepthFirstJoinsKeepTheLiveSetSmall) {
  // Each level spawns its children and joins them in order: run depth first, at most depth x
  // width tasks are alive at once (breadth first, the whole tree would be).
  struct tree {
    static coloop::task<long> node(int depth, std::size_t& peak) {
      peak = std::max(peak, coloop::test::live_tasks());
      if (depth == 0) co_return 1;
      std::vector<coloop::join_handle<long>> kids;
      for (int i = 0; i < 4; ++i) kids.push_back(coloop::spawn(node(depth - 1, peak)));
      long sum = 0;
      for (auto& k : kids) sum += co_await k;
      co_return sum;
    }
  };
  auto main = []() -> coloop::task<void> {
    const std::size_t before = coloop::test::live_tasks();
    std::size_t peak = 0;
    EXPECT_EQ(co_await tree::node(6, peak), 4096);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    EXPECT_LE(peak, before + 6u * 4u);
#else
    // Without tail calls every transfer nests, and past the stack budget it bounces through
    // the ready queue (scheduler.hpp): a bounced child runs after its queued siblings.
    (void)before;
#endif
  };
  run(main());
}

TEST_P(SpawnOnLoop, DetachedTaskExceptionReachesTheHandler) {
  coloop::event_loop loop(options(manual()));
  std::vector<std::string> seen;
  loop.set_exception_handler([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      seen.emplace_back(ex.what());
    }
  });
  auto main = []() -> coloop::task<void> {
    coloop::spawn(fail_after(1ms, "detached failure")).detach();
    { auto dropped = coloop::spawn(fail_after(2ms, "dropped handle failure")); }
    auto finished_then_dropped = coloop::spawn(fail_after(1ms, "never retrieved"));
    co_await coloop::sleep_for(5ms);
    EXPECT_TRUE(finished_then_dropped.done());
    // dropped here without awaiting: reported now
  };
  loop.run_until_complete(main());
  EXPECT_EQ(seen, (std::vector<std::string>{"detached failure", "dropped handle failure",
                                            "never retrieved"}));
}

TEST_P(SpawnOnLoop, RetrievedExceptionIsNotReportedAgain) {
  coloop::event_loop loop(options(manual()));
  int reports = 0;
  loop.set_exception_handler([&](std::exception_ptr) { ++reports; });
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(fail_after(1ms, "observed"));
    EXPECT_THROW(co_await h, std::runtime_error);
  };
  loop.run_until_complete(main());
  EXPECT_EQ(reports, 0);
}

TEST_P(SpawnOnLoop, DetachedCancelledTaskIsNotReported) {
  coloop::event_loop loop(options(manual()));
  int reports = 0;
  loop.set_exception_handler([&](std::exception_ptr) { ++reports; });
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(value_after(1h, 1));
    co_await coloop::yield();
    h.cancel();
    h.detach();
    co_await coloop::sleep_for(1ms);
  };
  loop.run_until_complete(main());
  EXPECT_EQ(reports, 0);
  EXPECT_EQ(loop.live_tasks(), 0u);
}

/// Yields `n` times, counts itself in `ran`, and fails if `fail`.
coloop::task<void> yield_then(int n, std::atomic<int>& ran, bool fail) {
  for (int i = 0; i < n; ++i) co_await coloop::yield();
  ran.fetch_add(1, std::memory_order_relaxed);
  if (fail) throw std::runtime_error("dropped elsewhere");
}

// The loop's handle operations skip their RMWs only on the loop's own thread: a handle dropped
// on another thread while its task ends on the loop frees the frame once (TSan checks the race),
// and a failure nobody observed is reported once.
TEST_P(SpawnOnLoop, HandleDroppedOnAnotherThreadWhileTheTaskEnds) {
  constexpr int rounds = 40;
  coloop::event_loop loop(options());
  std::atomic<int> reports{0};
  loop.set_exception_handler([&](std::exception_ptr) { reports.fetch_add(1); });
  std::atomic<int> ran{0};
  auto main = [](std::atomic<int>& count) -> coloop::task<void> {
    for (int round = 0; round < rounds; ++round) {
      coloop::join_handle<void> h = coloop::spawn(yield_then(round % 3, count, round % 2 == 1));
      std::thread dropper([moved = std::move(h)]() mutable { moved.detach(); });
      for (int i = 0; i < 4; ++i) co_await coloop::yield();
      dropper.join();
    }
  };
  loop.run_until_complete(main(ran));
  EXPECT_EQ(ran.load(), rounds);
  EXPECT_EQ(reports.load(), rounds / 2);
  EXPECT_EQ(loop.live_tasks(), 0u);
}

coloop::task<void> note_thread(std::thread::id& ran_on, std::atomic<bool>& ran) {
  ran_on = std::this_thread::get_id();
  ran = true;
  co_return;
}
coloop::task<void> hold_until(std::latch& released) {
  released.wait();  // blocks its loop's thread: nothing else of that loop runs meanwhile
  co_return;
}
coloop::task<void> release(std::latch& l) {
  l.count_down();
  co_return;
}
/// Awaits `h`, which runs on another loop: refused before anything is registered. `awaited`
/// opens after that.
coloop::task<void> join_from_here(coloop::join_handle<void> h, std::latch& awaited) {
  auto released = coloop::spawn(release(awaited));
  try {
    co_await h;
    ADD_FAILURE() << "a handle awaited on another loop's thread did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not run the task's"), std::string::npos) << e.what();
  }
  co_await released;
}

// The end of a task resumes its joiner on the task's own thread, so a handle awaited from another
// loop throws; the task is not taken back there, and still runs on its own loop.
TEST_P(SpawnOnLoop, JoiningFromAnotherLoopThrowsAndTheTaskRunsOnItsOwn) {
  coloop::event_loop loop(options());
  std::latch awaited(1);
  std::thread::id ran_on;
  std::atomic<bool> ran{false};
  auto holder = loop.create_task(hold_until(awaited));  // queued first: holds the loop
  auto child = loop.create_task(note_thread(ran_on, ran));
  std::thread elsewhere([&awaited, h = std::move(child), this]() mutable {
    coloop::event_loop other(options());
    other.run_until_complete(join_from_here(std::move(h), awaited));
  });
  auto main = [](coloop::join_handle<void>& first, std::atomic<bool>& done) -> coloop::task<void> {
    co_await first;
    while (!done) co_await coloop::yield();
  };
  loop.run_until_complete(main(holder, ran));
  elsewhere.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// A loop's handles skip their RMWs on the thread running it (handle_local). Once it stops, the
// thread is no longer its own: a later loop may be built at the same address and run elsewhere.
TEST_P(SpawnOnLoop, AThreadStopsCountingAsTheLoopsOnceItStops) {
  {
    coloop::event_loop loop(options());
    std::atomic<bool> ran{false};
    std::thread::id ran_on;
    loop.run_until_complete(note_thread(ran_on, ran));
    EXPECT_TRUE(ran);
  }
  EXPECT_EQ(coloop::detail::this_thread.local_loop, &coloop::detail::no_local_loop);
}

coloop::task<int> value_when_released(std::latch& released) {
  released.wait();  // holds the task unfinished (and its worker) until the join was refused
  co_return 42;
}
coloop::task<void> join_runtime_task(coloop::join_handle<int>& h, std::latch& released) {
  EXPECT_THROW(co_await h, std::logic_error);
  released.count_down();
  co_return;
}

// The same from an event loop's task for a runtime's task; the handle is still good on the
// runtime.
TEST(SpawnAcrossSchedulers, JoiningARuntimeTaskFromAnEventLoopThrows) {
  coloop::runtime rt({.workers = 1});
  std::latch released(1);
  auto h = rt.spawn(value_when_released(released));
  coloop::event_loop loop;
  loop.run_until_complete(join_runtime_task(h, released));
  auto await_it = [](coloop::join_handle<int>& jh) -> coloop::task<int> { co_return co_await jh; };
  EXPECT_EQ(rt.block_on(await_it(h)), 42);
}

TEST(SpawnNoLoop, SpawnWithoutALoopThrows) {
  try {
    (void)coloop::spawn(value_after(1ms, 1));
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("no event loop"), std::string::npos) << e.what();
  }
}

TEST_P(Spawn, SpawningAnEmptyTaskThrows) {
  auto main = []() -> coloop::task<void> {
    coloop::task<int> empty;
    EXPECT_THROW((void)coloop::spawn(std::move(empty)), std::logic_error);
    co_return;
  };
  run(main());
}

TEST_P(Spawn, AwaitingAJoinHandleTwiceConcurrentlyThrows) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(value_after(10ms, 1));
    auto first = coloop::spawn([](coloop::join_handle<int>& jh) -> coloop::task<int> {
      co_return co_await jh;
    }(h));
    // Not a yield: on the runtime `first` may not have run yet after one. Idle means `first` is
    // waiting on h (which still sleeps: the clock has not reached its 10 ms).
    co_await coloop::test::until_idle();
    EXPECT_THROW(co_await h, std::logic_error);
    EXPECT_EQ(co_await first, 1);
  };
  run(main(), manual());
}

TEST_P(Spawn, MoveOnlyResult) {
  auto main = []() -> coloop::task<int> {
    auto h = coloop::spawn([]() -> coloop::task<std::unique_ptr<int>> {
      co_return std::make_unique<int>(5);
    }());
    std::unique_ptr<int> p = co_await std::move(h);
    co_return *p;
  };
  EXPECT_EQ(run(main()), 5);
}

COLOOP_INSTANTIATE_FLAVOURS(Spawn);
COLOOP_INSTANTIATE_LOOP_FLAVOURS(SpawnOnLoop);

}  // namespace
