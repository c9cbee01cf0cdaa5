#pragma once
// layer: core
// The abstract scheduler the core layer resumes coroutines through, and the bound on nested
// symmetric transfers.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include <coloop/version.hpp>

namespace coloop::detail {

/// Whatever runs coroutines on this thread: an event_loop, a runtime worker or sync_wait.
class scheduler {
 public:
  /// Queues `h` to be resumed later on this scheduler's thread; call only from that thread.
  virtual void post(std::coroutine_handle<> h) noexcept = 0;
  /// Queues `h` from any thread; throws std::system_error(errc::closed) if the scheduler is gone.
  virtual void post_threadsafe(std::coroutine_handle<> h) = 0;
  /// Queues a task that gives way (yield, a spent coop budget) behind the work already queued:
  /// never into a "run next" slot. This thread only.
  virtual void post_yield(std::coroutine_handle<> h) noexcept { post(h); }

 protected:
  ~scheduler() = default;
};

/// g++ does not turn symmetric transfer into a tail call at -O0 or under ASan, so each transfer
/// may grow the stack. Each scheduler step sets a limit this far below its own frame; a transfer
/// found below the limit bounces through the scheduler's queue instead. Comparing the frame
/// address only reads thread-local state, so the common path adds no store (a counter would put
/// a store-to-load dependency on every await).
inline constexpr std::size_t transfer_stack_budget = 128 * 1024;

/// Coop budget: how many operations a task may complete at once (without suspending) in one
/// scheduler step. Past it, the next such operation suspends and requeues the task, so a task
/// reading an always-ready socket cannot starve timers and other tasks (tokio's coop budget).
inline constexpr int coop_budget = 128;

/// thread_state::local_loop off any event loop: no context's address.
inline constexpr char no_local_loop = 0;

struct thread_state {
  scheduler* current = nullptr;
  const char* stack_limit = nullptr;  // nullptr: no scheduler step, never bounce
  int budget = coop_budget;           // left in this step; reset by begin_step
  void* kept_frame = nullptr;         // a task frame whose memory destroy() must not free
  std::size_t kept_size = 0;          // its size, recorded by the frame's operator delete
  bool debug = false;                 // the scheduler running here is in debug mode
  std::int64_t step_mark = 0;         // debug mode: when the running task's step began (ns)
  /// The event loop running here (its context), whose tasks' handles may skip RMWs on this
  /// thread (spawn_promise_base::handle_local); &no_local_loop elsewhere, never null, so an
  /// aborted task (context null) never matches.
  const void* local_loop = &no_local_loop;
};
// Code built for an executable (PIE, or not position-independent) linking a static coloop
// reaches it at a fixed offset from the thread pointer: one instruction per access instead of
// two. A shared library's code (-fPIC without -fpie), or any code when coloop is itself a shared
// library, keeps the default model.
#if !COLOOP_SHARED_LIBRARY && (defined(__PIE__) || !defined(__PIC__))
#define COLOOP_DETAIL_LOCAL_EXEC_TLS 1
extern constinit thread_local thread_state this_thread [[gnu::tls_model("local-exec")]];
#else
#define COLOOP_DETAIL_LOCAL_EXEC_TLS 0
extern constinit thread_local thread_state this_thread;
#endif
/// How many threads are inside spawn_promise_base::abort keeping a frame: while 0, a frame's
/// operator delete skips the thread_local read where that read is a call (the default TLS
/// model: it cost a task create+await 40%).
extern std::atomic<unsigned> frames_being_kept;

/// Whether the scheduler running on this thread is in debug mode.
inline bool debug_here() noexcept { return this_thread.debug; }

/// The scheduler running on this thread, or nullptr.
inline scheduler* current_scheduler() noexcept { return this_thread.current; }

std::coroutine_handle<> bounce(std::coroutine_handle<> next) noexcept;

/// Where the stack is now, roughly (the budget has room to spare). On x86-64 the stack pointer
/// itself: __builtin_frame_address would make every coroutine that transfers keep a frame
/// pointer (a push, a move and a leave on each resume).
[[gnu::always_inline]] inline const char* stack_position() noexcept {
#if defined(__x86_64__)
  const char* sp;
  asm("mov %%rsp, %0" : "=r"(sp));
  return sp;
#else
  return static_cast<const char*>(__builtin_frame_address(0));
#endif
}

/// Whether the stack is still above this step's limit. On x86-64, one compare of the stack
/// pointer with the limit in memory: reading the stack pointer into a register first is a move
/// more at every transfer.
[[gnu::always_inline]] inline bool stack_has_room() noexcept {
#if defined(__x86_64__)
  bool above;
  asm("cmp %1, %%rsp" : "=@cca"(above) : "m"(this_thread.stack_limit));
  return above;
#else
  return stack_position() > this_thread.stack_limit;
#endif
}

/// Returns the handle to transfer to from an await_suspend, bouncing past the stack budget.
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
  if (stack_has_room()) [[likely]] return next;
  return bounce(next);
}

/// Starts a scheduler step: transfers may use `transfer_stack_budget` below this point.
[[gnu::always_inline]] inline void begin_step() noexcept {
  this_thread.stack_limit = stack_position() - transfer_stack_budget;
  this_thread.budget = coop_budget;
}

/// Spends one unit of the coop budget for an operation that completed at once; false when the
/// budget is gone, and the caller must then suspend and requeue its task instead of continuing.
inline bool spend_budget() noexcept { return --this_thread.budget > 0; }

/// Resumes `h` as one scheduler step.
inline void resume_step(std::coroutine_handle<> h) {
  begin_step();
  h.resume();
}

/// Resumes `h` on `s` from any thread: the cheap post() when this thread runs `s`, otherwise
/// post_threadsafe(). False when `s` has shut down (the waiter's frame then dies with it).
bool post_from_any_thread(scheduler* s, std::coroutine_handle<> h) noexcept;

/// Makes `s` this thread's current scheduler for the scope's lifetime.
class scheduler_scope {
 public:
  explicit scheduler_scope(scheduler* s) noexcept : saved_(this_thread) {
    this_thread = {s, nullptr};
  }
  ~scheduler_scope() { this_thread = saved_; }
  scheduler_scope(const scheduler_scope&) = delete;
  scheduler_scope& operator=(const scheduler_scope&) = delete;

 private:
  thread_state saved_;
};

}  // namespace coloop::detail
