// Task dumps: all_tasks() and dump_tasks() show each live spawned task with its id, name, spawn
// site, state and async stack trace (the coroutine chain down to the innermost co_await), on
// every backend's loop and on the runtime.

#include <gtest/gtest.h>

#include <coloop/core/future.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/task_dump.hpp>
#include <coloop/sync/event.hpp>
#include <coloop/sync/mutex.hpp>
#include <coloop/sync/queue.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/capture_log.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::task;
using coloop::task_info;
using coloop::task_state;

class TaskDump : public coloop::test::flavour_test {};
COLOOP_INSTANTIATE_FLAVOURS(TaskDump);

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

const task_info* find_task(const std::vector<task_info>& tasks, std::uint64_t id) {
  for (const task_info& t : tasks) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

/// The id of the task named `name`, or 0.
std::uint64_t id_named(const std::vector<task_info>& tasks, std::string_view name) {
  for (const task_info& t : tasks) {
    if (t.name == name) return t.id;
  }
  return 0;
}

unsigned inner_wait_line = 0;
task<void> inner_wait(coloop::event& ev) {
  inner_wait_line = __LINE__ + 1;
  co_await ev.wait();
}

unsigned outer_line = 0;
task<int> outer(coloop::event& ev) {
  outer_line = __LINE__ + 1;
  co_await inner_wait(ev);
  co_return 7;
}

/// Yields until the task named `name` is suspended; false after the 10 s bound.
task<bool> until_suspended(std::string name) {
  auto suspended = [&name] {
    for (const task_info& t : coloop::all_tasks()) {
      if (t.name == name) return t.state == task_state::suspended;
    }
    return false;
  };
  co_return co_await coloop::test::yield_until(suspended);
}

TEST_P(TaskDump, all_tasks_shows_name_spawn_site_state_and_the_async_stack) {
  run([]() -> task<void> {
    coloop::event ev;
    const unsigned spawn_line = __LINE__ + 1;
    coloop::join_handle<int> h = coloop::spawn(outer(ev), {.name = "sleeper"});
    EXPECT_TRUE(co_await until_suspended("sleeper"));

    const std::vector<task_info> tasks = coloop::all_tasks();
    const task_info* t = find_task(tasks, id_named(tasks, "sleeper"));
    EXPECT_NE(t, nullptr);
    if (t != nullptr) {
      EXPECT_NE(t->id, 0u);
      EXPECT_TRUE(contains(t->spawned_at.file, "task_dump_test.cpp"));
      EXPECT_EQ(t->spawned_at.line, spawn_line);
      // g++ spells the spawning lambda "...<lambda()>", clang "operator()".
      EXPECT_TRUE(contains(t->spawned_at.function, "lambda") ||
                  contains(t->spawned_at.function, "operator()"))
          << t->spawned_at.function;
      EXPECT_EQ(t->state, task_state::suspended);
      EXPECT_TRUE(contains(t->waiting_on, "wait_list")) << t->waiting_on;
      EXPECT_EQ(t->stack.size(), 2u);
      if (t->stack.size() == 2) {
        EXPECT_TRUE(contains(t->stack[0].function, "outer"));
        EXPECT_EQ(t->stack[0].line, outer_line);
        EXPECT_TRUE(contains(t->stack[1].function, "inner_wait"));
        EXPECT_EQ(t->stack[1].line, inner_wait_line);
        EXPECT_TRUE(contains(t->stack[1].file, "task_dump_test.cpp"));
      }
    }
    // The asking task is itself a live task, running.
    bool one_running = false;
    for (const task_info& other : tasks) one_running |= other.state == task_state::running;
    EXPECT_TRUE(one_running);

    ev.set();
    EXPECT_EQ(co_await h, 7);
    EXPECT_EQ(find_task(coloop::all_tasks(), t != nullptr ? t->id : 0), nullptr);
  }());
}

TEST_P(TaskDump, dump_tasks_prints_each_task_with_its_stack_innermost_first) {
  run([]() -> task<void> {
    coloop::event ev;
    coloop::join_handle<int> h = coloop::spawn(outer(ev), {.name = "printed"});
    EXPECT_TRUE(co_await until_suspended("printed"));
    std::ostringstream out;
    coloop::dump_tasks(out);
    const std::string text = out.str();
    const std::size_t head = text.find("\"printed\": suspended on ");
    EXPECT_NE(head, std::string::npos) << text;
    const std::size_t inner = text.find("inner_wait", head);
    const std::size_t outer_at = text.find("outer", inner);
    EXPECT_NE(inner, std::string::npos) << text;
    EXPECT_NE(outer_at, std::string::npos) << text;
    EXPECT_TRUE(contains(text, "spawned at ")) << text;
    EXPECT_TRUE(contains(text, "task_dump_test.cpp:" + std::to_string(inner_wait_line))) << text;
    ev.set();
    co_await h;
  }());
}

task<void> wait_forever(coloop::event& ev) { co_await ev.wait(); }

TEST_P(TaskDump, set_name_renames_a_live_task) {
  run([]() -> task<void> {
    coloop::event ev;
    coloop::join_handle<void> h = coloop::spawn(wait_forever(ev));
    const std::uint64_t id = [&] {
      std::uint64_t found = 0;
      for (const task_info& t : coloop::all_tasks()) {
        if (t.name.empty() && t.state != task_state::running) found = t.id;
      }
      return found;
    }();
    EXPECT_NE(id, 0u);
    h.set_name("renamed");
    const task_info* t = nullptr;
    const std::vector<task_info> tasks = coloop::all_tasks();
    t = find_task(tasks, id);
    EXPECT_NE(t, nullptr);
    if (t != nullptr) {
      EXPECT_EQ(t->name, "renamed");
    }
    ev.set();
    co_await h;
  }());
}

TEST_P(TaskDump, a_task_not_started_yet_has_no_stack) {
  if (GetParam().workers != 0) GTEST_SKIP() << "another worker may start it at once";
  run([]() -> task<void> {
    coloop::event ev;
    coloop::join_handle<void> h = coloop::spawn(wait_forever(ev), {.name = "fresh"});
    const std::vector<task_info> tasks = coloop::all_tasks();
    const task_info* t = find_task(tasks, id_named(tasks, "fresh"));
    EXPECT_NE(t, nullptr);
    if (t != nullptr) {
      EXPECT_EQ(t->state, task_state::not_started);
      EXPECT_TRUE(t->stack.empty());
      EXPECT_TRUE(t->waiting_on.empty());
    }
    ev.set();
    co_await h;
  }());
}

// 1,000 tasks waiting on five different things; every one's stack is checked. Each counts
// itself started first, so the test polls the (costly) dump only once they all have.
std::atomic<int> waiters_started{0};
task<void> on_event(coloop::event& ev) {
  ++waiters_started;
  co_await ev.wait();
}
task<void> on_queue(coloop::queue<int>& q) {
  ++waiters_started;
  (void)co_await q.get();
}
task<void> on_mutex(coloop::mutex& m) {
  ++waiters_started;
  auto g = co_await m.lock();
}
task<void> on_sleep() {
  ++waiters_started;
  co_await coloop::sleep_for(std::chrono::hours(1));
}
task<void> on_join(coloop::event& ev) {
  ++waiters_started;
  coloop::join_handle<void> child = coloop::spawn(wait_forever(ev));  // unnamed: not counted
  co_await child;
}

TEST_P(TaskDump, thousand_tasks_waiting_on_different_things_each_show_their_stack) {
  run([]() -> task<void> {
    constexpr int n = 1000;
    waiters_started = 0;
    coloop::event ev;
    coloop::queue<int> q;
    coloop::mutex m;
    auto held = co_await m.lock();
    std::vector<coloop::join_handle<void>> handles;
    handles.reserve(n);
    const char* const kinds[] = {"on_event", "on_queue", "on_mutex", "on_sleep", "on_join"};
    for (int i = 0; i < n; ++i) {
      const std::string name = std::string(kinds[i % 5]) + " " + std::to_string(i);
      switch (i % 5) {
        case 0: handles.push_back(coloop::spawn(on_event(ev), {.name = name})); break;
        case 1: handles.push_back(coloop::spawn(on_queue(q), {.name = name})); break;
        case 2: handles.push_back(coloop::spawn(on_mutex(m), {.name = name})); break;
        case 3: handles.push_back(coloop::spawn(on_sleep(), {.name = name})); break;
        default: handles.push_back(coloop::spawn(on_join(ev), {.name = name})); break;
      }
    }
    auto all_started = [] { return waiters_started.load() == n; };
    EXPECT_TRUE(co_await coloop::test::yield_until(all_started));
    std::vector<task_info> tasks;
    auto all_suspended = [&tasks] {
      tasks = coloop::all_tasks();
      int suspended = 0;
      for (const task_info& t : tasks) {
        suspended += !t.name.empty() && t.state == task_state::suspended;
      }
      return suspended == n;
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(all_suspended));
    if (::testing::Test::HasFailure()) coloop::write_tasks(std::cerr, tasks);
    int checked = 0;
    for (const task_info& t : tasks) {
      if (t.name.empty()) continue;  // the test's own task, on_join's children
      const std::string kind = t.name.substr(0, t.name.find(' '));
      EXPECT_EQ(t.stack.size(), 1u) << t.name;
      if (t.stack.size() != 1) continue;
      EXPECT_TRUE(contains(t.stack[0].function, kind)) << t.name << ": " << t.stack[0].function;
      EXPECT_TRUE(contains(t.stack[0].file, "task_dump_test.cpp")) << t.name;
      ++checked;
    }
    EXPECT_EQ(checked, n);
    for (auto& h : handles) h.cancel();
    held.unlock();
    for (auto& h : handles) {
      try {
        co_await h;
      } catch (const coloop::cancelled_error&) {
      }
    }
  }());
}

/// Whether COLOOP_SCHEDULE_SEED randomizes where the runtime queues a wake (any worker may run it).
bool randomized_schedule() {
  const char* seed = std::getenv("COLOOP_SCHEDULE_SEED");
  return seed != nullptr && *seed != '\0';
}

// A woken task waits for its turn: the waker dumps before yielding, so the woken one is queued
// (on the runtime, in the dumping worker's own LIFO slot: no other worker can take it).
TEST_P(TaskDump, a_woken_task_that_has_not_run_yet_is_ready_and_keeps_its_stack) {
  if (GetParam().workers > 1 && randomized_schedule()) {
    GTEST_SKIP() << "a randomized wake may go where another worker runs it before the dump";
  }
  run([]() -> task<void> {
    coloop::event wake;
    coloop::event other;
    coloop::join_handle<int> woken = coloop::spawn(outer(wake), {.name = "woken"});
    coloop::join_handle<void> waiting = coloop::spawn(wait_forever(other), {.name = "waiting"});
    EXPECT_TRUE(co_await until_suspended("woken"));
    EXPECT_TRUE(co_await until_suspended("waiting"));
    wake.set();  // queues "woken"; it runs once this task yields
    const std::vector<task_info> tasks = coloop::all_tasks();
    const task_info* w = find_task(tasks, id_named(tasks, "woken"));
    const task_info* s = find_task(tasks, id_named(tasks, "waiting"));
    EXPECT_NE(w, nullptr);
    EXPECT_NE(s, nullptr);
    if (w != nullptr) {
      EXPECT_EQ(w->state, task_state::ready);
      EXPECT_TRUE(contains(w->waiting_on, "wait_list")) << w->waiting_on;  // what it waited on
      EXPECT_EQ(w->stack.size(), 2u);
      if (w->stack.size() == 2) {
        EXPECT_EQ(w->stack[0].line, outer_line);
        EXPECT_EQ(w->stack[1].line, inner_wait_line);
      }
    }
    if (s != nullptr) {
      EXPECT_EQ(s->state, task_state::suspended);
    }
    std::ostringstream out;
    coloop::write_tasks(out, tasks);
    EXPECT_TRUE(contains(out.str(), "\"woken\": ready on ")) << out.str();
    EXPECT_TRUE(contains(out.str(), "\"waiting\": suspended on ")) << out.str();
    EXPECT_EQ(co_await woken, 7);
    other.set();
    co_await waiting;
  }());
}

task<int> await_future(coloop::future<int>& f) { co_return co_await f; }

// Woken from another thread: the wake waits in the event loop's call_soon_threadsafe queue, or
// the runtime's inject queue, until a scheduler thread takes it.
TEST_P(TaskDump, a_task_woken_from_another_thread_is_ready_until_it_runs) {
  if (GetParam().workers > 1) GTEST_SKIP() << "an idle worker may take the wake at once";
  run([]() -> task<void> {
    coloop::promise<int> p;
    coloop::future<int> f = p.get_future();
    coloop::join_handle<int> h = coloop::spawn(await_future(f), {.name = "far"});
    EXPECT_TRUE(co_await until_suspended("far"));
    std::thread([&p] { p.set_value(5); }).join();  // this task keeps the only thread meanwhile
    const std::vector<task_info> tasks = coloop::all_tasks();
    const task_info* t = find_task(tasks, id_named(tasks, "far"));
    EXPECT_NE(t, nullptr);
    if (t != nullptr) {
      EXPECT_EQ(t->state, task_state::ready);
      EXPECT_FALSE(t->waiting_on.empty());
      EXPECT_EQ(t->stack.size(), 1u);
    }
    EXPECT_EQ(co_await h, 5);
  }());
}

// The first step of a spawned task is queued too, but the task has not started: not `ready`.
TEST_P(TaskDump, a_queued_first_step_stays_not_started) {
  if (GetParam().workers != 0) GTEST_SKIP() << "another worker may start it at once";
  run([]() -> task<void> {
    coloop::event ev;
    coloop::join_handle<void> first = coloop::spawn(wait_forever(ev), {.name = "first"});
    coloop::join_handle<void> second = coloop::spawn(wait_forever(ev), {.name = "second"});
    const std::vector<task_info> tasks = coloop::all_tasks();
    for (std::string_view name : {"first", "second"}) {
      const task_info* t = find_task(tasks, id_named(tasks, name));
      EXPECT_NE(t, nullptr) << name;
      if (t != nullptr) {
        EXPECT_EQ(t->state, task_state::not_started) << name;
      }
    }
    ev.set();
    co_await first;
    co_await second;
  }());
}

TEST(TaskDumpRuntime, all_tasks_from_outside_the_runtime_pauses_and_reads_its_workers) {
  coloop::runtime rt({.workers = 2});
  coloop::event ev;
  coloop::join_handle<int> h = rt.spawn(outer(ev), {.name = "outside"});
  std::vector<task_info> tasks;
  // The test thread is no worker: it polls until the task has suspended (bounded).
  for (int i = 0; i < 100000; ++i) {
    tasks = rt.all_tasks();
    const task_info* t = find_task(tasks, id_named(tasks, "outside"));
    if (t != nullptr && t->state == task_state::suspended) break;
    std::this_thread::yield();
  }
  const task_info* t = find_task(tasks, id_named(tasks, "outside"));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state, task_state::suspended);
  EXPECT_EQ(t->stack.size(), 2u);
  ev.set();
  EXPECT_EQ(
      rt.block_on([](coloop::join_handle<int>& jh) -> task<int> { co_return co_await jh; }(h)), 7);
}

TEST(TaskDumpLoop, event_loop_all_tasks_lists_the_loops_tasks) {
  coloop::event_loop loop;
  coloop::event ev;
  coloop::join_handle<void> h = loop.create_task(wait_forever(ev), {.name = "looped"});
  const std::vector<task_info> tasks = loop.all_tasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].name, "looped");
  EXPECT_EQ(tasks[0].state, task_state::not_started);
  ev.set();
  loop.run_until_complete([](coloop::join_handle<void>& jh) -> task<void> { co_await jh; }(h));
  EXPECT_TRUE(loop.all_tasks().empty());
}

// COLOOP_DUMP_ON: the signal logs a dump of every loop and runtime.
struct dump_on_usr1 {
  dump_on_usr1() { ::setenv("COLOOP_DUMP_ON", "SIGUSR1", 1); }
  ~dump_on_usr1() { ::unsetenv("COLOOP_DUMP_ON"); }
};

TEST(TaskDumpSignal, the_signal_logs_a_dump_of_the_event_loop) {
  dump_on_usr1 env;
  coloop::test::capture_sink log;
  coloop::event_loop loop;  // registered for the signal: the environment names one
  coloop::event ev;
  coloop::join_handle<void> h = loop.create_task(wait_forever(ev), {.name = "signalled"});
  loop.run_until_complete([](coloop::test::capture_sink& sink) -> task<void> {
    std::raise(SIGUSR1);  // a watcher thread hands the dump to this loop
    auto dumped = [&sink] { return !sink.containing("task dump of an event loop").empty(); };
    EXPECT_TRUE(co_await coloop::test::yield_until(dumped));
  }(log));
  const auto dumps = log.containing("task dump of an event loop");
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_TRUE(contains(dumps[0], "\"signalled\": suspended")) << dumps[0];
  EXPECT_TRUE(contains(dumps[0], "wait_forever")) << dumps[0];
  ev.set();
  loop.run_until_complete([](coloop::join_handle<void>& jh) -> task<void> { co_await jh; }(h));
}

TEST(TaskDumpSignal, the_signal_logs_a_dump_of_the_runtime) {
  dump_on_usr1 env;
  coloop::test::capture_sink log;
  coloop::runtime rt({.workers = 2});
  coloop::event ev;
  coloop::join_handle<int> h = rt.spawn(outer(ev), {.name = "signalled"});
  rt.block_on([]() -> task<void> {  // "signalled" has suspended once this returns
    auto suspended = [] {
      for (const task_info& t : coloop::all_tasks()) {
        if (t.name == "signalled") return t.state == task_state::suspended;
      }
      return false;
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(suspended));
  }());
  std::raise(SIGUSR1);
  // The watcher thread dumps the runtime itself; the test thread waits for it (bounded).
  for (int i = 0; i < 1000000 && log.containing("task dump of a runtime").empty(); ++i) {
    std::this_thread::yield();
  }
  const auto dumps = log.containing("task dump of a runtime");
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_TRUE(contains(dumps[0], "\"signalled\": suspended")) << dumps[0];
  EXPECT_TRUE(contains(dumps[0], "inner_wait")) << dumps[0];
  ev.set();
  EXPECT_EQ(
      rt.block_on([](coloop::join_handle<int>& jh) -> task<int> { co_return co_await jh; }(h)), 7);
}

TEST(TaskDumpApi, all_tasks_outside_a_loop_throws_naming_the_call) {
  try {
    (void)coloop::all_tasks();
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_TRUE(contains(e.what(), "coloop::all_tasks")) << e.what();
  }
}

TEST(TaskDumpApi, to_string_names_each_state) {
  EXPECT_EQ(coloop::to_string(task_state::not_started), "not started");
  EXPECT_EQ(coloop::to_string(task_state::running), "running");
  EXPECT_EQ(coloop::to_string(task_state::suspended), "suspended");
  EXPECT_EQ(coloop::to_string(task_state::ready), "ready");
  EXPECT_EQ(coloop::to_string(task_state::unknown), "unknown");
}

}  // namespace
