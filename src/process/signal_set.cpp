// signal_set: a signalfd registered with the loop. The signals are blocked in the constructing
// thread (signalfd only sees blocked signals); close() unblocks the ones that were not blocked
// before, after closing the fd, so a signal that arrives later gets its normal disposition.

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <coloop/core/errors.hpp>
#include <coloop/process/signal_set.hpp>
#include <stdexcept>
#include <string>
#include <system_error>

namespace coloop {

signal_set::signal_set(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) {
    if (s == SIGKILL || s == SIGSTOP || s <= 0 || s > 64 || sigaddset(&set, s) != 0) {
      throw std::invalid_argument("coloop::signal_set: bad signal number " + std::to_string(s));
    }
  }
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set, &old);
  for (int s : signals) {
    if (sigismember(&old, s) == 0) blocked_ |= 1ULL << (s - 1);
  }
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    close();
    throw std::system_error(err, std::generic_category(), "coloop::signal_set: signalfd");
  }
  try {
    fd_ = detail::async_fd(fd);
  } catch (...) {
    close();
    throw;
  }
}

task<int> signal_set::wait() {
  signalfd_siginfo info{};
  std::size_t got = 0;
  while (got < sizeof info) {  // signalfd hands out whole records; the loop is for form's sake
    got += co_await fd_.read_some(reinterpret_cast<char*>(&info) + got, sizeof info - got);
  }
  co_return static_cast<int>(info.ssi_signo);
}

void signal_set::close() noexcept {
  fd_.close();
  if (blocked_ == 0) return;
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s <= 64; ++s) {
    if ((blocked_ >> (s - 1)) & 1) sigaddset(&set, s);
  }
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  blocked_ = 0;
}

}  // namespace coloop
