// Debug mode (loop_options::debug, COLOOP_DEBUG=1): per-task profiles and the slow-step report.
// A scheduler in debug mode marks the start of each step (debug_step_begin); each co_await of a
// task that suspends (one that completes at once tests nothing), and its end, charges the time
// since the mark to that task and moves the mark, so a step that runs several tasks (a child's
// end transfers to its joiner) splits between them. Only a
// callback that is not a task is left for debug_step_end to report. The step's scheduling delay
// (how long what it resumes was queued: ready_marks.hpp) goes to its first charge: the coroutine
// a step resumes runs first. Clock reads happen in debug mode only.

#include <fmt/format.h>

#include <bit>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>

#include "core/log_format.hpp"
#include "core/monotonic.hpp"
#include "runtime/context.hpp"
#include "runtime/task_extra.hpp"

namespace coloop::detail {

std::mutex task_names_mutex;

site spawn_promise_base::spawned_at() const noexcept {
#if defined(__clang__)
  return spawned_at_;
#else
  const task_extra* e = extra();
  return e != nullptr ? e->spawned_at : std::bit_cast<site>(info_);
#endif
}

task_extra& spawn_promise_base::make_extra() {
  if (task_extra* e = extra()) return *e;
  auto* e = new task_extra;
  e->spawned_at = spawned_at();
  info_ = reinterpret_cast<std::uintptr_t>(e) | has_extra;
  return *e;
}

void name_task(spawn_promise_base& s, std::string_view name) {
  std::lock_guard lock(task_names_mutex);
  s.make_extra().name.assign(name);
}

std::string describe_task(const spawn_promise_base& t) {
  std::string out = fmt::format("task {:#x}", task_id(t));
  std::lock_guard lock(task_names_mutex);
  if (const task_extra* e = t.extra(); e != nullptr && !e->name.empty()) {
    out += fmt::format(" \"{}\"", e->name);
  }
  if (const site at = t.spawned_at(); at.known()) {
    out += fmt::format(" (spawned at {}:{} in {})", at.file(), at.line(), at.function());
  }
  return out;
}

namespace {
// Debug mode: the own cancel_states of the live spawned tasks, how a suspending coroutine finds
// the task it runs in (a when_all child's or sync_wait's is not one of them).
std::mutex debug_tasks_mutex;
std::unordered_set<const void*> debug_tasks;  // guarded by debug_tasks_mutex

spawn_promise_base* spawned_task_of(void* cancel) noexcept {
  std::lock_guard lock(debug_tasks_mutex);
  if (cancel == nullptr || debug_tasks.count(cancel) == 0) return nullptr;
  // own_cancel is the first member of spawn_header, the first base of spawn_promise_base.
  return static_cast<spawn_promise_base*>(reinterpret_cast<spawn_header*>(cancel));
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

// The task charged last in this thread's current step: a task's polls count the steps it ran in
// (it is charged at each suspension, and at its end).
constinit thread_local const spawn_promise_base* charged_in_step = nullptr;
// The current step's scheduling delay (debug_step_begin), charged by the step's first charge:
// the coroutine a step resumes runs first, up to its first co_await or its end.
constinit thread_local std::int64_t step_ready_ns = 0;

/// Charges the time since the step mark to `t` (nullptr: a coroutine outside any spawned task)
/// and reports it when longer than the scheduler's slow_step_ns. `until`: what ended the piece.
void charge(spawn_promise_base* t, const std::string& until) noexcept {
  const std::int64_t now = monotonic_ns();
  const std::int64_t took = now - std::exchange(this_thread.step_mark, now);
  const std::int64_t ready = std::exchange(step_ready_ns, 0);
  if (task_extra* e = t != nullptr ? t->extra() : nullptr) {
    // relaxed: single writer (the thread running the task); dumps read a recent value.
    const auto add = [](auto& to, auto n) {
      to.store(to.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    };
    if (ready != 0) add(e->ready_ns, ready);
    if (std::exchange(charged_in_step, t) != t) add(e->polls, std::uint64_t{1});
    add(e->busy_ns, took);
    e->suspended_at.store(now, std::memory_order_relaxed);
  }
  const context* ctx = current_context_or_null();
  if (ctx == nullptr || took <= ctx->slow_step_ns) return;
  try {
    const std::string who = t != nullptr ? describe_task(*t) : std::string("a coroutine");
    logf(log_level::warn, "coloop debug: {} ran {:.1f} ms without yielding the loop, {}", who,
         ms(took), until);
  } catch (...) {  // no memory for the message: the report is lost, never the program
  }
}

void on_suspend(const await_record& r, void* cancel) noexcept {
  try {
    charge(spawned_task_of(cancel),
           fmt::format("until its co_await in {} at {}:{}", r.at.function(), r.at.file(),
                       r.at.line()));
  } catch (...) {
    charge(spawned_task_of(cancel), "until a co_await");
  }
}

[[maybe_unused]] const bool hook_installed = (debug_suspend = &on_suspend, true);

/// spawn_header::finish of a task spawned in debug mode: charges its last piece of step, then
/// ends it as its own finish would.
std::coroutine_handle<> finish_charged(void* promise) noexcept {
  // spawn_ sits at the same place in every task_promise<T> (spawned_frame, core/task.hpp).
  spawn_promise_base& t = spawn_state(*static_cast<task_promise<void>*>(promise));
  charge(&t, "until it ended");
  return t.extra()->finish(promise);
}

}  // namespace

void delete_task_extra(spawn_promise_base& s) noexcept {
  {
    std::lock_guard lock(debug_tasks_mutex);
    debug_tasks.erase(&s.own_cancel);
  }
  delete s.extra();
}

void debug_step_begin(std::int64_t now, std::int64_t ready_ns) noexcept {
  this_thread.step_mark = now;
  charged_in_step = nullptr;
  step_ready_ns = ready_ns;
}

void debug_step_end(const context& ctx) noexcept {
  step_ready_ns = 0;  // a step that charged no task (a plain callback): its delay is nobody's
  const std::int64_t took = monotonic_ns() - this_thread.step_mark;
  if (took > ctx.slow_step_ns) {
    logf(log_level::warn, "coloop debug: a callback ran {:.1f} ms without yielding the loop",
         ms(took));
  }
}

void debug_unretrieved(const spawn_promise_base& t) noexcept {
  try {
    logf(log_level::warn, "coloop debug: {} failed and nobody retrieved its exception: {}",
         describe_task(t), what_of(t.error_, "a non-standard exception"));
  } catch (...) {
  }
}

void debug_task_start(spawn_promise_base& t) {
  {
    std::lock_guard names(task_names_mutex);
    task_extra& e = t.make_extra();
    e.finish = std::exchange(t.finish, &finish_charged);  // before it starts: nobody calls it yet
  }
  std::lock_guard lock(debug_tasks_mutex);
  debug_tasks.insert(&t.own_cancel);
}

}  // namespace coloop::detail
