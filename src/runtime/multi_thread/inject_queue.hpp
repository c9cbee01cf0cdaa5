#pragma once
// The runtime's global run queue (tokio's `Inject`): wakes from threads outside the runtime and
// the overflow of full local queues. A FIFO ring of handles behind a mutex; the ring grows to its
// high-water mark and then pushes stop allocating.
//
// Design. Every queue operation takes the mutex; `len_` mirrors the length (stored under the
// lock) so workers can skip an empty queue without locking, which they check often (every ~61
// ticks and whenever searching).
//
// Closing. close() refuses further push() calls (the caller, post_threadsafe, then throws
// errc::closed), while push_batch() - the workers' own overflow - is still accepted: a worker
// may overflow while shutdown is under way, and those tasks are drained with the rest after the
// workers are joined. pop() keeps working after close so shutdown can drain.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>

namespace coloop::detail::mt {

class local_queue;

/// Multi-producer multi-consumer FIFO of coroutine handles. All members are thread-safe.
class inject_queue {
 public:
  inject_queue();
  /// The runtime must drain the queue before destroying it; a non-empty queue asserts.
  ~inject_queue();

  /// Appends `h`; returns false, leaving `h` to the caller, once closed. Throws std::bad_alloc if
  /// the ring cannot grow (nothing is queued then).
  bool push(std::coroutine_handle<> h);
  /// Appends all of `hs` in order under one lock, closed or not. Throws std::bad_alloc if the
  /// ring cannot grow (nothing is queued then).
  void push_batch(std::span<const std::coroutine_handle<>> hs);
  /// Takes the oldest task, or a null handle when empty.
  std::coroutine_handle<> pop() noexcept;
  /// Takes up to `max` tasks under one lock: returns the oldest to run now and appends the next
  /// ones to `dst` (the caller's own local queue), no more than dst.remaining_slots(). Returns
  /// null, moving nothing, when empty or max == 0.
  std::coroutine_handle<> pop_into(local_queue& dst, std::size_t max) noexcept;

  /// Calls f(handle) for each queued task, under the lock (task dumps); f must not use the queue.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (std::size_t i = head_; i != tail_; ++i) {
      f(std::coroutine_handle<>::from_address(slots_[i & mask_]));
    }
  }

  /// Queued tasks, without locking (a snapshot).
  std::size_t len() const noexcept {
    // acquire: pairs with the release store under the lock, so a non-zero length means the
    // tasks are there for whoever then takes the lock.
    return len_.load(std::memory_order_acquire);
  }
  bool is_empty() const noexcept { return len() == 0; }

  /// Refuses later push() calls; idempotent.
  void close() noexcept;
  bool is_closed() const noexcept;

 private:
  void grow_to(std::size_t needed);  // mutex_ held
  void publish_len() noexcept;       // mutex_ held

  mutable std::mutex mutex_;
  std::unique_ptr<void*[]> slots_;  // a power-of-two ring
  std::size_t mask_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  bool closed_ = false;
  std::atomic<std::size_t> len_{0};
};

}  // namespace coloop::detail::mt
