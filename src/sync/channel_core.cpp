// channel_core: the non-template half of broadcast<T> and watch<T>. A receiver's wait checks
// version/closed under the wait_list's lock; senders change them under `mutex` and call
// notify_all after releasing it, so the two locks are never nested and no wake is missed.

#include <coloop/detail/channel_core.hpp>
#include <coloop/sync/broadcast.hpp>
#include <coloop/sync/watch.hpp>  // compiled here, with the layer's flags

#include <coloop/core/errors.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

namespace coloop {

lagged_error::lagged_error(std::uint64_t missed)
    : std::runtime_error("broadcast receiver lagged: " + std::to_string(missed) +
                         " values were overwritten before it received them"),
      missed_(missed) {}

}  // namespace coloop

namespace coloop::detail {

void channel_core::close() noexcept {
  {
    std::lock_guard lock(mutex);
    closed.store(true, std::memory_order_release);  // pairs with ready(): the last values are kept
  }
  waiters.notify_all();
}

void throw_channel_closed(const char* what) {
  throw std::system_error(make_error_code(errc::closed), std::string(what) + ": channel closed");
}

void throw_moved_from(const char* what) {
  throw std::logic_error(std::string(what) + ": moved-from object");
}

}  // namespace coloop::detail
