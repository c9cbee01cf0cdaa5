// Errors for API misuse, out of line so headers stay light.

#include <stdexcept>

#include <coloop/core/task.hpp>
#include <coloop/core/when_any.hpp>

namespace coloop::detail {

void throw_no_result() {
  throw std::logic_error("coloop: result read before the coroutine completed");
}
void throw_empty_task() {
  throw std::logic_error(
      "coloop::task: awaiting an empty task (moved-from or default-constructed)");
}
void throw_task_awaited_twice() {
  throw std::logic_error("coloop::task: awaited twice (a task can be awaited only once)");
}
void throw_when_any_empty() { throw std::invalid_argument("coloop::when_any: no tasks given"); }
}  // namespace coloop::detail
