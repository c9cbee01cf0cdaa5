#pragma once
// watch<T>: the latest value, and a way to wait for it to change (tokio::sync::watch).

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>

#include <coloop/detail/channel_core.hpp>

namespace coloop {

/// Holds one value; send() replaces it and wakes the receivers that wait for a change. Each
/// receiver remembers the version it has seen, so a change made between two waits is never
/// missed and several changes made before it wakes count as one. Destroying the watch closes it.
/// Thread safety: every member from any thread; move-only.
template <class T>
class watch {
  struct state : detail::channel_core {
    explicit state(T v) : value(std::move(v)) {}
    T value;  // under mutex
  };

 public:
  /// A subscriber: the version it has seen. Use it from one task at a time; move-only.
  class receiver : public detail::channel_receiver<state> {
   public:
    using changed_awaiter =
        typename detail::channel_receiver<state>::template awaiter<receiver, void>;

    /// `co_await rx.changed()`: returns at once if the value changed since this receiver last
    /// saw it, else at the next send(); either way the current version is then seen. Throws
    /// std::system_error(errc::closed) once the watch is closed and no change is unseen.
    /// Cancellable: a cancelled wait throws cancelled_error and leaves the change unseen.
    changed_awaiter changed() {
      if (!state_) throw std::logic_error("watch::receiver::changed: moved-from receiver");
      return changed_awaiter(*this);
    }
    /// A copy of the current value; does not mark it seen.
    T get() const {
      const state& s = checked("watch::receiver::get");
      std::lock_guard lock(s.mutex);
      return s.value;
    }
    /// Same as get().
    T borrow() const { return get(); }
    /// A copy of the current value, marked seen (a later changed() waits for the next send).
    T borrow_and_update() {
      state& s = checked("watch::receiver::borrow_and_update");
      std::lock_guard lock(s.mutex);
      pos_.seen = s.version.load(std::memory_order_relaxed);  // under the mutex
      return s.value;
    }
    /// Whether the value changed since this receiver last saw it.
    bool has_changed() const noexcept {
      return state_ && state_->version.load(std::memory_order_acquire) != pos_.seen;
    }

   private:
    friend class watch;
    friend changed_awaiter;
    using detail::channel_receiver<state>::state_;
    using detail::channel_receiver<state>::pos_;  // seen: the version this receiver has seen
    explicit receiver(std::shared_ptr<state> s, std::uint64_t seen) noexcept
        : detail::channel_receiver<state>(std::move(s), seen) {}
    const state& checked(const char* what) const {
      if (!state_) detail::throw_moved_from(what);
      return *state_;
    }
    state& checked(const char* what) {
      if (!state_) detail::throw_moved_from(what);
      return *state_;
    }
    void on_woken() {  // cancelled: the change stays unseen
      const std::uint64_t v = state_->version.load(std::memory_order_acquire);  // pairs: publish
      if (v == pos_.seen) detail::throw_channel_closed("watch::receiver::changed");
      pos_.seen = v;
    }
  };

  /// A watch holding `initial` (version 0).
  explicit watch(T initial) : state_(std::make_shared<state>(std::move(initial))) {}
  watch(watch&&) noexcept = default;
  watch& operator=(watch&&) = delete;
  ~watch() {
    if (state_) state_->close();
  }

  /// Replaces the value and wakes every receiver waiting in changed(); returns how many
  /// receivers there are. Throws std::system_error(errc::closed) after close(). Any thread.
  std::size_t send(T value) {
    state& s = checked("watch::send");
    std::size_t receivers = 0;
    {
      std::lock_guard lock(s.mutex);
      if (s.closed.load(std::memory_order_relaxed)) detail::throw_channel_closed("watch::send");
      s.value = std::move(value);
      s.publish();
      receivers = s.receivers.load(std::memory_order_relaxed);  // a count only
    }
    s.wake();
    return receivers;
  }
  /// Same as send().
  std::size_t set(T value) { return send(std::move(value)); }
  /// A copy of the current value. Any thread.
  T get() const {
    const state& s = checked("watch::get");
    std::lock_guard lock(s.mutex);
    return s.value;
  }
  /// Same as get().
  T borrow() const { return get(); }
  /// How many times the value was sent.
  std::uint64_t version() const noexcept {
    return state_ ? state_->version.load(std::memory_order_acquire) : 0;
  }
  /// A new receiver that has seen the current value: its changed() waits for the next send.
  receiver subscribe() {
    state& s = checked("watch::subscribe");
    std::lock_guard lock(s.mutex);
    s.receivers.fetch_add(1, std::memory_order_relaxed);  // a count only
    return receiver(state_, s.version.load(std::memory_order_relaxed));
  }
  /// Closes the watch: receivers see an unseen change, then get errc::closed; send throws
  /// errc::closed; get() still returns the last value. Idempotent; any thread.
  void close() noexcept {
    if (state_) state_->close();
  }
  /// Whether close() was called.
  bool is_closed() const noexcept {
    return !state_ || state_->closed.load(std::memory_order_acquire);
  }
  /// How many receivers exist (a snapshot).
  std::size_t receiver_count() const noexcept {
    return state_ ? state_->receivers.load(std::memory_order_relaxed) : 0;  // a count only
  }

 private:
  state& checked(const char* what) const {
    if (!state_) detail::throw_moved_from(what);
    return *state_;
  }

  std::shared_ptr<state> state_;
};

}  // namespace coloop
