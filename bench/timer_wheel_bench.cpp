// The timer wheel alone: arm+cancel with N live timers (the hot path: most timeouts never fire),
// next to a std::multimap doing the same in the same run (the ordered-tree baseline), and the
// cost per timer of arming a batch and expiring it.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "runtime/driver/timer_wheel.hpp"

namespace {

using coloop::detail::timer_node;
using coloop::detail::timer_wheel;

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000 * ms;
constexpr std::int64_t start = 1'000 * sec;  // an arbitrary monotonic-clock reading

std::uint64_t fired_count = 0;
void count_fire(timer_node*) noexcept { ++fired_count; }

// N timers armed at random deadlines 0..60 s ahead, each iteration arms a 30 s timeout and
// cancels it.
void BM_timer_wheel_arm_cancel(benchmark::State& state) {
  const auto live = static_cast<std::size_t>(state.range(0));
  timer_wheel wheel(start);
  std::vector<timer_node> nodes(live);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> spread(0, 60 * sec);
  for (timer_node& n : nodes) {
    n.deadline = start + spread(rng);
    n.fire = &count_fire;
    wheel.insert(n);
  }
  timer_node timeout;
  timeout.fire = &count_fire;
  timeout.deadline = start + 30 * sec;
  for (auto _ : state) {
    wheel.insert(timeout);
    benchmark::DoNotOptimize(timeout);
    wheel.remove(timeout);
    benchmark::ClobberMemory();
  }
  if (wheel.size() != live || timeout.armed()) state.SkipWithError("wheel lost track of timers");
  for (timer_node& n : nodes) wheel.remove(n);
}
BENCHMARK(BM_timer_wheel_arm_cancel)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

// Reference in the same run: the same work on an ordered tree keyed by (deadline, seq).
void BM_timer_multimap_arm_cancel(benchmark::State& state) {
  using key = std::pair<std::int64_t, std::uint64_t>;
  std::map<key, timer_node*> tree;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> spread(0, 60 * sec);
  std::uint64_t seq = 0;
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    tree.emplace(key{start + spread(rng), seq++}, nullptr);
  }
  timer_node timeout;
  for (auto _ : state) {
    auto it = tree.emplace(key{start + 30 * sec, seq++}, &timeout).first;
    benchmark::DoNotOptimize(it);
    tree.erase(it);
  }
  if (tree.size() != static_cast<std::size_t>(state.range(0))) state.SkipWithError("bad size");
}
BENCHMARK(BM_timer_multimap_arm_cancel)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

// Arms a batch of N timers spread over the next 10 ms, then expires them in one call (the
// sort of each tick's timers included). items/s counts timers armed and fired.
void BM_timer_wheel_expire(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  timer_wheel wheel(start);
  std::vector<timer_node> nodes(batch);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> spread(0, 10 * ms);
  std::vector<std::int64_t> offsets(batch);
  for (std::int64_t& o : offsets) o = spread(rng);
  for (timer_node& n : nodes) n.fire = &count_fire;
  std::int64_t now = start;
  fired_count = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) {
      nodes[i].deadline = now + offsets[i];
      wheel.insert(nodes[i]);
    }
    now += 10 * ms;
    benchmark::DoNotOptimize(wheel.expire(now));
  }
  const auto total = static_cast<std::int64_t>(batch) * state.iterations();
  if (fired_count != static_cast<std::uint64_t>(total))
    state.SkipWithError("not every timer fired");
  state.SetItemsProcessed(total);
}
BENCHMARK(BM_timer_wheel_expire)->Arg(1'000)->Arg(100'000);

}  // namespace
