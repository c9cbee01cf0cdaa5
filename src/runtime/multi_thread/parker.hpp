#pragma once
// A worker's parker (tokio's `Parker`): sleep until unpark(), with no lost wake-ups.
//
// Design. One 32-bit atomic state, also the futex word:
//   empty    - nobody asleep, no pending notification;
//   notified - unpark() happened and no park() consumed it yet (at most one is remembered);
//   parked   - the owner sleeps on the futex;
//   driving  - the owner blocks in the I/O driver (park_on_driver), woken by the driver's waker.
// unpark() exchanges in `notified` and, by the state it replaced, wakes the futex or the driver.
// park() consumes `notified` or moves empty -> parked with a CAS before sleeping, and the futex
// sleeps only while the word still reads `parked`, so an unpark between the CAS and the sleep is
// not lost. park() first spins briefly (a CPU pause per poll, the CPU given away every 32 polls):
// a thread wake costs ~30 us here, so a notification that arrives within the spin is far cheaper.
//
// Thread safety: park*, only from the owning worker; unpark from any thread. The parker must
// outlive every unpark() call in flight (destroy parkers after joining the workers).

#include <atomic>
#include <cstdint>

namespace coloop::detail::mt {

class parker {
 public:
  /// Wakes the I/O driver from another thread (e.g. notifies its wake-up fd). Must not throw.
  using driver_waker = void (*)(void* context) noexcept;

  /// `spin_polls`: how many times park() polls for a notification before sleeping (0: never).
  explicit parker(unsigned spin_polls = default_spin_polls) noexcept : spin_polls_(spin_polls) {}

  static constexpr unsigned default_spin_polls = 256;

  /// Owner: returns once a notification is available (possibly at once), consuming it.
  void park() noexcept;
  /// Owner: blocks in the I/O driver instead of the futex. Unless a notification is pending,
  /// calls `poll()` (which must return once the waker set by set_driver_waker runs, or on its own
  /// timeout); returns whether a notification was consumed. No spinning.
  template <class Poll>
  bool park_on_driver(Poll&& poll) noexcept(noexcept(poll()));
  /// Sets how unpark() reaches an owner blocked in park_on_driver; call before any such park.
  void set_driver_waker(driver_waker waker, void* context) noexcept {
    waker_ = waker;
    waker_context_ = context;
  }

  /// Any thread: makes the owner's current or next park return. Never blocks.
  void unpark() noexcept;

 private:
  enum : std::uint32_t { empty = 0, notified = 1, parked = 2, driving = 3 };

  bool try_consume() noexcept;
  bool spin() noexcept;
  void sleep() noexcept;
  bool begin_driving() noexcept;
  bool end_driving() noexcept;

  alignas(64) std::atomic<std::uint32_t> state_{empty};
  unsigned spin_polls_;
  driver_waker waker_ = nullptr;
  void* waker_context_ = nullptr;
};

template <class Poll>
bool parker::park_on_driver(Poll&& poll) noexcept(noexcept(poll())) {
  if (!begin_driving()) return true;  // a notification was pending: consumed, no poll
  if constexpr (noexcept(poll())) {
    poll();
  } else {
    try {
      poll();
    } catch (...) {
      end_driving();
      throw;
    }
  }
  return end_driving();
}

}  // namespace coloop::detail::mt
