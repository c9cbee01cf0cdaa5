// The callable-plus-arguments forms of to_thread, thread_pool::run and run_in_executor (free and
// event_loop member): arguments are decay-copied at the call (std::string, move-only
// std::unique_ptr) and passed as rvalues; closures carrying such captures work once named.
// Every closure below is named or capture-less: g++ 12 double-frees a capturing closure written
// inside a co_await operand, which is what these forms make unnecessary.

#include <gtest/gtest.h>

#include <coloop/executor/thread_pool.hpp>
#include <coloop/executor/to_thread.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include "support/flavour.hpp"

using coloop::task;

namespace {

const std::string long_word(40, 'w');  // beyond the small-string buffer: a real heap block

std::string describe(std::string word, std::unique_ptr<int> n) {
  return word + ":" + std::to_string(*n);
}

/// Callable only as an rvalue, with rvalue arguments: compiles only if both are passed moved.
struct consume_once {
  std::unique_ptr<int> base;
  int operator()(std::unique_ptr<int>&& extra, std::string&& tag) && {
    return *base + *extra + static_cast<int>(tag.size());
  }
};

class CallArgs : public coloop::test::flavour_test {};
class CallArgsOnLoop : public coloop::test::flavour_test {};

TEST_P(CallArgs, ToThreadCopiesLvaluesAndMovesRvalues) {
  auto main = []() -> task<void> {
    std::string word = long_word;
    auto n = std::make_unique<int>(7);
    const std::string got = co_await coloop::to_thread(describe, word, std::move(n));
    EXPECT_EQ(got, long_word + ":7");
    EXPECT_EQ(word, long_word);  // copied, not moved from
    EXPECT_FALSE(n);             // moved into the job
    const std::string temp = co_await coloop::to_thread(describe, std::string(30, 't'),
                                                        std::make_unique<int>(8));
    EXPECT_EQ(temp, std::string(30, 't') + ":8");
  };
  run(main());
}

TEST_P(CallArgs, ArgumentsAreCopiedAtTheCallNotAtTheAwait) {
  auto main = []() -> task<void> {
    std::string word = long_word;
    auto pending = coloop::to_thread(describe, word, std::make_unique<int>(1));
    word = "changed before the await";
    EXPECT_EQ(co_await std::move(pending), long_word + ":1");
  };
  run(main());
}

TEST_P(CallArgs, CallableAndArgumentsAreInvokedAsRvalues) {
  auto main = []() -> task<void> {
    consume_once fn{std::make_unique<int>(100)};
    auto extra = std::make_unique<int>(20);
    EXPECT_EQ(co_await coloop::to_thread(std::move(fn), std::move(extra), std::string("abc")), 123);
    coloop::thread_pool pool({.core_threads = 1, .max_threads = 1});
    consume_once again{std::make_unique<int>(1)};
    EXPECT_EQ(co_await pool.run(std::move(again), std::make_unique<int>(2), std::string("x")), 4);
  };
  run(main());
}

TEST_P(CallArgs, NamedClosureWithStringAndUniquePtrCaptures) {
  auto main = []() -> task<void> {
    auto fn = [word = long_word, n = std::make_unique<int>(5)](std::string suffix) {
      return word + std::to_string(*n) + suffix;
    };
    EXPECT_EQ(co_await coloop::to_thread(std::move(fn), std::string("!")), long_word + "5!");
  };
  run(main());
}

TEST_P(CallArgs, StdRefPassesAReference) {
  auto main = []() -> task<void> {
    std::string out;
    auto fill = [](std::string& target, std::string value) { target = std::move(value); };
    co_await coloop::to_thread(fill, std::ref(out), long_word);
    EXPECT_EQ(out, long_word);
  };
  run(main());
}

TEST_P(CallArgs, ExceptionsComeBackThroughTheArgsForm) {
  auto main = []() -> task<void> {
    auto fail = [](std::string what, std::unique_ptr<int>) -> int {
      throw std::out_of_range(what);
    };
    try {
      co_await coloop::to_thread(fail, long_word, std::make_unique<int>(0));
      ADD_FAILURE() << "no exception";
    } catch (const std::out_of_range& e) {
      EXPECT_EQ(e.what(), long_word);
    }
  };
  run(main());
}

TEST_P(CallArgs, PoolRunAndFreeRunInExecutorPassArguments) {
  coloop::thread_pool pool({.core_threads = 2, .max_threads = 2});
  auto main = [&]() -> task<void> {
    const void* home = coloop::test::current_executor();
    const std::string a = co_await pool.run(describe, long_word, std::make_unique<int>(3));
    EXPECT_EQ(a, long_word + ":3");
    const std::string b =
        co_await coloop::run_in_executor(pool, describe, long_word, std::make_unique<int>(4));
    EXPECT_EQ(b, long_word + ":4");
    EXPECT_EQ(coloop::test::current_executor(), home);  // resumed where it awaited
    // The zero-argument forms are the same functions.
    auto id = [] { return std::this_thread::get_id(); };
    EXPECT_NE(co_await coloop::run_in_executor(pool, id), std::this_thread::get_id());
  };
  run(main());
}

TEST_P(CallArgsOnLoop, EventLoopRunInExecutorPassesArguments) {
  coloop::thread_pool pool({.core_threads = 1, .max_threads = 1});
  auto main = [&]() -> task<void> {
    coloop::event_loop& loop = *coloop::event_loop::current();
    const auto loop_thread = std::this_thread::get_id();
    std::string word = long_word;
    const std::string got =
        co_await loop.run_in_executor(pool, describe, std::move(word), std::make_unique<int>(9));
    EXPECT_EQ(got, long_word + ":9");
    EXPECT_EQ(std::this_thread::get_id(), loop_thread);
  };
  run(main());
}

COLOOP_INSTANTIATE_FLAVOURS(CallArgs);
COLOOP_INSTANTIATE_LOOP_FLAVOURS(CallArgsOnLoop);

}  // namespace
