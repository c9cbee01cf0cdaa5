// task<T>: values, void, references, move-only results, laziness, exception propagation, misuse
// (moved-from tasks, a task awaited by two), re-awaiting a finished task, frame cleanup, and stack safety of long chains
// of synchronously completing awaits.

#include <gtest/gtest.h>

#include <coloop/core/sync_wait.hpp>
#include <coloop/core/task.hpp>
#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

using coloop::sync_wait;
using coloop::task;

task<int> answer() { co_return 42; }

TEST(Task, ReturnsAnInt) { EXPECT_EQ(sync_wait(answer()), 42); }

TEST(Task, AwaitedFromAnotherTaskReturnsItsValue) {
  auto outer = []() -> task<int> { co_return co_await answer() + 1; };
  EXPECT_EQ(sync_wait(outer()), 43);
}

TEST(Task, VoidTaskRunsItsBody) {
  int hits = 0;
  auto body = [](int& h) -> task<void> {
    ++h;
    co_return;
  };
  auto outer = [&]() -> task<void> {
    co_await body(hits);
    co_await body(hits);
  };
  sync_wait(outer());
  EXPECT_EQ(hits, 2);
}

TEST(Task, ReferenceTaskReturnsTheSameObject) {
  std::string target = "referenced";
  auto ref = [](std::string& s) -> task<std::string&> { co_return s; };
  auto outer = [&]() -> task<std::string*> {
    std::string& r = co_await ref(target);
    co_return &r;
  };
  EXPECT_EQ(sync_wait(outer()), &target);

  // Writes through the returned reference reach the original object.
  auto writer = [&]() -> task<void> {
    std::string& r = co_await ref(target);
    r = "changed";
  };
  sync_wait(writer());
  EXPECT_EQ(target, "changed");
}

TEST(Task, MoveOnlyResult) {
  auto make = [](int v) -> task<std::unique_ptr<int>> { co_return std::make_unique<int>(v); };
  auto outer = [&]() -> task<std::unique_ptr<int>> {
    std::unique_ptr<int> p = co_await make(7);
    *p += 1;
    co_return p;
  };
  std::unique_ptr<int> p = sync_wait(outer());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 8);
}

TEST(Task, IsLazyUntilAwaited) {
  bool started = false;
  auto body = [](bool& s) -> task<int> {
    s = true;
    co_return 1;
  };
  task<int> t = body(started);
  EXPECT_FALSE(started);
  EXPECT_TRUE(t.valid());
  EXPECT_FALSE(t.done());

  task<int> moved = std::move(t);  // moving does not start it either
  EXPECT_FALSE(started);

  auto outer = [&]() -> task<int> {
    EXPECT_FALSE(started);  // creating the outer task and starting it did not start `moved`
    int v = co_await std::move(moved);
    EXPECT_TRUE(started);
    co_return v;
  };
  task<int> o = outer();
  EXPECT_FALSE(started);
  EXPECT_EQ(sync_wait(std::move(o)), 1);
  EXPECT_TRUE(started);
}

struct custom_error : std::runtime_error {
  explicit custom_error(int c) : std::runtime_error("custom"), code(c) {}
  int code;
};

task<int> thrower(int c) {
  throw custom_error(c);
  co_return 0;
}
task<int> middle(int c) { co_return co_await thrower(c) + 1; }
task<int> top(int c) { co_return co_await middle(c) + 1; }

TEST(Task, ExceptionPropagatesThroughNestedAwaits) {
  try {
    (void)sync_wait(top(5));
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 5);
  }
}

TEST(Task, ExceptionCanBeCaughtByAnAwaitingTask) {
  auto catcher = []() -> task<int> {
    try {
      co_await middle(9);
    } catch (const custom_error& e) {
      co_return e.code * 10;
    }
    co_return -1;
  };
  EXPECT_EQ(sync_wait(catcher()), 90);
}

TEST(Task, VoidTaskExceptionPropagates) {
  auto bad = []() -> task<void> {
    throw custom_error(3);
    co_return;
  };
  auto outer = [&]() -> task<void> { co_await bad(); };
  EXPECT_THROW(sync_wait(outer()), custom_error);
}

TEST(Task, AwaitingAMovedFromTaskThrowsLogicError) {
  auto outer = []() -> task<void> {
    task<int> t = answer();
    task<int> other = std::move(t);
    EXPECT_FALSE(t.valid());  // NOLINT(bugprone-use-after-move): that's the point
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(other.valid());
    co_await std::move(t);  // NOLINT(bugprone-use-after-move)
  };
  try {
    sync_wait(outer());
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

TEST(Task, AwaitingADefaultConstructedTaskAsLvalueThrowsLogicError) {
  auto outer = []() -> task<void> {
    task<int> t;
    (void)co_await t;
  };
  try {
    sync_wait(outer());
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

TEST(Task, LvalueAwaitOfAFinishedTaskReturnsTheValueAgain) {
  int runs = 0;
  auto body = [](int& r) -> task<std::string> {
    ++r;
    co_return std::string("value");
  };
  auto outer = [&]() -> task<void> {
    task<std::string> t = body(runs);
    std::string first = co_await t;
    EXPECT_TRUE(t.done());
    std::string second = co_await t;  // finished: no re-run, same value
    std::string& third = co_await t;  // lvalue await yields a reference to the stored result
    EXPECT_EQ(first, "value");
    EXPECT_EQ(second, "value");
    EXPECT_EQ(third, "value");
    std::string& fourth = co_await t;
    EXPECT_EQ(&third, &fourth);
  };
  sync_wait(outer());
  EXPECT_EQ(runs, 1);
}

TEST(Task, LvalueAwaitOfAFinishedFailedTaskRethrowsAgain) {
  auto outer = []() -> task<int> {
    task<int> t = thrower(4);
    int caught = 0;
    for (int i = 0; i < 2; ++i) {
      try {
        (void)co_await t;
      } catch (const custom_error& e) {
        caught += e.code;
      }
    }
    co_return caught;
  };
  EXPECT_EQ(sync_wait(outer()), 8);
}

/// Suspends its task and hands the handle out, for a test to resume by hand.
struct parked {
  std::coroutine_handle<>* slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept { *slot = h; }
  void await_resume() const noexcept {}
};

task<int> parks_then_returns(std::coroutine_handle<>& slot, int v) {
  co_await parked{&slot};
  co_return v;
}
task<int> awaits(task<int>& t) { co_return co_await t; }
task<std::string> awaits_expecting_misuse(task<int>& t) {
  try {
    (void)co_await t;
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

TEST(Task, ASecondAwaiterWhileTheFirstWaitsGetsLogicError) {
  std::coroutine_handle<> slot;
  task<int> t = parks_then_returns(slot, 5);
  task<int> first = awaits(t);
  first.handle().resume();  // first awaits t, which parks
  ASSERT_TRUE(slot);
  EXPECT_NE(sync_wait(awaits_expecting_misuse(t)).find("awaited twice"), std::string::npos);
  EXPECT_FALSE(t.done());  // the refused awaiter left it alone
  slot.resume();           // t ends, and resumes its first awaiter
  EXPECT_TRUE(first.done());
  EXPECT_EQ(sync_wait(std::move(t)), 5);
}

TEST(Task, SyncWaitOnATaskAnotherAwaitsThrowsLogicError) {
  std::coroutine_handle<> slot;
  task<int> t = parks_then_returns(slot, 5);
  task<int> first = awaits(t);
  first.handle().resume();
  ASSERT_TRUE(slot);
  try {
    (void)sync_wait(std::move(t));  // t's frame dies with the call; first is never resumed
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("awaited twice"), std::string::npos) << e.what();
  }
}

TEST(Task, ATaskThatEndedWithNoAwaiterGivesItsValueWhenAwaitedLater) {
  task<int> t = answer();
  t.handle().resume();  // run to its end by hand: nobody awaits it
  ASSERT_TRUE(t.done());
  EXPECT_EQ(sync_wait(awaits(t)), 42);
  EXPECT_EQ(sync_wait(std::move(t)), 42);
}

struct counted {
  static inline int live = 0;
  counted() { ++live; }
  counted(const counted&) { ++live; }
  counted(counted&&) noexcept { ++live; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { --live; }
};

task<int> takes_counted(counted c, std::unique_ptr<counted> p) {
  (void)c;
  (void)p;
  co_return 1;
}

TEST(Task, DestroyingAnUnstartedTaskDestroysItsArguments) {
  ASSERT_EQ(counted::live, 0);
  {
    task<int> t = takes_counted(counted{}, std::make_unique<counted>());
    EXPECT_EQ(counted::live, 2);  // the by-value copy and the unique_ptr's pointee, in the frame
    EXPECT_FALSE(t.done());
  }
  EXPECT_EQ(counted::live, 0);
}

TEST(Task, MoveAssigningOverAnUnstartedTaskDestroysItsArguments) {
  ASSERT_EQ(counted::live, 0);
  task<int> t = takes_counted(counted{}, std::make_unique<counted>());
  EXPECT_EQ(counted::live, 2);
  t = answer();
  EXPECT_EQ(counted::live, 0);
  EXPECT_EQ(sync_wait(std::move(t)), 42);
}

TEST(Task, FinishedTaskReleasesItsArgumentsWhenDestroyed) {
  ASSERT_EQ(counted::live, 0);
  EXPECT_EQ(sync_wait(takes_counted(counted{}, std::make_unique<counted>())), 1);
  EXPECT_EQ(counted::live, 0);
}

task<int> leaf(int i) { co_return i; }

TEST(Task, MillionSynchronousAwaitsDoNotOverflowTheStack) {
  constexpr int n = 1'000'000;
  auto chain = []() -> task<long long> {
    long long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await leaf(i);
    co_return sum;
  };
  EXPECT_EQ(sync_wait(chain()), static_cast<long long>(n) * (n - 1) / 2);
}

TEST(Task, MillionSynchronousVoidAwaitsDoNotOverflowTheStack) {
  constexpr int n = 1'000'000;
  auto bump = [](long long& c) -> task<void> {
    ++c;
    co_return;
  };
  long long count = 0;
  auto chain = [&]() -> task<void> {
    for (int i = 0; i < n; ++i) co_await bump(count);
  };
  sync_wait(chain());
  EXPECT_EQ(count, n);
}

task<long long> recurse(int n) {
  if (n == 0) co_return 0;
  co_return n + co_await recurse(n - 1);
}

TEST(Task, DeepRecursionDoesNotOverflowTheStack) {
  // Deep enough to overflow an ASan build's stack if the way in were not bounded (no tail calls
  // there: each await nests a call).
  constexpr int depth = 200'000;
  EXPECT_EQ(sync_wait(recurse(depth)), static_cast<long long>(depth) * (depth + 1) / 2);
}

task<int> recurse_then_throw(int n) {
  if (n == 0) throw custom_error(77);
  co_return co_await recurse_then_throw(n - 1);
}

TEST(Task, ExceptionUnwindsThroughDeepRecursion) {
  try {
    (void)sync_wait(recurse_then_throw(10'000));
    FAIL() << "expected custom_error";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 77);
  }
}

}  // namespace
