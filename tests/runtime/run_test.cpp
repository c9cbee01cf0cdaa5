// coloop::run: returns, rethrows, cancels leftovers, closes the loop.

#include <coloop/runtime/run.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

class Run : public coloop::test::flavour_test {};

TEST_P(Run, ReturnsTheValue) {
  auto main = []() -> coloop::task<int> { co_return 41 + 1; };
  EXPECT_EQ(run(main()), 42);
}

TEST_P(Run, VoidTask) {
  bool ran = false;
  auto main = [](bool& r) -> coloop::task<void> {
    r = true;
    co_return;
  };
  run(main(ran));
  EXPECT_TRUE(ran);
}

TEST_P(Run, RethrowsTheException) {
  auto main = []() -> coloop::task<int> {
    co_await coloop::yield();
    throw std::domain_error("main failed");
  };
  EXPECT_THROW(run(main()), std::domain_error);
}

TEST_P(Run, CancelsAndJoinsLeftoverTasks) {
  bool leftover_cleaned = false;
  auto main = [](bool& cleaned) -> coloop::task<int> {
    coloop::spawn([](bool& c) -> coloop::task<void> {
      try {
        co_await coloop::sleep_for(1h);
      } catch (const coloop::cancelled_error&) {
        c = true;
        throw;
      }
    }(cleaned)).detach();
    co_await coloop::yield();
    co_return 1;
  };
  // The real clock: on the runtime the workers go on after main returns, and a manual clock
  // would jump to the hour-long timer before the shutdown cancels the sleeper.
  EXPECT_EQ(run(main(leftover_cleaned)), 1);
  EXPECT_TRUE(leftover_cleaned);
}

TEST_P(Run, InsideARunningLoopThrowsLogicError) {
  auto inner = []() -> coloop::task<int> { co_return 1; };
  auto outer = [&]() -> coloop::task<bool> {
    try {
      (void)coloop::run(inner());  // the real one: this fixture's run() may build a runtime
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(run(outer()));
}

TEST_P(Run, ReferenceResult) {
  static int target = 3;
  auto main = []() -> coloop::task<int&> { co_return target; };
  int& r = run(main());
  EXPECT_EQ(&r, &target);
}

COLOOP_INSTANTIATE_FLAVOURS(Run);

}  // namespace
