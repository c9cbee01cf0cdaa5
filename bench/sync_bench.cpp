// sync primitives against their std references, in one binary so the ratios come from one run:
// uncontended mutex and semaphore vs std::mutex; a queue<int> hand-off between two tasks on one
// loop vs std::deque push+pop; a queue between two runtime workers vs a std::mutex +
// std::condition_variable queue between two threads.

#include <benchmark/benchmark.h>

#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/sync/mutex.hpp>
#include <coloop/sync/queue.hpp>
#include <coloop/sync/semaphore.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace {

coloop::task<void> mutex_loop(benchmark::State* state) {
  coloop::mutex m;
  long n = 0;
  for (auto _ : *state) {
    auto g = co_await m.lock();
    benchmark::DoNotOptimize(++n);
  }
}
void BM_sync_mutex_lock_unlock(benchmark::State& state) { coloop::run(mutex_loop(&state)); }
BENCHMARK(BM_sync_mutex_lock_unlock);

coloop::task<void> semaphore_loop(benchmark::State* state) {
  coloop::semaphore s(1);
  long n = 0;
  for (auto _ : *state) {
    auto p = co_await s.acquire();
    benchmark::DoNotOptimize(++n);
  }
}
void BM_sync_semaphore_acquire_release(benchmark::State& state) {
  coloop::run(semaphore_loop(&state));
}
BENCHMARK(BM_sync_semaphore_acquire_release);

void BM_ref_std_mutex_lock_unlock(benchmark::State& state) {
  std::mutex m;
  long n = 0;
  for (auto _ : state) {
    std::lock_guard g(m);
    benchmark::DoNotOptimize(++n);
  }
}
BENCHMARK(BM_ref_std_mutex_lock_unlock);

constexpr int batch = 10'000;  // items per iteration of the hand-off benchmarks
constexpr std::size_t capacity = 256;

coloop::task<void> produce(coloop::queue<int>* q, int n) {
  for (int i = 0; i < n; ++i) co_await q->put(i);
}

coloop::task<long> consume(coloop::queue<int>* q, int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await q->get();
  co_return sum;
}

coloop::task<void> handoff_loop(benchmark::State* state) {
  coloop::queue<int> q(capacity);
  for (auto _ : *state) {
    auto consumer = coloop::spawn(consume, &q, batch);
    co_await produce(&q, batch);
    benchmark::DoNotOptimize(co_await consumer);
  }
  state->SetItemsProcessed(state->iterations() * batch);
}
void BM_sync_queue_handoff_one_loop(benchmark::State& state) { coloop::run(handoff_loop(&state)); }
BENCHMARK(BM_sync_queue_handoff_one_loop);

void BM_ref_deque_push_pop(benchmark::State& state) {
  std::deque<int> d;
  long sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      d.push_back(i);
      sum += d.front();
      d.pop_front();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_ref_deque_push_pop);

coloop::task<void> handoff_workers(benchmark::State* state) {
  coloop::queue<int> q(capacity);
  for (auto _ : *state) {
    auto producer = coloop::spawn(produce, &q, batch);
    auto consumer = coloop::spawn(consume, &q, batch);
    co_await producer;
    benchmark::DoNotOptimize(co_await consumer);
  }
  state->SetItemsProcessed(state->iterations() * batch);
}
void BM_sync_queue_two_workers(benchmark::State& state) {
  coloop::runtime rt({.workers = 2});
  rt.block_on(handoff_workers(&state));
}
BENCHMARK(BM_sync_queue_two_workers)->UseRealTime();

// The classic blocking bounded queue.
class cv_queue {
 public:
  void put(int v) {
    std::unique_lock lock(m_);
    not_full_.wait(lock, [this] { return items_.size() < capacity; });
    items_.push_back(v);
    not_empty_.notify_one();
  }
  int get() {
    std::unique_lock lock(m_);
    not_empty_.wait(lock, [this] { return !items_.empty(); });
    const int v = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex m_;
  std::condition_variable not_empty_, not_full_;
  std::deque<int> items_;
};

void BM_ref_cv_queue_two_threads(benchmark::State& state) {
  cv_queue q;
  for (auto _ : state) {
    std::thread producer([&q] {
      for (int i = 0; i < batch; ++i) q.put(i);
    });
    long sum = 0;
    for (int i = 0; i < batch; ++i) sum += q.get();
    producer.join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_ref_cv_queue_two_threads)->UseRealTime();

}  // namespace
