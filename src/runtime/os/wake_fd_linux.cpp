// Linux's wake_fd (runtime/os/wake_fd.hpp): setup and teardown of its eventfd.

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <system_error>

#include "runtime/os/wake_fd.hpp"

namespace coloop::detail::os {

wake_fd::wake_fd() {
  read_ = write_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (read_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

wake_fd::~wake_fd() { ::close(read_); }

}  // namespace coloop::detail::os
