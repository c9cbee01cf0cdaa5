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

// COLOOP_FRAME_POOL only sets the default: the ASan build starts with the pool off (so ASan sees
// every frame) and tests turn it on to check that the g++ 12-safe forms hold with pooled frames.
std::atomic<bool> pool_enabled{COLOOP_FRAME_POOL_DEFAULT != 0};

// A cached frame's first bytes link it into its class list and record the list's length there,
// so neither allocate nor free updates a per-thread counter (a read-modify-write per call would
// chain every task through a store-to-load dependency).
struct free_block {
  free_block* next;
  std::size_t depth;  // blocks in the list from this one down
};

struct free_lists {
  free_block* head[class_count];
  bool opened;    // the thread-exit release is registered: frees may be cached
  bool released;  // the thread is exiting: everything goes back to the heap
};

constinit thread_local free_lists lists{};

struct lists_releaser {
  ~lists_releaser() {
    lists.released = true;
    lists.opened = false;
    for (std::size_t c = 0; c < class_count; ++c) {
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

/// Caches `frame` unless its class list is full; false when it was not cached.
bool try_push(void* frame, std::size_t cls) noexcept {
  free_block* head = lists.head[cls];
  const std::size_t depth = head != nullptr ? head->depth : 0;
  if (depth >= max_cached_per_class) return false;
  auto* b = static_cast<free_block*>(frame);
  b->next = head;
  b->depth = depth + 1;
  lists.head[cls] = b;
  return true;
}

// Out of line so the common path stays a leaf. A thread's first cached frame registers the
// release of its lists at thread exit.
[[gnu::noinline]] void deallocate_slow(void* frame, std::size_t cls) noexcept {
  if (cls < class_count && !lists.released && frame_pool_enabled()) {
    (void)&releaser;  // constructs it: the lists are released when this thread exits
    lists.opened = true;
    if (try_push(frame, cls)) return;
  }
  ::operator delete(frame);  // full list, oversize frame, pool off or thread exiting
}

}  // namespace

void set_frame_pool_enabled(bool enabled) noexcept {
  // Relaxed: the flag only picks a strategy; every block is valid under both.
  pool_enabled.store(enabled, std::memory_order_relaxed);
}

bool frame_pool_enabled() noexcept { return pool_enabled.load(std::memory_order_relaxed); }

namespace detail {

void* frame_allocate(std::size_t size) {
  const std::size_t cls = class_of(size);
  if (cls >= class_count) return ::operator new(size);
  if (pool_enabled.load(std::memory_order_relaxed)) {
    if (free_block* b = lists.head[cls]) {
      lists.head[cls] = b->next;
      return b;
    }
  }
  return ::operator new(capacity_of(cls));
}

void frame_deallocate(void* frame, std::size_t size) noexcept {
  const std::size_t cls = class_of(size);
  if (cls < class_count && lists.opened && pool_enabled.load(std::memory_order_relaxed) &&
      try_push(frame, cls)) {
    return;
  }
  deallocate_slow(frame, cls);
}

}  // namespace detail
}  // namespace coloop
