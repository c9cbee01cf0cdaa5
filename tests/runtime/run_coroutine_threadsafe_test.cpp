// run_coroutine_threadsafe: values and exceptions from 4 threads, wait_for, cancel (running and
// before start), and the closed/closing loop.

#include <coloop/runtime/run_coroutine_threadsafe.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <coloop/core/errors.hpp>
#include <coloop/core/future.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/yield.hpp>
#include <coloop/runtime/now.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;
using coloop::task;

namespace {

/// An event loop running on a thread of its own for the test's duration.
struct loop_thread {
  explicit loop_thread(const coloop::loop_options& options) : loop(options) {}
  coloop::event_loop loop;
  std::thread thread{[this] { loop.run_forever(); }};
  ~loop_thread() {
    loop.call_soon_threadsafe([this] { loop.stop(); });
    thread.join();
    loop.cancel_all_tasks();
    loop.close();
  }
};

task<int> twice_after_yield(int v) {
  co_await coloop::yield();
  co_return 2 * v;
}

task<int> fail_with(const char* what) {
  throw std::runtime_error(what);
  co_return 0;
}
task<void> set_flag(int& flag) {
  flag = 1;
  co_return;
}
task<int> await_future(coloop::future<int>& f) { co_return co_await f; }
task<void> sleep_an_hour(bool& started) {
  started = true;
  co_await coloop::sleep_for(1h);
}
/// Runs `loop` on this thread until `f` is done.
template <class T>
void run_until_done(coloop::event_loop& loop, const coloop::concurrent_future<T>& f) {
  loop.run_until_complete([](const coloop::concurrent_future<T>& fut) -> task<void> {
    while (!fut.done()) co_await coloop::yield();
  }(f));
}

class RunCoroutineThreadsafe : public coloop::test::flavour_test {};

TEST_P(RunCoroutineThreadsafe, ValuesFromFourThreads) {
  loop_thread lt(options());
  std::vector<std::thread> clients;
  std::vector<long> sums(4, 0);
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      std::vector<coloop::concurrent_future<int>> fs;
      for (int i = 0; i < 500; ++i)
        fs.push_back(coloop::run_coroutine_threadsafe(twice_after_yield(i), lt.loop));
      for (auto& f : fs) sums[static_cast<std::size_t>(c)] += f.get();
    });
  }
  for (auto& t : clients) t.join();
  for (long s : sums) EXPECT_EQ(s, 2L * 499 * 500 / 2);
}

TEST_P(RunCoroutineThreadsafe, ExceptionsAndVoid) {
  loop_thread lt(options());
  auto f = coloop::run_coroutine_threadsafe(fail_with("boom"), lt.loop);
  EXPECT_THROW(f.get(), std::runtime_error);
  EXPECT_FALSE(f.valid());
  int side = 0;
  auto g = coloop::run_coroutine_threadsafe(set_flag(side), lt.loop);
  g.get();
  EXPECT_EQ(side, 1);
}

TEST_P(RunCoroutineThreadsafe, WaitForTimesOutUntilTheTaskFinishes) {
  loop_thread lt(options());
  coloop::promise<int> p;
  coloop::future<int> fut = p.get_future();
  auto f = coloop::run_coroutine_threadsafe(await_future(fut), lt.loop);
  EXPECT_FALSE(f.wait_for(5ms));
  EXPECT_FALSE(f.done());
  p.set_value(9);
  EXPECT_TRUE(f.wait_for(10s));
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.get(), 9);
}

task<int> seven_after(coloop::duration d) {
  co_await coloop::sleep_for(d);
  co_return 7;
}

// now() + timeout overflowed for extreme timeouts, wrapping a wait without end into one that
// returned false at once (and the reverse for a hugely negative one).
TEST_P(RunCoroutineThreadsafe, WaitForSaturatesExtremeTimeouts) {
  loop_thread lt(options());
  auto f = coloop::run_coroutine_threadsafe(seven_after(5ms), lt.loop);
  EXPECT_TRUE(f.wait_for(std::chrono::nanoseconds::max()));
  EXPECT_EQ(f.get(), 7);
  auto g = coloop::run_coroutine_threadsafe(seven_after(5ms), lt.loop);
  EXPECT_TRUE(g.wait_for(std::chrono::hours::max()));
  EXPECT_EQ(g.get(), 7);
  bool started = false;  // written on the loop thread, not read here
  auto h = coloop::run_coroutine_threadsafe(sleep_an_hour(started), lt.loop);
  EXPECT_FALSE(h.wait_for(std::chrono::hours::min()));
  EXPECT_FALSE(h.wait_for(std::chrono::nanoseconds::min()));
  EXPECT_FALSE(h.wait_for(0s));
  EXPECT_TRUE(h.cancel());
  EXPECT_THROW(h.get(), coloop::cancelled_error);
}

TEST_P(RunCoroutineThreadsafe, CancelStopsARunningTask) {
  loop_thread lt(options());
  bool started = false;  // written on the loop thread, not read here
  auto f = coloop::run_coroutine_threadsafe(sleep_an_hour(started), lt.loop);
  EXPECT_FALSE(f.wait_for(1ms));
  EXPECT_TRUE(f.cancel());
  EXPECT_THROW(f.get(), coloop::cancelled_error);

  auto g = coloop::run_coroutine_threadsafe(twice_after_yield(1), lt.loop);
  g.wait();
  EXPECT_FALSE(g.cancel());  // already done
  EXPECT_EQ(g.get(), 2);
}

TEST_P(RunCoroutineThreadsafe, CancelBeforeStartNeverRunsTheTask) {
  coloop::event_loop loop(options());  // not running yet
  int ran = 0;
  auto f = coloop::run_coroutine_threadsafe(set_flag(ran), loop);
  EXPECT_TRUE(f.cancel());
  run_until_done(loop, f);
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.get(), coloop::cancelled_error);
  EXPECT_EQ(ran, 0);
}

TEST_P(RunCoroutineThreadsafe, ClosedLoopThrowsClosed) {
  coloop::event_loop loop(options());
  loop.close();
  try {
    coloop::run_coroutine_threadsafe(twice_after_yield(1), loop);
    ADD_FAILURE() << "scheduled on a closed loop";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), coloop::errc::closed);
  }
}

TEST_P(RunCoroutineThreadsafe, ClosingLoopSettlesPendingFutures) {
  coloop::event_loop loop(options());
  auto never_started = coloop::run_coroutine_threadsafe(twice_after_yield(1), loop);
  loop.close();  // drops the callback that was to start it
  EXPECT_THROW(never_started.get(), coloop::cancelled_error);

  coloop::event_loop loop2(options());
  bool started = false;
  auto sleeping = coloop::run_coroutine_threadsafe(sleep_an_hour(started), loop2);
  loop2.run_until_complete([](bool& s) -> task<void> {
    while (!s) co_await coloop::yield();
  }(started));
  EXPECT_FALSE(sleeping.done());
  loop2.close();  // destroys the sleeping task
  EXPECT_TRUE(sleeping.done());
  EXPECT_THROW(sleeping.get(), coloop::cancelled_error);
}

COLOOP_INSTANTIATE_LOOP_FLAVOURS(RunCoroutineThreadsafe);

}  // namespace
