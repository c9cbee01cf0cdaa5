// runtime: the public face of mt::runtime_core, and its shutdown.
//
// Shutdown, in order (runtime::shutdown, also run by the destructor):
//  1. Refuse new tasks from outside: runtime::spawn and block_on throw std::logic_error. Tasks
//     may still spawn children while they unwind.
//  2. Cancel every live task. Roots pass it on to what they join; every pending await withdraws.
//  3. Wait until no task is live: the cancelled tasks unwind on the workers as usual, and wakes
//     already in flight (timers, I/O, pool jobs) land in queues that are still served.
//     Like asyncio.run, this waits for a task that catches cancelled_error and awaits again.
//  4. Stop the workers: set the stop flag, unpark every worker, join them.
//  5. Close the inject queue: a late post_threadsafe (a pool job finishing) now throws closed.
//  6. Drop the handles still queued (their tasks are destroyed in 7).
//  7. Close the driver: destroy the frames of tasks still unfinished, wait for other threads
//     still inside post() (a pool job's wake whose task has ended since), in debug mode report
//     the fds still registered (leaked past the runtime), release the reactor.

#include <coloop/runtime/runtime.hpp>

#include <stdexcept>
#include <thread>

#include "runtime/multi_thread/runtime_core.hpp"
#include "runtime/os/futex.hpp"

namespace coloop {
namespace detail {

void block_signal::started() noexcept { rt_->io_driver().let_clock_jump(true); }

void block_signal::set() noexcept {
  rt_->io_driver().let_clock_jump(false);
  done_.store(1, std::memory_order_release);
  // The waiter may already be gone: the futex only uses the address as a key.
  os::futex_wake_one(done_);
}

void block_signal::wait() noexcept {
  while (done_.load(std::memory_order_acquire) == 0) {
    os::futex_wait(done_, 0);
  }
}

namespace mt {

void runtime_core::shutdown() {
  if (on_worker()) throw std::logic_error("coloop::runtime::shutdown: called from its own worker");
  if (shut_down_) return;
  closing_.store(true, std::memory_order_release);  // 1
  tasks_.cancel_all();                               // 2
  driver_.let_clock_jump(true);  // 3: cancelled tasks may still sleep while they unwind
  tasks_.wait_until_empty();
  driver_.let_clock_jump(false);
  stop_.store(true, std::memory_order_release);      // 4
  for (auto& w : workers_) w->park.unpark();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  inject_.close();  // 5
  for (auto& w : workers_) {  // 6
    w->lifo = {};
    w->spawned_count = 0;  // their tasks are registered: step 7 destroys them
    while (w->queue.pop()) {
    }
  }
  while (inject_.pop()) {
  }
  while (spawn_promise_base* t = tasks_.take_any()) {  // 7
    t->abort();  // drops the task's reference
  }
  // A thread that posted before the queue closed (a pool job finishing) may still be in
  // notify_parked (which may wake the driver) although its task has ended: wait until it is out.
  // Acquire: pairs with post()'s release.
  while (foreign_posts_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  set_closed();
  if (debug()) driver_.report_open_fds("the runtime shut down");
  driver_.release();
  shut_down_ = true;
}

}  // namespace mt
}  // namespace detail

runtime::runtime(loop_options options)
    : core_(std::make_unique<detail::mt::runtime_core>(options)) {
  core_->face = this;
}

runtime::~runtime() { shutdown(); }

void runtime::shutdown() { core_->shutdown(); }

std::size_t runtime::workers() const noexcept { return core_->workers_.size(); }

std::size_t runtime::live_tasks() const noexcept { return core_->tasks_.size(); }

std::vector<task_info> runtime::all_tasks() const {
  std::vector<task_info> out;
  core_->collect_tasks(out);
  return out;
}

runtime_metrics runtime::metrics() const noexcept {
  runtime_metrics m{.workers = workers(), .injected = core_->inject_.len(),
                    .live_tasks = live_tasks()};
  for (const auto& w : core_->workers_) {
    m.polls += w->counters.polls.load(std::memory_order_relaxed);
    m.lifo_polls += w->counters.lifo_polls.load(std::memory_order_relaxed);
    m.steals += w->counters.steals.load(std::memory_order_relaxed);
    m.parks += w->counters.parks.load(std::memory_order_relaxed);
    m.driver_polls += w->counters.driver_polls.load(std::memory_order_relaxed);
  }
  return m;
}

void runtime::set_exception_handler(std::function<void(std::exception_ptr)> handler) {
  core_->exception_handler = std::move(handler);
}

runtime* runtime::current() noexcept {
  detail::mt::runtime_core* rt = detail::mt::runtime_core::current();
  return rt != nullptr ? static_cast<runtime*>(rt->face) : nullptr;
}

detail::context& runtime::ctx() noexcept { return *core_; }

void runtime::wait_finished(const join_handle<void>& h) noexcept {
  while (!h.done()) std::this_thread::yield();
}

void runtime::check_outside(const char* api) const {
  if (core_->on_worker()) {
    throw std::logic_error(std::string(api) + ": called from one of the runtime's own workers "
                                              "(it would block the worker; co_await instead)");
  }
  if (detail::current_scheduler() != nullptr) {
    throw std::logic_error(std::string(api) + ": called on a thread that runs tasks (an event "
                                              "loop, another runtime's worker): it would block "
                                              "them; spawn and co_await the join_handle instead");
  }
  check_open(api);
}

void runtime::check_open(const char* api) const {
  if (core_->closing_.load(std::memory_order_acquire)) {
    throw std::logic_error(std::string(api) + ": the runtime is shut down");
  }
}

}  // namespace coloop
