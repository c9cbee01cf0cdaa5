// The libuv backend on its own: every libuv handle is closed when the loop closes
// (uv_loop_close succeeds), registration maps to uv_poll_t handles, and the level-triggered
// uv_poll_t does not make the loop spin on readiness nobody consumes (see libuv_reactor.cpp).
// The conformance suites run everything else on libuv too (their /libuv instances).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <coloop/coloop.hpp>
#include <cstdint>
#include <coloop/io/async_fd.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "backend/libuv/libuv_reactor.hpp"
#include "runtime/context.hpp"
#include "runtime/io/fd_entry.hpp"
#include "support/fd_pairs.hpp"

namespace {

using coloop::task;
using coloop::test::fd_pair;
using coloop::test::make_socketpair;
using coloop::async_fd;
using namespace std::chrono_literals;

const coloop::loop_options on_libuv{.backend = coloop::backend::libuv};

coloop::detail::reactor& running_reactor() {
  return coloop::detail::current_driver("libuv_backend_test").io();
}

TEST(LibuvBackend, ReactorClosesEveryHandle) {
  const fd_pair a = make_socketpair();
  const fd_pair b = make_socketpair();
  {
    auto r = coloop::detail::make_libuv_reactor();
    EXPECT_STREQ(r->name(), "libuv");
    EXPECT_EQ(coloop::detail::libuv_open_handles(*r), 2u);  // the wake async, the timeout timer
    coloop::detail::fd_entry* ea = r->register_fd(a.first);
    coloop::detail::fd_entry* eb = r->register_fd(b.first);
    EXPECT_EQ(coloop::detail::libuv_open_handles(*r), 4u);
    r->deregister_fd(ea);
    EXPECT_EQ(coloop::detail::libuv_open_handles(*r), 3u);  // closing: freed on the next run
    r->poll(0);
    (void)eb;  // left registered: the destructor must still close it
  }
  EXPECT_EQ(coloop::detail::libuv_last_close_result(), 0);
  for (int fd : {a.first, a.second, b.first, b.second}) ::close(fd);
}

TEST(LibuvBackend, LoopWithSocketsClosesEveryHandle) {
  auto main = []() -> task<std::size_t> {
    auto listener = coloop::tcp_listener::bind(coloop::endpoint::loopback(0));
    auto accepted = coloop::spawn(listener.accept());
    coloop::tcp_stream client = co_await coloop::tcp_stream::connect(listener.local_endpoint());
    coloop::tcp_stream server = co_await std::move(accepted);
    co_await client.write_all("ping", 4);
    char buf[4];
    std::size_t got = 0;
    while (got < 4) got += co_await server.read_some(buf + got, 4 - got);
    EXPECT_EQ(std::string(buf, 4), "ping");
    co_return coloop::detail::libuv_open_handles(running_reactor());
  };
  EXPECT_EQ(coloop::run(main(), on_libuv), 2u + 3u);  // async, timer, listener, two streams
  EXPECT_EQ(coloop::detail::libuv_last_close_result(), 0);
}

TEST(LibuvBackend, LoopClosedWithPendingReadsClosesEveryHandle) {
  const fd_pair p = make_socketpair();
  {
    coloop::event_loop loop(on_libuv);
    auto reader = loop.create_task([](int fd) -> task<void> {
      async_fd r(fd);
      char c;
      co_await r.read_some(&c, 1);  // never completes: the loop closes under it
    }(p.first));
    loop.run_until_complete([]() -> task<void> {
      for (int i = 0; i < 3; ++i) co_await coloop::yield();
    }());
    EXPECT_FALSE(reader.done());
  }
  EXPECT_EQ(coloop::detail::libuv_last_close_result(), 0);
  ::close(p.second);
}

/// Makes `fd` readable (or at end of stream) without anybody reading it, then measures how many
/// times the loop polls while a task sleeps for 30 ms: a spinning loop polls thousands of times.
task<std::size_t> polls_while_readiness_is_unconsumed(fd_pair p, bool close_peer) {
  async_fd r(p.first);
  char c;
  EXPECT_EQ(r.try_read(&c, 1), -1);  // nothing yet: the readiness is not cached any more
  if (close_peer) {
    ::close(p.second);
  } else {
    EXPECT_EQ(::write(p.second, "x", 1), 1);
  }
  co_await r.wait_readable();  // waits for the report; readable now, cached, and nobody reads it
  const std::size_t before = coloop::detail::libuv_poll_count(running_reactor());
  co_await coloop::sleep_for(30ms);
  const std::size_t polls = coloop::detail::libuv_poll_count(running_reactor()) - before;
  if (!close_peer) ::close(p.second);
  co_return polls;
}

TEST(LibuvBackend, UnreadDataDoesNotSpinTheLoop) {
  EXPECT_LE(coloop::run(polls_while_readiness_is_unconsumed(make_socketpair(), false), on_libuv),
            6u);
}

TEST(LibuvBackend, UnreadEndOfStreamDoesNotSpinTheLoop) {
  EXPECT_LE(coloop::run(polls_while_readiness_is_unconsumed(make_socketpair(), true), on_libuv),
            6u);
}

task<void> drain(async_fd& fd) {
  char buf[64 * 1024];
  while (co_await fd.read_some(buf, sizeof buf) == sizeof buf) {
  }
}

/// Fills the socket until a write has to wait, lets the peer drain it, then sleeps: write
/// interest must be gone (a socket is writable almost always: level-triggered, it would spin).
task<std::size_t> polls_after_a_blocked_write(fd_pair p) {
  async_fd w(p.first);
  async_fd peer(p.second);
  static char chunk[64 * 1024];
  while (w.try_write(chunk, sizeof chunk) > 0) {
  }
  auto drainer = coloop::spawn(drain(peer));
  const std::size_t n = co_await w.write_some(chunk, 1);  // waits for the drain to make room
  EXPECT_EQ(n, 1u);
  co_await std::move(drainer);
  const std::size_t before = coloop::detail::libuv_poll_count(running_reactor());
  co_await coloop::sleep_for(30ms);
  co_return coloop::detail::libuv_poll_count(running_reactor()) - before;
}

TEST(LibuvBackend, WriteInterestEndsWithTheWait) {
  EXPECT_LE(coloop::run(polls_after_a_blocked_write(make_socketpair()), on_libuv), 6u);
}

/// The clock of libuv's loop time (uv__hrtime(UV_CLOCK_FAST) in libuv 1.44), in whole ms.
std::int64_t libuv_ms() {
  static const clockid_t id = [] {
    timespec res{};
    const bool coarse_will_do = ::clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 &&
                                res.tv_sec == 0 && res.tv_nsec <= 1'000'000;
    return coarse_will_do ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC;
  }();
  timespec t{};
  ::clock_gettime(id, &t);
  return std::int64_t{t.tv_sec} * 1000 + t.tv_nsec / 1'000'000;
}

/// Sleeps 20 us `count` times, each starting `lead` before libuv's millisecond clock ticks, with
/// `lead` swept in steps of 50 ns over 0..20 us (the loop's path from sleep_for to uv_run).
/// Spins instead of sleeping: the point is to land the tick inside that path.
task<void> short_sleeps_near_ticks(int count, std::atomic<int>& slept,
                                   const std::atomic<int>& hangs) {
  for (int i = 0; i < count && hangs.load(std::memory_order_relaxed) == 0; ++i) {
    const std::int64_t ms = libuv_ms();
    while (libuv_ms() == ms) {
    }
    const auto tick = std::chrono::steady_clock::now();
    const auto lead = std::chrono::nanoseconds(50 * (i % 400));
    while (std::chrono::steady_clock::now() < tick + 1ms - lead) {
    }
    co_await coloop::sleep_for(20us);
    slept.fetch_add(1, std::memory_order_relaxed);
  }
}

/// libuv 1.44 runs due timers before it computes the poll timeout: when its millisecond clock
/// ticks between the reactor arming its bounding timer and uv_run, that timer fires first and
/// the poll must still not block without limit. A watchdog thread counts 2 s without progress
/// as a hang and wakes the loop out of it, so the test fails instead of hanging.
TEST(LibuvBackend, ShortSleepsOnAnIdleLoopNeverHang) {
  coloop::event_loop loop(on_libuv);
  // Counters only, read relaxed: nothing else is published through them.
  std::atomic<int> slept{0};
  std::atomic<int> hangs{0};
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    int seen = -1;
    while (!cv.wait_for(lock, 2s, [&] { return finished; })) {
      const int now = slept.load(std::memory_order_relaxed);
      if (now == seen) {
        hangs.fetch_add(1, std::memory_order_relaxed);
        loop.call_soon_threadsafe([] {});
      }
      seen = now;
    }
  });
  loop.run_until_complete(short_sleeps_near_ticks(600, slept, hangs));
  {
    std::lock_guard lock(m);
    finished = true;
  }
  cv.notify_one();
  watchdog.join();
  EXPECT_EQ(hangs.load(), 0) << "the loop hung in its poll after " << slept.load() << " sleeps";
}

}  // namespace
