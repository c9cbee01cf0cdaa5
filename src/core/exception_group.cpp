// exception_group: the list lives behind a shared pointer so the exception object copies without
// throwing (std::exception's contract); what() is composed once, at construction.

#include <coloop/core/exception_group.hpp>

#include <string>
#include <utility>

#include "core/log_format.hpp"

namespace coloop {

struct exception_group::state {
  std::vector<std::exception_ptr> exceptions;
  std::string what;
};

std::string detail::what_of(const std::exception_ptr& e, const char* otherwise) {
  if (!e) return "(null)";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return otherwise;
  }
}

exception_group::exception_group(std::vector<std::exception_ptr> exceptions) {
  auto s = std::make_shared<state>();
  const std::size_t n = exceptions.size();
  s->what = "coloop::exception_group: " + std::to_string(n) + (n == 1 ? " failure" : " failures");
  if (n > 0) s->what += "; first: " + detail::what_of(exceptions.front(), "(not a std::exception)");
  s->exceptions = std::move(exceptions);
  state_ = std::move(s);
}

const char* exception_group::what() const noexcept { return state_->what.c_str(); }

const std::vector<std::exception_ptr>& exception_group::exceptions() const noexcept {
  return state_->exceptions;
}

}  // namespace coloop
