// async_fd over pipes and socketpairs on every flavour: data paths, end of stream, FIFO
// order, cancellation (including a cancel racing a completion), close() with operations waiting,
// SIGPIPE, and a loop destroyed with reads pending. Every test checks that no fd leaked.
// Inside coroutines only EXPECT_* is used (ASSERT_* would `return` from a coroutine).

#include <coloop/io/async_fd.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <coloop/coloop.hpp>
#include <gtest/gtest.h>

#include "support/fd_audit.hpp"
#include "support/fd_pairs.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::task;
using coloop::test::fd_pair;
using coloop::test::make_pipe;
using coloop::test::make_socketpair;
using coloop::test::read_byte;
using coloop::test::read_byte_or_timeout;
using coloop::async_fd;
using namespace std::chrono_literals;

const coloop::loop_options manual{.manual_clock = true};

/// Runs `aw` and returns the exception it ended with (null if none).
template <class Awaitable>
task<std::exception_ptr> failure_of(Awaitable aw) {
  try {
    co_await std::move(aw);
  } catch (...) {
    co_return std::current_exception();
  }
  co_return nullptr;
}

bool is_cancelled(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const coloop::cancelled_error&) {
    return true;
  } catch (...) {
  }
  return false;
}

/// The error_code of a std::system_error (other than cancelled_error), or {} for anything else.
std::error_code system_error_of(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const coloop::cancelled_error&) {
  } catch (const std::system_error& ex) {
    return ex.code();
  } catch (...) {
  }
  return {};
}

/// Reads until `n` bytes or end of stream.
task<std::string> read_n(async_fd& fd, std::size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    const std::size_t k = co_await fd.read_some(buf, std::min(sizeof buf, n - out.size()));
    if (k == 0) break;
    out.append(buf, k);
  }
  co_return out;
}

/// Lets the other ready tasks (and the reactor) run a few times.
task<void> settle(int turns = 3) {
  for (int i = 0; i < turns; ++i) co_await coloop::yield();
}

/// Whether a non-blocking read of `fd` finds nothing to read.
bool nothing_to_read(int fd) {
  char c;
  return ::read(fd, &c, 1) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/// Runs on every flavour; the fd audit checks that nothing leaked, whatever the backend.
class AsyncFdTest : public coloop::test::flavour_test {
 protected:
  coloop::test::fd_audit audit_;  // first member: checked after everything else is gone
};

/// Drives an event_loop itself: every backend, no runtime flavour.
class AsyncFdTestOnLoop : public AsyncFdTest {};
/// No loop at all.
class AsyncFdTestNoLoop : public ::testing::Test {
 protected:
  coloop::test::fd_audit audit_;
};

TEST_P(AsyncFdTest, EchoThroughSocketpair) {
  const fd_pair sp = make_socketpair();
  const std::string got = run(
      [](fd_pair fds) -> task<std::string> {
        async_fd client(fds.first);
        async_fd server(fds.second);
        auto echo = coloop::spawn([](async_fd& s) -> task<std::size_t> {
          std::size_t total = 0;
          char buf[7];  // smaller than the message: several round trips
          for (;;) {
            const std::size_t n = co_await s.read_some(buf, sizeof buf);
            if (n == 0) co_return total;
            total += n;
            co_await s.write_all(buf, n);
          }
        }(server));
        const std::string msg = "hello through coloop's epoll reactor";
        co_await client.write_all(msg.data(), msg.size());
        std::string out = co_await read_n(client, msg.size());
        EXPECT_EQ(::shutdown(client.native_handle(), SHUT_WR), 0);
        const std::size_t echoed = co_await std::move(echo);
        EXPECT_EQ(echoed, msg.size());  // the echo task saw end of stream
        co_return out;
      }(sp),
      manual);
  EXPECT_EQ(got, "hello through coloop's epoll reactor");
}

TEST_P(AsyncFdTest, ReadWaitsForASleepingWriter) {
  const fd_pair p = make_pipe();
  struct result {
    std::string data;
    coloop::duration waited;
  };
  const result r = run(
      [](fd_pair fds) -> task<result> {
        async_fd reader(fds.first);
        auto writer = coloop::spawn([](int fd) -> task<void> {
          async_fd w(fd);
          co_await coloop::sleep_for(1h);  // virtual time: no real sleep
          co_await w.write_all("late", 4);
        }(fds.second));
        const auto start = coloop::now();
        std::string data = co_await read_n(reader, 4);
        const auto waited = coloop::now() - start;
        co_await std::move(writer);
        co_return result{std::move(data), waited};
      }(p),
      manual);
  EXPECT_EQ(r.data, "late");
  EXPECT_GE(r.waited, coloop::duration(1h));  // the read really waited for the writer
}

TEST_P(AsyncFdTest, EndOfStreamReadsZero) {
  const fd_pair p = make_pipe();
  const fd_pair sp = make_socketpair();
  const std::vector<int> got = run(
      [](fd_pair pipe_fds, fd_pair sock_fds) -> task<std::vector<int>> {
        std::vector<int> out;
        async_fd pr(pipe_fds.first);
        async_fd pw(pipe_fds.second);
        async_fd sa(sock_fds.first);
        async_fd sb(sock_fds.second);
        // Pipe: one byte, then the writer closes while the reader waits.
        co_await pw.write_all("a", 1);
        out.push_back(co_await read_byte(pr));
        auto pending = coloop::spawn(read_byte(pr));
        co_await settle();
        EXPECT_FALSE(pending.done());
        pw.close();
        out.push_back(co_await std::move(pending));
        out.push_back(co_await read_byte(pr));  // end of stream stays end of stream
        // Socket: the peer closes before the read.
        co_await sb.write_all("b", 1);
        sb.close();
        out.push_back(co_await read_byte(sa));
        out.push_back(co_await read_byte(sa));
        co_return out;
      }(p, sp),
      manual);
  EXPECT_EQ(got, (std::vector<int>{'a', -1, -1, 'b', -1}));
}

TEST_P(AsyncFdTest, LargeTransferThroughSocketpair) {
  constexpr std::size_t size = 8u << 20;  // 8 MiB: far beyond the socket buffers
  std::vector<unsigned char> data(size);
  std::uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<unsigned char>(x >> 16);
  }
  const fd_pair sp = make_socketpair();
  const std::vector<unsigned char> got = run(
      [](fd_pair fds, const std::vector<unsigned char>& src) -> task<std::vector<unsigned char>> {
        async_fd tx(fds.first);
        async_fd rx(fds.second);
        auto reader =
            coloop::spawn([](async_fd& in, std::size_t n) -> task<std::vector<unsigned char>> {
              std::vector<unsigned char> buf(n);
              std::size_t have = 0;
              std::size_t reads = 0;
              while (have < n) {
                const std::size_t k = co_await in.read_some(buf.data() + have, n - have);
                if (k == 0) break;
                have += k;
                ++reads;
              }
              buf.resize(have);
              EXPECT_GT(reads, 1u);  // it really was interleaved with the writer
              co_return buf;
            }(rx, src.size()));
        co_await tx.write_all(src.data(), src.size());
        co_return co_await std::move(reader);
      }(sp, data),
      manual);
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "the transferred bytes differ";
}

TEST_P(AsyncFdTest, WaitingReadsCompleteInFifoOrder) {
  const fd_pair p = make_pipe();
  const std::vector<int> got = run(
      [](fd_pair fds) -> task<std::vector<int>> {
        async_fd r(fds.first);
        async_fd w(fds.second);
        // FIFO in the order the reads began waiting, which on the runtime need not be the
        // order of the spawns: each one is waiting (idle) before the next is spawned.
        auto first = coloop::spawn(read_byte(r));
        co_await coloop::test::until_idle();
        auto second = coloop::spawn(read_byte(r));
        co_await coloop::test::until_idle();
        auto third = coloop::spawn(read_byte(r));
        co_await coloop::test::until_idle();
        co_await w.write_all("xyz", 3);
        std::vector<int> out;
        out.push_back(co_await std::move(first));
        out.push_back(co_await std::move(second));
        out.push_back(co_await std::move(third));
        co_return out;
      }(p),
      manual);
  EXPECT_EQ(got, (std::vector<int>{'x', 'y', 'z'}));
}

TEST_P(AsyncFdTest, CancelledReadLosesNoByteAndLeavesTheFdUsable) {
  const fd_pair p = make_pipe();
  struct result {
    bool pending_before_cancel;
    bool cancelled;
    int after;
  };
  const result r = run(
      [](fd_pair fds) -> task<result> {
        async_fd rd(fds.first);
        async_fd wr(fds.second);
        auto reader = coloop::spawn(read_byte(rd));
        co_await coloop::test::until_idle();  // the read waits (a few yields: not on the runtime)
        const bool pending = !reader.done();
        reader.cancel();
        const bool cancelled = is_cancelled(co_await failure_of(std::move(reader)));
        co_await wr.write_all("z", 1);
        const int after = co_await read_byte_or_timeout(rd);
        co_return result{pending, cancelled, after};
      }(p),
      manual);
  EXPECT_TRUE(r.pending_before_cancel);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.after, 'z');
}

// A runtime worker may steal the reader as soon as it is spawned: it holds off its first await
// until the cancel is requested, so "before the first await" holds on every flavour.
task<int> read_byte_after(async_fd& fd, const std::atomic<bool>& cancel_requested) {
  while (!cancel_requested.load(std::memory_order_acquire)) {  // pairs with the release below
  }
  co_return co_await read_byte(fd);
}

TEST_P(AsyncFdTest, CancelBeforeTheFirstAwaitThrowsWithoutReading) {
  const fd_pair p = make_pipe();
  struct result {
    bool cancelled;
    int after;
  };
  const result r = run(
      [](fd_pair fds) -> task<result> {
        async_fd rd(fds.first);
        async_fd wr(fds.second);
        co_await wr.write_all("q", 1);  // data is there, readiness cached
        std::atomic<bool> cancel_requested{false};
        auto reader = coloop::spawn(read_byte_after(rd, cancel_requested));
        reader.cancel();  // before the reader's first await: that await must not read
        cancel_requested.store(true, std::memory_order_release);  // the cancel is visible first
        const bool cancelled = is_cancelled(co_await failure_of(std::move(reader)));
        const int after = co_await read_byte_or_timeout(rd);
        co_return result{cancelled, after};
      }(p),
      manual);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.after, 'q');
}

TEST_P(AsyncFdTest, WaitForTimesOutAPendingReadWithoutConsumingData) {
  const fd_pair p = make_pipe();
  struct result {
    bool timed_out;
    std::string after;
  };
  const result r = run(
      [](fd_pair fds) -> task<result> {
        async_fd rd(fds.first);
        async_fd wr(fds.second);
        char buf[8];
        bool timed_out = false;
        try {
          co_await coloop::wait_for(rd.read_some(buf, sizeof buf), 5s);  // the awaiter moves in
        } catch (const coloop::timeout_error&) {
          timed_out = true;
        }
        co_await wr.write_all("after", 5);
        std::string after =
            co_await read_n(rd, 5);  // (g++ 12 mishandles co_await in a braced init)
        co_return result{timed_out, std::move(after)};
      }(p),
      manual);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.after, "after");
}

// A byte is written to the pipe a waiting reader watches, then the reader is cancelled after
// `turns` yields. With 0 the reactor cannot have run: the read is withdrawn and the byte stays in
// the pipe. With more, the loop may poll in between: while work keeps being ready it polls once
// per turn budget (61 steps), and when that happens with this task queued, the reactor completes
// the read before the cancel arrives but the reader resumes only after it: the byte must then be
// delivered and the cancel must not lose it. Sweeping `turns` past the budget hits that window
// whatever its phase. Either way the byte reaches exactly one reader.
struct race_outcome {
  bool reader_done_at_cancel = false;
  bool cancelled = false;
  int delivered = -2;     // what the cancelled reader returned, if it did
  int left_in_pipe = -2;  // what a later read found
  bool pipe_empty = false;
};

task<race_outcome> cancel_racing_data(fd_pair fds, int turns) {
  race_outcome o;
  async_fd rd(fds.first);
  async_fd wr(fds.second);
  auto reader = coloop::spawn(read_byte(rd));
  co_await settle();
  EXPECT_FALSE(reader.done());
  co_await wr.write_all("x", 1);
  for (int i = 0; i < turns; ++i) co_await coloop::yield();
  o.reader_done_at_cancel = reader.done();
  reader.cancel();
  try {
    o.delivered = co_await std::move(reader);
  } catch (const coloop::cancelled_error&) {
    o.cancelled = true;
  }
  if (o.cancelled) {
    o.left_in_pipe = co_await read_byte_or_timeout(rd);
  }
  o.pipe_empty = nothing_to_read(rd.native_handle());
  co_return o;
}

/// Whichever way the race went, the byte was either delivered or left in the pipe, once.
void expect_nothing_lost(const race_outcome& o) {
  EXPECT_TRUE(o.pipe_empty);
  if (o.cancelled) {
    EXPECT_EQ(o.left_in_pipe, 'x');  // withdrawn: the byte was not consumed
  } else {
    EXPECT_EQ(o.delivered, 'x');  // completed: the byte was delivered despite the cancel
  }
}

TEST_P(AsyncFdTest, CancelRacingDataNeverLosesIt) {
  for (int turns = 0; turns <= 150; ++turns) {
    SCOPED_TRACE("yields between write and cancel: " + std::to_string(turns));
    const fd_pair p = make_pipe();
    expect_nothing_lost(run(cancel_racing_data(p, turns), manual));
  }
}

// Which outcome a yield count gives follows from the loop's turns (one reactor poll per turn,
// none between two tasks of a turn); on the runtime other workers poll the driver meanwhile.
TEST_P(AsyncFdTestOnLoop, CancelRacingDataHitsBothOutcomes) {
  bool saw_withdrawn = false;
  bool saw_race = false;  // completed by the reactor, cancelled before the reader resumed
  for (int turns = 0; turns <= 150; ++turns) {
    SCOPED_TRACE("yields between write and cancel: " + std::to_string(turns));
    const fd_pair p = make_pipe();
    const race_outcome o = run(cancel_racing_data(p, turns), manual);
    expect_nothing_lost(o);
    if (o.cancelled) {
      saw_withdrawn = true;
    } else if (!o.reader_done_at_cancel) {
      saw_race = true;
    }
    if (turns == 0) {
      EXPECT_TRUE(o.cancelled) << "no reactor poll can happen without a suspension";
    }
  }
  EXPECT_TRUE(saw_withdrawn);
  EXPECT_TRUE(saw_race) << "no turn count hit the completed-but-not-resumed window";
}

// Loop only: on the runtime an async_fd is used by one task at a time; closing it from another
// task while others wait on it races with their use of the handle (README: the runtime).
TEST_P(AsyncFdTestOnLoop, CloseWakesWaitingReaderAndWriterOnceWithClosed) {
  const fd_pair sp = make_socketpair();
  struct result {
    int reader_resumes;
    int writer_resumes;
    std::error_code reader_error;
    std::error_code writer_error;
    bool both_pending;
  };
  const result r = run(
      [](fd_pair fds) -> task<result> {
        async_fd a(fds.first);
        async_fd b(fds.second);  // never read: a's writes fill the buffers and block
        int reader_resumes = 0;
        int writer_resumes = 0;
        std::vector<char> big(4u << 20, 'w');
        auto reader = coloop::spawn([](async_fd& fd, int& resumes) -> task<std::error_code> {
          auto e = co_await failure_of(read_byte(fd));
          ++resumes;
          co_return system_error_of(e);
        }(a, reader_resumes));
        auto writer = coloop::spawn(
            [](async_fd& fd, const std::vector<char>& data, int& resumes) -> task<std::error_code> {
              auto e = co_await failure_of(fd.write_all(data.data(), data.size()));
              ++resumes;
              co_return system_error_of(e);
            }(a, big, writer_resumes));
        co_await settle(5);
        const bool both_pending = !reader.done() && !writer.done();
        a.close();
        const std::error_code re = co_await std::move(reader);
        const std::error_code we = co_await std::move(writer);
        co_await settle(5);  // a second resume would show up here
        co_return result{reader_resumes, writer_resumes, re, we, both_pending};
      }(sp),
      manual);
  EXPECT_TRUE(r.both_pending);
  EXPECT_EQ(r.reader_resumes, 1);
  EXPECT_EQ(r.writer_resumes, 1);
  EXPECT_EQ(r.reader_error, coloop::make_error_code(coloop::errc::closed));
  EXPECT_EQ(r.writer_error, coloop::make_error_code(coloop::errc::closed));
}

TEST_P(AsyncFdTest, OperationsOnAClosedFdThrowClosed) {
  const fd_pair p = make_pipe();
  const std::error_code e = run(
      [](fd_pair fds) -> task<std::error_code> {
        async_fd r(fds.first);
        async_fd w(fds.second);
        r.close();
        r.close();  // idempotent
        EXPECT_FALSE(r.is_open());
        EXPECT_EQ(r.native_handle(), -1);
        char c;
        co_return system_error_of(co_await failure_of(r.read_some(&c, 1)));
      }(p),
      manual);
  EXPECT_EQ(e, coloop::make_error_code(coloop::errc::closed));
}

bool sigpipe_pending() {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, SIGPIPE) == 1;
}

bool sigpipe_blocked() {
  sigset_t set;
  pthread_sigmask(SIG_BLOCK, nullptr, &set);
  return sigismember(&set, SIGPIPE) == 1;
}

task<std::error_code> write_to_broken(fd_pair fds) {
  async_fd r(fds.first);
  async_fd w(fds.second);
  r.close();
  co_return system_error_of(co_await failure_of(w.write_some("x", 1)));
}

TEST_P(AsyncFdTest, WriteToPipeWithoutReaderIsEpipeNotSigpipe) {
  struct sigaction sa {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &sa), 0);
  ASSERT_EQ(sa.sa_handler, SIG_DFL) << "the test needs SIGPIPE's default (fatal) disposition";
  ASSERT_FALSE(sigpipe_blocked());

  const std::error_code e = run(write_to_broken(make_pipe()), manual);
  EXPECT_EQ(e, std::error_code(EPIPE, std::generic_category()));
  EXPECT_FALSE(sigpipe_blocked()) << "the thread's signal mask was not restored";
  EXPECT_FALSE(sigpipe_pending());
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &sa), 0);
  EXPECT_EQ(sa.sa_handler, SIG_DFL) << "the process's disposition must not change";
}

TEST_P(AsyncFdTest, WriteToPipeWithoutReaderKeepsACallersBlockedSigpipe) {
  // The caller blocks SIGPIPE itself and already has one pending: both must stay as they were.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t old;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_only, &old), 0);
  ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
  ASSERT_TRUE(sigpipe_pending());

  const std::error_code e = run(write_to_broken(make_pipe()), manual);
  EXPECT_EQ(e, std::error_code(EPIPE, std::generic_category()));
  EXPECT_TRUE(sigpipe_blocked());
  EXPECT_TRUE(sigpipe_pending()) << "the caller's own SIGPIPE was swallowed";

  const timespec zero{};
  EXPECT_EQ(sigtimedwait(&pipe_only, nullptr, &zero), SIGPIPE);  // take ours back
  EXPECT_FALSE(sigpipe_pending());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TEST_P(AsyncFdTest, WriteToSocketWithoutPeerIsEpipe) {
  const std::error_code e = run(write_to_broken(make_socketpair()), manual);
  EXPECT_EQ(e, std::error_code(EPIPE, std::generic_category()));
  EXPECT_FALSE(sigpipe_pending());
}

TEST_P(AsyncFdTestOnLoop, LoopDestroyedWithPendingReadsReleasesEverything) {
  const fd_pair p = make_pipe();
  int finished = 0;
  {
    coloop::event_loop loop(options(manual));
    // One task owns the fd and reads; a second task waits on the same fd behind it. Whichever
    // frame the loop destroys first, the other must not touch freed memory (ASan) and the fd
    // must end up closed (fd audit).
    auto owner = loop.create_task([](int fd, int& done) -> task<void> {
      async_fd r(fd);
      auto other = coloop::spawn(read_byte(r));
      co_await read_byte(r);
      ++done;
      co_await std::move(other);
    }(p.first, finished));
    loop.run_until_complete(settle(5));
    EXPECT_FALSE(owner.done());
    EXPECT_EQ(loop.live_tasks(), 2u);
  }  // ~event_loop closes: the tasks are destroyed without being resumed
  EXPECT_EQ(finished, 0);
  ::close(p.second);
}

TEST_F(AsyncFdTestNoLoop, ConstructionWithoutALoopThrowsAndClosesTheFd) {
  const fd_pair p = make_pipe();
  EXPECT_THROW(async_fd{p.first}, std::logic_error);
  EXPECT_EQ(::fcntl(p.first, F_GETFD), -1);  // taken over and closed
  ::close(p.second);
}

TEST_P(AsyncFdTest, RegularFileIsRejectedAndClosed) {
  const std::error_code e = run(
      []() -> task<std::error_code> {
        const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
        try {
          async_fd f(fd);
        } catch (const std::system_error& ex) {
          co_return ex.code();
        }
        co_return std::error_code{};
      }(),
      manual);
  EXPECT_EQ(e, std::error_code(EPERM, std::generic_category()));
}

TEST_P(AsyncFdTest, MovedFdKeepsWorking) {
  const fd_pair p = make_pipe();
  const int got = run(
      [](fd_pair fds) -> task<int> {
        async_fd r(fds.first);
        async_fd w;
        w = async_fd(fds.second);
        async_fd r2(std::move(r));
        EXPECT_FALSE(r.is_open());
        co_await w.write_all("m", 1);
        co_return co_await read_byte(r2);
      }(p),
      manual);
  EXPECT_EQ(got, 'm');
}

}  // namespace

namespace {

/// Writes a byte to `out` and reads it back from `in` until `stop` is set: every operation
/// completes at once, so only the coop budget lets anything else run.
task<long> ping_self(async_fd& out, async_fd& in, const std::atomic<bool>& stop) {
  long rounds = 0;
  char c = 'x';
  while (!stop) {
    co_await out.write_some(&c, 1);
    co_await in.read_some(&c, 1);
    ++rounds;
  }
  co_return rounds;
}

task<void> set_after(coloop::duration d, std::atomic<bool>& flag) {
  co_await coloop::sleep_for(d);
  flag = true;
}

TEST_P(AsyncFdTest, AlwaysReadySocketDoesNotStarveATimer) {
  // Real clock: a manual clock only moves when the loop is idle, and this loop never is. Without
  // the coop budget the timer would never run and the test would hang until ctest's timeout.
  const fd_pair sp = make_socketpair();
  const long rounds = run([](fd_pair fds) -> task<long> {
    async_fd a(fds.first);
    async_fd b(fds.second);
    std::atomic<bool> stop{false};
    auto timer = coloop::spawn(set_after(1ms, stop));  // a task: the runtime has no call_later
    const long n = co_await ping_self(a, b, stop);
    co_await timer;
    co_return n;
  }(sp));
  EXPECT_GT(rounds, 0);
}

COLOOP_INSTANTIATE_FLAVOURS(AsyncFdTest);
COLOOP_INSTANTIATE_LOOP_FLAVOURS(AsyncFdTestOnLoop);

}  // namespace
