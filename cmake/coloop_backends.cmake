# I/O backends (DESIGN.md §5): which reactors the library is built with. Sets
#   COLOOP_BACKEND_SOURCES      the backends' .cpp files (src/backend/select.cpp included)
#   COLOOP_BACKEND_DEFINITIONS  COLOOP_HAVE_<NAME>=1 for each one (src/backend/select.cpp)
#   COLOOP_BACKEND_LIBS         what they link (libuv's imported target)
#   COLOOP_BACKENDS             their names, for the summary line and the tests
# epoll is Linux's and kqueue the BSDs'/macOS's (never both); libuv is optional anywhere.
include(CheckIncludeFiles)

set(COLOOP_BACKEND_SOURCES src/backend/select.cpp)
set(COLOOP_BACKEND_DEFINITIONS "")
set(COLOOP_BACKEND_LIBS "")
set(COLOOP_BACKENDS "")

if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  list(APPEND COLOOP_BACKEND_SOURCES src/backend/epoll/epoll_reactor.cpp)
  list(APPEND COLOOP_BACKEND_DEFINITIONS COLOOP_HAVE_EPOLL=1)
  list(APPEND COLOOP_BACKENDS epoll)
else()
  # kqueue: FreeBSD, OpenBSD, NetBSD, DragonFly, macOS. Not on Linux even when libkqueue's
  # emulation is installed (epoll is the real thing there).
  # sys/types.h first: older BSDs' sys/event.h does not include what it uses.
  check_include_files("sys/types.h;sys/event.h" COLOOP_HAVE_SYS_EVENT_H LANGUAGE CXX)
  if(COLOOP_HAVE_SYS_EVENT_H)
    list(APPEND COLOOP_BACKEND_SOURCES src/backend/kqueue/kqueue_reactor.cpp)
    list(APPEND COLOOP_BACKEND_DEFINITIONS COLOOP_HAVE_KQUEUE=1)
    list(APPEND COLOOP_BACKENDS kqueue)
  endif()
endif()

# libuv: on by default when pkg-config finds it (Debian: libuv1-dev), silently off otherwise.
# GLOBAL so that a parent project that add_subdirectory()s coloop can resolve the target too.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(COLOOP_UV QUIET IMPORTED_TARGET GLOBAL libuv)
endif()
option(COLOOP_WITH_LIBUV "Build the libuv backend (needs libuv, found with pkg-config)"
  ${COLOOP_UV_FOUND})
if(COLOOP_WITH_LIBUV)
  if(NOT COLOOP_UV_FOUND)
    message(FATAL_ERROR "COLOOP_WITH_LIBUV is ON but pkg-config does not find libuv "
      "(Debian: apt-get install libuv1-dev), or configure with -DCOLOOP_WITH_LIBUV=OFF")
  endif()
  list(APPEND COLOOP_BACKEND_SOURCES src/backend/libuv/libuv_reactor.cpp)
  list(APPEND COLOOP_BACKEND_DEFINITIONS COLOOP_HAVE_LIBUV=1)
  list(APPEND COLOOP_BACKEND_LIBS PkgConfig::COLOOP_UV)
  list(APPEND COLOOP_BACKENDS libuv)
endif()

if(NOT COLOOP_BACKENDS)
  message(FATAL_ERROR "coloop: no I/O backend for ${CMAKE_SYSTEM_NAME} (neither epoll nor "
    "kqueue; install libuv and configure with -DCOLOOP_WITH_LIBUV=ON)")
endif()
list(JOIN COLOOP_BACKENDS ", " _coloop_backends_shown)
message(STATUS "coloop backends: ${_coloop_backends_shown}")
