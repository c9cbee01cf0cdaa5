// sync_wait's scheduler: a queue on the caller's stack, drained on the caller's thread. Other
// threads (a future's setter) post through the mutex and wake the caller.

#include <coloop/core/sync_wait.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>

namespace coloop::detail {
namespace {

class sync_wait_scheduler final : public scheduler {
 public:
  void post(std::coroutine_handle<> h) noexcept override {
    std::lock_guard lock(mutex_);
    queue_.push_back(h);
  }
  void post_threadsafe(std::coroutine_handle<> h) override {
    // Notify under the lock: once the waiter can see the item it may return and destroy this
    // scheduler, so the poster must be done with it by then.
    std::lock_guard lock(mutex_);
    queue_.push_back(h);
    ready_.notify_one();
  }
  std::coroutine_handle<> next() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty(); });
    std::coroutine_handle<> h = queue_.front();
    queue_.pop_front();
    return h;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::coroutine_handle<>> queue_;
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
