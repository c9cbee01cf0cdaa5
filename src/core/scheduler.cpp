#include <coloop/detail/scheduler.hpp>

namespace coloop::detail {

constinit thread_local thread_state this_thread{};

std::coroutine_handle<> bounce(std::coroutine_handle<> next) noexcept {
  // Without a scheduler there is nowhere to bounce to (and no limit is set): keep transferring.
  if (scheduler* s = this_thread.current) {
    s->post(next);
    return std::noop_coroutine();
  }
  return next;
}

}  // namespace coloop::detail
