#pragma once
// Coroutine frames come from thread-local size-class free lists instead of malloc.

#include <cstddef>

namespace coloop {

/// Turns the frame pool on or off for the whole process (COLOOP_FRAME_POOL sets only whether it
/// starts on). Frames allocated either way may be freed either way. Thread-safe.
void set_frame_pool_enabled(bool enabled) noexcept;
/// Whether new coroutine frames come from the pool. Thread-safe.
bool frame_pool_enabled() noexcept;

namespace detail {
/// Allocates a coroutine frame of `size` bytes; throws std::bad_alloc.
void* frame_allocate(std::size_t size);
/// Frees a frame from frame_allocate; may run on any thread.
void frame_deallocate(void* frame, std::size_t size) noexcept;
}  // namespace detail

}  // namespace coloop
