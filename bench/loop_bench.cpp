// Event loop costs: spawn + join (bare and in a task_group), call_soon dispatch, yield.

#include <benchmark/benchmark.h>

#include <vector>

#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/task_group.hpp>
#include <coloop/runtime/yield.hpp>

namespace {

coloop::task<int> leaf(int v) { co_return v; }

coloop::task<void> spawn_join_loop(benchmark::State& state) {
  long sum = 0;
  for (auto _ : state) sum += co_await coloop::spawn(leaf(1));
  if (sum != static_cast<long>(state.iterations())) state.SkipWithError("wrong sum");
}
void BM_spawn_join(benchmark::State& state) { coloop::run(spawn_join_loop(state)); }
BENCHMARK(BM_spawn_join);

// Per child: 100 children spawned, then joined (each handle, or the group at once). The group's
// target is at most 1.2x the bare spawn + join.
constexpr int children = 100;

coloop::task<void> spawn_join_batch_loop(benchmark::State& state) {
  std::vector<coloop::join_handle<int>> hs;
  hs.reserve(children);
  for (auto _ : state) {
    for (int i = 0; i < children; ++i) hs.push_back(coloop::spawn(leaf(i)));
    for (auto& h : hs) benchmark::DoNotOptimize(co_await std::move(h));
    hs.clear();
  }
  state.SetItemsProcessed(state.iterations() * children);
}
void BM_spawn_join_batch(benchmark::State& state) { coloop::run(spawn_join_batch_loop(state)); }
BENCHMARK(BM_spawn_join_batch);

coloop::task<void> task_group_batch_loop(benchmark::State& state) {
  for (auto _ : state) {
    coloop::task_group g;
    for (int i = 0; i < children; ++i) g.spawn(leaf(i));
    co_await g.join();
  }
  state.SetItemsProcessed(state.iterations() * children);
}
void BM_task_group_spawn_join_batch(benchmark::State& state) {
  coloop::run(task_group_batch_loop(state));
}
BENCHMARK(BM_task_group_spawn_join_batch);

constexpr int batch = 1000;

coloop::task<void> call_soon_loop(benchmark::State& state) {
  coloop::event_loop& loop = *coloop::event_loop::current();
  long calls = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) loop.call_soon([&calls] { ++calls; });
    co_await coloop::yield();  // FIFO: runs after the batch
  }
  if (calls != static_cast<long>(state.iterations()) * batch) state.SkipWithError("lost calls");
  state.SetItemsProcessed(state.iterations() * batch);  // per-call time = 1 / items_per_second
}
void BM_call_soon_dispatch(benchmark::State& state) { coloop::run(call_soon_loop(state)); }
BENCHMARK(BM_call_soon_dispatch);

coloop::task<void> yield_loop(benchmark::State& state) {
  for (auto _ : state) co_await coloop::yield();
}
void BM_yield(benchmark::State& state) { coloop::run(yield_loop(state)); }
BENCHMARK(BM_yield);

}  // namespace
