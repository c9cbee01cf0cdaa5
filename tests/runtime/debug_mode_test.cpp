// Debug mode: each report triggered for real (a task that blocks its thread, a failed task
// nobody joins, a task never awaited, a loop closed with a pending task, with a socket or a
// call_later left open, a call from the wrong thread), checked for the task's name and
// file:line or the fd numbers; and the per-task profile.

#include <gtest/gtest.h>
#include <unistd.h>

#include <coloop/core/future.hpp>
#include <coloop/net/streams.hpp>
#include <coloop/net/unix_socket.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/task_dump.hpp>
#include <coloop/sync/event.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "support/capture_log.hpp"
#include "support/fd_audit.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::task;
using namespace std::chrono_literals;

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}
std::string at_line(unsigned line) { return "debug_mode_test.cpp:" + std::to_string(line); }

task<int> never_run() { co_return 1; }

class DebugMode : public coloop::test::flavour_test {
 protected:
  static coloop::loop_options debug_options() {
    return {.debug = true, .slow_callback_duration = 20ms};
  }
};
COLOOP_INSTANTIATE_FLAVOURS(DebugMode);

unsigned hog_await_line = 0;
task<void> hog() {
  std::this_thread::sleep_for(60ms);  // what the report is about: CPU-bound work on the loop
  hog_await_line = __LINE__ + 1;
  co_await coloop::yield();
}

TEST_P(DebugMode, a_step_longer_than_slow_callback_duration_is_reported_naming_the_task) {
  coloop::test::capture_sink log;
  static unsigned spawn_line = 0;
  run([]() -> task<void> {
    spawn_line = __LINE__ + 1;
    coloop::join_handle<void> h = coloop::spawn(hog(), {.name = "hog"});
    co_await h;
  }(), debug_options());
  const auto reports = log.containing("without yielding the loop");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(contains(reports[0], "\"hog\"")) << reports[0];
  EXPECT_TRUE(contains(reports[0], at_line(spawn_line))) << reports[0];
  EXPECT_TRUE(contains(reports[0], at_line(hog_await_line))) << reports[0];
  EXPECT_TRUE(contains(reports[0], "hog")) << reports[0];
}

TEST_P(DebugMode, steps_within_the_limit_are_not_reported) {
  coloop::test::capture_sink log;
  run([]() -> task<void> {
    for (int i = 0; i < 100; ++i) co_await coloop::yield();
  }(), {.debug = true, .slow_callback_duration = 10s});
  EXPECT_TRUE(log.containing("without yielding").empty());
}

task<void> fails() {
  co_await coloop::yield();
  throw std::runtime_error("boom");
}

TEST_P(DebugMode, a_failed_task_nobody_joined_is_reported_with_its_exception) {
  coloop::test::capture_sink log;
  static unsigned spawn_line = 0;
  run([]() -> task<void> {
    coloop::test::set_exception_handler([](std::exception_ptr) {});  // the report is the test
    spawn_line = __LINE__ + 1;
    coloop::spawn(fails(), {.name = "failer"}).detach();
    auto ended = [] { return coloop::test::live_tasks() == 1; };  // only this one left
    EXPECT_TRUE(co_await coloop::test::yield_until(ended));
  }(), debug_options());
  const auto reports = log.containing("nobody retrieved its exception");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(contains(reports[0], "\"failer\"")) << reports[0];
  EXPECT_TRUE(contains(reports[0], at_line(spawn_line))) << reports[0];
  EXPECT_TRUE(contains(reports[0], "boom")) << reports[0];
}

TEST_P(DebugMode, a_task_created_and_never_awaited_is_reported) {
  coloop::test::capture_sink log;
  run([]() -> task<void> {
    { task<int> dropped = never_run(); }
    co_return;
  }(), debug_options());
  const auto reports = log.containing("without ever being awaited or spawned");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(contains(reports[0], "never_run")) << reports[0];
  EXPECT_TRUE(contains(reports[0], "debug_mode_test.cpp:")) << reports[0];
}

TEST_P(DebugMode, a_future_dropped_with_an_exception_nobody_awaited_is_reported) {
  coloop::test::capture_sink log;
  run([]() -> task<void> {
    {
      coloop::promise<int> p;
      coloop::future<int> f = p.get_future();
      p.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    }
    {  // awaited: retrieved, not reported
      coloop::promise<int> p;
      coloop::future<int> f = p.get_future();
      p.set_exception(std::make_exception_ptr(std::runtime_error("seen")));
      try {
        (void)co_await f;
      } catch (const std::runtime_error&) {
      }
    }
  }(), debug_options());
  const auto reports = log.containing("a future was destroyed with an exception nobody retrieved");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(contains(reports[0], "lost")) << reports[0];
}

TEST_P(DebugMode, without_debug_mode_nothing_is_reported) {
  coloop::test::capture_sink log;
  run([]() -> task<void> {
    { task<int> dropped = never_run(); }
    co_return;
  }());
  EXPECT_TRUE(log.containing("coloop debug").empty());
}

/// A socket pair leaked past its loop: never destroyed, since closing it once the loop is gone
/// would reach the freed reactor. The test closes the fds itself, by number.
union leaked_pair {
  leaked_pair() {}
  ~leaked_pair() {}
  std::pair<coloop::unix_stream, coloop::unix_stream> streams;
};

/// Opens a pair in `leak` and writes down its fds, sorted (the order of the report).
task<void> leak_a_pair(leaked_pair& leak, int& low, int& high) {
  std::construct_at(&leak.streams, coloop::unix_stream::pair());
  low = std::min(leak.streams.first.native_handle(), leak.streams.second.native_handle());
  high = std::max(leak.streams.first.native_handle(), leak.streams.second.native_handle());
  co_return;
}

TEST_P(DebugMode, a_socket_left_open_at_close_is_reported_with_its_fd_numbers) {
  coloop::test::fd_audit audit;
  coloop::test::capture_sink log;
  leaked_pair leak;
  int low = -1;
  int high = -1;
  run(leak_a_pair(leak, low, high), debug_options());
  ASSERT_GE(low, 0);
  const auto reports = log.containing("file descriptor(s) still open");
  ::close(low);
  ::close(high);
  ASSERT_EQ(reports.size(), 1u);
  const std::string fds = "2 file descriptor(s) still open: fd " + std::to_string(low) +
                          ", fd " + std::to_string(high);
  EXPECT_TRUE(reports[0].ends_with(fds)) << reports[0];
  EXPECT_TRUE(contains(reports[0], GetParam().workers == 0 ? "the event loop closed"
                                                            : "the runtime shut down"))
      << reports[0];
}

task<void> open_and_close_a_pair() {
  auto [a, b] = coloop::unix_stream::pair();
  a.close();
  co_return;  // b closes with the frame, before the loop does
}

TEST_P(DebugMode, a_scheduler_closed_with_nothing_left_open_reports_nothing) {
  coloop::test::capture_sink log;
  run(open_and_close_a_pair(), debug_options());
  EXPECT_TRUE(log.containing("still open").empty());
  EXPECT_TRUE(log.containing("still pending").empty());
}

TEST_P(DebugMode, without_debug_mode_a_socket_left_open_is_not_reported) {
  coloop::test::fd_audit audit;
  coloop::test::capture_sink log;
  leaked_pair leak;
  int low = -1;
  int high = -1;
  run(leak_a_pair(leak, low, high));
  ASSERT_GE(low, 0);
  ::close(low);
  ::close(high);
  EXPECT_TRUE(log.containing("coloop debug").empty());
}

unsigned inner_line = 0;
task<void> inner(coloop::event& ev) {
  inner_line = __LINE__ + 1;
  co_await ev.wait();
}
task<void> outer(coloop::event& ev) { co_await inner(ev); }

TEST(DebugModeLoop, closing_with_a_pending_task_reports_it_and_the_task_it_awaits) {
  coloop::test::capture_sink log;
  coloop::event ev;
  unsigned spawn_line = 0;
  {
    coloop::event_loop loop({.debug = true});
    spawn_line = __LINE__ + 1;
    coloop::join_handle<void> h = loop.create_task(outer(ev), {.name = "left"});
    loop.run_until_complete([]() -> task<void> {
      for (int i = 0; i < 3; ++i) co_await coloop::yield();  // "left" suspends in its first step
    }());
    loop.close();
  }
  const auto closed = log.containing("closed with 1 task(s) still pending");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_TRUE(contains(closed[0], "\"left\"")) << closed[0];
  EXPECT_TRUE(contains(closed[0], at_line(spawn_line))) << closed[0];
  const auto pending = log.containing("destroyed while still pending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(contains(pending[0], "inner")) << pending[0];
  EXPECT_TRUE(contains(pending[0], at_line(inner_line))) << pending[0];
}

task<void> yield_until_set(const bool& flag) {
  while (!flag) co_await coloop::yield();
}

TEST(DebugModeLoop, closing_with_a_call_later_still_armed_reports_it) {
  coloop::test::capture_sink log;
  {
    coloop::event_loop loop({.debug = true});
    (void)loop.call_later(1h, [] {});
    (void)loop.call_at(loop.time() + 1h, [] {});
    loop.call_later(1h, [] {}).cancel();  // cancelled: not pending
    bool ran = false;
    (void)loop.call_later(0s, [&ran] { ran = true; });  // fired: not pending
    loop.run_until_complete(yield_until_set(ran));
    loop.close();
  }
  const auto reports = log.containing("call_later/call_at handle(s) still pending");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(contains(reports[0], "the event loop closed with 2 call_later")) << reports[0];
}

TEST(DebugModeLoop, closing_with_no_timer_left_reports_none) {
  coloop::test::capture_sink log;
  {
    coloop::event_loop loop({.debug = true});
    coloop::timer_handle h = loop.call_later(1h, [] {});
    loop.run_until_complete([]() -> task<void> { co_await coloop::yield(); }());
    h.cancel();
  }
  EXPECT_TRUE(log.containing("still pending").empty());
}

TEST(DebugModeLoop, a_plain_callback_that_blocks_is_reported) {
  coloop::test::capture_sink log;
  coloop::event_loop loop({.debug = true, .slow_callback_duration = 20ms});
  loop.call_soon([] { std::this_thread::sleep_for(60ms); });
  loop.run_until_complete([]() -> task<void> { co_await coloop::yield(); }());
  EXPECT_EQ(log.containing("a callback ran").size(), 1u);
}

task<void> idle_task() { co_return; }

TEST(DebugModeLoop, calls_from_a_thread_not_running_the_loop_throw) {
  coloop::event_loop loop({.debug = true});
  std::promise<void> running;
  std::thread runner([&] { loop.run_forever(); });
  loop.call_soon_threadsafe([&] { running.set_value(); });
  running.get_future().wait();
  const auto expect_wrong_thread = [](auto call, std::string_view api) {
    try {
      call();
      ADD_FAILURE() << api << ": no exception";
    } catch (const std::logic_error& e) {
      EXPECT_TRUE(contains(e.what(), api)) << e.what();
      EXPECT_TRUE(contains(e.what(), "not running the loop")) << e.what();
    }
  };
  expect_wrong_thread([&] { loop.call_soon([] {}); }, "coloop::event_loop::call_soon");
  expect_wrong_thread([&] { (void)loop.call_later(1s, [] {}); },
                      "coloop::event_loop::call_later");
  expect_wrong_thread([&] { (void)loop.call_at(loop.time(), [] {}); },
                      "coloop::event_loop::call_at");
  expect_wrong_thread([&] { (void)loop.create_task(idle_task()); },
                      "coloop::event_loop::create_task");
  loop.call_soon_threadsafe([&] { loop.stop(); });
  runner.join();
}

TEST(DebugModeLoop, coloop_debug_in_the_environment_turns_it_on) {
  ASSERT_EQ(::setenv("COLOOP_DEBUG", "1", 1), 0);
  EXPECT_TRUE(coloop::debug_mode_requested({}));
  ASSERT_EQ(::setenv("COLOOP_DEBUG", "0", 1), 0);
  EXPECT_FALSE(coloop::debug_mode_requested({}));
  ASSERT_EQ(::unsetenv("COLOOP_DEBUG"), 0);
  EXPECT_FALSE(coloop::debug_mode_requested({}));
  EXPECT_TRUE(coloop::debug_mode_requested({.debug = true}));

  ASSERT_EQ(::setenv("COLOOP_DEBUG", "1", 1), 0);
  coloop::test::capture_sink log;
  {
    coloop::event_loop loop;  // no option: the environment asks for debug mode
    { task<int> dropped = never_run(); }  // off any loop: not reported
    loop.run_until_complete([]() -> task<void> {
      { task<int> dropped = never_run(); }
      co_return;
    }());
  }
  ASSERT_EQ(::unsetenv("COLOOP_DEBUG"), 0);
  EXPECT_EQ(log.containing("without ever being awaited").size(), 1u);
}

task<void> busy_then_wait(coloop::event& ev) {
  for (int i = 0; i < 3; ++i) co_await coloop::yield();
  co_await ev.wait();
}

TEST_P(DebugMode, the_per_task_profile_counts_polls_busy_time_and_waiting_time) {
  run([]() -> task<void> {
    coloop::event ev;
    coloop::join_handle<void> h = coloop::spawn(busy_then_wait(ev), {.name = "profiled"});
    std::vector<coloop::task_info> tasks;
    auto waiting = [&tasks] {
      tasks = coloop::all_tasks();
      for (const coloop::task_info& t : tasks) {
        if (t.name == "profiled") return t.state == coloop::task_state::suspended && t.polls >= 4;
      }
      return false;
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(waiting));
    for (const coloop::task_info& t : tasks) {
      if (t.name != "profiled") continue;
      EXPECT_GE(t.polls, 4u);  // the first step and one per yield
      EXPECT_GT(t.busy.count(), 0);
      EXPECT_GT(t.waiting_for.count(), 0);
    }
    std::ostringstream out;
    coloop::dump_tasks(out);
    EXPECT_TRUE(contains(out.str(), "busiest by name (debug mode):")) << out.str();
    EXPECT_TRUE(contains(out.str(), "profiled")) << out.str();
    ev.set();
    co_await h;
  }(), debug_options());
}

task<void> wait_twice(coloop::event& first, coloop::event& second) {
  co_await first.wait();
  co_await second.wait();
}

/// Keeps the thread for `d` of real time, as CPU-bound work on the loop would.
void busy_for(std::chrono::nanoseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

/// The live task named `name` in `tasks`, or nullptr.
const coloop::task_info* named(const std::vector<coloop::task_info>& tasks, std::string_view name) {
  for (const coloop::task_info& t : tasks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool randomized_schedule() {
  const char* seed = std::getenv("COLOOP_SCHEDULE_SEED");
  return seed != nullptr && *seed != '\0';
}

// "late" is woken, then the waker keeps the thread for `hold` before yielding: late's scheduling
// delay covers that wait; "prompt" never waited behind a long step.
TEST_P(DebugMode, the_scheduling_delay_counts_the_time_a_woken_task_waits_for_its_turn) {
  // On the runtime the wake goes to the waker's LIFO slot, which its worker runs next; a
  // randomized schedule may send it to a queue another worker takes it from (counted as 0).
  const bool exact = GetParam().workers == 0 || !randomized_schedule();
  coloop::test::capture_sink log;  // the held step is reported as slow: not the point here
  run([exact]() -> task<void> {
    constexpr auto hold = 60ms;
    coloop::event first;
    coloop::event second;
    coloop::event never;
    coloop::join_handle<void> late = coloop::spawn(wait_twice(first, second), {.name = "late"});
    coloop::join_handle<void> prompt = coloop::spawn(wait_twice(never, never), {.name = "prompt"});
    std::vector<coloop::task_info> tasks;
    auto state_of = [&tasks](std::string_view name, std::uint64_t polls) {
      tasks = coloop::all_tasks();
      const coloop::task_info* t = named(tasks, name);
      return t != nullptr && t->state == coloop::task_state::suspended && t->polls >= polls;
    };
    EXPECT_TRUE(co_await coloop::test::yield_until([&] { return state_of("late", 1); }));
    EXPECT_TRUE(co_await coloop::test::yield_until([&] { return state_of("prompt", 1); }));
    first.set();     // "late" is ready from here on ...
    busy_for(hold);  // ... but this task keeps the thread
    EXPECT_TRUE(co_await coloop::test::yield_until([&] { return state_of("late", 2); }));
    const coloop::task_info* l = named(tasks, "late");
    const coloop::task_info* p = named(tasks, "prompt");
    EXPECT_NE(l, nullptr);
    EXPECT_NE(p, nullptr);
    if (l != nullptr && p != nullptr) {
      if (exact) {
        EXPECT_GE(l->scheduling_delay, hold);
      } else {
        EXPECT_GE(l->scheduling_delay.count(), 0);
      }
      EXPECT_LT(p->scheduling_delay, hold);  // its one step came right after its spawner's
    }
    std::ostringstream out;
    coloop::write_tasks(out, tasks);
    EXPECT_TRUE(contains(out.str(), "scheduling delay ")) << out.str();
    second.set();
    never.set();
    co_await late;
    co_await prompt;
  }(), debug_options());
}

task<std::string> read_one_line(coloop::stream_reader& r) { co_return co_await r.read_line(); }

TEST_P(DebugMode, a_stream_reader_read_by_two_tasks_at_once_throws_for_the_second) {
  run([]() -> task<void> {
    auto [a, b] = coloop::unix_stream::pair();
    coloop::stream_pair ours = coloop::make_streams(std::move(a));
    coloop::stream_pair theirs = coloop::make_streams(std::move(b));
    coloop::join_handle<std::string> first = coloop::spawn(read_one_line(ours.reader));
    auto suspended = [] {
      for (const coloop::task_info& t : coloop::all_tasks()) {
        if (t.state == coloop::task_state::suspended) return true;
      }
      return false;
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(suspended));  // the first read waits
    try {
      (void)co_await read_one_line(ours.reader);
      ADD_FAILURE() << "no exception";
    } catch (const std::logic_error& e) {
      EXPECT_TRUE(contains(e.what(), "read by two tasks at once")) << e.what();
    }
    theirs.writer.write("line\n");
    co_await theirs.writer.drain();
    EXPECT_EQ(co_await first, "line\n");
    // One read after the other is fine.
    theirs.writer.write("next\n");
    co_await theirs.writer.drain();
    EXPECT_EQ(co_await read_one_line(ours.reader), "next\n");
  }(), debug_options());
}

}  // namespace
