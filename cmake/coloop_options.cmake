include(GNUInstallDirs)
option(BUILD_SHARED_LIBS "Build coloop as a shared library" OFF)
option(COLOOP_FRAME_POOL "Allocate coroutine frames from thread-local free lists" ON)
set(COLOOP_SANITIZE "" CACHE STRING "Sanitizers to build with: '', 'address,undefined' or 'thread'")
option(COLOOP_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)

# Tests, benchmarks and examples are on only when coloop is the top-level project, so that
# add_subdirectory(coloop) from another project builds just the library.
if(CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)
  set(_coloop_top ON)
else()
  set(_coloop_top OFF)
endif()
option(COLOOP_BUILD_TESTS "Build coloop's tests" ${_coloop_top})
option(COLOOP_BUILD_BENCHMARKS "Build coloop's benchmarks" ${_coloop_top})
option(COLOOP_BUILD_EXAMPLES "Build coloop's examples" ${_coloop_top})

# io_uring backend (src/backend/io_uring): on by default when pkg-config finds liburing, off
# otherwise; asking for it without liburing is an error.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(COLOOP_LIBURING QUIET IMPORTED_TARGET liburing)
endif()
option(COLOOP_WITH_IO_URING "Build the io_uring backend (needs liburing)" ${COLOOP_LIBURING_FOUND})
if(COLOOP_WITH_IO_URING AND NOT COLOOP_LIBURING_FOUND)
  message(FATAL_ERROR "COLOOP_WITH_IO_URING=ON but pkg-config cannot find liburing "
    "(install liburing-dev, or configure with -DCOLOOP_WITH_IO_URING=OFF)")
endif()

# Per-OS seams (src/runtime/os/, DESIGN.md §1): Linux builds its own calls (futex, eventfd,
# accept4, SOCK_NONBLOCK/SOCK_CLOEXEC); every other system builds the portable fallbacks (mutex +
# condition variable, pipe, accept/socket + fcntl). ON forces the fallbacks on Linux too, so the
# code macOS and the BSDs run is built and tested here. A compile-time choice: no runtime branch.
option(COLOOP_PORTABLE_FALLBACKS "Use the portable OS fallbacks even on Linux (for testing)" OFF)
if(COLOOP_PORTABLE_FALLBACKS OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(COLOOP_OS_PORTABLE 1)
else()
  set(COLOOP_OS_PORTABLE 0)
endif()
if(COLOOP_OS_PORTABLE)
  message(STATUS "coloop OS calls: portable fallbacks (src/runtime/os/*_portable.cpp)")
else()
  message(STATUS "coloop OS calls: Linux's own (src/runtime/os/*_linux.*)")
endif()
