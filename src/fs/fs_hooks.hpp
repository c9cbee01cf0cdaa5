#pragma once
// Test hooks of the fs layer (private): let a test hold a pool thread just before it makes its
// call (so a cancel lands while the call is in flight), hold the awaiting thread between arming
// the cancel slot and the hand-over, and learn when a call's outcome is final, late fd closed
// included. Null in production; set before the calls they watch.

#include <atomic>

#include "runtime/driver/file_op.hpp"

namespace coloop::detail {

struct fs_hooks {
  /// On the pool thread, right before the blocking call.
  std::atomic<void (*)(file_op::kind)> before_call{nullptr};
  /// Once the outcome is delivered or dropped (a late fd closed), on the thread that settled it.
  std::atomic<void (*)(file_op::kind)> settled{nullptr};
  /// On the awaiting thread, right after start() armed the cancel slot (a cancel may land from
  /// here on), before it hands the call over.
  std::atomic<void (*)(file_op::kind)> armed{nullptr};
};

fs_hooks& fs_test_hooks() noexcept;

}  // namespace coloop::detail
