#pragma once
// write_prometheus's view of a multi-threaded runtime: its workers' counters (the ones
// runtime::metrics() sums), their queue depths, the inject queue and the live tasks.

namespace coloop::detail {
class metric_writer;
}

namespace coloop::detail::mt {

class runtime_core;

struct runtime_collector {
  /// Registers `rt` with the metrics collectors until remove(rt). Thread-safe.
  static void add(const runtime_core& rt);
  static void remove(const runtime_core& rt) noexcept;
  static void write(const void* rt, metric_writer& out);  // the collector
};

}  // namespace coloop::detail::mt
