#pragma once
// layer: core
// Where a task stands: the file, line and function of a co_await or a spawn, captured by default
// arguments, and what a task promise records at each co_await (its await_transform). A suspended
// task's async stack trace is the chain of these records (task_dump.hpp).

#include <coroutine>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <coloop/detail/scheduler.hpp>
#if !defined(__clang__)
#include <bit>
#include <source_location>
#endif

namespace coloop::detail {

#if defined(__clang__)
/// A place in the source. clang 14 cannot compile libstdc++ 12's <source_location>, so it keeps
/// the three builtins' values (24 bytes); g++ keeps one pointer to its static record.
class site {
 public:
  static constexpr site here(const char* file = __builtin_FILE(),
                             const char* function = __builtin_FUNCTION(),
                             unsigned line = __builtin_LINE()) noexcept {
    site s;
    s.file_ = file;
    s.function_ = function;
    s.line_ = line;
    return s;
  }
  const char* file() const noexcept { return file_; }
  const char* function() const noexcept { return function_; }
  unsigned line() const noexcept { return line_; }
  bool known() const noexcept { return file_ != nullptr; }

 private:
  const char* file_ = nullptr;
  const char* function_ = nullptr;
  unsigned line_ = 0;
};
/// Parameters that capture the caller's place as scalars: a class-type argument of a call inside
/// a co_await would take room in the coroutine frame (g++ keeps it there across the suspension).
#define COLOOP_DETAIL_SITE_PARAMETERS                                                  \
  const char *site_file_ = __builtin_FILE(), const char *site_function_ = __builtin_FUNCTION(), \
             unsigned site_line_ = __builtin_LINE()
#define COLOOP_DETAIL_SITE_ARGUMENT \
  ::coloop::detail::site::here(site_file_, site_function_, site_line_)
#else
class site {
 public:
  static constexpr site here(std::source_location at = std::source_location::current()) noexcept {
    site s;
    s.at_ = at;
    return s;
  }
  /// From what __builtin_source_location() returns (std::source_location's own record).
  static site at(const void* record) noexcept {
    site s;
    s.at_ = std::bit_cast<std::source_location>(record);
    return s;
  }
  const char* file() const noexcept { return at_.file_name(); }
  const char* function() const noexcept { return at_.function_name(); }
  unsigned line() const noexcept { return at_.line(); }
  bool known() const noexcept { return at_.line() != 0; }  // a default one has no record

 private:
  std::source_location at_;
};
#define COLOOP_DETAIL_SITE_PARAMETERS const void* site_record_ = __builtin_source_location()
#define COLOOP_DETAIL_SITE_ARGUMENT ::coloop::detail::site::at(site_record_)
#endif

/// The signature of awaitable_name's instance for `A`, from which a dump reads A's name.
template <class A>
constexpr const char* awaitable_signature() noexcept {
  return __PRETTY_FUNCTION__;
}
template <class A>
struct awaitable_name {
  static constexpr const char* value = awaitable_signature<A>();  // its address: 8-aligned
};

/// What a task's coroutine records at each co_await, for task dumps: where (one word with g++),
/// and in one word what it awaits: 0 before its first co_await; `running` again once a task it
/// awaited has ended; the address of the record of the task coroutine it awaits; else that of
/// awaitable_name<A>::value tagged with `awaiting_other`, A being what it awaits (which stays
/// once the co_await is over: dumps tell a running task by its scheduler's step, task_dump.cpp).
struct await_record {
  static constexpr std::uintptr_t running = 1, awaiting_other = 2;
  site at;  // its current (or last) co_await; before the first, the coroutine function
  std::uintptr_t state = 0;

  template <class A>
  void awaits_other() noexcept {
    // As a char pointer plus the tag (the names are 8-aligned), so the compiler folds the tag
    // into the address: one instruction less than an or at each co_await.
    state = reinterpret_cast<std::uintptr_t>(
        reinterpret_cast<const char*>(&awaitable_name<A>::value) + awaiting_other);
  }
  void awaits_task(const await_record& child) noexcept {
    state = reinterpret_cast<std::uintptr_t>(&child);
  }
};

/// Debug mode's hook at each co_await of a task that does not complete in await_ready (`cancel`:
/// its cancel_state): charges the time since the step began to the task and reports it when
/// slow. Set by the runtime layer (runtime/debug_mode.cpp).
extern void (*debug_suspend)(const await_record& r, void* cancel) noexcept;

/// What a task's await_transform returns: the co_await's awaiter `Aw`, held by value when the
/// operand's operator co_await makes one, else as a pointer to the operand (which lives until
/// the end of the full expression: g++ 12 copies an await_transform result that is not a
/// prvalue, which immovable awaiters refuse). In debug mode a suspension charges the task's step
/// first (debug_suspend): a co_await that completes in await_ready does not test for it.
template <class Aw>
struct recording_awaiter {
  Aw held;
  decltype(auto) awaiter() noexcept {
    if constexpr (std::is_pointer_v<Aw>) {
      return *held;
    } else {
      return (held);
    }
  }
  bool await_ready() { return awaiter().await_ready(); }
  template <class Promise>
  decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
    auto& a = awaiter();
    // The debug path suspends on its own, so the common one never rejoins it after a call
    // (which would cost it a reload of the awaiter).
    if (debug_here()) [[unlikely]] return debug_then_suspend(a, h);
    return a.await_suspend(h);
  }
  template <class A, class Promise>
  [[gnu::noinline, gnu::cold]] static decltype(auto) debug_then_suspend(
      A& a, std::coroutine_handle<Promise> h) {
    debug_suspend(h.promise().record_, h.promise().cancel_);
    return a.await_suspend(h);
  }
  decltype(auto) await_resume() { return awaiter().await_resume(); }
};

/// Whether awaiting an `A` in a task is awaiting another task, whose awaiter links the records
/// itself (and runs it at once: there is no suspension to charge).
template <class A>
constexpr bool awaits_task = requires(A&& a) {
  typename decltype(std::forward<A>(a).operator co_await())::links_records;
};

/// The awaiter of `co_await a` in a task: a task's own awaiter as it is, any other one wrapped.
template <class A>
auto make_awaiter(A&& a) {
  if constexpr (awaits_task<A>) {
    return std::forward<A>(a).operator co_await();
  } else if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    using aw = decltype(std::forward<A>(a).operator co_await());
    return recording_awaiter<aw>{std::forward<A>(a).operator co_await()};
  } else if constexpr (requires { operator co_await(std::forward<A>(a)); }) {
    using aw = decltype(operator co_await(std::forward<A>(a)));
    return recording_awaiter<aw>{operator co_await(std::forward<A>(a))};
  } else {
    return recording_awaiter<std::remove_reference_t<A>*>{&a};
  }
}

}  // namespace coloop::detail
