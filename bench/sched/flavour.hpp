#pragma once
// Scheduler flavours for the scheduler benchmarks (BENCHMARKS.md, "Scheduler benchmarks"):
// block_on(flavour, task) runs a task to completion on the chosen scheduler, and fills in a
// `remote` with the scheduler's from-outside entry points (for spawn_many_remote and the
// cross-thread wake benchmark).
//
// Today there is one flavour, the single-threaded event_loop (coloop::run). The work-stealing
// coloop::runtime (issue 4) plugs in below, in the block marked "RUNTIME": once
// <coloop/runtime/runtime.hpp> exists, the runtime1 / runtime2 flavours appear by themselves.

#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <coloop/core/task.hpp>
#include <coloop/detail/callback.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/spawn.hpp>

#if __has_include(<coloop/runtime/runtime.hpp>)
#include <coloop/runtime/runtime.hpp>
#define COLOOP_SCHED_BENCH_HAS_RUNTIME 1
#else
#define COLOOP_SCHED_BENCH_HAS_RUNTIME 0
#endif

namespace coloop_sched {

struct flavour {
  enum kind_t { event_loop, runtime };
  const char* name;  // as given on the command line and printed in the results
  kind_t kind;
  int workers;  // threads running tasks
};

/// The coloop flavours this build can run.
inline std::vector<flavour> coloop_flavours() {
  std::vector<flavour> out{{"event_loop", flavour::event_loop, 1}};
#if COLOOP_SCHED_BENCH_HAS_RUNTIME
  out.push_back({"runtime1", flavour::runtime, 1});
  out.push_back({"runtime2", flavour::runtime, 2});
#endif
  return out;
}

/// The running scheduler seen from outside: both members may be called from any thread (not
/// only from the scheduler's own threads) while block_on runs, and only then.
struct remote {
  /// Starts `t` on the scheduler, detached (the benchmark counts its completion itself).
  std::function<void(coloop::task<void>)> spawn;
  /// Runs `fn` on a scheduler thread (event_loop: call_soon_threadsafe).
  std::function<void(coloop::detail::callback)> post;
};

namespace detail {

template <class T>
coloop::task<T> with_loop_remote(coloop::task<T> t, remote* r) {
  if (r != nullptr) {
    coloop::event_loop* loop = coloop::event_loop::current();
    r->spawn = [loop](coloop::task<void> child) {
      loop->call_soon_threadsafe(
          [c = std::move(child)]() mutable { coloop::spawn(std::move(c)).detach(); });
    };
    r->post = [loop](coloop::detail::callback fn) { loop->call_soon_threadsafe(std::move(fn)); };
  }
  co_return co_await std::move(t);
}

inline coloop::task<void> run_callback(coloop::detail::callback fn) {
  fn();
  co_return;
}

}  // namespace detail

/// Runs `t` to completion on flavour `f` and returns its value (or rethrows). When `r` is
/// given, it holds the scheduler's remote entry points from the moment `t` starts until
/// block_on returns.
template <class T>
T block_on(const flavour& f, coloop::task<T> t, remote* r = nullptr) {
  switch (f.kind) {
    case flavour::event_loop:
      return coloop::run(detail::with_loop_remote(std::move(t), r));

    case flavour::runtime:
#if COLOOP_SCHED_BENCH_HAS_RUNTIME
    {
      // ---- RUNTIME (issue 4): the work-stealing runtime plugs in here. ----------------------
      // Assumed API: runtime(runtime_options{.workers = n}), block_on(task<T>) -> T on the
      // calling thread, spawn(task<T>) -> join_handle<T> callable from any thread (a remote
      // spawn), and coloop::spawn / join_handle / promise / yield usable on the worker threads.
      // Adjust these lines if the final API differs; nothing else in bench/sched/ needs to change.
      coloop::runtime rt({.workers = static_cast<unsigned>(f.workers)});
      if (r != nullptr) {
        r->spawn = [&rt](coloop::task<void> child) { rt.spawn(std::move(child)).detach(); };
        r->post = [&rt](coloop::detail::callback fn) {
          rt.spawn(detail::run_callback(std::move(fn))).detach();
        };
      }
      return rt.block_on(std::move(t));
      // ----------------------------------------------------------------------------------------
    }
#else
      break;
#endif
  }
  throw std::logic_error("flavour not built in");
}

}  // namespace coloop_sched
