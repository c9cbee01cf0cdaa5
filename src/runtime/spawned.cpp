// Spawned tasks: lifetime and join protocol of the task's frame (DESIGN.md §3).
//
// The frame has two references, the running task and the join_handle (and one per watcher of
// wait / as_completed); finished() drops the task's, detach() (or the handle's destructor) the
// handle's, each in the same RMW as its flag, and whoever drops the last frees the frame. A
// failure is reported to the loop's exception handler exactly once, when the frame of a detached
// task is freed and nobody rethrew it. Cancellation is not a failure worth reporting.

#include <coloop/detail/spawned.hpp>

#include <stdexcept>

#include <coloop/detail/task_group_core.hpp>

#include "core/metrics_source.hpp"
#include "runtime/context.hpp"
#include "runtime/task_extra.hpp"

namespace coloop::detail {
namespace {
/// start_spawned's rare cases, out of its line so the common path saves no registers: a closed
/// context, debug mode, and the first count of this thread.
[[gnu::noinline]] void start_spawned_slow(context& ctx, spawn_promise_base& s) {
  if (ctx.closed()) throw std::logic_error("coloop::spawn: the event loop is closed");
  if (ctx.debug()) debug_task_start(s);
  count(thread_count::tasks_spawned);
  s.ctx_ = &ctx;
  ctx.start(s);
}
/// start_spawned_here without a scheduler on this thread: current_context throws.
[[gnu::noinline]] void start_spawned_nowhere(spawn_promise_base& s, const char* api) {
  start_spawned_slow(current_context(api), s);
}
}  // namespace

void start_spawned(context& ctx, spawn_promise_base& s) {
  if (ctx.closed_or_debug() || !this_thread_counters.linked) [[unlikely]] {
    return start_spawned_slow(ctx, s);
  }
  count(thread_count::tasks_spawned);  // before start: the task may run (and be counted) at once
  s.ctx_ = &ctx;
  ctx.start(s);
}

void start_spawned_here(spawn_promise_base& s, const char* api) {
  if (this_context == nullptr) [[unlikely]] return start_spawned_nowhere(s, api);
  start_spawned(*this_context, s);
}

std::coroutine_handle<> spawn_promise_base::join_await(std::coroutine_handle<> joiner,
                                                       cancel_state* joiner_cancel) {
  // Not started yet: the joiner could only wait, so it runs the task now (depth first), and the
  // task's end transfers back to it. Taken before the joiner is published (after that the task
  // may end and the handle move on); once taken, never again: its ticket may be reused. A task
  // taken back has not run, so it cannot have finished before the join is registered.
  if (started_) return join_wait(joiner, joiner_cancel);
  return ctx_->join_start(*this, joiner, joiner_cancel);
}

// join_help and join_wait are not inlined: join_await and the contexts' join_start tail-call
// them, and so save no registers.
[[gnu::noinline]] std::coroutine_handle<> spawn_promise_base::join_help(
    std::coroutine_handle<> joiner, cancel_state* joiner_cancel, bool local) noexcept {
  started_ = true;
  join_suspend(joiner, joiner_cancel, local);
  return transfer_to(self());
}

[[gnu::noinline]] std::coroutine_handle<> spawn_promise_base::join_wait(
    std::coroutine_handle<> joiner, cancel_state* joiner_cancel) noexcept {
  return join_suspend(joiner, joiner_cancel, handle_local()) ? std::noop_coroutine() : joiner;
}

std::coroutine_handle<> spawn_promise_base::finished() noexcept {
  if (group_ != nullptr) [[unlikely]] return finished_in_group();
  return ctx_->end_task(*this);
}

[[gnu::noinline]] std::coroutine_handle<> spawn_promise_base::finished_in_group() noexcept {
  group_leave(*this, false);  // before the handle can see it done
  return ctx_->end_task(*this);
}

[[gnu::always_inline]] inline std::coroutine_handle<> spawn_promise_base::hand_over_counted()
    noexcept {
  // While a joiner on this thread holds the handle, nobody else can write state_ (see add).
  // relaxed: only this thread sets or clears local_joiner_bit.
  const bool local = (state_.load(std::memory_order_relaxed) & local_joiner_bit) != 0;
  const unsigned old = add(done_bit - ref_one, local);
  // No member after the RMW unless a joiner holds the frame: a detach may free it.
  if ((old & joiner_bit) == 0) {
    if (old / ref_one == 1) return hand_over_detached(old + done_bit - ref_one);
    return std::noop_coroutine();
  }
  // The joiner's reference is held until we resume it: the frame outlives this.
  const std::coroutine_handle<> joiner = std::exchange(joiner_, {});
  if (joiner_cancel_ != nullptr && !joiner_cancel_->try_disarm()) [[unlikely]] {
    return hand_over_disarming(joiner);
  }
  return transfer_to(joiner);
}

std::coroutine_handle<> spawn_promise_base::hand_over() noexcept {
  if (error_ || !this_thread_counters.linked) [[unlikely]] return hand_over_counting();
  count(thread_count::tasks_finished);
  return hand_over_counted();
}

[[gnu::noinline]] std::coroutine_handle<> spawn_promise_base::hand_over_counting() noexcept {
  count_task_end(error_);
  return hand_over_counted();
}

[[gnu::noinline]] std::coroutine_handle<> spawn_promise_base::hand_over_disarming(
    std::coroutine_handle<> joiner) noexcept {
  joiner_cancel_->disarm();
  return transfer_to(joiner);
}

[[gnu::noinline]] std::coroutine_handle<> spawn_promise_base::hand_over_detached(
    unsigned state) noexcept {
  free_frame(state);  // detached (or dropped) before the end
  return std::noop_coroutine();
}

// handle_local: an event loop's task ends, and its watchers run, on the loop's thread; its
// handle's owner is the only other writer of state_. When that owner is on the loop's thread too,
// every writer is this thread, and its updates need no RMW (a lock-prefixed one costs more than
// the rest of a join). The watchers keep their RMWs, and so does the task's end unless the
// handle's owner is suspended joining it from this thread (local_joiner_bit, which pins the
// handle here): the handle may otherwise be used from another thread meanwhile, with RMWs there.

void spawn_promise_base::free_frame_slow(unsigned state) noexcept {
  // A failure nobody observed is reported once, by whoever frees the frame of a detached task.
  if ((state & detached_bit) != 0 && error_ && !error_observed_ && ctx_ != nullptr &&
      !is_cancellation(error_)) {
    if (ctx_->debug()) [[unlikely]] debug_unretrieved(*this);
    ctx_->report(error_);
  }
  const std::coroutine_handle<> frame = self();
  const bool aborted = ctx_ == nullptr;
  const std::size_t size = place_;
  this->~spawn_promise_base();
  if (aborted) {
    frame_deallocate(frame.address(), size);  // the coroutine is gone: only the memory is left
  } else {
    frame.destroy();
  }
}

void spawn_promise_base::abort() noexcept {
  error_ = std::make_exception_ptr(cancelled_error());
  if (group_ != nullptr) group_leave(*this, true);
  if (state_.load(std::memory_order_relaxed) / ref_one == 1) {  // nobody else refers to it
    release();
    return;
  }
  // Keep the memory for the handle and the watchers: only the coroutine is destroyed.
  frames_being_kept.fetch_add(1, std::memory_order_relaxed);  // relaxed: read by this thread only
  this_thread.kept_frame = self().address();
  self().destroy();
  this_thread.kept_frame = nullptr;
  frames_being_kept.fetch_sub(1, std::memory_order_relaxed);
  ctx_ = nullptr;  // aborted: no scheduler runs it any more
  place_ = this_thread.kept_size;
  drop(done_bit);  // acq_rel there: error_ for the handle
}

void spawn_promise_base::request_cancel() noexcept {
  if (!is_done()) own_cancel.request();
}

void spawn_promise_base::throw_joined() {
  throw std::logic_error(
      "coloop::join_handle: already awaited by another task (one awaiter at a time)");
}

void spawn_promise_base::throw_joined_elsewhere() {
  throw std::logic_error(
      "coloop::join_handle: awaited on a thread that does not run the task's event loop or "
      "runtime; await it from a task of that loop or runtime");
}

bool spawn_promise_base::join_suspend(std::coroutine_handle<> joiner,
                                      cancel_state* joiner_cancel, bool local) noexcept {
  joiner_ = joiner;
  joiner_cancel_ = joiner_cancel;
  if (joiner_cancel != nullptr && !joiner_cancel->try_arm(this)) [[unlikely]] {
    return join_suspend_contended(local);
  }
  return join_publish(local);
}

// The slow paths of join_suspend, out of line so that its common one saves no registers.

bool spawn_promise_base::join_suspend_contended(bool local) noexcept {
  if (!joiner_cancel_->arm(this)) {
    // The joiner was cancelled before it suspended: pass it on and wait for the task to end.
    own_cancel.request();
    joiner_cancel_forwarded_ = true;
  }
  return join_publish(local);
}

bool spawn_promise_base::join_publish(bool local) noexcept {
  // The joiner bits are clear (one joiner at a time): adding sets them.
  const unsigned bits = local ? joiner_bit | local_joiner_bit : joiner_bit;
  if ((add(bits, local) & done_bit) == 0) [[likely]] return true;
  return join_unpublish(bits, local);
}

bool spawn_promise_base::join_unpublish(unsigned bits, bool local) noexcept {
  // Finished meanwhile: take the result now instead of waiting for a resumption.
  add(-bits, local);
  if (joiner_cancel_ != nullptr) joiner_cancel_->disarm();
  joiner_ = {};
  return false;
}

void spawn_promise_base::join_abandon() noexcept {
  // relaxed: the bits are the caller's own (it registered the join).
  const unsigned bits = state_.load(std::memory_order_relaxed) & (joiner_bit | local_joiner_bit);
  add(-bits, handle_local());
  if (joiner_cancel_ != nullptr) joiner_cancel_->disarm();
  joiner_ = {};
  joiner_cancel_ = nullptr;
}

bool spawn_promise_base::join_withdraw() noexcept {
  // acq_rel: pairs with finished()'s fetch_or; whichever comes first decides who owns joiner_.
  const unsigned old = state_.fetch_sub(joiner_bit, std::memory_order_acq_rel);
  if ((old & done_bit) != 0) return false;
  joiner_ = {};
  joiner_cancel_ = nullptr;
  return true;
}

cancel_outcome spawn_promise_base::on_joiner_cancel(cancel_slot* self) noexcept {
  auto* p = static_cast<spawn_promise_base*>(self);
  p->joiner_cancel_forwarded_ = true;
  p->own_cancel.request();
  return cancel_outcome::passed_on();  // the joiner resumes when the task ends
}

void spawn_promise_base::join_resume_slow() {
  cancel_state* joiner_cancel = std::exchange(joiner_cancel_, nullptr);
  if (error_) {
    error_observed_ = true;
    std::rethrow_exception(error_);
  }
  // The task finished with a value although the joiner's cancel was passed on: deliver the value
  // and leave the joiner's cancel pending for its next await.
  if (std::exchange(joiner_cancel_forwarded_, false) && joiner_cancel != nullptr) {
    joiner_cancel->request();
  }
}

void throw_empty_join_handle(bool taken) {
  if (taken) {
    throw std::logic_error(
        "coloop::join_handle: awaited again after co_await std::move(handle) took its result "
        "(await the handle as an lvalue to read the result more than once)");
  }
  throw std::logic_error("coloop::join_handle: awaiting an empty handle (detached or moved-from)");
}

}  // namespace coloop::detail
