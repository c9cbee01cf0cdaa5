// join_handle results: an lvalue co_await reads the stored outcome as often as asked, an rvalue
// co_await takes it (any await after that is a logic_error), one awaiter at a time.

#include <gtest/gtest.h>

#include <chrono>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

coloop::loop_options manual() { return {.manual_clock = true}; }

coloop::task<std::string> text_after(std::chrono::milliseconds d, std::string s) {
  co_await coloop::sleep_for(d);
  co_return s;
}

coloop::task<int> fail_after(std::chrono::milliseconds d) {
  co_await coloop::sleep_for(d);
  throw std::runtime_error("task failed");
}

coloop::task<void> nothing_after(std::chrono::milliseconds d) { co_await coloop::sleep_for(d); }

/// The message of the std::logic_error that `co_await h` (or, with take, std::move(h)) throws.
template <class T>
coloop::task<std::string> logic_error_of(coloop::join_handle<T>& h, bool take) {
  try {
    if (take) {
      co_await std::move(h);
    } else {
      co_await h;
    }
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
  co_return "no logic_error";
}

class JoinResult : public coloop::test::flavour_test {};

TEST_P(JoinResult, LvalueAwaitReturnsTheSameStoredValueEachTime) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(text_after(5ms, "result"));
    std::string& first = co_await h;  // waits for the task
    EXPECT_EQ(first, "result");
    std::string& second = co_await h;  // already done: no suspension
    EXPECT_EQ(&first, &second);
    first += "!";  // the handle holds one object: asyncio's task.result() returns it each time
    std::string copy = co_await h;
    EXPECT_EQ(copy, "result!");
  };
  run(main(), manual());
}

TEST_P(JoinResult, LvalueAwaitRethrowsTheSameExceptionEachTime) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(fail_after(5ms));
    const std::exception* seen[2] = {nullptr, nullptr};
    for (const std::exception*& slot : seen) {
      try {
        co_await h;
        ADD_FAILURE() << "no exception";
      } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "task failed");
        slot = &e;
      }
    }
    EXPECT_EQ(seen[0], seen[1]);  // the same exception object, rethrown
  };
  run(main(), manual());
}

TEST_P(JoinResult, VoidAndCancelledHandlesCanBeAwaitedAgain) {
  auto main = []() -> coloop::task<void> {
    auto ok = coloop::spawn(nothing_after(1ms));
    co_await ok;
    co_await ok;
    auto cancelled = coloop::spawn(nothing_after(1h));
    cancelled.cancel();
    EXPECT_THROW(co_await cancelled, coloop::cancelled_error);
    EXPECT_THROW(co_await cancelled, coloop::cancelled_error);
  };
  run(main(), manual());
}

TEST_P(JoinResult, AwaitAfterTheResultWasMovedOutIsALogicError) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(text_after(1ms, "taken"));
    std::string v = co_await std::move(h);
    EXPECT_EQ(v, "taken");
    EXPECT_TRUE(h.valid());
    EXPECT_TRUE(h.done());
    const bool takes[] = {false, true};  // a named array: no temporary lives across the awaits
    for (bool take : takes) {
      const std::string message = co_await logic_error_of(h, take);
      EXPECT_NE(message.find("co_await std::move(handle) took its result"), std::string::npos)
          << message;
    }
  };
  run(main(), manual());
}

TEST_P(JoinResult, RethrowingThroughAnRvalueAwaitAlsoTakesTheOutcome) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(fail_after(1ms));
    EXPECT_THROW(co_await std::move(h), std::runtime_error);
    const std::string message = co_await logic_error_of(h, false);
    EXPECT_NE(message.find("std::move(handle)"), std::string::npos) << message;
  };
  run(main(), manual());
}

TEST_P(JoinResult, MoveOnlyResultIsReadInPlaceThenMovedOut) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn([]() -> coloop::task<std::unique_ptr<int>> {
      co_await coloop::sleep_for(1ms);
      co_return std::make_unique<int>(5);
    }());
    std::unique_ptr<int>& in_place = co_await h;
    EXPECT_NE(in_place, nullptr);
    if (in_place) *in_place = 6;
    std::unique_ptr<int> owned = co_await std::move(h);
    EXPECT_TRUE(owned && *owned == 6);
  };
  run(main(), manual());
}

TEST_P(JoinResult, ReferenceResultRefersToTheSameObject) {
  auto main = []() -> coloop::task<void> {
    int target = 1;
    auto h = coloop::spawn([](int& t) -> coloop::task<int&> {
      co_await coloop::sleep_for(1ms);
      co_return t;
    }(target));
    int& a = co_await h;
    int& b = co_await std::move(h);
    EXPECT_EQ(&a, &target);
    EXPECT_EQ(&b, &target);
  };
  run(main(), manual());
}

TEST_P(JoinResult, SecondConcurrentAwaiterIsALogicErrorAndTakesNothing) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn(text_after(10ms, "once"));
    auto first =
        coloop::spawn([](coloop::join_handle<std::string>& jh) -> coloop::task<std::string> {
          co_return co_await std::move(jh);
        }(h));
    co_await coloop::test::until_idle();  // `first` now waits on h, which still sleeps
    const bool takes[] = {false, true};   // a named array: no temporary lives across the awaits
    for (bool take : takes) {
      const std::string message = co_await logic_error_of(h, take);
      EXPECT_NE(message.find("already awaited by another task"), std::string::npos) << message;
    }
    EXPECT_EQ(co_await std::move(first), "once");  // the refused awaits took nothing
  };
  run(main(), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(JoinResult);

}  // namespace
