// The runtime's figures for write_prometheus: per worker (label worker="i") the counters each
// worker bumps on its own thread, and its local queue's depth; per runtime the inject queue and
// the live tasks. Registered from the end of runtime_core's constructor to the start of its
// destructor, so the workers it reads exist while it is registered.

#include "runtime/metrics/runtime_collector.hpp"

#include <string>

#include "core/metrics_source.hpp"
#include "runtime/multi_thread/runtime_core.hpp"

namespace coloop::detail::mt {

void runtime_collector::add(const runtime_core& rt) { add_collector(&write, &rt); }
void runtime_collector::remove(const runtime_core& rt) noexcept { remove_collector(&write, &rt); }

void runtime_collector::write(const void* self, metric_writer& out) {
  auto& rt = const_cast<runtime_core&>(*static_cast<const runtime_core*>(self));
  const std::string id = std::to_string(rt.drv().stats().id);
  const metrics::label_set labels{{"loop", id}};
  out.gauge("coloop_runtime_workers", "Worker threads of a runtime.", labels,
            static_cast<double>(rt.workers_.size()));
  out.gauge("coloop_runtime_inject_queue_depth", "Tasks waiting in a runtime's inject queue.",
            labels, static_cast<double>(rt.inject_.len()));
  out.gauge("coloop_runtime_tasks_alive", "Spawned tasks of a runtime not yet finished.", labels,
            static_cast<double>(rt.tasks_.size()));
  for (const auto& w : rt.workers_) {
    const metrics::label_set wl{{"loop", id}, {"worker", std::to_string(w->index)}};
    out.counter("coloop_worker_polls_total", "Tasks resumed by a worker.", wl,
                sample(w->counters.polls));
    out.counter("coloop_worker_lifo_polls_total", "Tasks a worker resumed from its LIFO slot.",
                wl, sample(w->counters.lifo_polls));
    out.counter("coloop_worker_steals_total", "Batches a worker stole from another.", wl,
                sample(w->counters.steals));
    out.counter("coloop_worker_parks_total", "Times a worker went idle.", wl,
                sample(w->counters.parks));
    out.counter("coloop_worker_driver_polls_total", "Times a worker polled the shared driver.",
                wl, sample(w->counters.driver_polls));
    out.gauge("coloop_worker_local_queue_depth", "Tasks in a worker's local queue.", wl,
              static_cast<double>(w->queue.len()));
  }
}

}  // namespace coloop::detail::mt
