// ir_ops: runs one operation N times on an event loop or a one-worker runtime, for instruction
// counts under callgrind (bench/ir/run.py subtracts the runs at N and 2N, so setup and teardown
// cancel out). A plain program on the public API (and bench/bare_coroutine.hpp), so it builds
// against older trees too, copied there with that header.
//
//   ir_ops <loop|runtime> <op> <N>
//   op: spawn_join await bare_await yield call_soon timer wait_for echo
//
// await is a task created, awaited to its end and destroyed (bare_await: the same with the bare
// coroutine of bare_coroutine.hpp, for what task<T> adds); timer is call_later + cancel on
// the loop (the runtime has no call_later: there it is n/a); wait_for arms and disarms a
// deadline timer around a task that finishes at once; echo is one 16-byte round trip through a
// spawned echo task over a socketpair.

#include <coloop/coloop.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../bare_coroutine.hpp"

namespace {

using namespace std::chrono_literals;

coloop::task<void> noop() { co_return; }
// Neither ramp inlined (g++ inlines one called from a single place): as task_bench's leaves.
[[gnu::noinline]] coloop::task<int> one() { co_return 1; }
[[gnu::noinline]] coloop_bench::bare bare_one() { co_return 1; }

coloop::task<void> echo_server(coloop::unix_stream s) {
  char buf[64];
  for (;;) {
    const std::size_t n = co_await s.read_some(buf, sizeof buf);
    if (n == 0) co_return;
    std::size_t done = 0;
    while (done < n) done += co_await s.write_some(buf + done, n - done);
  }
}

coloop::task<long> body(std::string op, long n) {
  long sum = 0;
  if (op == "spawn_join") {
    for (long i = 0; i < n; ++i) {
      coloop::join_handle<void> h = coloop::spawn(noop());
      co_await h;
    }
  } else if (op == "await") {
    for (long i = 0; i < n; ++i) sum += co_await one();  // task create + await + destroy
  } else if (op == "bare_await") {
    for (long i = 0; i < n; ++i) sum += co_await bare_one();  // the same, bare_coroutine.hpp
  } else if (op == "yield") {
    for (long i = 0; i < n; ++i) co_await coloop::yield();
  } else if (op == "wait_for") {
    for (long i = 0; i < n; ++i) {
      coloop::task<int> w = coloop::wait_for(one(), 1h);  // named: g++ 12's co_await rule
      sum += co_await std::move(w);
    }
  } else if (op == "echo") {
    auto [a, b] = coloop::unix_stream::pair();
    coloop::join_handle<void> server = coloop::spawn(echo_server(std::move(b)));
    char out[16] = "0123456789abcde";
    char in[16];
    for (long i = 0; i < n; ++i) {
      std::size_t sent = 0;
      while (sent < sizeof out) sent += co_await a.write_some(out + sent, sizeof out - sent);
      std::size_t got = 0;
      while (got < sizeof in) got += co_await a.read_some(in + got, sizeof in - got);
      sum += in[0];
    }
    a.close();
    co_await server;
  } else {
    std::fprintf(stderr, "ir_ops: unknown op '%s'\n", op.c_str());
    std::exit(2);
  }
  co_return sum;
}

/// Operations only the event loop has: callbacks.
bool loop_only(coloop::event_loop& loop, const std::string& op, long n) {
  if (op == "call_soon") {
    long count = 0;
    for (long i = 0; i < n; ++i) loop.call_soon([&count] { ++count; });
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
    return count == n;
  }
  if (op == "timer") {
    for (long i = 0; i < n; ++i) {
      coloop::timer_handle h = loop.call_later(1h, [] {});
      h.cancel();
    }
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: ir_ops <loop|runtime> <op> <N>\n");
    return 2;
  }
  const std::string flavour = argv[1];
  const std::string op = argv[2];
  const long n = std::strtol(argv[3], nullptr, 10);
  if (flavour == "loop") {
    coloop::event_loop loop;
    if (op == "call_soon" || op == "timer") return loop_only(loop, op, n) ? 0 : 1;
    std::printf("%ld\n", loop.run_until_complete(body(op, n)));
  } else if (flavour == "runtime") {
    if (op == "call_soon" || op == "timer") return 3;  // n/a
    coloop::loop_options options;
    options.workers = 1;
    coloop::runtime rt(options);
    std::printf("%ld\n", rt.block_on(body(op, n)));
  } else {
    std::fprintf(stderr, "ir_ops: unknown flavour '%s'\n", flavour.c_str());
    return 2;
  }
  return 0;
}
