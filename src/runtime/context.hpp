#pragma once
// What the layers above the runtime (net, process) may ask of the scheduler on this thread,
// without knowing whether it is an event loop or a runtime worker.

namespace coloop::detail {

/// Throws std::logic_error naming `api` when no event loop (or runtime worker) runs on this thread.
void require_running_loop(const char* api);

}  // namespace coloop::detail
