// The Prometheus text exposition (format 0.0.4) and the collectors of coloop's own parts.
//
// Samples arrive in any order (the user's registry, then each collector); a family_writer
// groups them by name, so each family gets one HELP and one TYPE line followed by all its
// series, as the format requires. Label values and HELP text are escaped; numbers use the
// shortest round-trip form, with +Inf / -Inf / NaN spelled as Prometheus spells them.
//
// Per-thread counts (metrics_source.hpp): each thread's block is linked into a list the first
// time it counts and folded into `exited` by a thread_local guard when the thread ends, both
// under the list's lock, so a sum never loses or doubles a thread.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <coloop/core/cancellation.hpp>
#include <coloop/detail/intrusive_list.hpp>

#include "core/metrics_impl.hpp"

namespace coloop::detail {
namespace {

void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string label_text(const metrics::label_set& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return {};
  std::string s = "{";
  auto add = [&s](std::string_view k, std::string_view v) {
    if (s.size() > 1) s += ',';
    s.append(k).append("=\"");
    append_escaped(s, v, true);
    s += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!le.empty()) add("le", le);  // a number: nothing to escape
  return s + "}";
}

class family_writer final : public metric_writer {
 public:
  void counter(std::string_view name, std::string_view help, const metrics::label_set& labels,
               double value) override {
    sample(family_of(name, help, "counter"), name, labels, value);
  }
  void gauge(std::string_view name, std::string_view help, const metrics::label_set& labels,
             double value) override {
    sample(family_of(name, help, "gauge"), name, labels, value);
  }
  void histogram(std::string_view name, std::string_view help, const metrics::label_set& labels,
                 std::span<const double> bounds, std::span<const std::uint64_t> counts,
                 double sum) override {
    family& f = family_of(name, help, "histogram");
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      const std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
      f.lines += bucket + label_text(labels, le) + ' ' + std::to_string(cumulative) + '\n';
    }
    sample(f, std::string(name) + "_sum", labels, sum);
    f.lines += std::string(name) + "_count" + label_text(labels) + ' ' +
               std::to_string(cumulative) + '\n';
  }
  void write(std::ostream& out) const {
    for (const family& f : families_) {
      std::string head = "# HELP " + f.name + ' ';
      append_escaped(head, f.help, false);
      head += "\n# TYPE " + f.name + ' ' + f.type + '\n';
      out << head << f.lines;
    }
  }

 private:
  struct family {
    std::string name, help, type, lines;
  };
  family& family_of(std::string_view name, std::string_view help, const char* type) {
    auto it = std::find_if(families_.begin(), families_.end(),
                           [&](const family& f) { return f.name == name; });
    if (it != families_.end()) return *it;
    families_.push_back(family{std::string(name), std::string(help), type, {}});
    return families_.back();
  }
  static void sample(family& f, std::string_view name, const metrics::label_set& labels,
                     double value) {
    f.lines += std::string(name) + label_text(labels) + ' ' + number(value) + '\n';
  }
  std::vector<family> families_;
};

struct collector_entry {
  collector_fn fn;
  const void* self;
};

struct thread_totals {
  std::uint64_t v[static_cast<unsigned>(thread_count::count_)] = {};
};

struct collectors {
  std::mutex mutex;
  std::vector<collector_entry> list;
  intrusive_list<thread_counters> threads;  // live threads' blocks
  thread_totals exited;                // what ended threads counted
};
collectors& all() {
  // Never destroyed: loops built by statics register early, and threads still running at exit
  // (a detached pool thread) fold their counts in late.
  static collectors* c = new collectors;
  return *c;
}

void unlink_thread(thread_counters& t) noexcept {
  collectors& c = all();
  std::lock_guard lock(c.mutex);
  for (unsigned i = 0; i < static_cast<unsigned>(thread_count::count_); ++i) {
    c.exited.v[i] += t.v[i].load(std::memory_order_relaxed);
    t.v[i].store(0, std::memory_order_relaxed);
  }
  c.threads.remove(t);  // `linked` stays true: counts after this are dropped
}

struct exit_guard {
  ~exit_guard() { unlink_thread(this_thread_counters); }
};

void collect_thread_counts(const void*, metric_writer& out) {
  thread_totals sum = all().exited;  // under the lock: write_prometheus holds it
  for (thread_counters* t = all().threads.front(); t != nullptr; t = t->next_) {
    for (unsigned i = 0; i < static_cast<unsigned>(thread_count::count_); ++i) {
      sum.v[i] += t->v[i].load(std::memory_order_relaxed);
    }
  }
  auto v = [&](thread_count c) { return static_cast<double>(sum.v[static_cast<unsigned>(c)]); };
  const metrics::label_set none;
  out.counter("coloop_tasks_spawned_total", "Tasks spawned (all loops and runtimes).", none,
              v(thread_count::tasks_spawned));
  out.counter("coloop_tasks_finished_total", "Spawned tasks that ended, however they ended.",
              none, v(thread_count::tasks_finished));
  out.counter("coloop_tasks_failed_total", "Spawned tasks that ended with an exception.", none,
              v(thread_count::tasks_failed));
  out.counter("coloop_tasks_cancelled_total", "Spawned tasks that ended cancelled.", none,
              v(thread_count::tasks_cancelled));
  out.gauge("coloop_tasks_alive", "Spawned tasks not yet ended.", none,
            v(thread_count::tasks_spawned) - v(thread_count::tasks_finished));
  out.counter("coloop_stream_read_bytes_total", "Bytes read by stream readers.", none,
              v(thread_count::stream_bytes_read));
  out.counter("coloop_stream_written_bytes_total", "Bytes written by stream writers.", none,
              v(thread_count::stream_bytes_written));
  out.counter("coloop_accept_out_of_resources_total",
              "Accepts refused for lack of fds or memory (EMFILE, ENFILE...), retried later.",
              none, v(thread_count::accepts_out_of_resources));
}

}  // namespace

constinit thread_local thread_counters this_thread_counters;

void link_thread_counters() noexcept {
  thread_counters& t = this_thread_counters;
  t.linked = true;
  {
    collectors& c = all();
    std::lock_guard lock(c.mutex);
    c.threads.push_front(t);
  }
  static thread_local exit_guard guard;  // constructed here, once per thread
  (void)guard;
}

void count_task_error(const std::exception_ptr& error) noexcept {
  count(is_cancellation(error) ? thread_count::tasks_cancelled : thread_count::tasks_failed);
}

void add_collector(collector_fn fn, const void* self) {
  collectors& c = all();
  std::lock_guard lock(c.mutex);
  c.list.push_back(collector_entry{fn, self});
}

void remove_collector(collector_fn fn, const void* self) noexcept {
  collectors& c = all();
  std::lock_guard lock(c.mutex);
  std::erase_if(c.list, [&](const collector_entry& e) { return e.fn == fn && e.self == self; });
}

}  // namespace coloop::detail

namespace coloop::metrics {

void registry::write_prometheus(std::ostream& out) const {
  detail::family_writer w;
  impl_->collect(w);
  w.write(out);
}

void write_prometheus(std::ostream& out) {
  detail::family_writer w;
  default_registry().impl_->collect(w);
  {
    detail::collectors& c = detail::all();
    std::lock_guard lock(c.mutex);
    detail::collect_thread_counts(nullptr, w);
    for (const detail::collector_entry& e : c.list) e.fn(e.self, w);
  }
  w.write(out);
}

}  // namespace coloop::metrics
