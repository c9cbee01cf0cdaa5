#pragma once
// The abstract scheduler the core layer resumes coroutines through, and the bound on nested
// symmetric transfers.

#include <coroutine>

namespace coloop::detail {

/// Whatever runs coroutines on this thread: an event_loop, a runtime worker or sync_wait.
class scheduler {
 public:
  /// Queues `h` to be resumed later on this scheduler's thread; call only from that thread.
  virtual void post(std::coroutine_handle<> h) noexcept = 0;
  /// Queues `h` from any thread; throws std::system_error(errc::closed) if the scheduler is gone.
  virtual void post_threadsafe(std::coroutine_handle<> h) = 0;

 protected:
  ~scheduler() = default;
};

/// g++ does not turn symmetric transfer into a tail call at -O0 or under ASan, so each transfer
/// may grow the stack; past this many in one scheduler step the next one bounces through the
/// scheduler's queue instead.
inline constexpr unsigned max_transfer_depth = 512;

struct thread_state {
  scheduler* current = nullptr;
  unsigned transfer_depth = 0;
};
extern constinit thread_local thread_state this_thread;

/// The scheduler running on this thread, or nullptr.
inline scheduler* current_scheduler() noexcept { return this_thread.current; }

std::coroutine_handle<> bounce(std::coroutine_handle<> next) noexcept;

/// Returns the handle to transfer to from an await_suspend, bouncing past the depth bound.
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
  if (++this_thread.transfer_depth < max_transfer_depth) [[likely]] return next;
  return bounce(next);
}

/// Resumes `h` as one scheduler step: the transfer depth starts from zero.
inline void resume_step(std::coroutine_handle<> h) {
  this_thread.transfer_depth = 0;
  h.resume();
}

/// Makes `s` this thread's current scheduler for the scope's lifetime.
class scheduler_scope {
 public:
  explicit scheduler_scope(scheduler* s) noexcept : saved_(this_thread) { this_thread = {s, 0}; }
  ~scheduler_scope() { this_thread = saved_; }
  scheduler_scope(const scheduler_scope&) = delete;
  scheduler_scope& operator=(const scheduler_scope&) = delete;

 private:
  thread_state saved_;
};

}  // namespace coloop::detail
