// local_queue: the design and invariants are in local_queue.hpp. Memory-order notes below use
// "the tail invariant": whoever acquires a head value must then read a tail at least as new as
// the one its writer had seen, else tail - real underflows. Every CAS that moves head is
// therefore a release, and every head load that precedes a tail load is an acquire.

#include "runtime/multi_thread/local_queue.hpp"

#include <cassert>

#include "runtime/multi_thread/inject_queue.hpp"

namespace coloop::detail::mt {

local_queue::local_queue(std::uint32_t start) noexcept : head_(pack(start, start)), tail_(start) {
  for (auto& slot : buffer_) slot.store(nullptr, std::memory_order_relaxed);  // not yet shared
}

local_queue::~local_queue() { assert(is_empty() && "the runtime must drain a local_queue"); }

std::uint32_t local_queue::remaining_slots() const noexcept {
  // acquire: a finished steal (its slot reads) happens before we count those slots as free.
  const std::uint32_t steal = steal_of(head_.load(std::memory_order_acquire));
  // relaxed: only this thread (the owner) stores tail.
  const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
  return capacity - (tail - steal);
}

std::uint32_t local_queue::len() const noexcept {
  // acquire: the tail invariant (the tail load below is at least as new as this head).
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  // acquire: pairs with the owner's release of tail (a snapshot either way).
  const std::uint32_t tail = tail_.load(std::memory_order_acquire);
  return tail - real_of(head);
}

void local_queue::push_back(std::coroutine_handle<> h, inject_queue& overflow) noexcept {
  for (;;) {
    // acquire: a stealer's release of its claim orders its slot reads before our overwrite.
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    // relaxed: only this thread (the owner) stores tail.
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    const std::uint32_t steal = steal_of(head);
    const std::uint32_t real = real_of(head);
    if (tail - steal < capacity) {
      // relaxed: published by the release store of tail below.
      buffer_[tail & mask].store(h.address(), std::memory_order_relaxed);
      // release: a stealer that acquires this tail sees the slot stored above.
      tail_.store(tail + 1, std::memory_order_release);
      return;
    }
    if (steal != real) {
      // Full while a stealer copies out: it will free room soon, but not waiting is simpler.
      overflow.push_batch(std::span<const std::coroutine_handle<>>(&h, 1));
      return;
    }
    if (push_overflow(h, real, tail, overflow)) return;
    // Lost the race to a stealer: the queue is no longer full, so the next round stores.
  }
}

bool local_queue::push_overflow(std::coroutine_handle<> h, std::uint32_t head,
                                [[maybe_unused]] std::uint32_t tail,
                                inject_queue& overflow) noexcept {
  constexpr std::uint32_t taken = capacity / 2;
  assert(tail - head == capacity);
  std::uint64_t expected = pack(head, head);
  // release: the tail invariant. relaxed on failure: we retry from a fresh acquire load.
  if (!head_.compare_exchange_strong(expected, pack(head + taken, head + taken),
                                     std::memory_order_release, std::memory_order_relaxed)) {
    return false;
  }
  // The claimed slots are ours alone: no steal was in flight and only we store slots.
  std::array<std::coroutine_handle<>, taken + 1> batch;
  for (std::uint32_t i = 0; i < taken; ++i) {
    // relaxed: we stored these slots ourselves.
    batch[i] = std::coroutine_handle<>::from_address(
        buffer_[(head + i) & mask].load(std::memory_order_relaxed));
  }
  batch[taken] = h;
  overflow.push_batch(batch);  // noexcept here: std::terminate on bad_alloc
  return true;
}

void local_queue::push_back_batch(std::span<const std::coroutine_handle<>> hs) noexcept {
  assert(hs.size() <= remaining_slots());
  // relaxed: only this thread (the owner) stores tail.
  std::uint32_t tail = tail_.load(std::memory_order_relaxed);
  for (const auto h : hs) {
    // relaxed: published by the release store of tail below.
    buffer_[tail++ & mask].store(h.address(), std::memory_order_relaxed);
  }
  // release: a stealer that acquires this tail sees the slots stored above.
  tail_.store(tail, std::memory_order_release);
}

std::coroutine_handle<> local_queue::pop() noexcept {
  // acquire: as in push_back (a finished steal's slot reads come before our later overwrite).
  std::uint64_t head = head_.load(std::memory_order_acquire);
  std::uint32_t index = 0;
  for (;;) {
    const std::uint32_t steal = steal_of(head);
    const std::uint32_t real = real_of(head);
    // relaxed: only this thread (the owner) stores tail.
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (real == tail) return {};
    // With no steal in flight steal follows real; otherwise the stealer moves steal when done.
    const std::uint64_t next = steal == real ? pack(real + 1, real + 1) : pack(steal, real + 1);
    // acq_rel: release for the tail invariant; acquire (also on failure) as the load above.
    if (head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      index = real & mask;
      break;
    }
  }
  // relaxed: we stored this slot ourselves, and the CAS above took it from the stealers.
  return std::coroutine_handle<>::from_address(buffer_[index].load(std::memory_order_relaxed));
}

std::coroutine_handle<> local_queue::steal_into(local_queue& dst) noexcept {
  // relaxed: the caller owns dst, so it is the only thread that stores dst's tail.
  const std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
  // acquire: finished steals from dst have read the dst slots we are about to write.
  const std::uint32_t dst_steal = steal_of(dst.head_.load(std::memory_order_acquire));
  if (dst_tail - dst_steal > capacity / 2) return {};  // keep room for the stolen half
  std::uint32_t n = steal_into2(dst, dst_tail);
  if (n == 0) return {};
  --n;  // the last task stolen is returned rather than published
  // relaxed: we stored this dst slot ourselves in steal_into2.
  void* ret = dst.buffer_[(dst_tail + n) & mask].load(std::memory_order_relaxed);
  if (n != 0) {
    // release: a thread stealing from dst sees the slots copied in.
    dst.tail_.store(dst_tail + n, std::memory_order_release);
  }
  return std::coroutine_handle<>::from_address(ret);
}

std::uint32_t local_queue::steal_into2(local_queue& dst, std::uint32_t dst_tail) noexcept {
  // acquire: the tail invariant (the tail load below is at least as new as this head).
  std::uint64_t prev = head_.load(std::memory_order_acquire);
  std::uint64_t next = 0;
  std::uint32_t n = 0;
  for (;;) {
    const std::uint32_t steal = steal_of(prev);
    const std::uint32_t real = real_of(prev);
    // acquire: pairs with the owner's release of tail, so the slots below it are stored.
    const std::uint32_t tail = tail_.load(std::memory_order_acquire);
    if (steal != real) return 0;  // another stealer is copying out of this queue
    n = tail - real;
    n -= n / 2;  // half, rounded up: a queue of one task can be stolen
    if (n == 0) return 0;
    next = pack(steal, real + n);
    // acq_rel: release for the tail invariant; acquire (also on failure) as the load above.
    if (head_.compare_exchange_weak(prev, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      break;
    }
  }
  assert(n <= capacity / 2);
  const std::uint32_t first = steal_of(next);
  for (std::uint32_t i = 0; i < n; ++i) {
    // relaxed: ordered after the owner's store by the acquire of tail above.
    void* task = buffer_[(first + i) & mask].load(std::memory_order_relaxed);
    // relaxed: published by the release store of dst's tail in steal_into.
    dst.buffer_[(dst_tail + i) & mask].store(task, std::memory_order_relaxed);
  }
  // Release the claim: steal catches up with real (which the owner may have advanced meanwhile).
  prev = next;
  for (;;) {
    const std::uint32_t real = real_of(prev);
    // acq_rel: release orders our slot reads before the owner, acquiring head, overwrites them;
    // acquire (also on failure) for the tail invariant.
    if (head_.compare_exchange_weak(prev, pack(real, real), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return n;
    }
    assert(steal_of(prev) != real_of(prev));  // only the owner's pops move head meanwhile
  }
}

}  // namespace coloop::detail::mt
