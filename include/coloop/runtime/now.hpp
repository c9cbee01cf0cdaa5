#pragma once
// now() and running_backend(): what the loop running on this thread reports about itself.

#include <string_view>

#include <coloop/runtime/loop_options.hpp>

namespace coloop {

/// The running loop's (or runtime's) clock: monotonic, or the manual clock of
/// loop_options::manual_clock. Throws std::logic_error when no loop runs on this thread.
time_point now();
/// The backend of the loop (or runtime) running on this thread: "epoll", "libuv", ... Throws
/// std::logic_error when none runs here.
std::string_view running_backend();

}  // namespace coloop
