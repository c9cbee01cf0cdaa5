// inject_queue: the design and the closing rule are in inject_queue.hpp.

#include "runtime/multi_thread/inject_queue.hpp"

#include <algorithm>
#include <array>
#include <cassert>

#include "runtime/multi_thread/local_queue.hpp"

namespace coloop::detail::mt {

namespace {
constexpr std::size_t initial_capacity = 64;
}

inject_queue::inject_queue()
    : slots_(std::make_unique<void*[]>(initial_capacity)), mask_(initial_capacity - 1) {}

inject_queue::~inject_queue() { assert(is_empty() && "the runtime must drain the inject_queue"); }

void inject_queue::grow_to(std::size_t needed) {
  std::size_t capacity = mask_ + 1;
  if (needed <= capacity) return;
  while (capacity < needed) capacity *= 2;
  auto bigger = std::make_unique<void*[]>(capacity);  // may throw: nothing changed yet
  const std::size_t n = tail_ - head_;
  for (std::size_t i = 0; i < n; ++i) bigger[i] = slots_[(head_ + i) & mask_];
  slots_ = std::move(bigger);
  mask_ = capacity - 1;
  head_ = 0;
  tail_ = n;
}

void inject_queue::publish_len() noexcept {
  // release: a thread that reads this length (acquire) and then locks finds the tasks; the
  // mutex already orders the tasks themselves.
  len_.store(tail_ - head_, std::memory_order_release);
}

bool inject_queue::push(std::coroutine_handle<> h) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  grow_to(tail_ - head_ + 1);
  slots_[tail_++ & mask_] = h.address();
  publish_len();
  return true;
}

void inject_queue::push_batch(std::span<const std::coroutine_handle<>> hs) {
  std::lock_guard lock(mutex_);
  grow_to(tail_ - head_ + hs.size());
  for (const auto h : hs) slots_[tail_++ & mask_] = h.address();
  publish_len();
}

std::coroutine_handle<> inject_queue::pop() noexcept {
  if (is_empty()) return {};  // the common case on a busy runtime: no lock
  std::lock_guard lock(mutex_);
  if (head_ == tail_) return {};
  void* task = slots_[head_++ & mask_];
  publish_len();
  return std::coroutine_handle<>::from_address(task);
}

std::coroutine_handle<> inject_queue::pop_into(local_queue& dst, std::size_t max) noexcept {
  if (max == 0 || is_empty()) return {};
  std::array<std::coroutine_handle<>, local_queue::capacity> batch;
  std::size_t n = 0;
  void* first = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (head_ == tail_) return {};
    first = slots_[head_++ & mask_];
    n = std::min({max - 1, tail_ - head_, std::size_t{dst.remaining_slots()}});
    for (std::size_t i = 0; i < n; ++i) {
      batch[i] = std::coroutine_handle<>::from_address(slots_[head_++ & mask_]);
    }
    publish_len();
  }
  // Publish to dst outside the lock: stealers may take these at once.
  dst.push_back_batch(std::span<const std::coroutine_handle<>>(batch.data(), n));
  return std::coroutine_handle<>::from_address(first);
}

void inject_queue::close() noexcept {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

bool inject_queue::is_closed() const noexcept {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace coloop::detail::mt
