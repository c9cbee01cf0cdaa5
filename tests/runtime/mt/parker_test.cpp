// parker: a pending unpark makes park return at once (and only once), a sleeping owner is woken
// from another thread, parking on a driver (poll on an eventfd), and two ping-pong
// stress tests, with and without spinning, that hang (ctest timeout) on a lost wake-up.

#include "runtime/multi_thread/parker.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "runtime/mt/fake_tasks.hpp"

namespace coloop::detail::mt {
namespace {

using namespace std::chrono_literals;

TEST(mt_parker, unpark_before_park_is_remembered_once) {
  parker p(0);
  p.unpark();
  p.unpark();  // at most one notification is remembered
  p.park();    // returns at once
  // Nothing is pending now: a park on the driver polls, and the poll returns on its own.
  bool polled = false;
  EXPECT_FALSE(p.park_on_driver([&]() noexcept { polled = true; }));
  EXPECT_TRUE(polled);
}

TEST(mt_parker, unpark_wakes_a_sleeping_owner) {
  for (const unsigned spin : {0u, parker::default_spin_polls}) {
    parker p(spin);
    std::atomic<bool> woke{false};
    std::thread owner([&] {
      p.park();
      woke.store(true);
    });
    std::this_thread::sleep_for(20ms);  // let it reach the futex
    EXPECT_FALSE(woke.load());
    p.unpark();
    owner.join();
    EXPECT_TRUE(woke.load());
  }
}

struct event_fd {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ~event_fd() { ::close(fd); }
  static void wake(void* self) noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(static_cast<event_fd*>(self)->fd, &one, sizeof one);
  }
  void wait(int timeout_ms) const noexcept {
    pollfd pfd{fd, POLLIN, 0};
    ::poll(&pfd, 1, timeout_ms);
    std::uint64_t value = 0;
    [[maybe_unused]] const auto n = ::read(fd, &value, sizeof value);
  }
};

TEST(mt_parker, park_on_driver_is_woken_through_the_driver_waker) {
  event_fd driver;
  ASSERT_GE(driver.fd, 0);
  parker p(0);
  p.set_driver_waker(&event_fd::wake, &driver);
  // A pending notification skips the poll.
  p.unpark();
  bool polled = false;
  EXPECT_TRUE(p.park_on_driver([&]() noexcept { polled = true; }));
  EXPECT_FALSE(polled);
  // A driver poll that times out on its own reports no notification.
  EXPECT_FALSE(p.park_on_driver([&]() noexcept { driver.wait(1); }));
  // An unpark from another thread while the owner polls ends the poll.
  std::thread waker([&] {
    std::this_thread::sleep_for(20ms);
    p.unpark();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(p.park_on_driver([&]() noexcept { driver.wait(10'000); }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  waker.join();
}

// Two threads hand a token back and forth, each parking until the other unparks it. A lost
// wake-up leaves both asleep: the test then hangs and ctest's timeout fails it.
void ping_pong(unsigned spin_polls, int rounds) {
  parker a(spin_polls), b(spin_polls);
  std::atomic<int> turn{0};  // even: a's turn, odd: b's turn
  std::thread other([&] {
    for (int i = 0; i < rounds; ++i) {
      while (turn.load(std::memory_order_acquire) != 2 * i + 1) b.park();
      turn.store(2 * i + 2, std::memory_order_release);
      a.unpark();
    }
  });
  for (int i = 0; i < rounds; ++i) {
    while (turn.load(std::memory_order_acquire) != 2 * i) a.park();
    turn.store(2 * i + 1, std::memory_order_release);
    b.unpark();
  }
  other.join();
  EXPECT_EQ(turn.load(), 2 * rounds);
}

TEST(mt_parker, stress_ping_pong_without_spinning_loses_no_wakeup) {
  ping_pong(0, 20'000 / static_cast<int>(coloop::test::sanitizer_slowdown));
}

TEST(mt_parker, stress_ping_pong_with_spinning_loses_no_wakeup) {
  ping_pong(parker::default_spin_polls,
            100'000 / static_cast<int>(coloop::test::sanitizer_slowdown));
}

}  // namespace
}  // namespace coloop::detail::mt
