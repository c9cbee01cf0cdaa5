// Defaults of the completion-backend hooks of reactor (reactor.hpp). io_ops.cpp calls them only
// for entries whose fd_entry::completion is set, which only a completion backend does, so a
// readiness backend reaching them is a bug in that backend.

#include "runtime/driver/reactor.hpp"

#include <exception>
#include <stdexcept>
#include <string>

namespace coloop::detail {

bool reactor::start(io_op&, std::coroutine_handle<>, scheduler*, cancel_state*) {
  throw std::logic_error(std::string("coloop: the ") + name() +
                         " backend set fd_entry::completion but does not implement start()");
}

void reactor::cancel(io_op&) noexcept { std::terminate(); }  // see start()

}  // namespace coloop::detail
