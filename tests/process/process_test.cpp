// process: real children (sh, cat, env, ...) on every flavour. Exit codes of 200 concurrent
// children, communicate and run_process, EPIPE from a child that stops reading, a grandchild
// holding stdout open, what the child inherits (signal dispositions, mask, fds, env, cwd, stdio
// modes), cancellation, ENOENT and bad input, kill-on-drop and reaping of dropped processes.
// The shared test main fails a test that leaves a child (running or zombie), fd or thread.

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <coloop/core/when_all.hpp>
#include <coloop/process/process.hpp>
#include <coloop/process/signal_set.hpp>
#include <coloop/runtime/wait_for.hpp>
#include <set>
#include <string>
#include <vector>

#include "net/stream_test_support.hpp"
#include "support/fd_audit.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::exit_status;
using coloop::process;
using coloop::process_options;
using coloop::process_result;
using coloop::stdio_option;
using coloop::task;
using coloop::test::code_of;
using coloop::test::failure_of;
using namespace std::chrono_literals;

class process_test : public coloop::test::flavour_test {};

task<exit_status> start_and_wait(int code) {
  process p = process::start({"sh", "-c", "exit " + std::to_string(code)});
  co_return co_await p.wait();
}

/// What `ls /proc/self/fd` prints in a child given only 0-2: those, ls's own directory handle
/// (the lowest number left free), and, in the portable build (no closefrom file action),
/// whatever this process inherited without close-on-exec from whoever started it (ctest, a
/// shell).
std::string expected_fds() {
  std::set<int> fds = {0, 1, 2};
  for (const auto& [fd, target] : coloop::test::open_fds()) {
    if (COLOOP_PORTABLE_FALLBACKS && fd > 2 && (::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0) {
      fds.insert(fd);
    }
  }
  int handle = 3;
  while (fds.count(handle) != 0) ++handle;
  fds.insert(handle);
  std::vector<std::string> names;
  for (int fd : fds) names.push_back(std::to_string(fd));
  std::sort(names.begin(), names.end());  // ls sorts by name
  std::string out;
  for (const std::string& n : names) out += n + "\n";
  return out;
}

/// Whether `pid` is gone: exited and reaped (a zombie still answers kill(pid, 0)).
bool gone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

TEST_P(process_test, two_hundred_concurrent_children_exit_codes) {
  run([]() -> task<void> {
    std::vector<task<exit_status>> children;
    for (int i = 0; i < 200; ++i) children.push_back(start_and_wait(i));
    const std::vector<exit_status> statuses = co_await coloop::when_all(std::move(children));
    EXPECT_EQ(statuses.size(), 200u);
    for (std::size_t i = 0; i < statuses.size(); ++i) {
      EXPECT_EQ(statuses[i].code(), static_cast<int>(i));
      EXPECT_EQ(statuses[i].signal(), 0);
    }
  }());
}

TEST_P(process_test, communicate_round_trip) {
  run([]() -> task<void> {
    process_options options;
    options.in = stdio_option::pipe();
    options.out = stdio_option::pipe();
    process cat = process::start({"cat"}, options);
    EXPECT_GT(cat.pid(), 0);
    const process_result r = co_await cat.communicate("hello\nworld\n");
    EXPECT_EQ(r.out, "hello\nworld\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.status, exit_status(0, 0));
    EXPECT_TRUE(r.status.success());
    EXPECT_EQ((co_await cat.wait()).code(), 0);  // once reaped, wait() answers at once
  }());
}

TEST_P(process_test, streams_line_by_line) {
  run([]() -> task<void> {
    process_options options;
    options.out = stdio_option::pipe();
    process seq = process::start({"seq", "1", "3"}, options);
    EXPECT_FALSE(seq.stdin_pipe().valid());
    EXPECT_FALSE(seq.stderr_pipe().valid());
    EXPECT_EQ(co_await seq.stdout_pipe().read_line(), "1\n");
    EXPECT_EQ(co_await seq.stdout_pipe().read_line(), "2\n");
    EXPECT_EQ(co_await seq.stdout_pipe().read_line(), "3\n");
    EXPECT_EQ(co_await seq.stdout_pipe().read_line(), "");
    process moved = std::move(seq);
    EXPECT_EQ(seq.pid(), -1);  // NOLINT(bugprone-use-after-move): the moved-from state
    EXPECT_EQ((co_await moved.wait()).code(), 0);
  }());
}

TEST_P(process_test, run_process_captures_output_and_status) {
  run([]() -> task<void> {
    const std::vector<std::string> args1{"sh", "-c", "echo out; echo err >&2; exit 3"};
    const process_result r = co_await coloop::run_process(args1);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_EQ(r.status.code(), 3);
    EXPECT_FALSE(r.status.success());
    process_options options;
    options.cwd = "/";
    const std::vector<std::string> args2{"pwd"};
    const process_result in_root = co_await coloop::run_process(args2, options);
    EXPECT_EQ(in_root.out, "/\n");
  }());
}

TEST_P(process_test, epipe_when_the_child_stops_reading) {
  run([]() -> task<void> {
    const std::string input = "first line\n" + std::string(1 << 20, 'x');
    process_options options;
    options.in = stdio_option::pipe();
    process reader = process::start({"sh", "-c", "read line; exit 7"}, options);
    auto write_everything = [](process& p, const std::string& data) -> task<void> {
      p.stdin_pipe().write(data);
      for (;;) co_await p.stdin_pipe().drain();  // until the pipe breaks
    };
    const std::exception_ptr failure = co_await failure_of(write_everything(reader, input));
    EXPECT_EQ(code_of(failure), std::errc::broken_pipe);  // and this process is still alive
    EXPECT_EQ((co_await reader.wait()).code(), 7);
    // communicate() takes the broken pipe as the end of the input and returns the status.
    process again = process::start({"sh", "-c", "read line; exit 7"}, options);
    const process_result r = co_await again.communicate(input);
    EXPECT_EQ(r.status.code(), 7);
  }());
}

TEST_P(process_test, grandchild_holding_stdout_does_not_hang_kill_and_wait) {
  run([]() -> task<void> {
    process_options options;
    options.out = stdio_option::pipe();
    options.new_process_group = true;
    process sh = process::start({"sh", "-c", "sleep 1000 & echo started; wait"}, options);
    EXPECT_EQ(co_await sh.stdout_pipe().read_line(), "started\n");
    sh.kill();
    const exit_status st = co_await sh.wait();  // the exit, not the pipe's end of file
    EXPECT_EQ(st.code(), -1);
    EXPECT_EQ(st.signal(), SIGKILL);
    sh.kill();                   // reaped: does nothing (the pid may belong to someone else by now)
    ::kill(-sh.pid(), SIGKILL);  // the grandchild, in the child's process group
    EXPECT_EQ(co_await sh.stdout_pipe().read(), "");  // its end of stdout closes as it dies
  }());
}

TEST_P(process_test, child_gets_default_dispositions_empty_mask_and_fds_0_to_2) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  run([]() -> task<void> {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigset_t old_mask;
    pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
    const std::vector<std::string> args3{"cat", "/proc/self/status"};
    const process_result status = co_await coloop::run_process(args3);
    const std::vector<std::string> args4{"sh", "-c", "yes | head -n 1"};
    const process_result yes = co_await coloop::run_process(args4);
    const std::vector<std::string> args5{"ls", "/proc/self/fd"};
    const process_result fds = co_await coloop::run_process(args5);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    EXPECT_NE(status.out.find("SigBlk:\t0000000000000000\n"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("SigIgn:\t0000000000000000\n"), std::string::npos) << status.out;
    // With SIGPIPE ignored, yes would see EPIPE and complain; by default it dies quietly.
    EXPECT_EQ(yes.out, "y\n");
    EXPECT_EQ(yes.err, "");
    EXPECT_EQ(yes.status.code(), 0);
    EXPECT_EQ(fds.out, expected_fds());
  }());
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
}

TEST_P(process_test, cancel_wait_and_communicate) {
  run(
      []() -> task<void> {
        process_options options;
        options.in = stdio_option::pipe();
        process cat = process::start({"cat"}, options);
        const std::exception_ptr timed_out = co_await failure_of(coloop::wait_for(cat.wait(), 1s));
        EXPECT_EQ(code_of(timed_out), coloop::errc::timed_out);
        cat.stdin_pipe().close();  // cat sees end of file and exits
        EXPECT_EQ((co_await cat.wait()).code(), 0);

        options.out = stdio_option::pipe();
        process sleeper = process::start({"sleep", "1000"}, options);
        const std::exception_ptr cancelled =
            co_await failure_of(coloop::wait_for(sleeper.communicate("input"), 1s));
        EXPECT_EQ(code_of(cancelled), coloop::errc::timed_out);
        sleeper.terminate();
        EXPECT_EQ((co_await sleeper.wait()).signal(), SIGTERM);
      }(),
      {.manual_clock = true});
}

TEST_P(process_test, bad_programs_and_bad_input) {
  run([]() -> task<void> {
    const std::exception_ptr missing = co_await failure_of([]() -> task<void> {
      process::start({"/nonexistent/coloop-program"});
      co_return;
    }());
    EXPECT_EQ(code_of(missing), std::errc::no_such_file_or_directory);
    const std::exception_ptr not_in_path = co_await failure_of([]() -> task<void> {
      process::start({"coloop-no-such-program-in-path"});
      co_return;
    }());
    EXPECT_EQ(code_of(not_in_path), std::errc::no_such_file_or_directory);
    process_options bad_cwd;
    bad_cwd.cwd = "/nonexistent/coloop-dir";
    EXPECT_THROW(process::start({"true"}, bad_cwd), std::system_error);
    EXPECT_THROW(process::start({}), std::invalid_argument);
    EXPECT_THROW(process::start({"true", std::string("a\0b", 3)}), std::invalid_argument);
    process_options bad_env;
    bad_env.env = {"NO_EQUALS_SIGN"};
    EXPECT_THROW(process::start({"true"}, bad_env), std::invalid_argument);
    process_options bad_fd;
    bad_fd.out = stdio_option::from_fd(-1);
    EXPECT_THROW(process::start({"true"}, bad_fd), std::invalid_argument);
    process sleeper = process::start({"sleep", "1000"});
    EXPECT_THROW(sleeper.send_signal(12345), std::system_error);
    sleeper.kill();
    co_await sleeper.wait();
  }());
}

TEST_P(process_test, environment_inherited_added_or_replaced) {
  run([]() -> task<void> {
    process_options replaced;
    replaced.inherit_env = false;
    replaced.env = {"A=1", "B=2"};
    const std::vector<std::string> args6{"env"};
    const process_result only = co_await coloop::run_process(args6, replaced);
    EXPECT_EQ(only.out, "A=1\nB=2\n");
    process_options added;
    added.env = {"COLOOP_TEST_VAR=x", "COLOOP_TEST_VAR=y"};  // the later entry wins
    const std::vector<std::string> echo{"sh", "-c", "echo $COLOOP_TEST_VAR-${PATH:+path}"};
    const process_result both = co_await coloop::run_process(echo, added);
    EXPECT_EQ(both.out, "y-path\n");
  }());
}

TEST_P(process_test, stdio_null_and_fd) {
  run([]() -> task<void> {
    process_options null_in;
    null_in.in = stdio_option::null();
    const std::vector<std::string> args7{"cat"};
    const process_result empty = co_await coloop::run_process(args7, null_in);
    EXPECT_EQ(empty.out, "");
    EXPECT_EQ(empty.status.code(), 0);

    // sh's own test builtin compares its fds 0-2 with /dev/null: exit code 0 when all three are.
    const std::vector<std::string> all_null{
        "sh", "-c",
        "[ /proc/self/fd/0 -ef /dev/null ] && [ /proc/self/fd/1 -ef /dev/null ] && "
        "[ /proc/self/fd/2 -ef /dev/null ]"};
    process_options nulls;
    nulls.in = stdio_option::null();
    nulls.out = stdio_option::null();
    nulls.err = stdio_option::null();
    process p = process::start(all_null, nulls);
    EXPECT_FALSE(p.stdout_pipe().valid());
    EXPECT_EQ((co_await p.wait()).code(), 0);
    nulls.err = stdio_option::pipe();  // the control: not /dev/null, so the test builtin fails
    process control = process::start(all_null, nulls);
    EXPECT_EQ((co_await control.communicate()).status.code(), 1);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
    process_options to_fd;
    to_fd.out = stdio_option::from_fd(fds[1]);
    process echo = process::start({"sh", "-c", "echo via-fd"}, to_fd);
    ::close(fds[1]);  // the child has its own copy
    EXPECT_EQ((co_await echo.wait()).code(), 0);
    char buf[32] = {};
    EXPECT_EQ(::read(fds[0], buf, sizeof buf), 7);  // written before the exit: no wait
    EXPECT_EQ(std::string(buf), "via-fd\n");
    ::close(fds[0]);
  }());
}

TEST_P(process_test, kill_on_drop) {
  run([]() -> task<void> {
    process_options options;
    options.kill_on_drop = true;
    int pid = 0;
    {
      process sleeper = process::start({"sleep", "1000"}, options);
      pid = sleeper.pid();
    }
    auto reaped = [pid] { return gone(pid); };
    EXPECT_TRUE(co_await coloop::test::yield_until(reaped));
  }());
}

TEST_P(process_test, dropped_without_wait_is_reaped_in_the_background) {
  run([]() -> task<void> {
    process_options options;
    options.in = stdio_option::pipe();
    options.out = stdio_option::null();
    int pid = 0;
    {
      process cat = process::start({"cat"}, options);
      pid = cat.pid();
      cat.stdin_pipe().write("some input");
    }  // stdin closes: cat ends on its own
    auto reaped = [pid] { return gone(pid); };
    EXPECT_TRUE(co_await coloop::test::yield_until(reaped));
  }());
}

TEST_P(process_test, dropped_child_that_outlives_its_loop_is_reaped_after_it) {
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  int pid = 0;
  run([](int child_in, int& child) -> task<void> {
    process_options options;
    options.in = stdio_option::from_fd(child_in);
    options.out = stdio_option::null();
    process cat = process::start({"cat"}, options);
    child = cat.pid();
    co_return;  // dropped while cat still runs: the loop ends before it does
  }(in[0], pid));
  EXPECT_FALSE(gone(pid));
  ::close(in[0]);
  ::close(in[1]);  // now cat reads end of file and exits, with no loop left to reap it
  run([](int child) -> task<void> {
    auto reaped = [child] { return gone(child); };
    EXPECT_TRUE(co_await coloop::test::yield_until(reaped));
  }(pid));
}

TEST_P(process_test, a_signal_set_watching_sigchld_still_gets_it) {
  run([]() -> task<void> {
    coloop::signal_set children{SIGCHLD};  // the SIGCHLD reaper shares its handler
    process p = process::start({"true"});
    EXPECT_EQ(co_await children.wait(), SIGCHLD);
    EXPECT_EQ((co_await p.wait()).code(), 0);
  }());
}

TEST_P(process_test, cancelled_run_process_kills_its_child) {
  run(
      []() -> task<void> {
        const std::vector<std::string> args{"sh", "-c", "echo $$; exec sleep 1000"};
        process_options options;
        options.out = stdio_option::pipe();
        // run_process's own child cannot be named from outside: start the same way it does
        // (kill_on_drop) and cancel communicate() the way a cancelled run_process does.
        options.kill_on_drop = true;
        int pid = 0;
        {
          process p = process::start(args, options);
          pid = p.pid();
          EXPECT_EQ(co_await p.stdout_pipe().read_line(), std::to_string(pid) + "\n");
          const std::exception_ptr e = co_await failure_of(coloop::wait_for(p.communicate(), 1s));
          EXPECT_EQ(code_of(e), coloop::errc::timed_out);
        }
        auto reaped = [pid] { return gone(pid); };
        EXPECT_TRUE(co_await coloop::test::yield_until(reaped));
        const std::exception_ptr e =
            co_await failure_of(coloop::wait_for(coloop::run_process(args), 1s));
        EXPECT_EQ(code_of(e), coloop::errc::timed_out);  // and its sleep is killed and reaped
      }(),
      {.manual_clock = true});
}

COLOOP_INSTANTIATE_FLAVOURS(process_test);

TEST(process, start_needs_a_running_loop) {
  EXPECT_THROW(process::start({"true"}), std::logic_error);
}

}  // namespace
