// wait_for: timeouts, results that beat the timer, cancellation of the caller, exceptions.

#include <coloop/runtime/wait_for.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include <coloop/core/future.hpp>
#include <coloop/core/when_all.hpp>
#include <coloop/core/when_any.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/now.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

coloop::loop_options manual() { return {.manual_clock = true}; }

coloop::task<int> value_after(coloop::duration d, int v) {
  co_await coloop::sleep_for(d);
  co_return v;
}

class WaitFor : public coloop::test::flavour_test {};

TEST_P(WaitFor, ResultBeforeTheDeadline) {
  auto main = []() -> coloop::task<int> {
    co_return co_await coloop::wait_for(value_after(5ms, 3), 10ms);
  };
  EXPECT_EQ(run(main(), manual()), 3);
}

TEST_P(WaitFor, TimeoutCancelsTheInnerOperationAndThrowsTimeoutError) {
  auto main = []() -> coloop::task<void> {
    bool inner_cancelled = false;
    auto inner = [](bool& flag) -> coloop::task<int> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        flag = true;
        throw;
      }
      co_return 1;
    };
    const auto start = coloop::now();
    EXPECT_THROW(co_await coloop::wait_for(inner(inner_cancelled), 10ms), coloop::timeout_error);
    EXPECT_TRUE(inner_cancelled);
    EXPECT_EQ(coloop::now() - start, 10ms);
  };
  run(main(), manual());
}

TEST_P(WaitFor, TimeoutErrorIsASystemErrorWithTimedOut) {
  auto main = []() -> coloop::task<void> {
    try {
      co_await coloop::wait_for(coloop::sleep_for(1s), 1ms);
      ADD_FAILURE() << "no timeout";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), coloop::errc::timed_out);
    }
  };
  run(main(), manual());
}

TEST_P(WaitFor, InnerThatSwallowsTheCancelAndReturnsKeepsItsValue) {
  auto main = []() -> coloop::task<int> {
    auto stubborn = []() -> coloop::task<int> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        co_return 99;  // finished anyway: the value is delivered, not a timeout
      }
      co_return 1;
    };
    co_return co_await coloop::wait_for(stubborn(), 1ms);
  };
  EXPECT_EQ(run(main(), manual()), 99);
}

TEST_P(WaitFor, InnerExceptionPassesThrough) {
  auto main = []() -> coloop::task<void> {
    auto failing = []() -> coloop::task<int> {
      co_await coloop::sleep_for(1ms);
      throw std::out_of_range("inner failure");
    };
    EXPECT_THROW(co_await coloop::wait_for(failing(), 1s), std::out_of_range);
  };
  run(main(), manual());
}

TEST_P(WaitFor, CancellingTheCallerCancelsTheInnerAndThrowsCancelled) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn([]() -> coloop::task<int> {
      co_return co_await coloop::wait_for(value_after(1h, 1), 2h);
    }());
    co_await coloop::sleep_for(1ms);
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
  };
  run(main(), manual());
}

TEST_P(WaitFor, WorksOnAFuture) {
  auto main = []() -> coloop::task<void> {
    coloop::promise<int> p;
    coloop::future<int> f = p.get_future();
    EXPECT_THROW(co_await coloop::wait_for(f, 5ms), coloop::timeout_error);
    p.set_value(4);  // the future survives a cancelled wait and can be awaited again
    EXPECT_EQ(co_await coloop::wait_for(f, 5ms), 4);
  };
  run(main(), manual());
}

TEST_P(WaitFor, ZeroTimeoutOnAnImmediateResult) {
  auto main = []() -> coloop::task<int> {
    auto now = []() -> coloop::task<int> { co_return 5; };
    co_return co_await coloop::wait_for(now(), 0ms);
  };
  EXPECT_EQ(run(main(), manual()), 5);
}

TEST_P(WaitFor, WhenAllUnderATimeoutCancelsEveryChild) {
  auto main = []() -> coloop::task<void> {
    std::atomic<int> cancelled{0};  // on the runtime the children unwind on any worker
    auto child = [](std::atomic<int>& c, coloop::duration d) -> coloop::task<int> {
      try {
        co_await coloop::sleep_for(d);
      } catch (const coloop::cancelled_error&) {
        ++c;
        throw;
      }
      co_return 1;
    };
    EXPECT_THROW(
        co_await coloop::wait_for(
            coloop::when_all(child(cancelled, 1h), child(cancelled, 2h), child(cancelled, 1ms)),
            10ms),
        coloop::timeout_error);
    EXPECT_EQ(cancelled, 2);
  };
  run(main(), manual());
}

TEST_P(WaitFor, CancellingAWhenAllCancelsItsChildren) {
  auto main = []() -> coloop::task<void> {
    std::atomic<int> cancelled{0};  // on the runtime the children unwind on any worker
    auto child = [](std::atomic<int>& c) -> coloop::task<int> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        ++c;
        throw;
      }
      co_return 1;
    };
    auto h = coloop::spawn(coloop::when_all(child(cancelled), child(cancelled)));
    co_await coloop::sleep_for(1ms);
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(cancelled, 2);
  };
  run(main(), manual());
}

TEST_P(WaitFor, WhenAnyReturnsTheFirstAndCancelsTheRestOnTheLoop) {
  auto main = []() -> coloop::task<void> {
    auto r =
        co_await coloop::when_any(value_after(30ms, 1), value_after(10ms, 2), value_after(20ms, 3));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(std::get<1>(r), 2);
    EXPECT_EQ(coloop::test::live_tasks(), 1u);  // only main: the losers were joined
  };
  run(main(), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(WaitFor);

}  // namespace
