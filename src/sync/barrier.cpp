// barrier: a FIFO of this cycle's waiters under one mutex.
//
// Invariants: waiting_ is the number of linked awaiters; an awaiter is linked exactly while
// queued_, and its cancel slot armed exactly then. The arrival that makes the count reach
// parties_ unlinks the whole cycle, numbers it and resets the count in one critical section, so
// a cancel either finds its awaiter still linked (and takes back its arrival) or already
// released (the request stays pending for the task's next await): never both. Wakes happen after
// the lock is released: disarm may wait for an on_cancel that needs it.

#include <coloop/sync/barrier.hpp>

#include <coloop/core/errors.hpp>

#include <stdexcept>
#include <system_error>

namespace coloop {

barrier::barrier(std::size_t parties) : parties_(parties) {
  if (parties == 0) throw std::invalid_argument("barrier: parties must be at least 1");
}

bool barrier::awaiter::enter(std::coroutine_handle<> h, detail::cancel_state* cancel) noexcept {
  cancelled_ = false;
  waiter_ = h;
  sched_ = detail::current_scheduler();
  barrier& b = *barrier_;
  awaiter* released = nullptr;
  {
    std::lock_guard lock(b.mutex_);
    if (b.broken_) {
      broken_ = true;
      return false;
    }
    if (b.waiting_ + 1 == b.parties_) {
      // The last arrival: release the cycle in arrival order; it keeps the highest index.
      std::size_t i = 0;
      released = b.waiters_.take_all();
      for (awaiter* a = released; a != nullptr; a = a->next_) {
        a->index_ = i++;
        a->queued_ = false;
      }
      b.waiting_ = 0;
      index_ = i;
    } else {
      if (cancel != nullptr && !cancel->arm(this)) {
        cancelled_ = true;  // a cancel was pending: do not arrive
        return false;
      }
      cancel_ = cancel;
      b.waiters_.push_back(*this);
      ++b.waiting_;
      queued_ = true;
      return true;
    }
  }
  wake(released);
  return false;
}

std::size_t barrier::awaiter::await_resume() const {
  if (cancelled_) detail::throw_cancelled();
  if (broken_) throw std::system_error(make_error_code(errc::closed), "barrier aborted");
  return index_;
}

void barrier::awaiter::leave() noexcept {
  {
    std::lock_guard lock(barrier_->mutex_);
    if (!queued_) return;
    barrier_->unlink(*this);
  }
  if (cancel_ != nullptr) cancel_->disarm();
}

detail::cancel_outcome barrier::awaiter::on_cancel(detail::cancel_slot* self) noexcept {
  auto* a = static_cast<awaiter*>(self);
  std::lock_guard lock(a->barrier_->mutex_);
  if (!a->queued_) return detail::cancel_outcome::completed();
  a->barrier_->unlink(*a);  // takes its arrival back: the cycle still needs as many as before
  a->cancelled_ = true;
  return {a->waiter_, a->sched_};
}

void barrier::unlink(awaiter& a) noexcept {
  waiters_.remove(a);
  a.queued_ = false;
  --waiting_;
}

void barrier::wake(awaiter* list) noexcept {
  while (awaiter* a = list) {
    list = a->next_;
    if (a->cancel_ != nullptr) a->cancel_->disarm();
    detail::post_from_any_thread(a->sched_, a->waiter_);  // the frame holding `a` may run now
  }
}

void barrier::abort() noexcept {
  awaiter* released = nullptr;
  {
    std::lock_guard lock(mutex_);
    broken_ = true;
    released = waiters_.take_all();
    for (awaiter* a = released; a != nullptr; a = a->next_) {
      a->broken_ = true;
      a->queued_ = false;
    }
    waiting_ = 0;
  }
  wake(released);
}

std::size_t barrier::n_waiting() const noexcept {
  std::lock_guard lock(mutex_);
  return waiting_;
}

bool barrier::broken() const noexcept {
  std::lock_guard lock(mutex_);
  return broken_;
}

}  // namespace coloop
