// Cases of the layer include tests (tests/compile/CMakeLists.txt): each compiles with the staged
// include directories of one layer, as that layer's own sources do. The `_ok` cases include what
// the layer may use and must compile; the others include an upper or sibling layer's header and
// must fail as "not found", which is how the build stops an upward include.
#if defined(COLOOP_CASE_runtime_ok)
#include <coloop/core/task.hpp>
#include <coloop/detail/spawned.hpp>
#include <coloop/runtime/sleep.hpp>
#elif defined(COLOOP_CASE_spawn_alone)  // each new runtime header compiles on its own
#include <coloop/runtime/spawn.hpp>
#elif defined(COLOOP_CASE_yield_alone)
#include <coloop/runtime/yield.hpp>
#elif defined(COLOOP_CASE_now_alone)
#include <coloop/runtime/now.hpp>
#elif defined(COLOOP_CASE_sync_ok)
#include <coloop/sync/barrier.hpp>
#include <coloop/sync/broadcast.hpp>
#include <coloop/sync/event.hpp>
#include <coloop/sync/latch.hpp>
#include <coloop/sync/watch.hpp>
#include <coloop/detail/wait_list.hpp>
#elif defined(COLOOP_CASE_mutex_alone)  // each sync header compiles on its own, in its layer
#include <coloop/sync/mutex.hpp>
#elif defined(COLOOP_CASE_semaphore_alone)
#include <coloop/sync/semaphore.hpp>
#elif defined(COLOOP_CASE_condition_alone)
#include <coloop/sync/condition.hpp>
#elif defined(COLOOP_CASE_queue_alone)
#include <coloop/sync/queue.hpp>
#elif defined(COLOOP_CASE_net_ok)
#include <coloop/executor/to_thread.hpp>
#include <coloop/net/server.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/detail/wait_list.hpp>
#elif defined(COLOOP_CASE_runtime_includes_net)
#include <coloop/net/tcp.hpp>
#elif defined(COLOOP_CASE_sync_includes_runtime)
#include <coloop/runtime/sleep.hpp>
#elif defined(COLOOP_CASE_sync_includes_net_private)
#include "net/socket_ops.hpp"
#elif defined(COLOOP_CASE_core_includes_runtime_detail)
#include <coloop/detail/spawned.hpp>
#elif defined(COLOOP_CASE_process_ok)  // process sits above net: its pipes are net's streams
#include <coloop/process/process.hpp>
#include "net/pipe_streams.hpp"
#elif defined(COLOOP_CASE_net_includes_process)
#include <coloop/process/signal_set.hpp>
#endif

int main() { return 0; }
