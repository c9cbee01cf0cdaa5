// Task dumps: a spawned task's async stack trace is the chain of await_records from its root
// coroutine (the promise holding the join state) through each task it awaits, as recorded by
// task_promise_common::await_transform when they suspended (detail/await_site.hpp).

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <ostream>

#include "core/monotonic.hpp"
#include "runtime/context.hpp"
#include "runtime/task_dump_impl.hpp"
#include "runtime/task_extra.hpp"

namespace coloop {

namespace detail {
namespace {

/// g++ names a coroutine body after its actor, whose one parameter is the frame:
/// "task<int> outer(outer(coloop::event&)::_Z5outer...Frame*)". That list goes.
std::string function_name(std::string_view f) {
  if (!f.ends_with(".Frame*)")) return std::string(f);
  int depth = 0;
  for (std::size_t i = f.size(); i-- > 0;) {
    if (f[i] == ')') ++depth;
    if (f[i] == '(' && --depth == 0) return std::string(f.substr(0, i));
  }
  return std::string(f);
}

/// Where a task coroutine's frame keeps its record: the promise's place in a frame is the same
/// for every task_promise<T> (T aligned to 16 bytes or less), and the record is its start.
const await_record& record_in_frame(void* frame) noexcept {
  return std::coroutine_handle<task_promise<void>>::from_address(frame).promise().record_;
}

stack_frame frame_at(const site& s) { return {function_name(s.function()), s.file(), s.line()}; }

/// The awaitable's type out of awaitable_signature's __PRETTY_FUNCTION__ ("... [with A = X]"
/// with g++, "... [A = X]" with clang).
std::string type_in_signature(const char* signature) {
  std::string_view sig(signature);
  const std::size_t at = sig.find("A = ");
  if (at == std::string_view::npos) return std::string(sig);
  sig.remove_prefix(at + 4);
  return std::string(sig.substr(0, sig.find_first_of(";]")));
}

/// What a task shows besides its records: id, name, spawn site, debug mode's profile.
task_info identity(const spawn_promise_base& t, std::int64_t& suspended_at) {
  task_info info;
  info.id = task_id(t);
  std::lock_guard lock(task_names_mutex);
  if (const site at = t.spawned_at(); at.known()) info.spawned_at = frame_at(at);
  if (const task_extra* e = t.extra()) {
    info.name = e->name;
    info.polls = e->polls.load(std::memory_order_relaxed);
    info.busy = duration(e->busy_ns.load(std::memory_order_relaxed));
    info.scheduling_delay = duration(e->ready_ns.load(std::memory_order_relaxed));
    suspended_at = e->suspended_at.load(std::memory_order_relaxed);
  }
  return info;
}
}  // namespace

void queued_frames::add(void* frame) {
  if (frame != nullptr) records_.push_back(&record_in_frame(frame));  // an address, not a read
}

void queued_frames::seal() { std::sort(records_.begin(), records_.end()); }

bool queued_frames::contains(const await_record& r) const noexcept {
  return std::binary_search(records_.begin(), records_.end(), &r);
}

task_info snapshot_task_unread(const spawn_promise_base& t) {
  std::int64_t suspended_at = 0;
  task_info info = identity(t, suspended_at);
  info.state = task_state::unknown;
  return info;
}

task_info snapshot_task(const spawn_promise_base& t, std::span<void* const> running,
                        const queued_frames& queued) {
  std::int64_t suspended_at = 0;
  task_info info = identity(t, suspended_at);
  const await_record* r = &record_in_frame(t.self().address());
  const auto resumed_now = [running](const await_record* rec) {
    return std::any_of(running.begin(), running.end(),
                       [rec](void* f) { return f != nullptr && &record_in_frame(f) == rec; });
  };
  // A scheduler's current step resumed one of its coroutines: it runs (the record of a
  // coroutine that has not reached a co_await since it resumed still says what it awaited).
  bool runs = resumed_now(r);
  if (r->state == 0) {  // its first co_await is still to come (queued or not: not started)
    if (runs) info.state = task_state::running;
    return info;
  }
  bool resumed_inner = false;  // the innermost says it resumed (a task it awaited ended)
  for (;;) {
    if (r->at.known()) info.stack.push_back(frame_at(r->at));
    // 0: an awaited task before its first co_await, which runs.
    if (r->state == 0 || r->state == await_record::running) resumed_inner = true;
    if (r->state == 0 || (r->state & (await_record::running | await_record::awaiting_other)) != 0) {
      break;
    }
    r = reinterpret_cast<const await_record*>(r->state);  // the task it awaits
    runs |= resumed_now(r);
  }
  // The innermost coroutine is the one a wake queues; a record that says "resumed" but is
  // queued was bounced through the queue (the nesting bound) and has not run yet.
  const bool is_queued = !runs && queued.contains(*r);
  if (runs || (resumed_inner && !is_queued)) {
    info.state = task_state::running;
    return info;
  }
  info.state = is_queued ? task_state::ready : task_state::suspended;
  if ((r->state & await_record::awaiting_other) != 0) {
    info.waiting_on = type_in_signature(
        *reinterpret_cast<const char* const*>(r->state & ~await_record::awaiting_other));
  }
  if (suspended_at != 0) info.waiting_for = duration(monotonic_ns() - suspended_at);
  return info;
}

}  // namespace detail

bool debug_mode_requested(const loop_options& o) noexcept {
  if (o.debug) return true;
  const char* env = std::getenv("COLOOP_DEBUG");
  return env != nullptr && *env != '\0' && std::string_view(env) != "0";
}

std::string_view to_string(task_state s) noexcept {
  switch (s) {
    case task_state::not_started: return "not started";
    case task_state::running: return "running";
    case task_state::suspended: return "suspended";
    case task_state::ready: return "ready";
    case task_state::unknown: return "unknown";
  }
  return "?";
}

namespace {
/// all_tasks(), throwing as `api` when no loop runs on this thread.
std::vector<task_info> collect_tasks(const char* api) {
  std::vector<task_info> out;
  detail::current_context(api).collect_tasks(out);
  return out;
}
}  // namespace

std::vector<task_info> all_tasks() { return collect_tasks("coloop::all_tasks"); }

void dump_tasks(std::ostream& out) { write_tasks(out, collect_tasks("coloop::dump_tasks")); }

void write_tasks(std::ostream& out, const std::vector<task_info>& tasks) {
  const auto ms = [](duration d) { return static_cast<double>(d.count()) / 1e6; };
  out << fmt::format("{} live task(s)\n", tasks.size());
  struct by_name {
    std::size_t tasks = 0;
    std::uint64_t polls = 0;
    duration busy{0};
    duration delay{0};  // scheduling delay
  };
  std::map<std::string, by_name> profile;
  for (const task_info& t : tasks) {
    out << fmt::format("task {:#x}{}: {}", t.id, t.name.empty() ? "" : " \"" + t.name + "\"",
                       to_string(t.state));
    if (!t.waiting_on.empty()) out << " on " << t.waiting_on;
    if (t.polls != 0) {
      out << fmt::format(
          " (polls {}, busy {:.3f} ms, waiting {:.3f} ms, scheduling delay {:.3f} ms)", t.polls,
          ms(t.busy), ms(t.waiting_for), ms(t.scheduling_delay));
    }
    out << '\n';
    if (!t.spawned_at.file.empty()) {
      out << fmt::format("  spawned at {}:{} in {}\n", t.spawned_at.file, t.spawned_at.line,
                         t.spawned_at.function);
    }
    for (auto f = t.stack.rbegin(); f != t.stack.rend(); ++f) {  // innermost first
      out << fmt::format("    at {} ({}:{})\n", f->function, f->file, f->line);
    }
    by_name& p = profile[t.name];
    ++p.tasks;
    p.polls += t.polls;
    p.busy += t.busy;
    p.delay += t.scheduling_delay;
  }
  std::vector<std::pair<std::string, by_name>> busiest(profile.begin(), profile.end());
  std::sort(busiest.begin(), busiest.end(),
            [](const auto& a, const auto& b) { return a.second.busy > b.second.busy; });
  if (busiest.empty() || busiest.front().second.polls == 0) return;  // no profile: not debug mode
  out << "busiest by name (debug mode):\n";
  for (const auto& [name, p] : busiest) {
    out << fmt::format(
        "  {:<24} tasks {:>6} polls {:>10} busy {:.3f} ms scheduling delay {:.3f} ms\n",
        name.empty() ? "(unnamed)" : name, p.tasks, p.polls, ms(p.busy), ms(p.delay));
  }
}

}  // namespace coloop
