#pragma once
// layer: sync
// The FIFO hand-off waiter list under mutex, semaphore, condition and the queues: each waiter is
// handed its lock, permits, item or notification one at a time, in arrival order. Intrusive: a
// waiter lives in its coroutine frame, so waiting allocates nothing.
//
// A primitive (a handoff_owner) keeps its state and its lists under lock_. Granting happens
// under lock_ into a wake_batch; the batch disarms and posts its waiters after lock_ is released,
// so nothing is resumed or disarmed while a lock is held (an on_cancel takes lock_).

#include <atomic>
#include <coloop/core/cancellation.hpp>
#include <coloop/detail/intrusive_list.hpp>
#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/scheduler.hpp>
#include <coroutine>
#include <mutex>

namespace coloop::detail {

class handoff_owner;
class handoff_list;
class wake_batch;

enum class handoff_state : unsigned char {
  idle,       // not waiting (yet)
  queued,     // linked, suspended, waiting for its hand-off
  granted,    // handed what it waited for; its resumption is posted
  taken,      // it has what it asked for (without waiting, or await_resume ran)
  cancelled,  // withdrawn by a cancel: the primitive's state is as if it never came
  closed,     // woken by a queue's shutdown
};

/// A waiter of a hand-off primitive. Subclasses add what is handed over (k permits, an item).
class handoff_waiter : public cancel_slot {
 public:
  explicit handoff_waiter(handoff_owner& owner) noexcept
      : cancel_slot{&on_cancel}, owner_(&owner) {}
  handoff_waiter(const handoff_waiter&) = delete;
  handoff_waiter& operator=(const handoff_waiter&) = delete;
  /// A frame destroyed while queued leaves the list; one destroyed after its hand-off but before
  /// it resumed passes what it was handed on (handoff_owner::abandoned).
  ~handoff_waiter() {
    // acquire: pairs with the granter's release, so "taken"/"idle" read here is final.
    const handoff_state s = state_.load(std::memory_order_acquire);
    if (s == handoff_state::queued || s == handoff_state::granted) leave();
  }

  handoff_state state() const noexcept { return state_.load(std::memory_order_relaxed); }
  unsigned char kind() const noexcept { return kind_; }
  /// Throws cancelled_error or system_error(errc::closed) if the wait ended that way, else marks
  /// the hand-off taken. On the waiter's thread, after it resumed.
  void check_resumed();

 protected:
  /// Under the owner's lock, after the fast path failed: links this waiter to `list` and arms its
  /// cancel slot. False (state cancelled) if a cancel was pending: do not suspend.
  bool park(handoff_list& list, std::coroutine_handle<> h, cancel_state* cancel) noexcept;
  /// The coop budget for an operation that completed at once: false when it is spent and the
  /// awaiter must suspend anyway; then await_suspend calls requeue().
  static bool spend() noexcept { return spend_budget(); }
  /// From await_suspend after the fast path succeeded with the budget spent: marks the hand-off
  /// granted (so a frame destroyed before it resumes passes it on) and gives way.
  bool requeue(std::coroutine_handle<> h) noexcept;
  void set_state(handoff_state s) noexcept { state_.store(s, std::memory_order_relaxed); }
  /// Ends the wait of a frame being destroyed: unlinks a queued waiter, passes on a grant that
  /// was never taken. Returns the state it found.
  handoff_state leave() noexcept;

 public:
  /// Hands a queued, unlinked waiter over to another owner (condition to mutex), with both
  /// owners' locks held; its cancel slot stays armed and now withdraws it from `o`.
  void move_to(handoff_owner& o) noexcept { owner_.store(&o, std::memory_order_relaxed); }

 protected:
  unsigned char kind_ = 0;  // which of its owner's lists it waits on, for the owner's hooks

 private:
  friend class handoff_list;
  friend class intrusive_list<handoff_waiter>;
  friend class wake_batch;
  /// Locks the owner's lock_, following a move_to that happened meanwhile.
  handoff_owner* lock_owner() noexcept;
  static cancel_outcome on_cancel(cancel_slot* self) noexcept;

  // Changed only by move_to, under both owners' locks: stable for whoever holds its lock_.
  std::atomic<handoff_owner*> owner_;
  handoff_list* list_ = nullptr;
  handoff_waiter* prev_ = nullptr;
  handoff_waiter* next_ = nullptr;
  std::coroutine_handle<> waiter_;
  scheduler* sched_ = nullptr;
  cancel_state* cancel_ = nullptr;
  std::atomic<handoff_state> state_{handoff_state::idle};
};

/// Intrusive FIFO of queued waiters; the owner's lock guards it.
class handoff_list {
 public:
  bool empty() const noexcept { return waiters_.empty(); }
  handoff_waiter* front() const noexcept { return waiters_.front(); }
  void push_back(handoff_waiter& w) noexcept {
    w.list_ = this;
    waiters_.push_back(w);
  }
  handoff_waiter* pop_front() noexcept {
    handoff_waiter* w = waiters_.front();
    if (w != nullptr) remove(*w);
    return w;
  }
  void remove(handoff_waiter& w) noexcept {
    waiters_.remove(w);
    w.list_ = nullptr;
  }

 private:
  intrusive_list<handoff_waiter> waiters_;
};

/// Waiters granted (or closed) under a lock, woken when the batch goes out of scope: declare it
/// before the lock_guard so it is destroyed after the lock is released.
class wake_batch {
 public:
  wake_batch() noexcept = default;
  wake_batch(const wake_batch&) = delete;
  wake_batch& operator=(const wake_batch&) = delete;
  ~wake_batch() { wake(); }
  /// Under the lock: `w` (already unlinked) ends its wait in state `s`.
  void add(handoff_waiter& w, handoff_state s = handoff_state::granted) noexcept;
  void wake() noexcept;

 private:
  handoff_waiter* head_ = nullptr;
  handoff_waiter** tail_ = &head_;
};

/// A primitive whose waiters are handoff_waiters.
class handoff_owner {
 protected:
  handoff_owner() = default;
  virtual ~handoff_owner() = default;
  handoff_owner(const handoff_owner&) = delete;
  handoff_owner& operator=(const handoff_owner&) = delete;

  /// Under lock_: queued waiter `w` was withdrawn (cancelled or destroyed); grant whoever that
  /// unblocks.
  virtual void withdrawn(handoff_waiter& w, wake_batch& woken) noexcept;
  /// Under lock_: granted waiter `w` will never resume (its frame is gone): pass on what it was
  /// handed, so nothing is lost.
  virtual void abandoned(handoff_waiter& w, wake_batch& woken) noexcept = 0;

  mutable std::mutex lock_;

 private:
  friend class handoff_waiter;
};

}  // namespace coloop::detail
