// thread_pool round trips (loop -> pool thread -> loop), serial and with 20,000 in flight, next
// to a raw eventfd ping-pong between two threads: the floor one cross-thread wake-up costs.

#include <sys/eventfd.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <thread>
#include <vector>

#include <coloop/executor/thread_pool.hpp>
#include <coloop/executor/to_thread.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/spawn.hpp>

namespace {

// The job: named, as a closure never appears inside a co_await operand (g++ 12 bug).
constexpr auto one = [] { return 1; };

coloop::thread_pool_options bench_pool() {
  coloop::thread_pool_options o;
  o.core_threads = 2;
  o.max_threads = 2;
  o.name_prefix = "bench-pool";
  return o;
}

coloop::task<void> serial_round_trips(coloop::thread_pool& pool, benchmark::State& state) {
  long sum = 0;
  for (auto _ : state) sum += co_await pool.run(one);
  if (sum != static_cast<long>(state.iterations())) state.SkipWithError("wrong sum");
}
void BM_pool_round_trip(benchmark::State& state) {
  auto o = bench_pool();
  o.spin_iterations = static_cast<unsigned>(state.range(0));
  coloop::thread_pool pool(o);
  coloop::run(serial_round_trips(pool, state));
}
BENCHMARK(BM_pool_round_trip)->UseRealTime()->ArgName("spin")->Arg(0)->Arg(2000);  // 2000: the
                                                                                   // default

coloop::task<void> to_thread_round_trips(benchmark::State& state) {
  long sum = 0;
  for (auto _ : state) sum += co_await coloop::to_thread(one);
  if (sum != static_cast<long>(state.iterations())) state.SkipWithError("wrong sum");
}
void BM_to_thread_round_trip(benchmark::State& state) {
  coloop::run(to_thread_round_trips(state));
  coloop::shutdown_default_pool();
}
BENCHMARK(BM_to_thread_round_trip)->UseRealTime();

constexpr int in_flight = 20'000;

coloop::task<int> one_call(coloop::thread_pool& pool) { co_return co_await pool.run(one); }

coloop::task<void> many_in_flight(coloop::thread_pool& pool, benchmark::State& state) {
  std::vector<coloop::join_handle<int>> hs;
  hs.reserve(in_flight);
  for (auto _ : state) {
    for (int i = 0; i < in_flight; ++i) hs.push_back(coloop::spawn(one_call(pool)));
    long sum = 0;
    for (auto& h : hs) sum += co_await h;
    hs.clear();
    if (sum != in_flight) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * in_flight);  // per call = 1 / items_per_second
}
void BM_pool_20k_in_flight(benchmark::State& state) {
  coloop::thread_pool pool(bench_pool());
  coloop::run(many_in_flight(pool, state));
}
BENCHMARK(BM_pool_20k_in_flight)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Two threads bouncing a token through two eventfds: one iteration is two blocking wake-ups,
/// the same hand-offs as a pool round trip whose worker and loop both park.
void BM_eventfd_ping_pong(benchmark::State& state) {
  const int ping = ::eventfd(0, EFD_CLOEXEC);
  const int pong = ::eventfd(0, EFD_CLOEXEC);
  std::thread peer([&] {
    for (;;) {
      std::uint64_t v = 0;
      if (::read(ping, &v, sizeof v) != sizeof v || v == 2) break;
      v = 1;
      if (::write(pong, &v, sizeof v) != sizeof v) break;
    }
  });
  for (auto _ : state) {
    std::uint64_t v = 1;
    if (::write(ping, &v, sizeof v) != sizeof v || ::read(pong, &v, sizeof v) != sizeof v) {
      state.SkipWithError("eventfd failed");
      break;
    }
  }
  std::uint64_t stop = 2;
  if (::write(ping, &stop, sizeof stop) != sizeof stop) std::terminate();
  peer.join();
  ::close(ping);
  ::close(pong);
}
BENCHMARK(BM_eventfd_ping_pong)->UseRealTime();

}  // namespace
