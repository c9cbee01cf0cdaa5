// process::wait, communicate and run_process.
//
// pidfd mode: the pidfd is registered with the loop like any fd (async_fd); wait() submits one
// operation whose attempt is waitpid(WNOHANG): the reactor runs it when the pidfd reports
// readable, and an attempt that finds the child still running clears the cached readiness and
// waits for the next report, as an EAGAIN read would. Nothing polls.
//
// SIGCHLD mode: the reaper thread writes the exit code and signal into the child's status pipe,
// reaps the child and closes the pipe; wait() reads it to end of file, keeping the bytes in the
// state, so a cancelled wait loses nothing.

#include <errno.h>
#include <sys/wait.h>

#include <coloop/core/when_all.hpp>
#include <coloop/process/process.hpp>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "process/process_state.hpp"

namespace coloop {
namespace detail {
namespace {

bool attempt_reap(io_op* op) noexcept {
  auto& s = *static_cast<process_state*>(op->buffer);
  for (;;) {
    const int r = ::waitpid(s.pid, &s.raw_status, WNOHANG);
    if (r > 0) return settle_attempt(op, 0, 0);
    if (r == 0) return settle_attempt(op, -1, EAGAIN);  // not yet: wait for the pidfd
    if (errno != EINTR) return settle_attempt(op, -1, errno);  // ECHILD, EINVAL: never EAGAIN
  }
}

task<void> feed(stream_writer& in, std::string input) {
  if (!in.valid()) co_return;
  try {
    if (!input.empty()) in.write(input);
    in.close();  // sends the rest, then the child reads end of file
    co_await in.wait_closed();
  } catch (const std::system_error& e) {  // cancelled_error too: rethrown below
    // A child that exits or closes its stdin without reading everything is no error.
    if (e.code() != std::errc::broken_pipe && e.code() != std::errc::connection_reset) throw;
  }
}

task<std::string> read_all(stream_reader& from) {
  if (!from.valid()) co_return std::string();
  co_return co_await from.read();
}

}  // namespace

task<void> await_exit(process_state& s) {
  if (s.reaped) co_return;
  if (s.by_sigchld) {
    for (;;) {
      char buf[16];
      const std::size_t n = co_await s.exit_fd.read_some(buf, sizeof buf);
      if (n == 0) break;
      for (std::size_t i = 0; i < n && s.status_got < sizeof s.status_bytes; ++i) {
        s.status_bytes[s.status_got++] = buf[i];
      }
    }
    s.exit_fd.close();
    s.reaped = true;
    if (s.status_got < sizeof s.status_bytes) {  // reaped by someone else: no status to have
      throw std::system_error(ECHILD, std::generic_category(), "coloop::process::wait");
    }
    int code_and_signal[2];
    std::memcpy(code_and_signal, s.status_bytes, sizeof code_and_signal);
    s.status = exit_status(code_and_signal[0], code_and_signal[1]);
    co_return;
  }
  if (!try_reap(s)) {
    fd_io_awaiter reaped(s.exit_fd.entry(), io_dir::read, &attempt_reap, &s, 0,
                         "coloop::process::wait");
    co_await reaped;
    set_status(s, s.raw_status);
  }
  s.exit_fd.close();
}

}  // namespace detail

task<exit_status> process::wait() {
  if (s_ == nullptr) throw std::logic_error("coloop::process::wait: moved-from process");
  detail::process_state& s = *s_;
  co_await detail::await_exit(s);
  co_return s.status;
}

task<process_result> process::communicate(std::string input) {
  if (s_ == nullptr) throw std::logic_error("coloop::process::communicate: moved-from process");
  detail::process_state& s = *s_;
  task<void> writing = detail::feed(s.in, std::move(input));
  task<std::string> out = detail::read_all(s.out);
  task<std::string> err = detail::read_all(s.err);
  auto outputs = co_await when_all(std::move(writing), std::move(out), std::move(err));
  co_await detail::await_exit(s);
  co_return process_result{std::move(std::get<1>(outputs)), std::move(std::get<2>(outputs)),
                           s.status};
}

task<process_result> run_process(std::vector<std::string> args) {
  return run_process(std::move(args), process_options());
}

task<process_result> run_process(std::vector<std::string> args, process_options options) {
  options.out = stdio_option::pipe();
  options.err = stdio_option::pipe();
  options.kill_on_drop = true;  // cancelled: the child does not outlive the call
  process child = process::start(std::move(args), options);
  co_return co_await child.communicate();
}

}  // namespace coloop
