// future/promise: set before and after the await (same and other thread), exceptions, misuse,
// broken promises, void futures, many cross-thread hand-offs, and cancel-safety of an await.

#include <gtest/gtest.h>

#include <coloop/core/errors.hpp>
#include <coloop/core/future.hpp>
#include <coloop/core/sync_wait.hpp>
#include <coloop/core/when_all.hpp>
#include <coloop/core/when_any.hpp>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

using coloop::sync_wait;
using coloop::task;

template <class T>
task<T> await_future(coloop::future<T>& f) {
  co_return co_await f;
}

/// Runs `waiter` and, once it is suspended, runs `after` (when_all starts children in order), so
/// `after` acts strictly after the await began.
template <class T, class After>
T await_then(coloop::future<T>& f, After after) {
  auto starter = [&]() -> task<void> {
    after();
    co_return;
  };
  auto root = [&]() -> task<T> {
    auto r = co_await coloop::when_all(await_future(f), starter());
    if constexpr (std::is_void_v<T>) {
      (void)r;
    } else {
      co_return std::move(std::get<0>(r));
    }
  };
  return sync_wait(root());
}

TEST(Future, SetBeforeAwait) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  EXPECT_TRUE(f.valid());
  EXPECT_FALSE(f.ready());
  p.set_value(17);
  EXPECT_TRUE(f.ready());
  EXPECT_EQ(sync_wait(await_future(f)), 17);
}

TEST(Future, SetAfterAwaitOnTheSameThread) {
  coloop::promise<std::string> p;
  coloop::future<std::string> f = p.get_future();
  std::string r = await_then(f, [&] {
    EXPECT_FALSE(f.ready());
    p.set_value("later");
  });
  EXPECT_EQ(r, "later");
}

TEST(Future, SetAfterAwaitFromAnotherThread) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  std::thread setter;
  int r = await_then(f, [&] {
    EXPECT_FALSE(f.ready());
    setter = std::thread([&p] { p.set_value(23); });
  });
  setter.join();
  EXPECT_EQ(r, 23);
}

TEST(Future, MoveOnlyValue) {
  coloop::promise<std::unique_ptr<int>> p;
  coloop::future<std::unique_ptr<int>> f = p.get_future();
  p.set_value(std::make_unique<int>(8));
  std::unique_ptr<int> v = sync_wait(await_future(f));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 8);
}

TEST(Future, ReferenceValue) {
  int target = 0;
  coloop::promise<int&> p;
  coloop::future<int&> f = p.get_future();
  p.set_value(target);
  int& r = sync_wait(await_future(f));
  EXPECT_EQ(&r, &target);
}

TEST(Future, SetExceptionIsRethrown) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  p.set_exception(std::make_exception_ptr(std::out_of_range("range")));
  EXPECT_TRUE(f.ready());
  try {
    (void)sync_wait(await_future(f));
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "range");
  }
}

TEST(Future, SetExceptionFromAnotherThreadAfterAwait) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  std::thread setter;
  EXPECT_THROW(
      (void)await_then(f,
                       [&] {
                         setter = std::thread([&p] {
                           p.set_exception(std::make_exception_ptr(std::invalid_argument("x")));
                         });
                       }),
      std::invalid_argument);
  setter.join();
}

TEST(Future, SecondSetThrowsLogicError) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  p.set_value(1);
  EXPECT_THROW(p.set_value(2), std::logic_error);
  EXPECT_THROW(p.set_exception(std::make_exception_ptr(std::runtime_error("x"))), std::logic_error);
  EXPECT_EQ(sync_wait(await_future(f)), 1);  // the first value stands

  coloop::promise<int> q;
  q.set_exception(std::make_exception_ptr(std::runtime_error("x")));
  EXPECT_THROW(q.set_value(3), std::logic_error);
}

TEST(Future, GetFutureTwiceThrowsLogicError) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  EXPECT_THROW((void)p.get_future(), std::logic_error);
  EXPECT_TRUE(f.valid());
}

TEST(Future, DefaultConstructedFutureIsInvalidAndAwaitingItThrows) {
  coloop::future<int> f;
  EXPECT_FALSE(f.valid());
  EXPECT_FALSE(f.ready());
  EXPECT_THROW((void)sync_wait(await_future(f)), std::logic_error);
}

void expect_broken_promise(const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "expected std::system_error(broken_promise)";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), coloop::errc::broken_promise);
    EXPECT_EQ(e.code(), coloop::make_error_code(coloop::errc::broken_promise));
    EXPECT_EQ(&e.code().category(), &coloop::error_category());
  }
}

TEST(Future, PromiseDestroyedWithoutValueBreaksTheFuture) {
  coloop::future<int> f;
  {
    coloop::promise<int> p;
    f = p.get_future();
  }
  EXPECT_TRUE(f.ready());
  expect_broken_promise([&] { (void)sync_wait(await_future(f)); });
}

TEST(Future, PromiseDestroyedWhileAwaitedOnAnotherThreadBreaksTheFuture) {
  auto p = std::make_unique<coloop::promise<int>>();
  coloop::future<int> f = p->get_future();
  std::thread destroyer;
  expect_broken_promise(
      [&] { (void)await_then(f, [&] { destroyer = std::thread([&p] { p.reset(); }); }); });
  destroyer.join();
}

TEST(Future, MoveAssigningOverAPromiseBreaksItsFuture) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  p = coloop::promise<int>();
  expect_broken_promise([&] { (void)sync_wait(await_future(f)); });
  // The new promise is independent and usable.
  coloop::future<int> g = p.get_future();
  p.set_value(4);
  EXPECT_EQ(sync_wait(await_future(g)), 4);
}

TEST(Future, MoveAssignedPromiseStillRefusesASecondFuture) {
  coloop::promise<int> taken;
  coloop::future<int> f = taken.get_future();
  coloop::promise<int> fresh;
  fresh = std::move(taken);  // `fresh` now shares f's state, whose future is already out
  EXPECT_THROW((void)fresh.get_future(), std::logic_error);
  fresh.set_value(2);
  EXPECT_EQ(sync_wait(await_future(f)), 2);
}

TEST(Future, MovedPromiseKeepsTheFutureAlive) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  coloop::promise<int> q = std::move(p);  // p's destructor must not break the future
  q.set_value(12);
  EXPECT_EQ(sync_wait(await_future(f)), 12);
  EXPECT_THROW(p.set_value(1), std::logic_error);  // NOLINT(bugprone-use-after-move)
}

TEST(Future, FulfilledPromiseDestructionKeepsTheValue) {
  coloop::future<int> f;
  {
    coloop::promise<int> p;
    f = p.get_future();
    p.set_value(3);
  }
  EXPECT_EQ(sync_wait(await_future(f)), 3);
}

TEST(Future, VoidFuture) {
  coloop::promise<void> p;
  coloop::future<void> f = p.get_future();
  p.set_value();
  EXPECT_TRUE(f.ready());
  bool resumed = false;
  auto t = [&]() -> task<void> {
    co_await f;
    resumed = true;
  };
  sync_wait(t());
  EXPECT_TRUE(resumed);
}

TEST(Future, VoidFutureSetFromAnotherThread) {
  coloop::promise<void> p;
  coloop::future<void> f = p.get_future();
  std::thread setter;
  await_then(f, [&] { setter = std::thread([&p] { p.set_value(); }); });
  setter.join();
  EXPECT_TRUE(f.ready());
}

TEST(Future, VoidFutureException) {
  coloop::promise<void> p;
  coloop::future<void> f = p.get_future();
  p.set_exception(std::make_exception_ptr(std::length_error("len")));
  EXPECT_THROW(sync_wait(await_future(f)), std::length_error);
}

TEST(Future, FourThreadsFulfilManyPromisesAwaitedByOneTask) {
  constexpr int threads = 4;
  constexpr int per_thread = 10'000;
  std::vector<std::vector<coloop::promise<int>>> promises(threads);
  std::vector<coloop::future<int>> futures;
  futures.reserve(threads * per_thread);
  // Interleave the futures so the awaiting task hops between the setter threads.
  for (auto& v : promises) v.resize(per_thread);
  for (int i = 0; i < per_thread; ++i) {
    for (int t = 0; t < threads; ++t) {
      futures.push_back(
          promises[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)].get_future());
    }
  }
  std::vector<std::thread> setters;
  for (int t = 0; t < threads; ++t) {
    setters.emplace_back([&promises, t] {
      auto& mine = promises[static_cast<std::size_t>(t)];
      for (int i = 0; i < per_thread; ++i)
        mine[static_cast<std::size_t>(i)].set_value(t * per_thread + i);
    });
  }
  auto consumer = [&]() -> task<long long> {
    long long sum = 0;
    for (auto& f : futures) sum += co_await f;
    co_return sum;
  };
  long long sum = sync_wait(consumer());
  for (auto& th : setters) th.join();
  constexpr long long n = static_cast<long long>(threads) * per_thread;
  EXPECT_EQ(sum, n * (n - 1) / 2);
  for (auto& f : futures) EXPECT_TRUE(f.ready());
}

TEST(Future, ValuesWithHeapStateCrossThreadsIntact) {
  // The value is written on the setter thread and read on the awaiting thread: the hand-off must
  // publish it (TSan checks the ordering).
  constexpr int count = 2000;
  std::vector<coloop::promise<std::string>> promises(count);
  std::vector<coloop::future<std::string>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  std::thread setter([&] {
    for (int i = 0; i < count; ++i) {
      promises[static_cast<std::size_t>(i)].set_value(std::string(100, 'a') + std::to_string(i));
    }
  });
  auto consumer = [&]() -> task<int> {
    int good = 0;
    for (int i = 0; i < count; ++i) {
      std::string s = co_await futures[static_cast<std::size_t>(i)];
      if (s == std::string(100, 'a') + std::to_string(i)) ++good;
    }
    co_return good;
  };
  int good = sync_wait(consumer());
  setter.join();
  EXPECT_EQ(good, count);
}

TEST(Future, CancelledAwaitLeavesTheFutureIntact) {
  // A when_any loser's await on the future is withdrawn; the future can be awaited again later
  // and delivers the value set afterwards.
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  bool cancelled = false;
  auto loser = [&]() -> task<int> {
    try {
      co_return co_await f;
    } catch (const coloop::cancelled_error&) {
      cancelled = true;
      throw;
    }
  };
  auto winner = []() -> task<int> { co_return 1; };
  auto root = [&]() -> task<int> {
    auto r = co_await coloop::when_any(loser(), winner());
    EXPECT_EQ(r.index(), 1u);
    EXPECT_FALSE(f.ready());
    p.set_value(77);
    co_return co_await f;
  };
  EXPECT_EQ(sync_wait(root()), 77);
  EXPECT_TRUE(cancelled);
}

TEST(Future, CancelledAwaitThenValueFromAnotherThread) {
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  auto loser = [&]() -> task<int> { co_return co_await f; };
  auto winner = []() -> task<int> { co_return 1; };
  std::thread setter;
  auto root = [&]() -> task<int> {
    (void)co_await coloop::when_any(loser(), winner());
    setter = std::thread([&p] { p.set_value(5); });
    co_return co_await f;
  };
  int r = sync_wait(root());
  setter.join();
  EXPECT_EQ(r, 5);
}

}  // namespace
