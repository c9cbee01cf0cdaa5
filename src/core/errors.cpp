#include <coloop/core/errors.hpp>

#include <string>

namespace coloop {
namespace {

class coloop_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coloop"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::cancelled: return "operation cancelled";
      case errc::timed_out: return "operation timed out";
      case errc::closed: return "closed";
      case errc::limit_overrun: return "limit overrun";
      case errc::incomplete_read: return "incomplete read";
      case errc::rejected: return "rejected";
      case errc::broken_promise: return "broken promise: destroyed without a value";
    }
    return "unknown coloop error " + std::to_string(code);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const coloop_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

cancelled_error::cancelled_error() : std::system_error(make_error_code(errc::cancelled)) {}
timeout_error::timeout_error() : std::system_error(make_error_code(errc::timed_out)) {}

}  // namespace coloop
