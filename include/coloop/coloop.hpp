#pragma once
// The whole of coloop's public API.

#include <coloop/version.hpp>

#include <coloop/core/errors.hpp>
#include <coloop/core/exception_group.hpp>
#include <coloop/core/frame_pool.hpp>
#include <coloop/core/log.hpp>
#include <coloop/core/metrics.hpp>
#include <coloop/core/shutdown_mode.hpp>
#include <coloop/core/future.hpp>
#include <coloop/core/sync_wait.hpp>
#include <coloop/core/task.hpp>
#include <coloop/core/when_all.hpp>
#include <coloop/core/when_any.hpp>

#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/now.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/run_coroutine_threadsafe.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/task_dump.hpp>
#include <coloop/runtime/task_group.hpp>
#include <coloop/runtime/timer_handle.hpp>
#include <coloop/runtime/wait.hpp>
#include <coloop/runtime/wait_for.hpp>
#include <coloop/runtime/yield.hpp>

#include <coloop/sync/barrier.hpp>
#include <coloop/sync/broadcast.hpp>
#include <coloop/sync/condition.hpp>
#include <coloop/sync/event.hpp>
#include <coloop/sync/latch.hpp>
#include <coloop/sync/mutex.hpp>
#include <coloop/sync/queue.hpp>
#include <coloop/sync/semaphore.hpp>
#include <coloop/sync/watch.hpp>

#include <coloop/executor/thread_pool.hpp>
#include <coloop/executor/to_thread.hpp>
#include <coloop/io/async_fd.hpp>

#include <coloop/net/endpoint.hpp>
#include <coloop/net/resolve.hpp>
#include <coloop/net/server.hpp>
#include <coloop/net/stream_reader.hpp>
#include <coloop/net/stream_writer.hpp>
#include <coloop/net/stream_socket.hpp>
#include <coloop/net/streams.hpp>
#include <coloop/net/tcp.hpp>
#include <coloop/net/udp.hpp>
#include <coloop/net/unix_socket.hpp>

#include <coloop/process/process.hpp>
#include <coloop/process/signal_set.hpp>

#include <coloop/fs/file.hpp>
