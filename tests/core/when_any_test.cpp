// when_any: the first child to finish wins (index and value); the others are cancelled and have
// finished before it returns; a failing winner is rethrown; vector forms; empty input.

#include <gtest/gtest.h>

#include <coloop/core/errors.hpp>
#include <coloop/core/future.hpp>
#include <coloop/core/sync_wait.hpp>
#include <coloop/core/when_all.hpp>
#include <coloop/core/when_any.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

using coloop::sync_wait;
using coloop::task;
using coloop::when_any;

task<int> value(int v) { co_return v; }
task<std::string> text(std::string s) { co_return s; }

struct custom_error : std::runtime_error {
  explicit custom_error(int c) : std::runtime_error("custom"), code(c) {}
  int code;
};

/// A child that waits for a future; unless the future is set it can only finish by being
/// cancelled, which it records before rethrowing.
template <class T = int>
struct pending_child {
  coloop::promise<T> prom;
  coloop::future<T> fut = prom.get_future();
  bool started = false;
  bool cancelled = false;
  bool finished = false;

  task<T> run() {
    started = true;
    try {
      if constexpr (std::is_void_v<T>) {
        co_await fut;
        finished = true;
      } else {
        T v = co_await fut;
        finished = true;
        co_return v;
      }
    } catch (const coloop::cancelled_error&) {
      cancelled = true;
      finished = true;
      throw;
    }
  }
};

TEST(WhenAny, FirstToFinishWinsAndOthersAreCancelledAndJoined) {
  pending_child<int> a;
  pending_child<std::string> c;
  auto root = [&]() -> task<std::variant<int, int, std::string>> {
    auto r = co_await when_any(a.run(), value(7), c.run());
    // Joined before returning: the losers have already finished.
    EXPECT_TRUE(a.finished);
    EXPECT_TRUE(c.finished);
    co_return r;
  };
  auto r = sync_wait(root());
  ASSERT_EQ(r.index(), 1u);
  EXPECT_EQ(std::get<1>(r), 7);
  EXPECT_TRUE(a.started && a.cancelled);
  EXPECT_TRUE(c.started && c.cancelled);
}

TEST(WhenAny, WinnerThatFinishesAfterSuspendingWins) {
  // Nobody finishes synchronously: child 1 is resumed first (its future is set by child 2, which
  // then waits forever itself), so child 1 wins and children 0 and 2 are cancelled.
  pending_child<int> a, b;
  pending_child<int> c;
  auto setter_then_wait = [&]() -> task<int> {
    b.prom.set_value(55);
    co_return co_await c.run();
  };
  auto root = [&]() -> task<std::variant<int, int, int>> {
    co_return co_await when_any(a.run(), b.run(), setter_then_wait());
  };
  auto r = sync_wait(root());
  ASSERT_EQ(r.index(), 1u);
  EXPECT_EQ(std::get<1>(r), 55);
  EXPECT_FALSE(b.cancelled);
  EXPECT_TRUE(a.cancelled && a.finished);
  EXPECT_TRUE(c.cancelled && c.finished);
}

TEST(WhenAny, FirstSynchronousChildWinsOverLaterSynchronousOnes) {
  auto root = []() -> task<std::variant<std::string, int>> {
    co_return co_await when_any(text("first"), value(2));
  };
  auto r = sync_wait(root());
  ASSERT_EQ(r.index(), 0u);
  EXPECT_EQ(std::get<0>(r), "first");
}

TEST(WhenAny, VoidWinnerIsMonostate) {
  pending_child<int> a;
  auto done = []() -> task<void> { co_return; };
  auto root = [&]() -> task<std::variant<int, std::monostate>> {
    co_return co_await when_any(a.run(), done());
  };
  auto r = sync_wait(root());
  EXPECT_EQ(r.index(), 1u);
  EXPECT_TRUE(a.cancelled && a.finished);
}

TEST(WhenAny, MoveOnlyWinner) {
  pending_child<int> a;
  auto ptr = []() -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(9); };
  auto root = [&]() -> task<int> {
    auto r = co_await when_any(a.run(), ptr());
    co_return *std::get<1>(r);
  };
  EXPECT_EQ(sync_wait(root()), 9);
  EXPECT_TRUE(a.cancelled);
}

TEST(WhenAny, WinnerThatThrowsIsRethrown) {
  pending_child<int> a;
  auto bad = []() -> task<int> {
    throw custom_error(12);
    co_return 0;
  };
  auto root = [&]() -> task<void> { (void)co_await when_any(a.run(), bad()); };
  try {
    sync_wait(root());
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 12);
  }
  EXPECT_TRUE(a.cancelled && a.finished);
}

TEST(WhenAny, CancelledLoserExceptionIsNotRethrown) {
  // The losers end with cancelled_error; only the winner's outcome matters.
  pending_child<int> a, b;
  auto root = [&]() -> task<int> {
    auto r = co_await when_any(a.run(), b.run(), value(3));
    co_return std::get<2>(r);
  };
  EXPECT_EQ(sync_wait(root()), 3);
  EXPECT_TRUE(a.cancelled && b.cancelled);
}

TEST(WhenAny, ValueSetAsTheCancelLandsIsDeliveredToTheLoser) {
  // Child 0 is suspended on a future; child 1 sets it (posting child 0) and then wins. The
  // cancel of child 0 comes too late to withdraw its await: it receives the value, not
  // cancelled_error.
  pending_child<int> a;
  auto set_and_win = [&]() -> task<int> {
    a.prom.set_value(5);
    co_return 6;
  };
  auto root = [&]() -> task<std::variant<int, int>> {
    co_return co_await when_any(a.run(), set_and_win());
  };
  auto r = sync_wait(root());
  ASSERT_EQ(r.index(), 1u);
  EXPECT_EQ(std::get<1>(r), 6);
  EXPECT_TRUE(a.finished);
  EXPECT_FALSE(a.cancelled);
}

TEST(WhenAny, VectorReturnsIndexAndValue) {
  std::vector<pending_child<int>> pending(5);
  auto root = [&]() -> task<std::pair<std::size_t, int>> {
    std::vector<task<int>> tasks;
    for (std::size_t i = 0; i < 3; ++i) tasks.push_back(pending[i].run());
    tasks.push_back(value(40));
    for (std::size_t i = 3; i < 5; ++i) tasks.push_back(pending[i].run());
    co_return co_await when_any(std::move(tasks));
  };
  auto [index, v] = sync_wait(root());
  EXPECT_EQ(index, 3u);
  EXPECT_EQ(v, 40);
  for (auto& p : pending) EXPECT_TRUE(p.started && p.cancelled && p.finished);
}

TEST(WhenAny, VectorOfVoidReturnsIndex) {
  std::vector<pending_child<void>> pending(3);
  auto done = []() -> task<void> { co_return; };
  auto root = [&]() -> task<std::size_t> {
    std::vector<task<void>> tasks;
    tasks.push_back(pending[0].run());
    tasks.push_back(pending[1].run());
    tasks.push_back(done());
    tasks.push_back(pending[2].run());
    co_return co_await when_any(std::move(tasks));
  };
  EXPECT_EQ(sync_wait(root()), 2u);
  for (auto& p : pending) EXPECT_TRUE(p.cancelled && p.finished);
}

TEST(WhenAny, VectorWinnerThatThrowsIsRethrown) {
  pending_child<int> a;
  auto bad = []() -> task<int> {
    throw std::out_of_range("bad");
    co_return 0;
  };
  auto root = [&]() -> task<void> {
    std::vector<task<int>> tasks;
    tasks.push_back(a.run());
    tasks.push_back(bad());
    (void)co_await when_any(std::move(tasks));
  };
  EXPECT_THROW(sync_wait(root()), std::out_of_range);
  EXPECT_TRUE(a.cancelled && a.finished);
}

TEST(WhenAny, EmptyVectorThrowsInvalidArgument) {
  auto root = []() -> task<void> { (void)co_await when_any(std::vector<task<int>>{}); };
  EXPECT_THROW(sync_wait(root()), std::invalid_argument);
  auto root_void = []() -> task<void> { (void)co_await when_any(std::vector<task<void>>{}); };
  EXPECT_THROW(sync_wait(root_void()), std::invalid_argument);
}

TEST(WhenAny, LosingNestedWhenAllCancelsItsChildren) {
  // Cancellation propagates into a nested combinator: the losing when_all cancels its own
  // pending children and finishes with cancelled_error before the outer when_any returns.
  pending_child<int> a, b;
  bool inner_cancelled = false;
  auto inner = [&]() -> task<int> {
    try {
      auto [x, y] = co_await coloop::when_all(a.run(), b.run());
      co_return x + y;
    } catch (const coloop::cancelled_error&) {
      inner_cancelled = true;
      throw;
    }
  };
  auto root = [&]() -> task<std::variant<int, int>> {
    auto r = co_await when_any(inner(), value(1));
    EXPECT_TRUE(inner_cancelled);
    co_return r;
  };
  auto r = sync_wait(root());
  EXPECT_EQ(r.index(), 1u);
  EXPECT_TRUE(inner_cancelled);
  EXPECT_TRUE(a.cancelled && a.finished);
  EXPECT_TRUE(b.cancelled && b.finished);
}

TEST(WhenAny, NestedWhenAny) {
  pending_child<int> a, b;
  auto inner = [&]() -> task<int> {
    auto r = co_await when_any(a.run(), value(8));
    co_return std::get<1>(r) * 2;
  };
  auto root = [&]() -> task<std::variant<int, int>> {
    co_return co_await when_any(inner(), b.run());
  };
  auto r = sync_wait(root());
  ASSERT_EQ(r.index(), 0u);
  EXPECT_EQ(std::get<0>(r), 16);
  EXPECT_TRUE(a.cancelled);
  EXPECT_TRUE(b.cancelled);
}

}  // namespace
