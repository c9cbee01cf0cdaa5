#include <coloop/core/cancellation.hpp>

namespace coloop::detail {

void throw_cancelled() { throw cancelled_error(); }

bool is_cancellation(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace coloop::detail
