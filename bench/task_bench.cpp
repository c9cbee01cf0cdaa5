// Coroutine core costs: task create + await + destroy with the frame pool on and off (the same
// binary switches the pool at run time), beside a bare lazy coroutine (a minimal promise on the
// same allocator) for what task<T> adds, and when_all of 1000.

#include <benchmark/benchmark.h>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>
#include <vector>

#include <coloop/core/frame_pool.hpp>
#include <coloop/core/sync_wait.hpp>
#include <coloop/core/task.hpp>
#include <coloop/core/when_all.hpp>

#include "bare_coroutine.hpp"

namespace {

// Neither ramp is inlined into its caller: leaf is called from two places, which g++ would
// otherwise inline only where called once (the bare one), and a user's coroutine is usually
// called from several.
[[gnu::noinline]] coloop::task<int> leaf(int v) { co_return v; }

using coloop_bench::bare;

[[gnu::noinline]] bare bare_leaf(int v) { co_return v; }

coloop::task<void> bare_await_loop(benchmark::State& state) {
  long sum = 0;
  for (auto _ : state) sum += co_await bare_leaf(1);
  if (sum != static_cast<long>(state.iterations())) state.SkipWithError("wrong sum");
}

coloop::task<void> create_await_loop(benchmark::State& state) {
  long sum = 0;
  for (auto _ : state) sum += co_await leaf(1);
  if (sum != static_cast<long>(state.iterations())) state.SkipWithError("wrong sum");
}

void run_create_await(benchmark::State& state, bool pool) {
  const bool saved = coloop::frame_pool_enabled();
  coloop::set_frame_pool_enabled(pool);
  if (pool && !coloop::frame_pool_enabled()) {
    state.SkipWithError("frame pool not compiled in (COLOOP_FRAME_POOL=OFF)");
  } else {
    coloop::sync_wait(create_await_loop(state));
  }
  coloop::set_frame_pool_enabled(saved);
}

void BM_task_create_await_pool(benchmark::State& state) { run_create_await(state, true); }
void BM_task_create_await_malloc(benchmark::State& state) { run_create_await(state, false); }
BENCHMARK(BM_task_create_await_pool);
BENCHMARK(BM_task_create_await_malloc);

// The pair the issue compares (task within 1.15x of bare), same pool setting.
void BM_bare_create_await_pool(benchmark::State& state) {
  const bool saved = coloop::frame_pool_enabled();
  coloop::set_frame_pool_enabled(true);
  coloop::sync_wait(bare_await_loop(state));
  coloop::set_frame_pool_enabled(saved);
}
BENCHMARK(BM_bare_create_await_pool);

coloop::task<void> when_all_loop(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<coloop::task<int>> tasks;
    tasks.reserve(1000);
    for (int i = 0; i < 1000; ++i) tasks.push_back(leaf(i));
    std::vector<int> r = co_await coloop::when_all(std::move(tasks));
    if (r.size() != 1000 || r[999] != 999) state.SkipWithError("wrong when_all result");
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
void BM_when_all_1000(benchmark::State& state) { coloop::sync_wait(when_all_loop(state)); }
BENCHMARK(BM_when_all_1000);

}  // namespace
