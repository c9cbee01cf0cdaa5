// Frame pool: coroutine frames are rounded up to 64-byte size classes (up to 2 KiB) and recycled
// through per-thread free lists, so steady-state task creation never reaches the heap.
//
// Invariants: a block's capacity is always its size class, whichever mode allocated it, so the
// pool can be switched at run time and a frame may be freed on any thread (it simply joins that
// thread's list). Each list is bounded; past the bound blocks go back to the heap. Blocks come
// from ::operator new so a counting allocator in tests sees every refill.
// Shutdown: a thread's lists are returned to the heap when the thread exits; frees after that
// (thread_local destruction order) bypass the pool.

#include <coloop/core/frame_pool.hpp>

#include <atomic>
#include <new>

namespace coloop {
namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t class_count = 32;  // up to 2 KiB
constexpr std::size_t max_cached_per_class = 4096;

#if COLOOP_FRAME_POOL_DEFAULT
constexpr bool compiled_in = true;
#else
constexpr bool compiled_in = false;
#endif

std::atomic<bool> pool_enabled{compiled_in};

struct free_block {
  free_block* next;
};

// room[c] counts the frames class c may still cache. It starts at 0, so a thread's first free
// takes the slow path once, which registers the release at thread exit and opens the room.
struct free_lists {
  free_block* head[class_count];
  std::size_t room[class_count];
  bool opened;    // the thread-exit release is registered
  bool released;  // the thread is exiting: everything goes back to the heap
};

constinit thread_local free_lists lists{};

struct lists_releaser {
  ~lists_releaser() {
    lists.released = true;
    for (std::size_t c = 0; c < class_count; ++c) {
      lists.room[c] = 0;
      while (free_block* b = lists.head[c]) {
        lists.head[c] = b->next;
        ::operator delete(b);
      }
    }
  }
};
thread_local lists_releaser releaser;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size - 1) / granule; }
constexpr std::size_t capacity_of(std::size_t cls) noexcept { return (cls + 1) * granule; }

}  // namespace

void set_frame_pool_enabled(bool enabled) noexcept {
  // Relaxed: the flag only picks a strategy; every block is valid under both.
  pool_enabled.store(enabled && compiled_in, std::memory_order_relaxed);
}

bool frame_pool_enabled() noexcept { return pool_enabled.load(std::memory_order_relaxed); }

namespace detail {

void* frame_allocate(std::size_t size) {
  const std::size_t cls = class_of(size);
  if (cls >= class_count) return ::operator new(size);
  if (pool_enabled.load(std::memory_order_relaxed)) {
    if (free_block* b = lists.head[cls]) {
      lists.head[cls] = b->next;
      ++lists.room[cls];
      return b;
    }
  }
  return ::operator new(capacity_of(cls));
}

namespace {

void push(void* frame, std::size_t cls) noexcept {
  auto* b = static_cast<free_block*>(frame);
  b->next = lists.head[cls];
  lists.head[cls] = b;
  --lists.room[cls];
}

// Out of line so the common path stays a leaf.
[[gnu::noinline]] void deallocate_slow(void* frame, std::size_t cls) noexcept {
  if (cls < class_count && !lists.opened && !lists.released && frame_pool_enabled()) {
    (void)&releaser;  // constructs it: the lists are released when this thread exits
    lists.opened = true;
    for (std::size_t& r : lists.room) r = max_cached_per_class;
    push(frame, cls);
    return;
  }
  ::operator delete(frame);  // full list, oversize frame, pool off or thread exiting
}

}  // namespace

void frame_deallocate(void* frame, std::size_t size) noexcept {
  const std::size_t cls = class_of(size);
  if (cls < class_count && pool_enabled.load(std::memory_order_relaxed) && lists.room[cls] != 0) {
    push(frame, cls);
    return;
  }
  deallocate_slow(frame, cls);
}

}  // namespace detail
}  // namespace coloop
