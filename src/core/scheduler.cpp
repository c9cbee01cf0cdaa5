#include <coloop/detail/scheduler.hpp>

namespace coloop::detail {

constinit thread_local thread_state this_thread{};
std::atomic<unsigned> frames_being_kept{0};

std::coroutine_handle<> bounce(std::coroutine_handle<> next) noexcept {
  // Without a scheduler there is nowhere to bounce to (and no limit is set): keep transferring.
  if (scheduler* s = this_thread.current) {
    s->post(next);
    return std::noop_coroutine();
  }
  return next;
}

bool post_from_any_thread(scheduler* s, std::coroutine_handle<> h) noexcept {
  if (this_thread.current == s) {
    s->post(h);
    return true;
  }
  try {
    s->post_threadsafe(h);
    return true;
  } catch (...) {
    return false;  // closed: nothing runs there any more
  }
}

}  // namespace coloop::detail
