// event and latch: a flag or a counter plus a wait_list. A waiter checks the flag under the
// list's lock and a notifier changes it before taking that lock (in notify_all), so a wake is
// never missed; neither holds a lock of its own.

#include <coloop/sync/event.hpp>
#include <coloop/sync/latch.hpp>

#include <stdexcept>
#include <string>

namespace coloop {

void event::set() noexcept {
  set_.store(true, std::memory_order_release);  // publishes what the setter wrote before set()
  waiters_.notify_all();
}

void event::clear() noexcept {
  set_.store(false, std::memory_order_relaxed);  // orders nothing: a cleared flag carries no data
}

bool event::is_set_fn(const void* self) noexcept {
  return static_cast<const event*>(self)->is_set();
}

latch::latch(std::ptrdiff_t count) : count_(count) {
  if (count < 0) throw std::invalid_argument("latch: negative count " + std::to_string(count));
}

void latch::count_down(std::ptrdiff_t k) {
  if (k < 0) throw std::invalid_argument("latch::count_down: negative k " + std::to_string(k));
  std::ptrdiff_t left = count_.load(std::memory_order_relaxed);
  do {
    if (k > left) {
      throw std::logic_error("latch::count_down(" + std::to_string(k) +
                             "): the count would go below zero (" + std::to_string(left) +
                             " left)");
    }
    // acq_rel: the last count_down sees every earlier one's writes and publishes them to waiters
  } while (!count_.compare_exchange_weak(left, left - k, std::memory_order_acq_rel,
                                         std::memory_order_relaxed));
  if (left == k && k > 0) waiters_.notify_all();
}

bool latch::zero_fn(const void* self) noexcept {
  return static_cast<const latch*>(self)->try_wait();
}

}  // namespace coloop
