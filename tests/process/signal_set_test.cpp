// signal_set: signals arrive as values on the loop, and closing restores the thread's mask.

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <coloop/coloop.hpp>
#include <coloop/process/signal_set.hpp>
#include <stdexcept>
#include "support/flavour.hpp"

namespace {

bool blocked(int s) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, s) == 1;
}

class SignalSet : public coloop::test::flavour_test {};

TEST_P(SignalSet, DeliversSignalsInsteadOfTheirDefaultAction) {
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGUSR1, SIGUSR2};
    EXPECT_TRUE(blocked(SIGUSR1));
    pthread_kill(pthread_self(), SIGUSR2);  // would end the process if not caught
    EXPECT_EQ(co_await set.wait(), SIGUSR2);
    pthread_kill(pthread_self(), SIGUSR1);
    EXPECT_EQ(co_await set.wait(), SIGUSR1);
  }());
  EXPECT_FALSE(blocked(SIGUSR1));
  EXPECT_FALSE(blocked(SIGUSR2));
}

TEST_P(SignalSet, WaitIsCancellableAndClosedIsAnError) {
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGUSR1};
    auto waiting = coloop::spawn(set.wait());
    co_await coloop::yield();
    waiting.cancel();
    EXPECT_THROW(co_await std::move(waiting), coloop::cancelled_error);
    set.close();
    EXPECT_FALSE(blocked(SIGUSR1));
    EXPECT_THROW(co_await set.wait(), std::system_error);
  }());
}

TEST_P(SignalSet, RejectsBadSignals) {
  run([]() -> coloop::task<void> {
    EXPECT_THROW(coloop::signal_set({SIGKILL}), std::invalid_argument);
    EXPECT_THROW(coloop::signal_set({0}), std::invalid_argument);
    EXPECT_THROW(coloop::signal_set({99}), std::invalid_argument);
    EXPECT_FALSE(blocked(SIGUSR1));
    co_return;
  }());
  EXPECT_THROW(coloop::signal_set({SIGUSR1}), std::logic_error);  // no running loop
}

COLOOP_INSTANTIATE_FLAVOURS(SignalSet);

}  // namespace
