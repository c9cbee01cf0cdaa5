// signal_set: a wake pipe registered with the loop, plus a slot in the process-wide table the
// signal handler wakes (signal_dispatch.cpp). wait() takes a pending signal before reading the
// pipe, so a wake is never lost and leftover bytes only make it look again. close() unregisters
// first (which closes the write end once no handler can use it) and closes the read end after.

#include <signal.h>
#include <unistd.h>

#include <coloop/core/errors.hpp>
#include <coloop/process/signal_set.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "process/signal_dispatch.hpp"

namespace coloop {

signal_set::signal_set(std::initializer_list<int> signals) {
  std::uint64_t mask = 0;
  for (int s : signals) {
    if (s == SIGKILL || s == SIGSTOP || s <= 0 || s > detail::signals::max_signal) {
      throw std::invalid_argument("coloop::signal_set: bad signal number " + std::to_string(s));
    }
    mask |= 1ULL << (s - 1);
  }
  int fds[2];
  detail::signals::make_wake_pipe(fds);
  try {
    fd_ = async_fd(fds[0]);  // owns fds[0] even when it throws
  } catch (...) {
    ::close(fds[1]);
    throw;
  }
  slot_ = detail::signals::watch(mask, fds[1]);  // owns fds[1]; fd_ closes on a throw
}

task<int> signal_set::wait() {
  char drain[256];  // a burst leaves up to one byte per handler run; take many per read
  while (slot_ >= 0) {
    if (const int signo = detail::signals::take_pending(slot_); signo != 0) co_return signo;
    if (co_await fd_.read_some(drain, sizeof drain) == 0) break;  // the write end closed under us
  }
  detail::throw_io_error(-static_cast<int>(errc::closed), "coloop::signal_set::wait");
}

void signal_set::close() noexcept {
  if (slot_ >= 0) detail::signals::unwatch(slot_);
  slot_ = -1;
  fd_.close();
}

}  // namespace coloop
