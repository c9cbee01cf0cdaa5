#pragma once
// layer: sync
// What broadcast<T> and watch<T> share, outside the templates: the lock over their storage, the
// version a receiver compares with the one it has seen, the closed flag and the wait_list.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include <coloop/detail/wait_list.hpp>

namespace coloop::detail {

class channel_core {
 public:
  /// Guards the template's storage; version_ and closed_ change only under it too.
  mutable std::mutex mutex;
  wait_list waiters;
  /// broadcast: items sent so far; watch: how many times the value changed.
  std::atomic<std::uint64_t> version{0};
  std::atomic<bool> closed{false};
  std::atomic<std::size_t> receivers{0};

  /// Bumps the version; call holding `mutex`, then wake() once it is released.
  void publish() noexcept {
    // release: a waiter reading the new version (in ready(), under the list's lock) finds the
    // storage written
    version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  /// Wakes every receiver waiting; call with `mutex` released.
  void wake() noexcept { waiters.notify_all(); }
  /// Marks the channel closed and wakes every receiver. Idempotent.
  void close() noexcept;
  /// Whether a receiver that has seen `seen` has something to take (a change or the close).
  bool ready(std::uint64_t seen) const noexcept {
    // acquire: pairs with publish() and close()
    return version.load(std::memory_order_acquire) != seen ||
           closed.load(std::memory_order_acquire);
  }
};

/// A receiver's wait: done when its channel is ready() past the version it has seen.
struct receiver_position {
  const channel_core* core = nullptr;
  std::uint64_t seen = 0;
  static bool ready_fn(const void* self) noexcept {
    const auto* p = static_cast<const receiver_position*>(self);
    return p->core->ready(p->seen);
  }
};

/// What broadcast<T>::receiver and watch<T>::receiver share: their channel's state and the
/// position they have seen, counted in the channel's receivers while they hold it; and the
/// awaiter that waits until the channel is ready() past that position, then returns
/// `rx.on_woken()` (which Rx befriends it for).
template <class State>
class channel_receiver {
 public:
  template <class Rx, class R>
  class [[nodiscard]] awaiter {
   public:
    explicit awaiter(Rx& rx) noexcept
        : rx_(&rx), wait_(rx.state_->waiters, &receiver_position::ready_fn, &rx.pos_) {}
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      return wait_.await_suspend(h);
    }
    R await_resume() {
      wait_.await_resume();  // cancelled_error: nothing taken, the position unchanged
      return rx_->on_woken();
    }

   private:
    Rx* rx_;
    wait_list::awaiter wait_;
  };

  channel_receiver(channel_receiver&& other) noexcept
      : state_(std::move(other.state_)), pos_(other.pos_) {}
  channel_receiver& operator=(channel_receiver&&) = delete;
  ~channel_receiver() {
    if (state_) state_->receivers.fetch_sub(1, std::memory_order_relaxed);  // a count only
  }

 protected:
  channel_receiver(std::shared_ptr<State> s, std::uint64_t seen) noexcept
      : state_(std::move(s)), pos_{state_.get(), seen} {}

  std::shared_ptr<State> state_;
  receiver_position pos_;
};

[[noreturn]] void throw_channel_closed(const char* what);
[[noreturn]] void throw_moved_from(const char* what);

}  // namespace coloop::detail
