#pragma once
// Flavours: the ways a test body can be run (DESIGN.md §5: "every I/O test is one body run once
// per compiled backend"). A conformance suite is a TEST_P on coloop::test::flavour_test,
// instantiated with COLOOP_INSTANTIATE_FLAVOURS(Suite); its body calls run(main()) (or
// run(main(), {.manual_clock = true})) instead of coloop::run, and reads the clock with
// coloop::now() rather than through event_loop::current(), so it does not care what runs it.
//
// all_flavours() is the single list: the multi-threaded runtime appends its flavours (workers > 0)
// there, and every suite instantiated with it picks them up.

#include <gtest/gtest.h>

#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/run.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coloop::test {

struct flavour {
  coloop::backend backend = coloop::backend::automatic;
  /// 0: a single-threaded event_loop (coloop::run). A multi-threaded runtime will add > 0.
  unsigned workers = 0;
};

/// Every flavour this build can run: one event_loop per compiled-in backend.
inline std::vector<flavour> all_flavours() {
  std::vector<flavour> out;
  for (coloop::backend b : coloop::available_backends()) out.push_back({b, 0});
  return out;
}

/// The flavours that are a single event_loop (one per backend): for suites whose bodies drive an
/// event_loop themselves (call_soon, run_forever on a thread, set_exception_handler, ...).
inline std::vector<flavour> loop_flavours() {
  std::vector<flavour> out;
  for (const flavour& f : all_flavours()) {
    if (f.workers == 0) out.push_back(f);
  }
  return out;
}

/// The gtest-printable name: "epoll", "libuv", ... ("epoll_mt4" for 4 workers, later).
inline std::string name_of(const flavour& f) {
  std::string name(coloop::to_string(f.backend));
  if (f.workers > 0) name += "_mt" + std::to_string(f.workers);
  return name;
}

inline void PrintTo(const flavour& f, std::ostream* os) { *os << name_of(f); }

struct flavour_name {
  std::string operator()(const testing::TestParamInfo<flavour>& info) const {
    return name_of(info.param);
  }
};

/// `base` with the flavour's backend.
inline loop_options options_for(const flavour& f, loop_options base = {}) {
  base.backend = f.backend;
  return base;
}

/// coloop::run(main, options) on flavour `f`.
template <class T>
T run_on(const flavour& f, task<T> main, loop_options options = {}) {
  if (f.workers != 0)
    throw std::logic_error("flavour: the multi-threaded runtime is not built yet");
  return coloop::run(std::move(main), options_for(f, options));
}

/// Fixture of a conformance suite: `class Sleep : public coloop::test::flavour_test {};`.
class flavour_test : public testing::TestWithParam<flavour> {
 protected:
  template <class T>
  T run(task<T> main, loop_options options = {}) {
    return run_on(GetParam(), std::move(main), options);
  }
  /// Options of an event_loop the body builds itself; only in suites instantiated with
  /// COLOOP_INSTANTIATE_LOOP_FLAVOURS.
  loop_options options(loop_options base = {}) const {
    if (GetParam().workers != 0) {
      throw std::logic_error(
          "flavour_test::options: this suite drives an event_loop itself; "
          "instantiate it with COLOOP_INSTANTIATE_LOOP_FLAVOURS");
    }
    return options_for(GetParam(), base);
  }
  /// The backend name the running loop reports (checks the flavour is really in use).
  static std::string_view running_backend() {
    return coloop::event_loop::current()->backend_name();
  }
};

}  // namespace coloop::test

/// Runs every TEST_P of `suite` once per flavour, named Suite.Test/epoll, Suite.Test/libuv, ...
#define COLOOP_INSTANTIATE_FLAVOURS(suite)                                           \
  INSTANTIATE_TEST_SUITE_P(, suite, testing::ValuesIn(coloop::test::all_flavours()), \
                           coloop::test::flavour_name{})

/// Like COLOOP_INSTANTIATE_FLAVOURS, over loop_flavours() only.
#define COLOOP_INSTANTIATE_LOOP_FLAVOURS(suite)                                       \
  INSTANTIATE_TEST_SUITE_P(, suite, testing::ValuesIn(coloop::test::loop_flavours()), \
                           coloop::test::flavour_name{})
