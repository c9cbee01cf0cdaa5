// coloop's own metrics, read back from write_prometheus on every flavour: tasks, polls, timers
// (on the manual clock), loop lag, I/O events, a server's connections and the streams' bytes
// over loopback, a runtime's workers, and a thread pool's figures.

#include <gtest/gtest.h>

#include <coloop/core/metrics.hpp>
#include <coloop/executor/thread_pool.hpp>
#include <coloop/net/server.hpp>
#include <coloop/net/streams.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/wait_for.hpp>

#include <chrono>
#include <future>
#include <latch>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>

#include "net/stream_test_support.hpp"
#include "support/flavour.hpp"
#include "support/prometheus_text.hpp"

namespace {

using coloop::task;
using coloop::test::prom_text;
using coloop::test::scrape;
using namespace std::chrono_literals;

task<int> quick(int v) {
  co_await coloop::yield();
  co_return v;
}
task<int> failing() {
  co_await coloop::yield();
  throw std::runtime_error("failed on purpose");
}
task<void> forever() { co_await coloop::sleep_for(1h); }

class loop_metrics : public coloop::test::flavour_test {};

TEST_P(loop_metrics, tasks_spawned_finished_failed_cancelled) {
  run([]() -> task<void> {
    const prom_text a = scrape();
    for (int i = 0; i < 3; ++i) {
      coloop::join_handle<int> h = coloop::spawn(quick(i));
      EXPECT_EQ(co_await h, i);
    }
    coloop::join_handle<int> f = coloop::spawn(failing());
    EXPECT_THROW(co_await f, std::runtime_error);
    coloop::join_handle<void> c = coloop::spawn(forever());
    c.cancel();
    EXPECT_THROW(co_await c, coloop::cancelled_error);
    const prom_text b = scrape();
    auto delta = [&](const char* n) { return b.sum(n) - a.sum(n); };
    EXPECT_EQ(delta("coloop_tasks_spawned_total"), 5);
    EXPECT_EQ(delta("coloop_tasks_finished_total"), 5);
    EXPECT_EQ(delta("coloop_tasks_failed_total"), 1);
    EXPECT_EQ(delta("coloop_tasks_cancelled_total"), 1);
    EXPECT_EQ(delta("coloop_tasks_alive"), 0);
  }());
}

TEST_P(loop_metrics, polls_counted) {
  run([]() -> task<void> {
    const prom_text a = scrape();
    for (int i = 0; i < 20; ++i) co_await coloop::yield();
    co_await coloop::sleep_for(1ms);  // a timer: the driver polls
    const prom_text b = scrape();
    const double polls = b.sum("coloop_loop_polls_total") + b.sum("coloop_worker_polls_total") -
                         a.sum("coloop_loop_polls_total") - a.sum("coloop_worker_polls_total");
    EXPECT_GE(polls, 20);
    // A runtime worker counts its park on its own thread, maybe after the timer resumed us.
    auto parked = [&a] {
      return scrape().sum("coloop_loop_parks_total") > a.sum("coloop_loop_parks_total");
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(parked));
  }());
}

task<void> nap() { co_await coloop::sleep_for(1ms); }

TEST_P(loop_metrics, timers_armed_fired_cancelled_on_the_manual_clock) {
  run([]() -> task<void> {
    const prom_text a = scrape();
    for (int i = 0; i < 3; ++i) co_await coloop::sleep_for(1ms);
    task<void> inner = nap();
    co_await coloop::wait_for(std::move(inner), 1s);  // nap's timer fires, the timeout's goes
    const prom_text b = scrape();
    auto delta = [&](const char* n) { return b.sum(n) - a.sum(n); };
    EXPECT_EQ(delta("coloop_timers_armed_total"), 5);
    EXPECT_EQ(delta("coloop_timers_fired_total"), 4);
    EXPECT_EQ(delta("coloop_timers_cancelled_total"), 1);
    EXPECT_EQ(delta("coloop_timers_pending"), 0);
  }(), {.manual_clock = true});
}

TEST_P(loop_metrics, io_events_server_connections_and_stream_bytes) {
  run([]() -> task<void> {
    const prom_text a = scrape();
    coloop::server srv = co_await coloop::start_server(coloop::test::echo_lines, "127.0.0.1", 0);
    coloop::stream_pair c =
        co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
    c.writer.write("hello\n");
    EXPECT_EQ(co_await c.reader.read_line(), "hello\n");
    const prom_text b = scrape();
    auto delta = [&](const char* n) { return b.sum(n) - a.sum(n); };
    EXPECT_EQ(delta("coloop_server_connections_accepted_total"), 1);
    EXPECT_EQ(delta("coloop_server_connections_active"), 1);
    // Bytes are counted after the syscall: on a runtime the echo may reach us before the
    // server's worker has counted its write, so wait for the count rather than race it.
    auto bytes_counted = [&a] {
      const prom_text now = scrape();
      return now.sum("coloop_stream_read_bytes_total") - a.sum("coloop_stream_read_bytes_total") >=
                 12 &&  // 6 each way
             now.sum("coloop_stream_written_bytes_total") -
                     a.sum("coloop_stream_written_bytes_total") >=
                 12;
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(bytes_counted));
    // A driver counts its events after the poll that dispatched them, which on a runtime may be
    // after we ran: wait for the count too.
    auto events_counted = [&a] {
      return scrape().sum("coloop_loop_io_events_total") > a.sum("coloop_loop_io_events_total");
    };
    EXPECT_TRUE(co_await coloop::test::yield_until(events_counted));
    c.writer.close();
    auto handler_gone = [] { return scrape().sum("coloop_server_connections_active") == 0; };
    EXPECT_TRUE(co_await coloop::test::yield_until(handler_gone));
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST_P(loop_metrics, loop_figures_present_and_consistent) {
  run([](unsigned workers) -> task<void> {
    co_await coloop::yield();
    const prom_text t = scrape();
    const std::string kind = workers > 0 ? "runtime" : "event_loop";
    EXPECT_EQ(t.types.at("coloop_loop_lag_seconds"), "histogram");
    EXPECT_TRUE(t.has("coloop_loop_lag_seconds_bucket"));
    const double busy = t.sum("coloop_loop_busy_ratio", {{"kind", kind}});
    EXPECT_GE(busy, 0.0);
    EXPECT_LE(busy, 1.0);
    EXPECT_GE(t.sum("coloop_loop_uptime_seconds", {{"kind", kind}}), 0.0);
    if (workers > 0) {
      EXPECT_EQ(t.sum("coloop_runtime_workers"), workers);
      EXPECT_TRUE(t.has("coloop_worker_polls_total"));
      EXPECT_GE(t.sum("coloop_worker_polls_total", {{"worker", "0"}}), 0);
      EXPECT_TRUE(t.has("coloop_worker_local_queue_depth"));
      EXPECT_TRUE(t.has("coloop_runtime_inject_queue_depth"));
      EXPECT_GE(t.sum("coloop_runtime_tasks_alive"), 1);  // this one
    }
  }(GetParam().workers));
}
COLOOP_INSTANTIATE_FLAVOURS(loop_metrics);

class loop_lag : public coloop::test::flavour_test {};

// A step that holds the loop: with the manual clock, advancing 1 s inside a task is a step that
// took 1 s; the probe due 100 ms after the loop started then runs 900 ms late.
TEST_P(loop_lag, probe_records_how_late_the_loop_was) {
  run([]() -> task<void> {
    const prom_text a = scrape();
    coloop::event_loop::current()->advance_time(1s);
    for (int i = 0; i < 100; ++i) co_await coloop::yield();  // past a turn: the driver polls
    const prom_text b = scrape();
    auto delta = [&](const char* n, const char* le) {
      return b.sum(n, {{"le", le}}) - a.sum(n, {{"le", le}});
    };
    EXPECT_EQ(delta("coloop_loop_lag_seconds_bucket", "0.5"), 0);
    EXPECT_EQ(delta("coloop_loop_lag_seconds_bucket", "1"), 1);
    EXPECT_EQ(b.sum("coloop_loop_lag_seconds_count") - a.sum("coloop_loop_lag_seconds_count"), 1);
    EXPECT_NEAR(b.sum("coloop_loop_lag_seconds_sum") - a.sum("coloop_loop_lag_seconds_sum"), 0.9,
                1e-9);
  }(), {.manual_clock = true});
}

TEST_P(loop_lag, manual_clock_jumps_are_not_lag) {
  run([]() -> task<void> {
    const prom_text a = scrape();
    co_await coloop::sleep_for(10s);  // idle: the clock jumps
    co_await coloop::yield();
    const prom_text b = scrape();
    EXPECT_EQ(b.sum("coloop_loop_lag_seconds_count"), a.sum("coloop_loop_lag_seconds_count"));
  }(), {.manual_clock = true});
}
COLOOP_INSTANTIATE_LOOP_FLAVOURS(loop_lag);

TEST(pool_metrics, threads_active_queued_rejected_completed_and_queue_wait) {
  coloop::thread_pool pool({.core_threads = 1, .max_threads = 1, .queue_capacity = 1,
                            .name_prefix = "metrics-test"});
  const std::map<std::string, std::string> mine{{"name", "metrics-test"}};
  std::latch started(1);
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  pool.submit([&started, go] {
    started.count_down();
    go.wait();
  });
  started.wait();
  pool.submit([] {});
  EXPECT_THROW(pool.submit([] {}), std::system_error);  // abort policy: the queue holds one
  prom_text t = scrape();
  EXPECT_EQ(t.sum("coloop_pool_threads", mine), 1);
  EXPECT_EQ(t.sum("coloop_pool_active_threads", mine), 1);
  EXPECT_EQ(t.sum("coloop_pool_idle_threads", mine), 0);
  EXPECT_EQ(t.sum("coloop_pool_queued_jobs", mine), 1);
  EXPECT_EQ(t.sum("coloop_pool_rejected_jobs_total", mine), 1);
  EXPECT_EQ(t.sum("coloop_pool_completed_jobs_total", mine), 0);
  release.set_value();
  pool.shutdown();
  t = scrape();
  EXPECT_EQ(t.sum("coloop_pool_completed_jobs_total", mine), 2);
  EXPECT_EQ(t.sum("coloop_pool_active_threads", mine), 0);
  EXPECT_EQ(t.sum("coloop_pool_queue_wait_seconds_count", mine), 2);
  EXPECT_EQ(
      t.sum("coloop_pool_queue_wait_seconds_bucket", {{"name", "metrics-test"}, {"le", "+Inf"}}),
      2);
}

}  // namespace
