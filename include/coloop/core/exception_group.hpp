#pragma once
// exception_group: several failures reported as one (Python's ExceptionGroup), thrown by
// task_group::join when children failed.

#include <exception>
#include <memory>
#include <vector>

namespace coloop {

/// Several exceptions at once, in the order they happened. Thrown by task_group::join; never
/// empty when thrown by coloop. Copying shares the list (copies never throw).
class exception_group : public std::exception {
 public:
  /// Throws std::bad_alloc only.
  explicit exception_group(std::vector<std::exception_ptr> exceptions);
  /// "coloop::exception_group: N failure(s); first: <its what()>".
  const char* what() const noexcept override;
  /// Every failure, first one first.
  const std::vector<std::exception_ptr>& exceptions() const noexcept;

 private:
  struct state;
  std::shared_ptr<const state> state_;
};

}  // namespace coloop
