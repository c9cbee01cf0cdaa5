#pragma once
// Test hooks of the libuv reactor (libuv_reactor.cpp); the reactor itself is reached through
// make_libuv_reactor() in runtime/driver/reactor.hpp.

#include <cstddef>

#include "runtime/io/readiness_reactor.hpp"

namespace coloop::detail {

/// Open (not closing) libuv handles of `r`, which must be a libuv reactor: the wake uv_async_t
/// and the timeout uv_timer_t, plus one uv_poll_t per registered fd.
std::size_t libuv_open_handles(reactor& r);
/// How many times poll() ran on `r` (a libuv reactor): a loop that spins shows up here.
std::size_t libuv_poll_count(reactor& r) noexcept;
/// What uv_loop_close returned when the last libuv reactor was destroyed: 0 when every handle
/// had been closed, UV_EBUSY when one was left; 1 before any was destroyed.
int libuv_last_close_result() noexcept;

}  // namespace coloop::detail
