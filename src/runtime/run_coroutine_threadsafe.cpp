// run_coroutine_threadsafe's shared state: the blocking side (any thread) and the cancel route to
// the task (the loop's thread).
//
// Invariants: the outcome is settled once, first wins, under mutex_: by the task, or with
// cancelled_error when the task's frame (or the callback that was to start it) is destroyed, which
// a closing loop does before it is freed. cancel() posts to the loop only while holding mutex_ and
// seeing the state unsettled, so the loop it posts to cannot be gone. A cancel is delivered once:
// to the running task (deliver_cancel), or when the task attaches if it was requested before that.
//
// Shutdown: nothing of its own; the loop's close() settles every pending state (step 2 destroys
// the tasks, step 3 drops the callbacks not yet run), so no waiter blocks forever.

#include <coloop/runtime/run_coroutine_threadsafe.hpp>
#include <system_error>

namespace coloop::detail {

void concurrent_state_base::wait() const {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [this] { return done_; });
}

bool concurrent_state_base::wait_until(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  return ready_.wait_until(lock, deadline, [this] { return done_; });
}

bool concurrent_state_base::request_cancel(const std::shared_ptr<concurrent_state_base>& self) {
  std::lock_guard lock(self->mutex_);
  if (self->done_) return false;
  // Release: the loop reads it in attach() (acquire) when the task starts after this.
  self->cancel_requested_.store(true, std::memory_order_release);
  try {
    self->loop_->call_soon_threadsafe([s = self] { s->deliver_cancel(); });
  } catch (const std::system_error&) {
    return false;  // closed: the task is gone or about to be, and the state settles as it goes
  }
  return true;
}

void concurrent_state_base::attach(cancel_state* target) noexcept {
  target_ = target;
  if (cancel_requested()) deliver_cancel();
}

void concurrent_state_base::deliver_cancel() noexcept {
  if (target_ != nullptr && !cancel_sent_) {
    cancel_sent_ = true;
    target_->request();
  }
}

void concurrent_state_base::detach_on_loop() noexcept {
  target_ = nullptr;
  set_cancelled();
}

}  // namespace coloop::detail
