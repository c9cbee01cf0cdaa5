#pragma once
// Ring setup of the io_uring backend (private to src/backend/io_uring).

#include <liburing.h>

#include "backend/io_uring/io_uring_reactor.hpp"

namespace coloop::detail {

/// Submission and completion ring sizes. The SQ ring is flushed whenever it fills, so it only
/// bounds a batch; the CQ ring is larger because each connection may have a read, a write and a
/// poll completing in one turn (an overflow is not lost, the kernel buffers it, but costs more).
inline constexpr unsigned ring_sq_entries = 256;
inline constexpr unsigned ring_cq_entries = 4096;

/// Initialises `ring` (see uring_setup.cpp for the flags) and reports the kernel's features;
/// `shared`: for a runtime's workers. Throws io_uring_unavailable when the kernel refuses (or the
/// test hook says so).
void setup_ring(io_uring& ring, unsigned& features, bool shared);

}  // namespace coloop::detail
