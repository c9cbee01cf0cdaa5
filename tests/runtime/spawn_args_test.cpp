// spawn(fn, args...): the spawned task owns fn and decay-copies of args until it ends, so a
// temporary capturing lambda coroutine, a by-reference parameter bound to a passed temporary and
// move-only arguments stay valid across suspensions; cancellation and the no-loop error as for
// spawn(task). Each body runs with the frame pool on and off (off only, when compiled out).

#include <coloop/runtime/join_handle.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <coloop/core/frame_pool.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include "support/flavour.hpp"

using namespace std::chrono_literals;
using coloop::task;

namespace {

const std::string long_word(40, 'w');  // beyond the small-string buffer: a real heap block

/// Restores the frame pool setting it found.
class frame_pool_setting {
 public:
  explicit frame_pool_setting(bool on) : saved_(coloop::frame_pool_enabled()) {
    coloop::set_frame_pool_enabled(on);
  }
  ~frame_pool_setting() { coloop::set_frame_pool_enabled(saved_); }
  frame_pool_setting(const frame_pool_setting&) = delete;
  frame_pool_setting& operator=(const frame_pool_setting&) = delete;

 private:
  bool saved_;
};

task<std::string> describe_later(std::string word, std::unique_ptr<int> n) {
  co_await coloop::sleep_for(10ms);
  co_return word + ":" + std::to_string(*n);
}

/// Reads its argument after a suspension: it refers to the spawned task's copy.
task<std::size_t> length_later(const std::string& word) {
  co_await coloop::sleep_for(10ms);
  co_return word.size();
}

class SpawnArgs : public coloop::test::flavour_test {
 protected:
  void run_both_ways(task<void> (*body)()) {
    for (bool pool_on : {false, true}) {
      frame_pool_setting setting(pool_on);
      run(body(), {.manual_clock = true});
    }
  }
};

TEST_P(SpawnArgs, TemporaryCapturingLambdaLivesUntilTheTaskEnds) {
  run_both_ways([]() -> task<void> {
    // The closure is a temporary of this statement; its coroutine runs long after.
    auto h = coloop::spawn(
        [word = long_word, n = std::make_unique<int>(3)](int extra) -> task<std::string> {
          co_await coloop::sleep_for(10ms);
          co_return word + ":" + std::to_string(*n + extra);
        },
        4);
    EXPECT_EQ(co_await std::move(h), long_word + ":7");
  });
}

TEST_P(SpawnArgs, CoroutineFunctionWithStringAndUniquePtrArguments) {
  run_both_ways([]() -> task<void> {
    std::string word = long_word;
    auto n = std::make_unique<int>(5);
    auto a = coloop::spawn(describe_later, word, std::move(n));
    auto b = coloop::spawn(describe_later, std::string(30, 't'), std::make_unique<int>(6));
    EXPECT_EQ(word, long_word);  // copied
    EXPECT_FALSE(n);             // moved into the task
    EXPECT_EQ(co_await std::move(a), long_word + ":5");
    EXPECT_EQ(co_await std::move(b), std::string(30, 't') + ":6");
  });
}

TEST_P(SpawnArgs, ReferenceParameterBindsToTheTasksOwnCopy) {
  run_both_ways([]() -> task<void> {
    coloop::join_handle<std::size_t> h;
    {
      std::string word = long_word;
      h = coloop::spawn(length_later, word);
    }  // the caller's string is gone before the task first runs
    EXPECT_EQ(co_await std::move(h), long_word.size());
  });
}

TEST_P(SpawnArgs, StdRefPassesAReference) {
  run_both_ways([]() -> task<void> {
    std::string out;
    auto fill = [](std::string& target, std::string value) -> task<void> {
      co_await coloop::sleep_for(1ms);
      target = std::move(value);
    };
    auto h = coloop::spawn(fill, std::ref(out), long_word);
    co_await std::move(h);
    EXPECT_EQ(out, long_word);
  });
}

TEST_P(SpawnArgs, CallableAndArgumentsAreReleasedWhenTheTaskEnds) {
  run_both_ways([]() -> task<void> {
    auto token = std::make_shared<int>(0);
    auto fn = [token](std::shared_ptr<int> arg) -> task<void> {
      co_await coloop::sleep_for(10ms);
      EXPECT_EQ(arg.use_count(), 4);  // ours, fn's capture, the task's copy of it, this argument
    };
    auto h = coloop::spawn(fn, token);
    EXPECT_EQ(token.use_count(), 4);  // ours, fn's capture, the task's copies of fn and arg
    co_await std::move(h);
    EXPECT_EQ(token.use_count(), 2);  // the task's copies are gone; fn is still ours
  });
}

TEST_P(SpawnArgs, CancelReachesTheCallablesTask) {
  run_both_ways([]() -> task<void> {
    auto h = coloop::spawn(
        [word = long_word](std::unique_ptr<int>) -> task<std::string> {
          co_await coloop::sleep_for(1h);
          co_return word;
        },
        std::make_unique<int>(1));
    co_await coloop::sleep_for(1ms);
    h.cancel();
    EXPECT_THROW(co_await std::move(h), coloop::cancelled_error);
  });
}

TEST_P(SpawnArgs, VoidTask) {
  run_both_ways([]() -> task<void> {
    std::string out;
    auto h = coloop::spawn(
        [&out](std::string word) -> task<void> {
          co_await coloop::sleep_for(5ms);
          out = std::move(word);
        },
        long_word);
    co_await std::move(h);
    EXPECT_EQ(out, long_word);
  });
}

TEST(SpawnArgsNoLoop, ThrowsLogicErrorAndFreesTheArguments) {
  auto token = std::make_shared<int>(0);
  auto fn = [](std::shared_ptr<int>) -> task<void> { co_return; };
  EXPECT_THROW((void)coloop::spawn(fn, token), std::logic_error);
  EXPECT_EQ(token.use_count(), 1);
}

COLOOP_INSTANTIATE_FLAVOURS(SpawnArgs);

}  // namespace
