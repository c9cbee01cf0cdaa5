#pragma once
// What the layers above the runtime (net, process) may ask of the scheduler on this thread,
// without knowing whether it is an event loop or a runtime worker.

namespace coloop::detail {

class reactor;

/// The reactor of the event loop (or runtime driver) running on this thread; nullptr on any
/// other thread. What the fs layer asks whether the backend runs file operations itself.
reactor* current_reactor() noexcept;

/// Throws std::logic_error naming `api` when no event loop (or runtime worker) runs on this thread.
void require_running_loop(const char* api);

}  // namespace coloop::detail
