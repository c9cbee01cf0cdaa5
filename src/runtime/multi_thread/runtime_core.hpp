#pragma once
// The multi-threaded runtime's engine (private): workers with local queues and a LIFO slot, the
// inject queue, idle coordination, the shared driver and the registry of live tasks.
// runtime (include/coloop/runtime/runtime.hpp) is its public face; the design is described at
// the top of runtime_core.cpp.

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <coloop/runtime/loop_options.hpp>

#include "runtime/context.hpp"
#include "runtime/driver/driver.hpp"
#include "runtime/multi_thread/idle.hpp"
#include "runtime/multi_thread/inject_queue.hpp"
#include "runtime/multi_thread/local_queue.hpp"
#include "runtime/multi_thread/parker.hpp"
#include "runtime/multi_thread/shared_task_registry.hpp"
#include "runtime/ready_marks.hpp"
#include "runtime/task_dump_impl.hpp"

namespace coloop {
class runtime;
}

namespace coloop::detail::mt {

class runtime_core;

/// Counters a worker bumps on its own thread (load + store, no read-modify-write) and anyone may
/// read: the runtime's metrics.
struct worker_counters {
  std::atomic<std::uint64_t> polls{0};      // tasks resumed
  std::atomic<std::uint64_t> lifo_polls{0}; // ... of them from the LIFO slot
  std::atomic<std::uint64_t> steals{0};     // successful steals from another worker
  std::atomic<std::uint64_t> parks{0};      // times it went to sleep
  std::atomic<std::uint64_t> driver_polls{0};  // times it polled the shared driver
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

/// One worker thread's state. Everything but `queue` (stolen from) and `park` (unparked) is
/// touched only by the worker's own thread.
struct worker {
  worker(runtime_core& owner, std::size_t position) noexcept : rt(owner), index(position) {}
  runtime_core& rt;
  const std::size_t index;
  local_queue queue;
  parker park;
  std::coroutine_handle<> lifo;  // the task woken last by this worker: runs next (cache-hot)
  // First steps of the tasks this worker spawned, newest last: private (no thief sees them), so
  // its joiner may take one back, and run newest first (depth first). The oldest moves to the
  // ring when the ring is empty (something to steal) or this is full.
  static constexpr unsigned spawn_capacity = 32;
  std::coroutine_handle<> spawned[spawn_capacity];
  unsigned spawned_count = 0;
  unsigned lifo_streak = 0;      // consecutive LIFO runs; capped so the queue is not starved
  static constexpr std::uint32_t event_interval = 61;  // tokio's: inject first + poll every 61
  std::uint32_t ticks_to_interval = event_interval;     // steps until the next of those
  bool searching = false;
  std::uint64_t rng = 0;  // xorshift state: steal victims, and the randomized mode
  worker_counters counters;
  // False while parked or paused for a task dump: then it resumes no task (collect_tasks).
  std::atomic<bool> active{true};
  // The frame its current step resumed, for dumps (stale while inactive: they ignore it then).
  std::atomic<void*> step_frame{nullptr};
  std::thread thread;
  // True while paused for a dump (pause_for_dump), not while parked: a worker parked in the
  // driver may post to its own LIFO slot, so a dump reads `lifo` and `held` only when this is.
  std::atomic<bool> paused_for_dump{false};
  std::coroutine_handle<> held;  // while paused for a dump: the task it took, to run next
  // Debug mode's scheduling delay, its own thread only: marks of its ring (ready_marks.hpp),
  // the ring's head when its last step began, and its LIFO task at that step's end.
  struct debug_marks {
    ready_marks<std::uint32_t> ring;
    std::uint32_t ring_head = 0;
    void* lifo = nullptr;
    std::int64_t step_start = 0;  // of its last step
  } debug;
};

class runtime_core final : public context {
 public:
  explicit runtime_core(const loop_options& options);
  ~runtime_core();
  runtime_core(const runtime_core&) = delete;
  runtime_core& operator=(const runtime_core&) = delete;

  // scheduler: both work from any thread (a worker's own posts go to its LIFO slot).
  void post(std::coroutine_handle<> h) noexcept override;
  void post_threadsafe(std::coroutine_handle<> h) override;
  /// To the back of this worker's ring (not the LIFO slot), so a yielding task lets the rest run.
  void post_yield(std::coroutine_handle<> h) noexcept override;

  // context: any thread (a worker's task spawns or ends; runtime::spawn from outside).
  std::coroutine_handle<> end_task(spawn_promise_base& t) noexcept override {
    tasks_.remove(t);
    return t.hand_over();
  }
  /// A worker's spawn goes to its private spawn stack (worker::spawned).
  void start(spawn_promise_base& t) noexcept override;
  std::coroutine_handle<> join_start(spawn_promise_base& t, std::coroutine_handle<> joiner,
                                     cancel_state* joiner_cancel) override;
  /// Pauses the other workers between steps (at most dump_pause_limit for one stuck in a step)
  /// and reads every live task under the registry's locks.
  void collect_tasks(std::vector<task_info>& out) override;
  void dump_on_signal() override;
  /// The runtime whose worker is the calling thread, or nullptr.
  static runtime_core* current() noexcept;
  void* face = nullptr;  // the public coloop::runtime, for runtime::current()

  shared_driver& io_driver() noexcept { return driver_; }
  /// Whether the calling thread is one of this runtime's workers.
  bool on_worker() const noexcept;
  /// The numbered shutdown steps in runtime.cpp. Idempotent; not from a worker.
  void shutdown();

 private:
  friend class coloop::runtime;  // its public face reads the counters, the registry and the flags
  friend struct runtime_collector;  // metrics (src/runtime/metrics/runtime_collector.cpp)
  void start_workers();
  void run_worker(worker& w);
  std::coroutine_handle<> next_task(worker& w);
  std::coroutine_handle<> steal(worker& w);
  void spill_oldest_spawn(worker& w) noexcept;
  /// Withdraws `t`'s first step for its joiner: only from `w`'s (this thread's) spawn stack or
  /// LIFO slot, which no other thread touches (a task in the ring may be stolen and started).
  bool take_start(worker& w, spawn_promise_base& t) noexcept;
  bool has_visible_work(const worker& w) const noexcept;
  void park(worker& w);
  void maintenance(worker& w);
  void notify_parked() noexcept;
  /// Debug mode: runs `h`'s step with debug mode's accounting; its scheduling delay is known
  /// when it comes from this worker's LIFO slot or ring, else counted as 0.
  void debug_step(worker& w, std::coroutine_handle<> h);
  /// A dump is under way: waits, inactive, until it ends. `held`: the task it took and will run
  /// next (ready, in no queue meanwhile).
  void pause_for_dump(worker& w, std::coroutine_handle<> held = {});
  /// Every task queued to run (woken, or first steps), while the workers stand still.
  void collect_queued(queued_frames& out) const;
  void leave_searching(worker& w) noexcept;
  std::uint64_t next_random(worker& w) noexcept;

  shared_driver driver_;  // first: outlives the workers and the tasks
  shared_task_registry tasks_;
  std::vector<std::unique_ptr<worker>> workers_;
  inject_queue inject_;
  idle idle_;
  const std::uint64_t seed_;  // 0: deterministic policy; otherwise the randomized test mode
  const bool manual_clock_;
  std::atomic<bool> driver_taken_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> closing_{false};
  std::atomic<unsigned> foreign_posts_{0};  // posts from other threads not done with the runtime
  std::mutex dump_mutex_;  // one collect_tasks at a time
  std::atomic<bool> dump_pause_{false};
  std::mutex pause_mutex_;  // with pause_cv_: paused workers wait for the dump's end
  std::condition_variable pause_cv_;
  bool shut_down_ = false;
};

}  // namespace coloop::detail::mt
