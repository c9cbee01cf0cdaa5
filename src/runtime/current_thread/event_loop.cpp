// event_loop: the public face of loop_scheduler (the event loop's scheduler).

#include <coloop/runtime/event_loop.hpp>

#include <stdexcept>

#include "runtime/current_thread/loop_scheduler.hpp"

namespace coloop {
namespace {

std::int64_t to_ns(duration d) noexcept { return d.count(); }

}  // namespace

event_loop::event_loop(loop_options options)
    : core_(std::make_unique<detail::loop_scheduler>(options)) {}

event_loop::~event_loop() {
  if (core_->running()) {
    // Destroying a running loop is a bug in the caller; closing under its feet would be worse.
    std::fputs("coloop: event_loop destroyed while running\n", stderr);
    std::terminate();
  }
  core_->close();
}

namespace {
thread_local event_loop* current_event_loop = nullptr;
}

void event_loop::run_until(bool (*done)(const void*), const void* arg) {
  event_loop* saved = current_event_loop;
  current_event_loop = this;
  try {
    core_->run(done, arg);
  } catch (...) {
    current_event_loop = saved;
    throw;
  }
  current_event_loop = saved;
}

void event_loop::throw_stopped_early() {
  throw std::runtime_error("event_loop::run_until_complete: stop() was called before the task completed");
}

void event_loop::run_forever() { run_until(nullptr, nullptr); }
void event_loop::stop() noexcept { core_->stop(); }
void event_loop::close() { core_->close(); }
bool event_loop::is_closed() const noexcept { return core_->closed(); }
bool event_loop::is_running() const noexcept { return core_->running(); }

void event_loop::call_soon(detail::callback fn) {
  if (core_->closed()) throw std::logic_error("event_loop::call_soon: the loop is closed");
  core_->push_ready(std::move(fn));
}

void event_loop::call_soon_threadsafe(detail::callback fn) { core_->push_remote(std::move(fn)); }

timer_handle event_loop::call_later(duration delay, detail::callback fn) {
  if (delay.count() < 0) delay = duration::zero();
  const std::int64_t now = core_->io_driver().now();
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t deadline = to_ns(delay) > max - now ? max : now + to_ns(delay);
  detail::timer_entry* e = core_->add_timer(deadline, std::move(fn));
  return {e, e->generation};
}

timer_handle event_loop::call_at(time_point when, detail::callback fn) {
  detail::timer_entry* e = core_->add_timer(when.time_since_epoch().count(), std::move(fn));
  return {e, e->generation};
}

time_point event_loop::time() const noexcept { return time_point(duration(core_->io_driver().now())); }

void event_loop::advance_time(duration d) { core_->io_driver().advance(to_ns(d)); }

std::string_view event_loop::backend_name() const noexcept { return core_->io_driver().backend_name(); }

void event_loop::set_exception_handler(std::function<void(std::exception_ptr)> handler) {
  core_->exception_handler = std::move(handler);
}

void event_loop::cancel_all_tasks() {
  if (core_->closed()) return;
  core_->cancel_all_tasks();
  run_until([](const void* core) { return static_cast<const detail::loop_scheduler*>(core)->live_tasks() == 0; },
            core_.get());
}

std::size_t event_loop::live_tasks() const noexcept { return core_->live_tasks(); }

event_loop* event_loop::current() noexcept { return current_event_loop; }

detail::context& event_loop::ctx() noexcept { return *core_; }

bool timer_handle::cancel() noexcept {
  if (!pending()) return false;
  entry_->loop->cancel_timer(entry_);
  return true;
}

bool timer_handle::pending() const noexcept {
  return entry_ != nullptr && entry_->generation == generation_ && !entry_->cancelled &&
         (entry_->node.armed() || entry_->due);
}

}  // namespace coloop

namespace coloop::detail {

void check_no_running_loop(const char* api) {
  if (current_scheduler() != nullptr) {
    throw std::logic_error(std::string(api) +
                           ": called while an event loop (or sync_wait) is running on this thread; "
                           "co_await the task instead");
  }
}

}  // namespace coloop::detail
