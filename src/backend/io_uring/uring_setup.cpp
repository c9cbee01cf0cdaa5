// Setting up an io_uring, and what happens when the kernel says no: io_uring_unavailable, the
// one-time fallback message, and the test hook that simulates a refusal.
//
// Setup asks for the flags that make a ring cheapest to drive from one loop (a bigger CQ ring,
// SUBMIT_ALL, COOP_TASKRUN + TASKRUN_FLAG: completions run at the loop's next syscall instead of
// interrupting it), dropping the newer ones on EINVAL (older kernels). Not SINGLE_ISSUER or
// DEFER_TASKRUN: the multi-threaded runtime submits and polls one ring from different workers,
// which those flags forbid (and it does without COOP_TASKRUN too, see setup_ring). No SQPOLL: a
// kernel thread spinning per loop costs a core on a 2-core box.

#include "backend/io_uring/uring_setup.hpp"

#include "core/log_format.hpp"

#include <errno.h>
#include <string.h>

#include <atomic>
#include <span>
#include <string>

namespace coloop::detail {
namespace {

std::atomic<int> forced_setup_error{0};
std::atomic<bool> fallback_logged{false};

std::string describe(int err, const std::string& why) {
  const char* desc = ::strerrordesc_np(err);
  const std::string text = desc != nullptr ? desc : "error " + std::to_string(err);
  return why.empty() ? text : why + ": " + text;
}

}  // namespace

io_uring_unavailable::io_uring_unavailable(int err, const std::string& why)
    : std::system_error(err, std::generic_category(), describe(err, why)) {}

void log_io_uring_fallback(const io_uring_unavailable& e) noexcept {
  if (fallback_logged.exchange(true)) return;
  // The message of a system_error is "what: strerror"; the reason alone reads better here.
  logf(log_level::info, "coloop: io_uring unavailable ({}); using epoll",
       describe(e.code().value(), {}));
}

void force_io_uring_setup_error(int err) noexcept { forced_setup_error.store(err); }

void setup_ring(io_uring& ring, unsigned& features, bool shared) {
  if (const int forced = forced_setup_error.exchange(0); forced != 0) {
    throw io_uring_unavailable(forced, "io_uring_queue_init (simulated)");
  }
  constexpr unsigned base = IORING_SETUP_CQSIZE;
  constexpr unsigned attempts[] = {
      base | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      base | IORING_SETUP_SUBMIT_ALL, base};
  // Shared by a runtime's workers: a completion's task work runs in the thread that submitted
  // the operation, and with COOP_TASKRUN only when that thread next enters the kernel, which a
  // worker parked on a futex may not do for a long time while another one waits for the CQE.
  const std::span<const unsigned> tries = shared ? std::span(attempts).subspan(1) : attempts;
  int r = -EINVAL;
  for (const unsigned flags : tries) {
    io_uring_params p{};
    p.flags = flags;
    p.cq_entries = ring_cq_entries;
    r = io_uring_queue_init_params(ring_sq_entries, &ring, &p);
    if (r == 0) {
      features = p.features;
      break;
    }
    if (r != -EINVAL) break;
  }
  if (r < 0) throw io_uring_unavailable(-r, "io_uring_queue_init");
  // Without fast poll (5.7) a socket operation that has to wait blocks an io-wq thread instead
  // of arming a poll: correct, but a thread per waiting socket. Treat as unavailable.
  if ((features & IORING_FEAT_FAST_POLL) == 0) {
    io_uring_queue_exit(&ring);
    throw io_uring_unavailable(EOPNOTSUPP, "io_uring without IORING_FEAT_FAST_POLL (kernel < 5.7)");
  }
  // Shared, the driver waits for completions without the reactor's lock, passing its timeout
  // in the wait itself (a timeout SQE would need the lock).
  if (shared && (features & IORING_FEAT_EXT_ARG) == 0) {
    io_uring_queue_exit(&ring);
    throw io_uring_unavailable(EOPNOTSUPP, "io_uring without IORING_FEAT_EXT_ARG (kernel < 5.11)");
  }
}

}  // namespace coloop::detail
