#include <coloop/version.hpp>

namespace coloop {
const char* version() noexcept { return COLOOP_VERSION_STRING; }
}  // namespace coloop
