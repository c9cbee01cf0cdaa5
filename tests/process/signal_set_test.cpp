// signal_set: signals arrive as values on every flavour, whichever thread takes them; no thread
// has them blocked; several sets each get a signal; closing restores the previous disposition.

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <coloop/coloop.hpp>
#include <coloop/process/signal_set.hpp>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/flavour.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using handler_t = void (*)(int);

bool blocked(int s) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, s) == 1;
}

handler_t disposition(int s) {
  struct sigaction now {};
  sigaction(s, nullptr, &now);
  return now.sa_handler;
}

/// Sets the disposition of `s` for the scope, then puts back what was there.
class scoped_disposition {
 public:
  scoped_disposition(int s, handler_t h) : signo_(s) {
    struct sigaction action {};
    action.sa_handler = h;
    action.sa_flags = SA_RESTART;
    sigaction(s, &action, &old_);
  }
  ~scoped_disposition() { sigaction(signo_, &old_, nullptr); }
  scoped_disposition(const scoped_disposition&) = delete;
  scoped_disposition& operator=(const scoped_disposition&) = delete;

 private:
  int signo_;
  struct sigaction old_ {};
};

void ignore_signal(int) {}

class SignalSet : public coloop::test::flavour_test {};

TEST_P(SignalSet, DeliversSignalsInsteadOfTheirDefaultAction) {
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGUSR1, SIGUSR2};
    EXPECT_FALSE(blocked(SIGUSR1));  // a real handler: nothing is blocked, in any thread
    EXPECT_NE(disposition(SIGUSR1), SIG_DFL);
    pthread_kill(pthread_self(), SIGUSR2);  // would end the process if not caught
    EXPECT_EQ(co_await set.wait(), SIGUSR2);
    pthread_kill(pthread_self(), SIGUSR1);
    EXPECT_EQ(co_await set.wait(), SIGUSR1);
    raise(SIGUSR2);
    raise(SIGUSR1);
    EXPECT_EQ(co_await set.wait(), SIGUSR1);  // both pending: the lower number first
    EXPECT_EQ(co_await set.wait(), SIGUSR2);
  }());
  EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
  EXPECT_EQ(disposition(SIGUSR2), SIG_DFL);
}

TEST_P(SignalSet, WaitIsCancellableAndClosedIsAnError) {
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGUSR1};
    auto waiting = coloop::spawn(set.wait());
    co_await coloop::yield();
    waiting.cancel();
    EXPECT_THROW(co_await std::move(waiting), coloop::cancelled_error);
    raise(SIGUSR1);  // the cancelled wait took nothing: this one is there for the next
    EXPECT_EQ(co_await set.wait(), SIGUSR1);
    set.close();
    set.close();
    EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
    try {
      co_await set.wait();
      ADD_FAILURE() << "wait() on a closed set returned";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), coloop::errc::closed);
    }
  }());
}

TEST_P(SignalSet, CloseEndsAWaitInProgressWithClosed) {
  run(
      []() -> coloop::task<void> {
        coloop::signal_set set{SIGUSR1};
        auto waiting = coloop::spawn(set.wait());
        co_await coloop::test::until_idle();  // the wait is parked on the pipe
        set.close();
        try {
          co_await std::move(waiting);
          ADD_FAILURE() << "the wait in progress returned";
        } catch (const std::system_error& e) {
          EXPECT_EQ(e.code(), coloop::errc::closed);
        }
      }(),
      {.manual_clock = true});
}

TEST_P(SignalSet, RejectsBadSignals) {
  run([]() -> coloop::task<void> {
    EXPECT_THROW(coloop::signal_set({SIGKILL}), std::invalid_argument);
    EXPECT_THROW(coloop::signal_set({SIGSTOP}), std::invalid_argument);
    EXPECT_THROW(coloop::signal_set({0}), std::invalid_argument);
    EXPECT_THROW(coloop::signal_set({99}), std::invalid_argument);
    EXPECT_THROW(coloop::signal_set({SIGUSR1, 32}), std::invalid_argument);  // glibc's own
    EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);  // the failed set gave back what it took
    co_return;
  }());
  EXPECT_THROW(coloop::signal_set({SIGUSR1}), std::logic_error);  // no running loop
  EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
}

TEST_P(SignalSet, Past128OpenSetsTheNextIsRefused) {
  run([]() -> coloop::task<void> {
    std::vector<std::unique_ptr<coloop::signal_set>> sets;
    for (int i = 0; i < 128; ++i) {
      sets.push_back(std::make_unique<coloop::signal_set>(std::initializer_list<int>{SIGUSR1}));
    }
    EXPECT_THROW(coloop::signal_set({SIGUSR2}), std::length_error);
    EXPECT_EQ(disposition(SIGUSR2), SIG_DFL);  // the refused set took nothing
    raise(SIGUSR1);
    EXPECT_EQ(co_await sets.back()->wait(), SIGUSR1);
    sets.clear();
    coloop::signal_set again{SIGUSR2};  // the slots are free again
    co_return;
  }());
  EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
}

TEST_P(SignalSet, EverySetWatchingASignalGetsIt) {
  run([]() -> coloop::task<void> {
    coloop::signal_set first{SIGUSR1};
    coloop::signal_set second{SIGUSR2, SIGUSR1};
    raise(SIGUSR1);
    EXPECT_EQ(co_await first.wait(), SIGUSR1);
    EXPECT_EQ(co_await second.wait(), SIGUSR1);
    first.close();
    EXPECT_NE(disposition(SIGUSR1), SIG_DFL);  // `second` still watches it
    raise(SIGUSR1);
    EXPECT_EQ(co_await second.wait(), SIGUSR1);
    second.close();
    EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
  }());
}

TEST_P(SignalSet, HandlesAnIgnoredSignalAndPutsTheIgnoreBack) {
  scoped_disposition ignored(SIGUSR2, SIG_IGN);  // as SIGINT in a background job
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGUSR2};
    raise(SIGUSR2);
    EXPECT_EQ(co_await set.wait(), SIGUSR2);
  }());
  EXPECT_EQ(disposition(SIGUSR2), SIG_IGN);
}

void burst(int n) {
  for (int i = 0; i < n; ++i) raise(SIGUSR1);  // on this (a pool) thread, handled before it returns
}

TEST_P(SignalSet, ABurstCoalescesAndLeavesTheSetQuiet) {
  run(
      []() -> coloop::task<void> {
        coloop::signal_set set{SIGUSR1};
        for (int round = 0; round < 3; ++round) {
          // Every handler has run when to_thread returns: the whole burst is pending now.
          auto thousand = std::bind(burst, 1000);
          co_await coloop::to_thread(thousand);
          EXPECT_EQ(co_await set.wait(), SIGUSR1);
          // Coalesced: the leftover wake bytes are drained without a second delivery, and
          // wait() sleeps (the manual clock jumps only once nothing is ready).
          auto quiet = set.wait();
          EXPECT_THROW(co_await coloop::wait_for(std::move(quiet), 1s), coloop::timeout_error);
        }
        // A waiter racing the burst (the handlers run on a pool thread while it waits) gets it
        // once, or twice when it took the signal mid-burst; never more.
        auto waiting = coloop::spawn(set.wait());
        auto thousand = std::bind(burst, 1000);
        co_await coloop::to_thread(thousand);
        EXPECT_EQ(co_await std::move(waiting), SIGUSR1);
        auto maybe = set.wait();
        try {
          EXPECT_EQ(co_await coloop::wait_for(std::move(maybe), 1s), SIGUSR1);
        } catch (const coloop::timeout_error&) {
        }
        auto quiet = set.wait();
        EXPECT_THROW(co_await coloop::wait_for(std::move(quiet), 1s), coloop::timeout_error);
      }(),
      {.manual_clock = true});
}

void send_while(const std::atomic<bool>* going) {
  while (going->load(std::memory_order_relaxed)) kill(getpid(), SIGUSR1);  // any thread takes it
}

TEST_P(SignalSet, SignalsArrivingWhileSetsCloseAreHarmless) {
  scoped_disposition mine(SIGUSR1, &ignore_signal);  // what the sets must give back
  run([]() -> coloop::task<void> {
    {
      coloop::signal_set set{SIGUSR1};
      raise(SIGUSR1);  // pending and a byte in the pipe, never waited for
    }
    std::atomic<bool> going{true};
    std::thread sender(send_while, &going);
    for (int i = 0; i < 200; ++i) {
      coloop::signal_set set{SIGUSR1, SIGUSR2};
      co_await coloop::yield();
    }
    going = false;
    sender.join();
  }());
  EXPECT_EQ(disposition(SIGUSR1), &ignore_signal);
  EXPECT_EQ(disposition(SIGUSR2), SIG_DFL);
}

coloop::task<void> other_loop(std::promise<void>* ready, int* got) {
  coloop::signal_set set{SIGUSR1};
  ready->set_value();
  *got = co_await set.wait();
}

void run_other_loop(std::promise<void>* ready, int* got) { coloop::run(other_loop(ready, got)); }

TEST_P(SignalSet, SeveralLoopsEachGetTheSignal) {
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGUSR1};
    std::promise<void> ready;
    std::future<void> is_ready = ready.get_future();
    int other_got = 0;
    std::thread other(run_other_loop, &ready, &other_got);
    auto wait_ready = std::bind(&std::future<void>::wait, &is_ready);
    co_await coloop::to_thread(wait_ready);
    kill(getpid(), SIGUSR1);  // once, to the process: both loops see it
    EXPECT_EQ(co_await set.wait(), SIGUSR1);
    auto join = std::bind(&std::thread::join, &other);
    co_await coloop::to_thread(join);
    EXPECT_EQ(other_got, SIGUSR1);
  }());
}

// Issue 11 §5: a child started while a set exists has an empty mask and default dispositions.
TEST_P(SignalSet, AChildStartedMeanwhileDiesOfTheSignal) {
  run([]() -> coloop::task<void> {
    coloop::signal_set set{SIGTERM};
    char sleep_path[] = "/bin/sleep";
    char thirty[] = "30";
    char* argv[] = {sleep_path, thirty, nullptr};
    pid_t pid = 0;
    // posix_spawn returns once the child has exec'd (glibc), so the kill hits /bin/sleep.
    const int spawned = posix_spawn(&pid, sleep_path, nullptr, nullptr, argv, environ);
    if (spawned != 0 || pid <= 0) {
      ADD_FAILURE() << "posix_spawn /bin/sleep: " << spawned;
      co_return;
    }
    EXPECT_EQ(kill(pid, SIGTERM), 0);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
    co_return;
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(SignalSet);

}  // namespace
