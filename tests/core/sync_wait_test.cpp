// sync_wait: returns values, void, references and rethrows exceptions; refuses to nest; blocks
// until a future fulfilled on another thread resumes the task.

#include <gtest/gtest.h>

#include <coloop/core/errors.hpp>
#include <coloop/core/future.hpp>
#include <coloop/core/sync_wait.hpp>
#include <coloop/core/when_all.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace {

using coloop::sync_wait;
using coloop::task;

TEST(SyncWait, ReturnsTheValue) {
  auto t = []() -> task<std::string> { co_return std::string("hello"); };
  EXPECT_EQ(sync_wait(t()), "hello");
}

TEST(SyncWait, ReturnsAMoveOnlyValue) {
  auto t = []() -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(3); };
  std::unique_ptr<int> p = sync_wait(t());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 3);
}

TEST(SyncWait, RunsAVoidTask) {
  int hits = 0;
  auto t = [](int& h) -> task<void> {
    ++h;
    co_return;
  };
  sync_wait(t(hits));
  EXPECT_EQ(hits, 1);
}

TEST(SyncWait, ReturnsAReference) {
  int x = 1;
  auto t = [](int& r) -> task<int&> { co_return r; };
  int& r = sync_wait(t(x));
  EXPECT_EQ(&r, &x);
  r = 5;
  EXPECT_EQ(x, 5);
}

TEST(SyncWait, RethrowsTheException) {
  auto t = []() -> task<int> {
    throw std::out_of_range("boom");
    co_return 0;
  };
  try {
    (void)sync_wait(t());
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

TEST(SyncWait, RethrowsTheExceptionOfAVoidTask) {
  auto t = []() -> task<void> {
    throw std::system_error(std::make_error_code(std::errc::permission_denied));
    co_return;
  };
  try {
    sync_wait(t());
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::permission_denied);
  }
}

TEST(SyncWait, EmptyTaskThrowsLogicError) {
  task<int> empty;
  EXPECT_THROW((void)sync_wait(std::move(empty)), std::logic_error);
}

TEST(SyncWait, NestedSyncWaitThrowsLogicError) {
  bool inner_ran = false;
  auto inner = [](bool& ran) -> task<int> {
    ran = true;
    co_return 1;
  };
  auto outer = [&]() -> task<int> { co_return sync_wait(inner(inner_ran)); };
  EXPECT_THROW((void)sync_wait(outer()), std::logic_error);
  EXPECT_FALSE(inner_ran);
  // The thread is usable again afterwards: the failed nesting left no scheduler behind.
  EXPECT_EQ(sync_wait(inner(inner_ran)), 1);
  EXPECT_TRUE(inner_ran);
}

TEST(SyncWait, NestedSyncWaitErrorCanBeCaughtInsideTheTask) {
  auto inner = []() -> task<int> { co_return 1; };
  auto outer = [&]() -> task<bool> {
    try {
      (void)sync_wait(inner());
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(sync_wait(outer()));
}

TEST(SyncWait, ConsecutiveCallsOnOneThreadWork) {
  auto t = [](int v) -> task<int> { co_return v * 2; };
  int sum = 0;
  for (int i = 0; i < 100; ++i) sum += sync_wait(t(i));
  EXPECT_EQ(sum, 2 * (99 * 100 / 2));
}

TEST(SyncWait, WorksOnAnotherThread) {
  auto t = []() -> task<int> { co_return 11; };
  int got = 0;
  std::thread th([&] { got = sync_wait(t()); });
  th.join();
  EXPECT_EQ(got, 11);
}

TEST(SyncWait, BlocksUntilAFutureIsSetFromAnotherThread) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  std::thread setter;
  // when_all starts its children in order: by the time `start_setter` runs, `waiter` is
  // suspended on the future, so the value is set after the await began and sync_wait must block
  // until the other thread posts the waiter back.
  auto waiter = [&]() -> task<int> { co_return co_await f; };
  auto start_setter = [&]() -> task<void> {
    EXPECT_FALSE(f.ready());
    setter = std::thread([&p] { p.set_value(99); });
    co_return;
  };
  auto root = [&]() -> task<int> {
    auto [v, unused] = co_await coloop::when_all(waiter(), start_setter());
    (void)unused;
    co_return v;
  };
  int got = sync_wait(root());
  setter.join();
  EXPECT_EQ(got, 99);
}

TEST(SyncWait, ManyRoundTripsWithAnotherThread) {
  // Each sync_wait awaits a future the other thread sets: exercises the wake-up of a blocked
  // sync_wait and the teardown of its scheduler right after (TSan/ASan relevant).
  constexpr int rounds = 2000;
  long long sum = 0;
  for (int i = 0; i < rounds; ++i) {
    coloop::promise<int> p;
    coloop::future<int> f = p.get_future();
    std::thread setter([&p, i] { p.set_value(i); });
    auto waiter = [&]() -> task<int> { co_return co_await f; };
    sum += sync_wait(waiter());
    setter.join();
  }
  EXPECT_EQ(sum, static_cast<long long>(rounds) * (rounds - 1) / 2);
}

}  // namespace
