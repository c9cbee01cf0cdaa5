// when_all / when_any group: starts children inline, counts them home, cancels the unfinished
// ones on the first failure (all) or first completion (any), and resumes the parent only after the
// last child has finished. `remaining_` holds one extra count during start() so a child that
// finishes synchronously can never resume the parent from inside its own await_suspend.

#include <coloop/detail/group.hpp>

namespace coloop::detail {

group_state::group_state(group_mode mode) noexcept : cancel_slot{&on_parent_cancel}, mode_(mode) {}

bool group_state::start(std::coroutine_handle<> parent, cancel_state* parent_cancel,
                        group_child_promise_base* const* children, std::size_t count) {
  parent_ = parent;
  parent_cancel_ = parent_cancel;
  children_ = children;
  count_ = count;
  if (parent_cancel != nullptr && !parent_cancel->arm(this)) {
    cancelled_before_start_ = true;
    return false;
  }
  remaining_ = count + 1;
  for (std::size_t i = 0; i < count; ++i) {
    group_child_promise_base& c = *children[i];
    c.group_ = this;
    c.index_ = i;
    c.cancel_ = &c.own_cancel_;
  }
  for (std::size_t i = 0; i < count; ++i) children[i]->self_.resume();
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (parent_cancel_ != nullptr) parent_cancel_->disarm();
    return false;
  }
  return true;
}

std::coroutine_handle<> group_state::child_done(group_child_promise_base& child) noexcept {
  child.done_.store(true, std::memory_order_release);
  if (mode_ == group_mode::all) {
    if (child.error_ && !failed_.exchange(true, std::memory_order_relaxed)) {
      first_error_ = child.error_;
      cancel_unfinished();
    }
  } else {
    std::size_t none = static_cast<std::size_t>(-1);
    if (winner_.compare_exchange_strong(none, child.index_, std::memory_order_relaxed)) {
      cancel_unfinished();
    }
  }
  // acq_rel: the last child sees every sibling's result before it resumes the parent.
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return std::noop_coroutine();
  if (parent_cancel_ != nullptr) parent_cancel_->disarm();
  return transfer_to(parent_);
}

void group_state::cancel_unfinished() noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    if (!children_[i]->done_.load(std::memory_order_acquire)) children_[i]->own_cancel_.request();
  }
}

cancel_outcome group_state::on_parent_cancel(cancel_slot* self) noexcept {
  auto* g = static_cast<group_state*>(self);
  g->parent_cancelled_ = true;
  g->cancel_unfinished();
  return cancel_outcome::passed_on();  // the parent resumes when its children are done
}

void group_state::finish() {
  if (cancelled_before_start_) throw_cancelled();
  if (mode_ == group_mode::all && first_error_) std::rethrow_exception(first_error_);
  // The parent's cancel raced children that finished anyway: their results are delivered and
  // the request stays pending for the parent's next await.
  if (parent_cancelled_ && parent_cancel_ != nullptr &&
      (mode_ == group_mode::all || !children_[winner()]->error_)) {
    parent_cancel_->request();
  }
}

}  // namespace coloop::detail
