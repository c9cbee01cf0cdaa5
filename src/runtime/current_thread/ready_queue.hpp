#pragma once
// The loop's FIFO of callbacks ready to run: a growable ring, so pushing allocates only while the
// ring grows to its high-water mark.

#include <cstddef>
#include <memory>
#include <utility>

#include <coloop/detail/callback.hpp>

namespace coloop::detail {

class ready_queue {
 public:
  ready_queue() : slots_(std::make_unique<callback[]>(initial_capacity)), mask_(initial_capacity - 1) {}

  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }

  void push(callback&& cb) {
    if (size() == mask_ + 1) grow();
    slots_[tail_++ & mask_] = std::move(cb);
  }
  callback pop() noexcept { return std::move(slots_[head_++ & mask_]); }
  void clear() noexcept {
    while (!empty()) pop().reset();
  }

 private:
  static constexpr std::size_t initial_capacity = 256;
  void grow() {
    const std::size_t capacity = (mask_ + 1) * 2;
    auto bigger = std::make_unique<callback[]>(capacity);
    std::size_t n = 0;
    while (!empty()) bigger[n++] = pop();
    slots_ = std::move(bigger);
    mask_ = capacity - 1;
    head_ = 0;
    tail_ = n;
  }
  std::unique_ptr<callback[]> slots_;
  std::size_t mask_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace coloop::detail
