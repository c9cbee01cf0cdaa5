// coloop::file, read_file and write_file on every flavour: data paths at offsets, append, sync,
// size, the errors of open, and the two research-grade cancellations: an open cancelled while in
// flight leaks no fd (tokio#7979), and a cancelled read delivers its bytes or leaves the position
// alone, never both. Files live in a temp dir removed after each test. Inside coroutines only
// EXPECT_* is used (ASSERT_* would `return` from a coroutine).

#include <coloop/fs/file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <random>
#include <semaphore>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <coloop/coloop.hpp>
#include <gtest/gtest.h>

#include "fs/fs_hooks.hpp"
#include "support/fd_audit.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::file;
using coloop::open_mode;
using coloop::task;
using kind = coloop::detail::file_op::kind;

const coloop::loop_options manual{.manual_clock = true};

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

/// The code and message of a std::system_error (other than cancelled_error).
std::pair<std::error_code, std::string> system_error_of(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const coloop::cancelled_error&) {
  } catch (const std::system_error& ex) {
    return {ex.code(), ex.what()};
  } catch (...) {
  }
  return {};
}

// The hooks' side of the tests that hold a pool thread inside its call (fs_hooks.hpp).
std::atomic<int> held_kind{-1};     // the call kind to hold, -1: none
std::binary_semaphore entered{0};   // a pool thread is about to make the held call
std::binary_semaphore release{0};   // let it go
std::atomic<int> settled_count{0};  // outcomes of held-kind calls made final
std::binary_semaphore settled_sem{0};  // released with each of them (for a waiter off any loop)

std::atomic<int> pool_calls{0};     // calls made on a pool thread (the size() of read_file aside)

void hold_call(kind k) {
  if (k != kind::size) pool_calls.fetch_add(1);
  if (static_cast<int>(k) != held_kind.load()) return;
  entered.release();
  release.acquire();
}
// The armed hook's side: holds the awaiting worker once, right after start() armed the slot.
std::atomic<bool> hold_armed{false};
void hold_after_arm(kind) {
  if (!hold_armed.exchange(false)) return;  // exchange: held at most once, or given up on
  entered.release();
  release.acquire();
}
void count_settled(kind k) {
  if (static_cast<int>(k) != held_kind.load()) return;
  settled_count.fetch_add(1);
  settled_sem.release();
}

class FileTest : public coloop::test::flavour_test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coloop-fs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    (void)settled_sem.try_acquire();
    auto& hooks = coloop::detail::fs_test_hooks();
    hooks.before_call.store(&hold_call);
    hooks.settled.store(&count_settled);
  }
  void TearDown() override {
    auto& hooks = coloop::detail::fs_test_hooks();
    hooks.before_call.store(nullptr);
    hooks.settled.store(nullptr);
    hooks.armed.store(nullptr);
    hold_armed.store(false);
    held_kind.store(-1);
    settled_count.store(0);
    pool_calls.store(0);
    std::filesystem::remove_all(dir_);
  }
  std::string path(const char* name) const { return dir_ + "/" + name; }
  /// Whether file calls go to io_uring SQEs (an io_uring loop or runtime) rather than the pool.
  bool kernel_runs_calls() const { return GetParam().backend == coloop::backend::io_uring; }

  std::string dir_;
};

class FileTest_Plain : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coloop-fs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

std::string random_bytes(std::size_t n) {
  std::mt19937 gen(12345);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

TEST_P(FileTest, WriteFileAndReadFileRoundTrip) {
  const std::string got = run([](std::string p) -> task<std::string> {
    co_await coloop::write_file(p, "hello, file\n");
    co_return co_await coloop::read_file(p);
  }(path("a.txt")));
  EXPECT_EQ(got, "hello, file\n");
  // Where the calls ran: SQEs on an io_uring event loop, the blocking pool everywhere else.
  if (kernel_runs_calls()) {
    EXPECT_EQ(pool_calls.load(), 0);
  } else {
    EXPECT_GT(pool_calls.load(), 0);
  }
}

TEST_P(FileTest, RoundTripOfOneMebibyte) {
  const std::string data = random_bytes(1 << 20);
  const std::string got = run([](std::string p, std::string d) -> task<std::string> {
    co_await coloop::write_file(p, d);
    co_return co_await coloop::read_file(p);
  }(path("big.bin"), data));
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST_P(FileTest, EmptyFile) {
  struct result {
    std::string text;
    std::uint64_t size;
  };
  const result r = run([](std::string p) -> task<result> {
    co_await coloop::write_file(p, "");
    file f = co_await file::open(p);
    const std::uint64_t n = co_await f.size();
    co_await f.close();
    std::string text = co_await coloop::read_file(p);
    co_return result{text, n};
  }(path("empty")));
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.size, 0u);
}

TEST_P(FileTest, ReadSomeAdvancesThePositionUntilEndOfFile) {
  struct result {
    std::string first, rest;
    std::uint64_t pos_after_first;
    std::size_t at_end;
  };
  const result r = run([](std::string p) -> task<result> {
    co_await coloop::write_file(p, "hello world");
    file f = co_await file::open(p, open_mode::read);
    char buf[64];
    const std::size_t n1 = co_await f.read_some(buf, 5);
    std::string first(buf, n1);
    const std::uint64_t pos = f.position();
    const std::size_t n2 = co_await f.read_some(buf, sizeof buf);
    std::string rest(buf, n2);
    const std::size_t n3 = co_await f.read_some(buf, sizeof buf);
    co_return result{first, rest, pos, n3};
  }(path("seq")));
  EXPECT_EQ(r.first, "hello");
  EXPECT_EQ(r.pos_after_first, 5u);
  EXPECT_EQ(r.rest, " world");
  EXPECT_EQ(r.at_end, 0u);
}

TEST_P(FileTest, ReadAtAndWriteAtUseTheirOffsetAndLeaveThePosition) {
  struct result {
    std::string middle;
    std::size_t past_end;
    std::uint64_t size, position;
    std::string whole;
  };
  const result r = run([](std::string p) -> task<result> {
    file f = co_await file::open(p, open_mode::read | open_mode::write | open_mode::create);
    co_await f.write_at("0123456789", 10, 0);
    co_await f.write_at("XYZ", 3, 20);  // a hole of 10 zero bytes in between
    char buf[16];
    const std::size_t n = co_await f.read_at(buf, 4, 3);
    std::string middle(buf, n);
    const std::size_t past = co_await f.read_at(buf, sizeof buf, 100);
    const std::uint64_t size = co_await f.size();
    const std::uint64_t pos = f.position();
    co_await f.close();
    std::string whole = co_await coloop::read_file(p);
    co_return result{middle, past, size, pos, whole};
  }(path("offsets")));
  EXPECT_EQ(r.middle, "3456");
  EXPECT_EQ(r.past_end, 0u);
  EXPECT_EQ(r.size, 23u);
  EXPECT_EQ(r.position, 0u);
  EXPECT_EQ(r.whole, std::string("0123456789") + std::string(10, '\0') + "XYZ");
}

TEST_P(FileTest, WriteAllAdvancesThePositionAndSyncPersists) {
  struct result {
    std::uint64_t position, size;
    std::string text;
  };
  const result r = run([](std::string p) -> task<result> {
    file f = co_await file::open(p, open_mode::write | open_mode::create | open_mode::truncate);
    co_await f.write_all("abc", 3);
    co_await f.write_all("defg", 4);
    co_await f.sync();
    const std::uint64_t pos = f.position();
    const std::uint64_t size = co_await f.size();
    co_await f.close();
    std::string text = co_await coloop::read_file(p);
    co_return result{pos, size, text};
  }(path("seqw")));
  EXPECT_EQ(r.position, 7u);
  EXPECT_EQ(r.size, 7u);
  EXPECT_EQ(r.text, "abcdefg");
}

TEST_P(FileTest, AppendModeWritesAtTheEnd) {
  const std::string got = run([](std::string p) -> task<std::string> {
    co_await coloop::write_file(p, "abc");
    file f = co_await file::open(p, open_mode::append);
    co_await f.write_all("def", 3);
    file g = co_await file::open(p, open_mode::append);  // a second writer: still the end
    co_await g.write_all("gh", 2);
    co_await f.write_all("i", 1);
    co_await f.close();
    co_await g.close();
    co_return co_await coloop::read_file(p);
  }(path("log")));
  EXPECT_EQ(got, "abcdefghi");
}

TEST_P(FileTest, OpeningAMissingFileIsENOENTNamingThePath) {
  const std::string p = path("missing");
  const auto err = run([](std::string q) -> task<std::exception_ptr> {
    auto opening = file::open(q);
    co_return co_await failure_of(std::move(opening));
  }(p));
  const auto [code, what] = system_error_of(err);
  EXPECT_EQ(code, std::errc::no_such_file_or_directory);
  EXPECT_NE(what.find(p), std::string::npos) << what;
  EXPECT_NE(what.find("coloop::file::open"), std::string::npos) << what;
}

TEST_P(FileTest, ExclusiveOnAnExistingFileIsEEXIST) {
  const auto err = run([](std::string q) -> task<std::exception_ptr> {
    co_await coloop::write_file(q, "x");
    auto opening = file::open(q, open_mode::write | open_mode::exclusive);
    co_return co_await failure_of(std::move(opening));
  }(path("exists")));
  EXPECT_EQ(system_error_of(err).first, std::errc::file_exists);
}

TEST_P(FileTest, ExclusiveCreatesAMissingFile) {
  const std::string got = run([](std::string q) -> task<std::string> {
    file f = co_await file::open(q, open_mode::write | open_mode::exclusive);
    co_await f.write_all("new", 3);
    co_await f.close();
    co_return co_await coloop::read_file(q);
  }(path("fresh")));
  EXPECT_EQ(got, "new");
}

TEST(FileModeTest, ContradictoryModesAreInvalidArguments) {
  EXPECT_THROW((void)file::open("/tmp/x", open_mode::create), std::invalid_argument);
  EXPECT_THROW((void)file::open("/tmp/x", open_mode::read | open_mode::truncate),
               std::invalid_argument);
  EXPECT_TRUE(coloop::has(open_mode::read | open_mode::write, open_mode::write));
  EXPECT_FALSE(coloop::has(open_mode::read, open_mode::write));
}

TEST_P(FileTest, CloseIsIdempotentAndACallAfterItIsErrcClosed) {
  struct result {
    bool open_after;
    std::error_code read_after;
  };
  const result r = run([](std::string p) -> task<result> {
    co_await coloop::write_file(p, "data");
    file f = co_await file::open(p);
    co_await f.close();
    co_await f.close();
    result out{f.is_open(), {}};
    char c;
    try {
      (void)f.read_some(&c, 1);
    } catch (const std::system_error& e) {
      out.read_after = e.code();
    }
    co_return out;
  }(path("c")));
  EXPECT_FALSE(r.open_after);
  EXPECT_EQ(r.read_after, coloop::errc::closed);
}

TEST_P(FileTest, TheDestructorClosesAndMoveTransfersOwnership) {
  const int fd = run([](std::string p) -> task<int> {
    co_await coloop::write_file(p, "data");
    file f = co_await file::open(p);
    file g = std::move(f);
    EXPECT_FALSE(f.is_open());
    EXPECT_TRUE(g.is_open());
    EXPECT_EQ(g.path(), p);
    co_return g.native_handle();
  }(path("d")));
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed by g's destructor (and reused by nothing since)
}

// sync_wait is a scheduler too: the calls run on the pool and resume there.
TEST_F(FileTest_Plain, WorksUnderSyncWait) {
  const std::string p = dir_ + "/sync";
  coloop::sync_wait(coloop::write_file(p, "sync"));
  EXPECT_EQ(coloop::sync_wait(coloop::read_file(p)), "sync");
}

// --- cancellation --------------------------------------------------------------------------------

task<bool> open_only(std::string p, std::atomic<bool>* started) {
  started->store(true);
  file f = co_await file::open(p, open_mode::read | open_mode::create);
  co_return f.is_open();
}

// The pool holds the open inside its thread (the hook) while the task is cancelled: the task
// gets cancelled_error at once, and the fd the open returns afterwards is closed.
TEST_P(FileTest, AnOpenCancelledWhileInFlightLeaksNoFd) {
  if (kernel_runs_calls()) GTEST_SKIP() << "io_uring: see AnOpenCancelledInTheKernelLeaksNoFd";
  const std::string p = path("opened");
  ::close(::open(p.c_str(), O_CREAT | O_WRONLY, 0644));
  const auto before = coloop::test::open_fds();
  held_kind.store(static_cast<int>(kind::open));
  const bool cancelled = run([](std::string q) -> task<bool> {
    std::atomic<bool> started{false};
    auto opener = coloop::spawn(open_only, q, &started);
    auto has_started = [&started] { return started.load(); };
    EXPECT_TRUE(co_await coloop::test::yield_until(has_started));
    entered.acquire();  // the pool thread is about to open: the cancel lands while it is out
    opener.cancel();
    const bool c = is_cancelled(co_await failure_of(std::move(opener)));
    release.release();
    auto settled = [] { return settled_count.load() == 1; };
    EXPECT_TRUE(co_await coloop::test::yield_until(settled));  // the late fd was dropped
    co_return c;
  }(p));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(coloop::test::open_fds(), before);
}

// io_uring: an open of a FIFO with O_CREAT goes to an io-wq worker and blocks there (no writer).
// The cancel resumes the task at once; the kernel then either interrupts the open or, since a
// writer arrives right after, completes it with an fd nobody waits for: it is closed.
TEST_P(FileTest, AnOpenCancelledInTheKernelLeaksNoFd) {
  if (!kernel_runs_calls()) GTEST_SKIP() << "pool: see AnOpenCancelledWhileInFlightLeaksNoFd";
  const std::string p = path("fifo");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  const auto before = coloop::test::open_fds();
  held_kind.store(static_cast<int>(kind::open));  // counts settled opens (nothing is held)
  const bool cancelled = run(
      [](std::string q) -> task<bool> {
        std::atomic<bool> started{false};
        auto opener = coloop::spawn(open_only, q, &started);
        co_await coloop::test::until_idle();  // the SQE is in the kernel, the loop idle
        opener.cancel();
        const bool c = is_cancelled(co_await failure_of(std::move(opener)));
        const int writer = ::open(q.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO if no reader left
        auto settled = [] { return settled_count.load() == 1; };
        EXPECT_TRUE(co_await coloop::test::yield_until(settled));
        if (writer >= 0) ::close(writer);
        co_return c;
      }(p),
      manual);
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(coloop::test::open_fds(), before);
}

// The loop closes (or the runtime shuts down) with the open out: the awaiting frame is destroyed,
// and the fd that arrives afterwards is closed. io_uring: the reactor cancels the open and waits
// for the kernel before it goes.
TEST_P(FileTest, AnOpenOutWhenItsLoopClosesLeaksNoFd) {
  const bool kernel = kernel_runs_calls();
  const std::string p = path(kernel ? "fifo" : "opened");
  if (kernel) {
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  } else {
    ::close(::open(p.c_str(), O_CREAT | O_WRONLY, 0644));
  }
  const auto before = coloop::test::open_fds();
  held_kind.store(static_cast<int>(kind::open));
  run(
      [](std::string q, bool in_kernel) -> task<void> {
        std::atomic<bool> started{false};
        auto opener = coloop::spawn(open_only, q, &started);
        auto has_started = [&started] { return started.load(); };
        EXPECT_TRUE(co_await coloop::test::yield_until(has_started));
        if (in_kernel) {
          co_await coloop::test::until_idle();  // the SQE is in the kernel
        } else {
          entered.acquire();  // the pool thread is about to open
        }
        opener.detach();
      }(p, kernel),
      manual);
  if (!kernel) {
    release.release();
    settled_sem.acquire();  // the pool thread has dropped the outcome
  }
  EXPECT_EQ(settled_count.load(), 1);
  EXPECT_EQ(coloop::test::open_fds(), before);
}

// Holds the open back until the test has cancelled the task (a runtime worker may start a fresh
// spawn at once; a cancel racing the open's start is another case, see file_request::start).
task<void> open_only_after(std::string p, std::atomic<bool>* go) {
  while (!go->load(std::memory_order_acquire)) std::this_thread::yield();
  file f = co_await file::open(p);
}

TEST_P(FileTest, CancelPendingBeforeTheOpenNeverOpens) {
  const std::string p = path("never");
  ::close(::open(p.c_str(), O_CREAT | O_WRONLY, 0644));
  const bool cancelled = run([](std::string q) -> task<bool> {
    std::atomic<bool> go{false};
    auto opener = coloop::spawn(open_only_after, q, &go);
    opener.cancel();  // before it ran: its first await throws without opening
    go.store(true, std::memory_order_release);  // release: the cancel happens before the open
    co_return is_cancelled(co_await failure_of(std::move(opener)));
  }(p));
  EXPECT_TRUE(cancelled);
}

task<std::string> read_three_at(file* f, std::atomic<bool>* started) {
  started->store(true);
  char buf[3];
  const std::size_t n = co_await f->read_at(buf, sizeof buf, 0);
  co_return std::string(buf, n);
}

// A cancel from another worker racing the read's start (file_request::start publishes what the
// cancel reads before it arms the slot; it used to set them after, so a cancel in between could
// withdraw a read that start then still submitted, resuming the task twice on io_uring). Each
// round ends once: cancelled, or with the bytes. On a loop the cancel cannot race.
TEST_P(FileTest, ACancelRacingTheReadsStartEndsItOnce) {
  const std::string p = path("raced");
  constexpr int rounds = 1000;  // the window is a few instructions wide: many tries
  const bool spin = GetParam().workers > 1;  // another worker runs the reader meanwhile
  const int ended = run([](std::string q, bool tight) -> task<int> {
    co_await coloop::write_file(q, "abcdef");
    file f = co_await file::open(q);
    int ends = 0;
    for (int i = 0; i < rounds; ++i) {
      std::atomic<bool> started{false};
      auto reader = coloop::spawn(read_three_at, &f, &started);
      auto has_started = [&started] { return started.load(); };
      // Tight: spin on this worker while the other starts the read; it takes a couple of spins
      // when it can. A reader this worker holds where no other can steal it (its spawn list,
      // its LIFO slot: a third of the spawns under COLOOP_SCHEDULE_SEED) never starts during
      // the spin, so the spin is short (a million spins took minutes a flavour with a seed)
      // and yield_until then runs the reader here.
      for (int spins = 0; tight && !has_started() && spins < 1'000; ++spins) {
        std::this_thread::yield();
      }
      if (!has_started()) {
        EXPECT_TRUE(co_await coloop::test::yield_until(has_started));
      }
      reader.cancel();
      try {
        const std::string got = co_await std::move(reader);
        ends += got == "abc" ? 1 : 0;
      } catch (const coloop::cancelled_error&) {
        ++ends;
      }
    }
    co_await f.close();
    co_return ends;
  }(p, spin));
  EXPECT_EQ(ended, rounds);
}

// A cancel from another worker landing right after start() armed the slot, before it handed the
// call over: the cancel withdraws the open, this worker resumes the task, which ends and drops
// the awaiter's reference to the request while the starting worker is still inside start(). That
// worker must go on under a reference of its own (start used to take the runner's reference only
// after arming: it then touched a freed request, which ASan and TSan report here; unchecked, the
// block may already hold the next request, which gets a second runner: the rare crash of
// ACancelRacingTheReadsStartEndsItOnce on epoll_mt2). The hook holds the starting worker there.
TEST_P(FileTest, ACancelRightAfterTheSlotIsArmedTouchesNothingFreed) {
  if (GetParam().workers < 2) GTEST_SKIP() << "the cancel must come from another worker";
  const std::string p = path("armed");
  ::close(::open(p.c_str(), O_CREAT | O_WRONLY, 0644));
  const auto before = coloop::test::open_fds();
  // The ring runs the withdrawn open later: count it settled (the pool drops it unrun).
  if (kernel_runs_calls()) held_kind.store(static_cast<int>(kind::open));
  hold_armed.store(true);
  coloop::detail::fs_test_hooks().armed.store(&hold_after_arm);
  bool held = false;
  const bool cancelled = run([](std::string q, bool in_kernel, bool* was_held) -> task<bool> {
    std::atomic<bool> started{false};
    auto opener = coloop::spawn(open_only, q, &started);
    // Spin without yielding this worker, so the other one takes the opener (and is held). One
    // this worker holds where the other cannot steal it (its spawn list, its LIFO slot: a third
    // of the spawns under COLOOP_SCHEDULE_SEED) never starts meanwhile: then yield, and whichever
    // worker runs the opener is held while the other resumes this task (a yield is stealable).
    for (int round = 0; round < 10'000 && !*was_held; ++round) {
      for (int spins = 0; spins < 1'000 && !*was_held; ++spins) {
        *was_held = entered.try_acquire();
        if (!*was_held) std::this_thread::yield();
      }
      if (!*was_held) co_await coloop::yield();
    }
    // Not taken meanwhile: take the hold back (it may be just entering: then wait for it).
    if (!*was_held && !hold_armed.exchange(false)) {
      entered.acquire();
      *was_held = true;
    }
    opener.cancel();
    const bool c = is_cancelled(co_await failure_of(std::move(opener)));  // the holder waits
    if (*was_held) release.release();
    if (in_kernel && *was_held) {  // the ring runs the withdrawn open: its fd is closed
      auto settled = [] { return settled_count.load() == 1; };
      EXPECT_TRUE(co_await coloop::test::yield_until(settled));
    }
    co_return c;
  }(p, kernel_runs_calls(), &held));
  EXPECT_TRUE(held);
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(coloop::test::open_fds(), before);
}

struct read_outcome {
  bool cancelled = false;
  std::string bytes;
  std::uint64_t position = 0;
};

task<std::string> read_three(file* f, std::atomic<bool>* started) {
  started->store(true);
  char buf[3];
  const std::size_t n = co_await f->read_some(buf, sizeof buf);
  co_return std::string(buf, n);
}

task<read_outcome> cancel_a_read(std::string p, bool hold) {
  co_await coloop::write_file(p, "abcdef");
  file f = co_await file::open(p);
  std::atomic<bool> started{false};
  if (hold) held_kind.store(static_cast<int>(kind::read));
  auto reader = coloop::spawn(read_three, &f, &started);
  auto has_started = [&started] { return started.load(); };
  EXPECT_TRUE(co_await coloop::test::yield_until(has_started));
  if (hold) {
    entered.acquire();  // the pool thread is at the pread: the cancel cannot withdraw it
  } else {
    co_await coloop::test::until_idle();
  }
  reader.cancel();
  if (hold) release.release();
  read_outcome out;
  try {
    out.bytes = co_await std::move(reader);
  } catch (const coloop::cancelled_error&) {
    out.cancelled = true;
  }
  out.position = f.position();
  co_await f.close();
  co_return out;
}

// Whatever the timing: the bytes were delivered (and the position moved past them) or the read
// was cancelled with the position unchanged, never both.
TEST_P(FileTest, ACancelledReadDeliversItsBytesXorLeavesThePosition) {
  const read_outcome r = run(cancel_a_read(path("r"), false), manual);
  if (r.cancelled) {
    EXPECT_EQ(r.position, 0u);
    EXPECT_EQ(r.bytes, "");
  } else {
    EXPECT_EQ(r.bytes, "abc");
    EXPECT_EQ(r.position, 3u);
  }
}

// The pool thread is inside the pread when the cancel comes: the bytes are delivered.
TEST_P(FileTest, AReadCancelledWhileRunningDeliversItsBytes) {
  if (kernel_runs_calls()) GTEST_SKIP() << "the kernel runs reads on io_uring (no pool thread)";
  const read_outcome r = run(cancel_a_read(path("r"), true));
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.bytes, "abc");
  EXPECT_EQ(r.position, 3u);
}

// io_uring: a read of a FIFO with nothing in it waits in the kernel; the cancel's ASYNC_CANCEL
// wins, so the read throws cancelled_error having consumed nothing, and the position stays.
TEST_P(FileTest, AReadCancelledInTheKernelConsumesNothing) {
  if (!kernel_runs_calls()) GTEST_SKIP() << "pool: a pread of a FIFO is ESPIPE";
  const std::string p = path("fifo");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  const read_outcome r = run(
      [](std::string q) -> task<read_outcome> {
        file f = co_await file::open(q, open_mode::read | open_mode::write);  // O_RDWR: no wait
        std::atomic<bool> started{false};
        auto reader = coloop::spawn(read_three, &f, &started);
        co_await coloop::test::until_idle();  // the read waits in the kernel
        reader.cancel();
        read_outcome out;
        out.cancelled = is_cancelled(co_await failure_of(std::move(reader)));
        out.position = f.position();
        const int w = ::open(q.c_str(), O_WRONLY | O_NONBLOCK);
        EXPECT_EQ(::write(w, "xyz", 3), 3);
        ::close(w);
        char buf[3];
        const std::size_t n = co_await f.read_some(buf, sizeof buf);  // the bytes are all there
        out.bytes.assign(buf, n);
        co_await f.close();
        co_return out;
      }(p),
      manual);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.position, 0u);
  EXPECT_EQ(r.bytes, "xyz");
}

// Holds the read back until the test has cancelled the task: on the runtime another worker may
// start a fresh spawn at once, so "before it starts" needs a gate that is not an await.
task<std::string> read_three_after(file* f, std::atomic<bool>* go) {
  while (!go->load(std::memory_order_acquire)) std::this_thread::yield();
  char buf[3];
  const std::size_t n = co_await f->read_some(buf, sizeof buf);
  co_return std::string(buf, n);
}

TEST_P(FileTest, AReadCancelledBeforeItStartsLeavesThePosition) {
  const read_outcome r = run([](std::string p) -> task<read_outcome> {
    co_await coloop::write_file(p, "abcdef");
    file f = co_await file::open(p);
    std::atomic<bool> go{false};
    auto reader = coloop::spawn(read_three_after, &f, &go);
    reader.cancel();
    go.store(true, std::memory_order_release);  // release: the cancel happens before the read
    read_outcome out;
    out.cancelled = is_cancelled(co_await failure_of(std::move(reader)));
    out.position = f.position();
    char buf[3];
    const std::size_t n = co_await f.read_some(buf, sizeof buf);  // the file is still usable
    out.bytes.assign(buf, n);
    co_return out;
  }(path("r")));
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.position, 0u);
  EXPECT_EQ(r.bytes, "abc");
}

COLOOP_INSTANTIATE_FLAVOURS(FileTest);

}  // namespace
