// The per-OS seam (DESIGN.md §1): every call that only Linux has (futex, eventfd, accept4, the
// SOCK_NONBLOCK/SOCK_CLOEXEC flags) sits behind a header of this folder, with a portable
// fallback that is what macOS and the BSDs run. The build picks one at compile time:
// COLOOP_PORTABLE_FALLBACKS comes from cmake/coloop_options.cmake, 0 for Linux's own calls (inline
// in the *_linux.hpp headers, so the hot paths compile to what they were before the seam), 1 for
// the *_portable.cpp files (every other system, or Linux with -DCOLOOP_PORTABLE_FALLBACKS=ON).
#pragma once

#ifndef COLOOP_PORTABLE_FALLBACKS
#error "COLOOP_PORTABLE_FALLBACKS must come from the build (cmake/coloop_options.cmake)"
#endif
#if !COLOOP_PORTABLE_FALLBACKS && !defined(__linux__)
#error "Linux's own calls were asked for on another system: build with COLOOP_PORTABLE_FALLBACKS=1"
#endif
