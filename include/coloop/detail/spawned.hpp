#pragma once
// layer: runtime
// A spawned task's join state. spawn builds it in the task's own promise (task_promise::spawn_),
// so a spawned task is one coroutine frame: its cancel_state, the outcome the join_handle reads
// (the promise's result, the exception copied to error_), the joiner, its registry and group
// links, and the reference count of the frame, shared by the running task and the join_handle
// and freed by whoever is last. The task may finish on one thread while its handle is awaited,
// detached or dropped on another (runtime workers), so the hand-off is one atomic word holding
// the flags and the reference count: ending and detaching each flag and drop in one RMW.

#include <atomic>
#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string_view>
#include <utility>

#include <coloop/core/task.hpp>

namespace coloop::detail {

class context;
class group_core;
class spawn_promise_base;
struct task_extra;  // a name, and debug mode's profile (src/runtime/task_extra.hpp)
void delete_task_extra(spawn_promise_base& s) noexcept;

/// A task_group child's links in its group's list (null group_: not in a group).
struct group_member {
  group_core* group_ = nullptr;
  group_member* gprev_ = nullptr;
  group_member* gnext_ = nullptr;
};

class spawn_promise_base : public spawn_header, private cancel_slot, public group_member {
 public:
  explicit spawn_promise_base(std::coroutine_handle<> (*on_finish)(void*) noexcept) noexcept
      : spawn_header{{}, on_finish}, cancel_slot{&on_joiner_cancel} {}
  spawn_promise_base(const spawn_promise_base&) = delete;
  spawn_promise_base& operator=(const spawn_promise_base&) = delete;

  /// The task has ended (its outcome is in place): unregister, hand over to the joiner.
  std::coroutine_handle<> finished() noexcept;
  /// finished() once unregistered (its context's end_task tail-calls it): counts the end and
  /// hands over to the joiner, or frees the frame of a detached task.
  std::coroutine_handle<> hand_over() noexcept;
  /// Drops one reference (the task's, the handle's or a watcher's); the last frees the frame.
  void release() noexcept { drop(0); }
  /// Takes one more reference (a watcher's), while the caller holds one.
  void add_ref() noexcept {
    // relaxed: the caller's reference is held, as in a shared_ptr copy.
    state_.fetch_add(ref_one, std::memory_order_relaxed);
  }

  bool is_done() const noexcept { return (state_.load(std::memory_order_acquire) & done_bit) != 0; }

  // join_handle operations (the handle's owner)
  void request_cancel() noexcept;
  void detach() noexcept { drop(detached_bit, handle_local()); }
  /// Throws std::logic_error if another task already awaits the handle.
  void check_joinable() const {
    // relaxed: the joiner bits are only set by the handle's owner, this thread.
    if ((state_.load(std::memory_order_relaxed) & joiner_bit) != 0) [[unlikely]] throw_joined();
  }
  /// `local`: the caller owns the handle on the task's own event loop thread (handle_local()).
  bool join_suspend(std::coroutine_handle<> joiner, cancel_state* joiner_cancel,
                    bool local = false) noexcept;
  /// join_suspend for a join_handle's awaiter: what it transfers to. The task itself when its
  /// first step could be taken back from the queue (the joiner runs it at once), the joiner when
  /// the task has finished meanwhile, else noop_coroutine(). Throws std::logic_error on a thread
  /// that does not run the task's scheduler (the end would resume the joiner there), before
  /// registering anything.
  std::coroutine_handle<> join_await(std::coroutine_handle<> joiner, cancel_state* joiner_cancel);
  [[noreturn]] static void throw_joined_elsewhere();
  /// join_await's task taken back from its queue: the joiner runs it now. `local`: the
  /// scheduler knows it is handle_local() (an event loop's thread).
  std::coroutine_handle<> join_help(std::coroutine_handle<> joiner, cancel_state* joiner_cancel,
                                    bool local) noexcept;
  /// join_await's task already started: the joiner waits for its end.
  std::coroutine_handle<> join_wait(std::coroutine_handle<> joiner,
                                    cancel_state* joiner_cancel) noexcept;
  void join_abandon() noexcept;  // the joiner's frame is destroyed while waiting
  /// Takes back a joiner registered without a cancel_state, racing the task's end on any thread:
  /// true if it will not be resumed; false if the task has finished and resumes (or resumed) it.
  bool join_withdraw() noexcept;
  /// Rethrows the task's exception.
  void join_resume() {
    if (error_ || joiner_cancel_forwarded_) [[unlikely]] return join_resume_slow();
    joiner_cancel_ = nullptr;
  }
  /// The loop is closing with the task unfinished: destroy its coroutines now (their locals may
  /// refer to the loop), mark it cancelled and drop the task's reference. While a handle or a
  /// watcher still refers to it, the frame's memory stays, holding this state only.
  void abort() noexcept;
  /// spawn failed: undo the construction; the task object still owns (and frees) the frame.
  void discard() noexcept { this->~spawn_promise_base(); }

  /// The task's coroutine, whose promise holds this join state.
  std::coroutine_handle<> self() const noexcept { return spawned_frame(this); }
  context* ctx_ = nullptr;  // the scheduler it runs on
  spawn_promise_base* prev_ = nullptr;  // task_registry links
  spawn_promise_base* next_ = nullptr;
  std::exception_ptr error_;
  std::coroutine_handle<> joiner_;
  cancel_state* joiner_cancel_ = nullptr;
  // state_: the flags in the low bits, the reference count (the task, the handle, the
  // watchers) above them, in units of ref_one.
  // local_joiner_bit: the joiner is the handle's owner on the loop's thread (handle_local).
  static constexpr unsigned done_bit = 1, detached_bit = 2, joiner_bit = 4, local_joiner_bit = 8,
                            ref_one = 16;
  std::atomic<unsigned> state_{2 * ref_one};
  bool error_observed_ = false;
  bool joiner_cancel_forwarded_ = false;
  bool taken_ = false;  // co_await std::move(handle) took the outcome (the handle's owner only)
  bool started_ = false;  // join_help ran it (its queued first step is withdrawn)
  // One word, three uses that never overlap: on an event loop, where its first step is queued;
  // on the runtime, its task-registry shard (its spawning worker's); once abort() destroyed the
  // coroutine (ctx_ is then null), the size of the memory kept.
  std::size_t place_ = 0;
  /// The spawn call's place (kept in the task_extra once there is one).
  site spawned_at() const noexcept;
  /// Allocated once named, or spawned in debug mode; nullptr before.
  task_extra* extra() const noexcept {
    return (info_ & has_extra) != 0 ? reinterpret_cast<task_extra*>(info_ & ~has_extra) : nullptr;
  }
  void set_spawned_at(site where) noexcept;
  /// Allocates the task_extra (name_task's mutex held, or before the task starts).
  task_extra& make_extra();

 private:
  ~spawn_promise_base() {
    if ((info_ & has_extra) != 0) [[unlikely]] delete_task_extra(*this);
  }
  // One word: the spawn site (g++: its record's address; clang: in spawned_at_), or the
  // task_extra tagged with has_extra, which then holds the site. Both are aligned.
  static constexpr std::uintptr_t has_extra = 1;
  std::uintptr_t info_ = 0;
#if defined(__clang__)
  site spawned_at_;
#endif
  /// Sets `flag` (not set yet; 0: none) and drops one reference in one RMW (`local`: in a
  /// load and a store, see handle_local).
  void drop(unsigned flag, bool local = false) noexcept {
    const unsigned old = add(flag - ref_one, local);
    if (old / ref_one == 1) free_frame(old + flag - ref_one);
  }
  /// Adds `delta` to state_ and returns the old value; `local`: without an RMW.
  unsigned add(unsigned delta, bool local) noexcept {
    if (local) {
      // relaxed: every writer is this thread (handle_local); other threads only read the flags.
      const unsigned old = state_.load(std::memory_order_relaxed);
      state_.store(old + delta, std::memory_order_relaxed);
      return old;
    }
    // acq_rel: the last owner sees every other owner's writes before freeing; the end publishes
    // the outcome to the joiner and sees the joiner's fields.
    return state_.fetch_add(delta, std::memory_order_acq_rel);
  }
  /// Whether the handle's owner is on the task's own event loop thread (spawned.cpp says why
  /// that spares the RMWs). Never once aborted (ctx_ null): local_loop is a sentinel then.
  bool handle_local() const noexcept {
    return static_cast<const void*>(ctx_) == this_thread.local_loop;
  }
  /// The last reference is gone: destroys the coroutine. What only a failed, aborted or named
  /// task needs is in free_frame_slow, off the common path.
  void free_frame(unsigned state) noexcept {
    if (error_ || ctx_ == nullptr || extra() != nullptr) [[unlikely]] return free_frame_slow(state);
    self().destroy();  // ~spawn_promise_base would do nothing: no error_, no task_extra
  }
  void free_frame_slow(unsigned state) noexcept;
  // finished()'s and hand_over()'s rare cases, tail calls: their common paths save no registers.
  std::coroutine_handle<> finished_in_group() noexcept;
  std::coroutine_handle<> hand_over_counting() noexcept;
  std::coroutine_handle<> hand_over_counted() noexcept;
  std::coroutine_handle<> hand_over_disarming(std::coroutine_handle<> joiner) noexcept;
  std::coroutine_handle<> hand_over_detached(unsigned state) noexcept;
  void join_resume_slow();
  [[gnu::noinline]] bool join_suspend_contended(bool local) noexcept;
  bool join_publish(bool local) noexcept;
  [[gnu::noinline]] bool join_unpublish(unsigned bits, bool local) noexcept;
  [[noreturn]] static void throw_joined();
  static cancel_outcome on_joiner_cancel(cancel_slot* self) noexcept;
};
static_assert(sizeof(spawn_promise_base) <= spawn_state_size, "grow spawn_state_size");

inline void spawn_promise_base::set_spawned_at(site where) noexcept {
#if defined(__clang__)
  spawned_at_ = where;
#else
  info_ = std::bit_cast<std::uintptr_t>(where);  // g++'s site is one pointer
#endif
}

/// The join state in the promise of the spawned task `h`.
template <class T>
spawn_promise_base& spawn_state(task_promise<T>& p) noexcept {
  return *std::launder(reinterpret_cast<spawn_promise_base*>(p.spawn_));
}
/// The promise of the spawned task whose join state is `s`.
template <class T>
task_promise<T>& spawned_promise(const spawn_promise_base& s) noexcept {
  return std::coroutine_handle<task_promise<T>>::from_address(s.self().address()).promise();
}

/// A spawned task ended with an exception: the join state keeps it for the handle.
template <class T>
[[gnu::noinline]] std::coroutine_handle<> finish_failed(task_promise<T>& p) noexcept {
  spawn_promise_base& s = spawn_state(p);
  s.error_ = p.outcome().exception();
  return s.finished();
}

template <class T>
std::coroutine_handle<> finish_spawned(void* promise) noexcept {
  auto& p = *static_cast<task_promise<T>*>(promise);
  if (p.outcome().has_exception()) [[unlikely]] return finish_failed(p);
  return spawn_state(p).finished();
}

/// Builds the join state in `t`'s promise; the task then runs under its own cancel_state.
/// Throws std::logic_error for an empty task.
template <class T>
spawn_promise_base& make_spawned(const task<T>& t, site where) {
  if (!t.valid()) throw_empty_task();
  auto h = t.handle();
  static_assert(alignof(task_promise<T>) <= 16,
                "coloop::spawn: a task's result type may be aligned to 16 bytes at most");
  auto* s = ::new (static_cast<void*>(h.promise().spawn_)) spawn_promise_base(&finish_spawned<T>);
  s->set_spawned_at(where);
  h.promise().cancel_ = &s->own_cancel;
  return *s;
}

/// Registers the task with `ctx` and queues its first step. Throws if `ctx` is closed.
void start_spawned(context& ctx, spawn_promise_base& s);
/// start_spawned on this thread's scheduler; throws std::logic_error naming `api` if none runs.
void start_spawned_here(spawn_promise_base& s, const char* api);
/// The scheduler running on this thread; throws std::logic_error naming `api` if none runs.
context& current_context(const char* api);
/// Names the task (spawn_options::name, join_handle::set_name); thread-safe against dumps.
void name_task(spawn_promise_base& s, std::string_view name);

}  // namespace coloop::detail
