#pragma once
// broadcast<T>: every receiver gets every value (tokio::sync::broadcast).

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <coloop/detail/channel_core.hpp>

namespace coloop {

/// Thrown by broadcast<T>::receiver::recv when the receiver fell so far behind that the ring
/// overwrote values it had not received; the next recv continues from the oldest value kept.
class lagged_error : public std::runtime_error {
 public:
  explicit lagged_error(std::uint64_t missed);
  /// How many values this receiver lost.
  std::uint64_t missed() const noexcept { return missed_; }

 private:
  std::uint64_t missed_;
};

/// The sending side of a bounded broadcast channel: a ring of the last `capacity` values that
/// every receiver reads at its own pace. Sending never waits: when the ring is full the oldest
/// value is overwritten and receivers that had not read it get lagged_error. Destroying it
/// closes the channel. Thread safety: send, close and subscribe from any thread; move-only.
template <class T>
class broadcast {
  struct state : detail::channel_core {
    explicit state(std::size_t capacity) : ring(capacity) {}
    std::vector<std::optional<T>> ring;  // value number i lives at i % capacity; under mutex
  };

 public:
  /// One subscriber's position in the channel. Use it from one task at a time; move-only.
  class receiver : public detail::channel_receiver<state> {
   public:
    using recv_awaiter =
        typename detail::channel_receiver<state>::template awaiter<receiver, T>;

    /// `co_await rx.recv()` → a copy of the next value. Throws lagged_error (then continues from
    /// the oldest kept value) if values were overwritten before it read them, and
    /// std::system_error(errc::closed) once the channel is closed and every value kept for it
    /// has been received. Cancellable: a cancelled recv throws cancelled_error and takes nothing.
    recv_awaiter recv() {
      if (!state_) throw std::logic_error("broadcast::receiver::recv: moved-from receiver");
      return recv_awaiter(*this);
    }
    /// How many values are waiting for this receiver (lost ones included).
    std::uint64_t pending() const noexcept {
      return state_ ? state_->version.load(std::memory_order_acquire) - pos_.seen : 0;
    }

   private:
    friend class broadcast;
    friend recv_awaiter;
    using detail::channel_receiver<state>::state_;
    using detail::channel_receiver<state>::pos_;  // seen: the number of the next value to receive
    explicit receiver(std::shared_ptr<state> s, std::uint64_t next) noexcept
        : detail::channel_receiver<state>(std::move(s), next) {}
    T on_woken() {
      state& s = *state_;
      std::unique_lock lock(s.mutex);
      const std::uint64_t sent = s.version.load(std::memory_order_relaxed);  // under the mutex
      const std::uint64_t capacity = s.ring.size();
      const std::uint64_t oldest = sent > capacity ? sent - capacity : 0;
      if (pos_.seen < oldest) {
        const std::uint64_t missed = oldest - pos_.seen;
        pos_.seen = oldest;
        lock.unlock();
        throw lagged_error(missed);
      }
      if (pos_.seen == sent) {
        lock.unlock();
        detail::throw_channel_closed("broadcast::receiver::recv");
      }
      T value = *s.ring[pos_.seen % capacity];
      ++pos_.seen;
      return value;
    }
  };

  /// Throws std::invalid_argument if `capacity` is 0.
  explicit broadcast(std::size_t capacity) : state_(make_state(capacity)) {}
  broadcast(broadcast&&) noexcept = default;
  broadcast& operator=(broadcast&&) = delete;
  ~broadcast() {
    if (state_) state_->close();
  }

  /// Stores `value` for every current receiver and wakes them; returns how many receivers there
  /// are (0: nobody will see it). Throws std::system_error(errc::closed) after close(). Never
  /// waits; any thread.
  std::size_t send(T value) {
    state& s = checked("broadcast::send");
    std::size_t receivers = 0;
    {
      std::lock_guard lock(s.mutex);
      if (s.closed.load(std::memory_order_relaxed)) detail::throw_channel_closed("broadcast::send");
      s.ring[s.version.load(std::memory_order_relaxed) % s.ring.size()].emplace(std::move(value));
      s.publish();
      receivers = s.receivers.load(std::memory_order_relaxed);  // a count, published by nothing
    }
    s.wake();
    return receivers;
  }
  /// A new receiver; it gets the values sent from now on. Any thread.
  receiver subscribe() {
    state& s = checked("broadcast::subscribe");
    std::lock_guard lock(s.mutex);
    s.receivers.fetch_add(1, std::memory_order_relaxed);  // a count only
    return receiver(state_, s.version.load(std::memory_order_relaxed));
  }
  /// Closes the channel: receivers drain what is kept for them, then get errc::closed; send
  /// throws errc::closed. Idempotent; any thread.
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
  /// How many values the ring keeps.
  std::size_t capacity() const noexcept { return state_ ? state_->ring.size() : 0; }

 private:
  static std::shared_ptr<state> make_state(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("broadcast: capacity must be at least 1");
    return std::make_shared<state>(capacity);
  }
  state& checked(const char* what) const {
    if (!state_) detail::throw_moved_from(what);
    return *state_;
  }

  std::shared_ptr<state> state_;
};

}  // namespace coloop
