// Loop timers: call_later + cancel with N other timers live (most timeouts never fire).

#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <vector>

#include <coloop/runtime/event_loop.hpp>

namespace {

void BM_timer_arm_cancel(benchmark::State& state) {
  coloop::event_loop loop;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<long> spread(0, 60'000'000'000L);  // 0..60 s ahead
  std::vector<coloop::timer_handle> live;
  live.reserve(static_cast<std::size_t>(state.range(0)));
  for (long i = 0; i < state.range(0); ++i) {
    live.push_back(loop.call_later(std::chrono::nanoseconds(spread(rng)), [] {}));
  }
  long cancelled = 0;
  for (auto _ : state) {
    coloop::timer_handle h = loop.call_later(std::chrono::seconds(30), [] {});
    cancelled += h.cancel();
  }
  if (cancelled != static_cast<long>(state.iterations())) state.SkipWithError("cancel failed");
  for (auto& h : live) h.cancel();
}
BENCHMARK(BM_timer_arm_cancel)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
