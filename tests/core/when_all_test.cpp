// when_all: tuple and vector forms, void children, ordering, the first failure cancelling and
// joining the other children, exception types, nesting.

#include <gtest/gtest.h>

#include <coloop/core/errors.hpp>
#include <coloop/core/future.hpp>
#include <coloop/core/sync_wait.hpp>
#include <coloop/core/when_all.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

using coloop::sync_wait;
using coloop::task;
using coloop::when_all;

task<int> value(int v) { co_return v; }
task<std::string> text(std::string s) { co_return s; }
task<void> touch(int& hits) {
  ++hits;
  co_return;
}

struct custom_error : std::runtime_error {
  explicit custom_error(int c) : std::runtime_error("custom"), code(c) {}
  int code;
};

task<int> fail_with(int code) {
  throw custom_error(code);
  co_return 0;
}
task<void> fail_void(int code) {
  throw custom_error(code);
  co_return;
}

/// A child that waits for a value that never comes. It must be cancelled: it records the
/// cancellation (and that it finished) and rethrows.
struct pending_child {
  coloop::promise<int> never;
  coloop::future<int> fut = never.get_future();
  bool started = false;
  bool cancelled = false;
  bool finished = false;

  task<int> run() {
    started = true;
    try {
      int v = co_await fut;
      finished = true;
      co_return v;
    } catch (const coloop::cancelled_error&) {
      cancelled = true;
      finished = true;
      throw;
    }
  }
};

TEST(WhenAll, TupleOfMixedTypesIncludingVoid) {
  int hits = 0;
  auto root = [&]() -> task<std::tuple<int, std::monostate, std::string>> {
    co_return co_await when_all(value(1), touch(hits), text("three"));
  };
  auto result = sync_wait(root());
  static_assert(std::is_same_v<decltype(result), std::tuple<int, std::monostate, std::string>>);
  EXPECT_EQ(std::get<0>(result), 1);
  EXPECT_EQ(std::get<2>(result), "three");
  EXPECT_EQ(hits, 1);
}

TEST(WhenAll, TupleWithMoveOnlyAndSingleChild) {
  auto ptr = []() -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(4); };
  auto root = [&]() -> task<int> {
    auto [p] = co_await when_all(ptr());
    co_return *p;
  };
  EXPECT_EQ(sync_wait(root()), 4);
}

TEST(WhenAll, TupleWithAReferenceChild) {
  int target = 1;
  auto ref = [](int& r) -> task<int&> { co_return r; };
  auto root = [&]() -> task<int*> {
    auto r = co_await when_all(ref(target), value(2));
    static_assert(std::is_same_v<std::tuple_element_t<0, decltype(r)>, int&>);
    co_return &std::get<0>(r);
  };
  EXPECT_EQ(sync_wait(root()), &target);
}

TEST(WhenAll, TupleOfAllVoid) {
  int hits = 0;
  auto root = [&]() -> task<void> {
    auto r = co_await when_all(touch(hits), touch(hits), touch(hits));
    static_assert(
        std::is_same_v<decltype(r), std::tuple<std::monostate, std::monostate, std::monostate>>);
  };
  sync_wait(root());
  EXPECT_EQ(hits, 3);
}

TEST(WhenAll, ChildrenRunConcurrently) {
  // The first child waits for a future only the second child sets: this completes only if
  // when_all starts the second child while the first is suspended.
  coloop::promise<int> p;
  coloop::future<int> f = p.get_future();
  auto waiter = [&]() -> task<int> { co_return co_await f + 1; };
  auto setter = [&]() -> task<void> {
    p.set_value(41);
    co_return;
  };
  auto root = [&]() -> task<int> {
    auto [v, unused] = co_await when_all(waiter(), setter());
    (void)unused;
    co_return v;
  };
  EXPECT_EQ(sync_wait(root()), 42);
}

TEST(WhenAll, VectorPreservesOrder) {
  constexpr int n = 1000;
  auto root = []() -> task<std::vector<int>> {
    std::vector<task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(value(i * 3));
    co_return co_await when_all(std::move(tasks));
  };
  std::vector<int> r = sync_wait(root());
  ASSERT_EQ(r.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(r[static_cast<std::size_t>(i)], i * 3) << i;
}

TEST(WhenAll, VectorPreservesOrderWhenChildrenFinishOutOfOrder) {
  // Child i waits on future i; the last child sets them in reverse order, so the children
  // complete last-to-first, yet the results stay in task order.
  constexpr int n = 50;
  std::vector<coloop::promise<int>> promises(n);
  std::vector<coloop::future<int>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  std::vector<int> completion_order;
  auto waiter = [&](int i) -> task<int> {
    int v = co_await futures[static_cast<std::size_t>(i)];
    completion_order.push_back(i);
    co_return v;
  };
  auto setter = [&]() -> task<int> {
    for (int i = n - 1; i >= 0; --i) promises[static_cast<std::size_t>(i)].set_value(i * 10);
    co_return -1;
  };
  auto root = [&]() -> task<std::vector<int>> {
    std::vector<task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(waiter(i));
    tasks.push_back(setter());
    co_return co_await when_all(std::move(tasks));
  };
  std::vector<int> r = sync_wait(root());
  ASSERT_EQ(r.size(), static_cast<std::size_t>(n + 1));
  for (int i = 0; i < n; ++i) EXPECT_EQ(r[static_cast<std::size_t>(i)], i * 10);
  EXPECT_EQ(r.back(), -1);
  ASSERT_EQ(completion_order.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(completion_order.front(), n - 1);
  EXPECT_EQ(completion_order.back(), 0);
}

TEST(WhenAll, EmptyVector) {
  auto root = []() -> task<std::size_t> {
    std::vector<int> r = co_await when_all(std::vector<task<int>>{});
    co_return r.size() + 100;
  };
  EXPECT_EQ(sync_wait(root()), 100u);

  bool reached = false;
  auto root_void = [&]() -> task<void> {
    co_await when_all(std::vector<task<void>>{});
    reached = true;
  };
  sync_wait(root_void());
  EXPECT_TRUE(reached);
}

TEST(WhenAll, VectorOfVoidTasks) {
  int hits = 0;
  auto root = [&]() -> task<void> {
    std::vector<task<void>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(touch(hits));
    co_await when_all(std::move(tasks));
  };
  sync_wait(root());
  EXPECT_EQ(hits, 100);
}

TEST(WhenAll, VectorOfVoidTasksRethrowsFailure) {
  int hits = 0;
  auto root = [&]() -> task<void> {
    std::vector<task<void>> tasks;
    tasks.push_back(touch(hits));
    tasks.push_back(fail_void(6));
    tasks.push_back(touch(hits));
    co_await when_all(std::move(tasks));
  };
  try {
    sync_wait(root());
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 6);
  }
  EXPECT_GE(hits, 1);  // the first child ran before the failure
}

TEST(WhenAll, FailureCancelsAndJoinsAPendingSibling) {
  pending_child a;
  auto root = [&]() -> task<void> {
    try {
      (void)co_await when_all(a.run(), fail_with(1));
      ADD_FAILURE() << "when_all should have thrown";
    } catch (const custom_error& e) {
      EXPECT_EQ(e.code, 1);
      // Joined: the sibling finished (observing the cancellation) before when_all threw.
      EXPECT_TRUE(a.cancelled);
      EXPECT_TRUE(a.finished);
      throw;
    }
  };
  EXPECT_THROW(sync_wait(root()), custom_error);
  EXPECT_TRUE(a.started);
  EXPECT_TRUE(a.cancelled);
  EXPECT_TRUE(a.finished);
}

TEST(WhenAll, FailureCancelsSiblingsNotYetStarted) {
  // The failing child comes first: the later ones get a cancel request before they start and
  // their first suspending await throws cancelled_error instead of suspending.
  pending_child a, b;
  auto root = [&]() -> task<void> { (void)co_await when_all(fail_with(2), a.run(), b.run()); };
  try {
    sync_wait(root());
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 2);
  }
  EXPECT_TRUE(a.started && a.cancelled && a.finished);
  EXPECT_TRUE(b.started && b.cancelled && b.finished);
}

TEST(WhenAll, FailureCancelsManyPendingSiblingsInAVector) {
  constexpr int n = 20;
  std::vector<pending_child> children(n);
  auto root = [&]() -> task<std::vector<int>> {
    std::vector<task<int>> tasks;
    for (int i = 0; i < n / 2; ++i) tasks.push_back(children[static_cast<std::size_t>(i)].run());
    tasks.push_back(fail_with(3));
    for (int i = n / 2; i < n; ++i) tasks.push_back(children[static_cast<std::size_t>(i)].run());
    co_return co_await when_all(std::move(tasks));
  };
  EXPECT_THROW((void)sync_wait(root()), custom_error);
  for (auto& c : children) {
    EXPECT_TRUE(c.started);
    EXPECT_TRUE(c.cancelled);
    EXPECT_TRUE(c.finished);
  }
}

TEST(WhenAll, FirstFailureWinsOverLaterFailures) {
  // Child 0 fails with 10, child 2 fails later with 20; a pending child sits between them.
  pending_child a;
  auto root = [&]() -> task<void> {
    (void)co_await when_all(fail_with(10), a.run(), fail_with(20));
  };
  try {
    sync_wait(root());
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 10);
  }
  EXPECT_TRUE(a.cancelled);
}

TEST(WhenAll, FailureAfterASuspensionIsRethrownOnceAllFinish) {
  // The failing child fails only after it was resumed through the scheduler.
  coloop::promise<int> go;
  coloop::future<int> go_f = go.get_future();
  pending_child a;
  auto late_failure = [&]() -> task<int> {
    int code = co_await go_f;
    throw custom_error(code);
  };
  auto trigger = [&]() -> task<int> {
    go.set_value(33);
    co_return 0;
  };
  auto root = [&]() -> task<void> { (void)co_await when_all(a.run(), late_failure(), trigger()); };
  try {
    sync_wait(root());
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 33);
  }
  EXPECT_TRUE(a.cancelled && a.finished);
}

TEST(WhenAll, ExceptionTypeIsPreserved) {
  auto bad_alloc = []() -> task<int> {
    throw std::bad_alloc();
    co_return 0;
  };
  auto root = [&]() -> task<void> { (void)co_await when_all(value(1), bad_alloc()); };
  EXPECT_THROW(sync_wait(root()), std::bad_alloc);

  auto sys = []() -> task<void> {
    throw std::system_error(std::make_error_code(std::errc::connection_reset));
    co_return;
  };
  auto root2 = [&]() -> task<void> { (void)co_await when_all(sys(), value(2)); };
  try {
    sync_wait(root2());
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_reset);
  }
}

TEST(WhenAll, SiblingMayCatchCancellationAndReturnNormally) {
  // A child that swallows its cancellation still gets joined; the failure is still rethrown.
  coloop::promise<int> never;
  coloop::future<int> f = never.get_future();
  bool swallowed = false;
  auto swallower = [&]() -> task<int> {
    try {
      co_return co_await f;
    } catch (const coloop::cancelled_error& e) {
      EXPECT_EQ(e.code(), coloop::errc::cancelled);
      swallowed = true;
      co_return -1;
    }
  };
  auto root = [&]() -> task<void> { (void)co_await when_all(swallower(), fail_with(8)); };
  EXPECT_THROW(sync_wait(root()), custom_error);
  EXPECT_TRUE(swallowed);
}

TEST(WhenAll, Nested) {
  int hits = 0;
  auto inner = [&](int base) -> task<int> {
    auto [a, b, unused] = co_await when_all(value(base), value(base + 1), touch(hits));
    (void)unused;
    co_return a + b;
  };
  auto root = [&]() -> task<std::tuple<int, int, std::string>> {
    co_return co_await when_all(inner(1), inner(10), text("x"));
  };
  auto [x, y, s] = sync_wait(root());
  EXPECT_EQ(x, 3);
  EXPECT_EQ(y, 21);
  EXPECT_EQ(s, "x");
  EXPECT_EQ(hits, 2);
}

TEST(WhenAll, NestedFailureCancelsPendingChildrenOfASiblingGroup) {
  // The outer group's failure cancels the inner group, which cancels its own pending children.
  pending_child a, b;
  auto inner = [&]() -> task<int> {
    auto [x, y] = co_await when_all(a.run(), b.run());
    co_return x + y;
  };
  auto root = [&]() -> task<void> { (void)co_await when_all(inner(), fail_with(4)); };
  try {
    sync_wait(root());
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 4);
  }
  EXPECT_TRUE(a.cancelled && a.finished);
  EXPECT_TRUE(b.cancelled && b.finished);
}

TEST(WhenAll, ManySynchronousChildrenDoNotOverflowTheStack) {
  constexpr int n = 100'000;
  auto root = []() -> task<long long> {
    std::vector<task<int>> tasks;
    tasks.reserve(n);
    for (int i = 0; i < n; ++i) tasks.push_back(value(i));
    std::vector<int> r = co_await when_all(std::move(tasks));
    long long sum = 0;
    for (int v : r) sum += v;
    co_return sum;
  };
  EXPECT_EQ(sync_wait(root()), static_cast<long long>(n) * (n - 1) / 2);
}

}  // namespace
