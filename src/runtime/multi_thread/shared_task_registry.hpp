#pragma once
// The runtime's registry of live spawned tasks: what shutdown cancels, waits for and destroys.

#include <atomic>
#include <cstddef>
#include <mutex>

#include "core/cpu_relax.hpp"
#include "runtime/os/futex.hpp"
#include "runtime/task_registry.hpp"

namespace coloop::detail {

/// The shard of shared_task_registry the calling thread registers tasks in: a runtime worker sets
/// its own (1 + index % 15), so a task spawned and finished on one worker touches only that
/// worker's list; other threads use shard 0.
extern constinit thread_local unsigned task_shard_of_thread;

/// The runtime's registry: workers spawn and finish tasks concurrently, so the list is split in
/// shards, one per worker (see task_shard_of_thread), each behind a spin lock held for a few
/// instructions. A list's neighbours are then frames of the same worker, so adding and removing
/// does not bounce cache lines between cores. Shutdown waits for it to empty.
class shared_task_registry {
 public:
  void add(spawn_promise_base& t) noexcept {
    t.place_ = task_shard_of_thread % shard_count;
    shard& s = shard_of(t);
    std::lock_guard lock(s);
    s.tasks.add(t);
    // Spawned while cancel_all runs (shutdown): either cancel_all reaches this shard after us,
    // or we see its flag, set before it started, and cancel the task ourselves.
    if (cancelling_.load(std::memory_order_seq_cst)) t.request_cancel();
  }
  void remove(spawn_promise_base& t) noexcept {
    shard& s = shard_of(t);
    s.lock();
    s.tasks.remove(t);
    s.unlock();
    if (waiting_.load(std::memory_order_seq_cst)) {
      changes_.fetch_add(1, std::memory_order_release);
      os::futex_wake_all(changes_);
    }
  }
  std::size_t size() noexcept {
    std::size_t n = 0;
    for (shard& s : shards_) {
      std::lock_guard lock(s);
      n += s.tasks.size();
    }
    return n;
  }
  /// Cancels every live task, and from now on every task added (the runtime is shutting down).
  void cancel_all() noexcept {
    cancelling_.store(true, std::memory_order_seq_cst);
    // Under the shard's lock: a task cannot finish (and free its cancel_state) meanwhile.
    for (shard& s : shards_) {
      std::lock_guard lock(s);
      s.tasks.cancel_all();
    }
  }
  /// Blocks until no task is registered.
  void wait_until_empty() noexcept {
    waiting_.store(true, std::memory_order_seq_cst);
    for (;;) {
      const unsigned seen = changes_.load(std::memory_order_acquire);
      if (size() == 0) break;
      os::futex_wait(changes_, seen);  // may return early: the loop looks again
    }
    waiting_.store(false, std::memory_order_relaxed);
  }
  /// Calls `f` on every live task, holding every shard's lock: none can end meanwhile.
  template <class F>
  void for_each(F&& f) {
    for (shard& s : shards_) s.lock();
    struct unlock_all {
      shard* shards;
      ~unlock_all() {
        for (std::size_t i = 0; i < shard_count; ++i) shards[i].unlock();
      }
    } unlock{shards_};
    for (shard& s : shards_) {
      for (const spawn_promise_base* t = s.tasks.first(); t != nullptr; t = t->next_) f(*t);
    }
  }
  /// Unregisters and returns some task, or nullptr (single-threaded: after the workers stopped).
  spawn_promise_base* take_any() noexcept {
    for (shard& s : shards_) {
      if (spawn_promise_base* t = s.tasks.first()) {
        s.tasks.remove(*t);
        return t;
      }
    }
    return nullptr;
  }

 private:
  struct alignas(64) shard {
    std::atomic<bool> locked{false};
    task_registry tasks;
    void lock() noexcept {
      while (locked.exchange(true, std::memory_order_acquire)) {
        while (locked.load(std::memory_order_relaxed)) cpu_relax();
      }
    }
    void unlock() noexcept { locked.store(false, std::memory_order_release); }
  };
  static constexpr std::size_t shard_count = 16;
  shard& shard_of(const spawn_promise_base& t) noexcept { return shards_[t.place_]; }
  shard shards_[shard_count];
  std::atomic<bool> waiting_{false};
  std::atomic<bool> cancelling_{false};
  std::atomic<unsigned> changes_{0};
};

}  // namespace coloop::detail
