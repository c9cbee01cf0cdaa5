// sync_wait's scheduler: a queue on the caller's stack, drained on the caller's thread. Other
// threads (a future's setter) post through the mutex and wake the caller.

#include <coloop/core/sync_wait.hpp>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace coloop::detail {
namespace {

class sync_wait_scheduler final : public scheduler {
 public:
  void post(std::coroutine_handle<> h) noexcept override {
    std::lock_guard lock(mutex_);
    push(h);
  }
  void post_threadsafe(std::coroutine_handle<> h) override {
    std::lock_guard lock(mutex_);
    push(h);
    // Under the lock: once the waiter can see `h` it may finish and destroy this scheduler.
    ready_.notify_one();
  }
  std::coroutine_handle<> next() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return head_ != tail_; });
    return ring_[head_++ & (ring_.size() - 1)];
  }

 private:
  // A growable ring: allocates only while growing to its high-water mark.
  void push(std::coroutine_handle<> h) noexcept {
    if (tail_ - head_ == ring_.size()) grow();
    ring_[tail_++ & (ring_.size() - 1)] = h;
  }
  void grow() noexcept {
    std::vector<std::coroutine_handle<>> bigger(ring_.empty() ? 64 : ring_.size() * 2);
    std::size_t n = 0;
    while (head_ != tail_) bigger[n++] = ring_[head_++ & (ring_.size() - 1)];
    ring_ = std::move(bigger);
    head_ = 0;
    tail_ = n;
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::coroutine_handle<>> ring_;
  std::size_t head_ = 0, tail_ = 0;
};

}  // namespace

void sync_wait_drive(std::coroutine_handle<> root) {
  if (current_scheduler() != nullptr) {
    throw std::logic_error(
        "coloop::sync_wait: called on a thread that already runs an event loop or sync_wait; "
        "co_await the task instead");
  }
  sync_wait_scheduler sched;
  scheduler_scope scope(&sched);
  resume_step(root);
  while (!root.done()) resume_step(sched.next());
}

}  // namespace coloop::detail
