#pragma once
// layer: core
// callback: a move-only void() function with 48 bytes of inline storage, so call_soon and timer
// callbacks with small captures (and coroutine resumptions) never allocate.

#include <coroutine>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace coloop::detail {

class callback {
 public:
  static constexpr std::size_t inline_size = 48;

  callback() noexcept = default;
  template <class F, class D = std::decay_t<F>>
    requires(!std::is_same_v<D, callback> && std::is_invocable_v<D&>)
  callback(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function
    if constexpr (fits<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
      ops_ = &heap_ops<D>;
    }
  }
  /// Resumes `h` when invoked.
  static callback resume(std::coroutine_handle<> h) noexcept {
    callback c;
    *reinterpret_cast<void**>(c.storage_) = h.address();
    c.ops_ = &resume_ops;
    return c;
  }

  callback(callback&& other) noexcept : ops_(std::exchange(other.ops_, nullptr)) {
    if (ops_ != nullptr) relocate(other);
  }
  callback& operator=(callback&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = std::exchange(other.ops_, nullptr);
      if (ops_ != nullptr) relocate(other);
    }
    return *this;
  }
  callback(const callback&) = delete;
  callback& operator=(const callback&) = delete;
  ~callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  void operator()() { ops_->invoke(storage_); }
  /// The coroutine frame a resume() callback resumes; nullptr for any other callback.
  void* resumed_frame() const noexcept {
    return ops_ == &resume_ops ? *reinterpret_cast<void* const*>(storage_) : nullptr;
  }
  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

 private:
  struct ops {
    void (*invoke)(void* storage);
    void (*move)(void* to, void* from) noexcept;  // nullptr: memcpy is enough
    void (*destroy)(void* storage) noexcept;      // nullptr: nothing to do
  };
  template <class D>
  static constexpr bool fits =
      sizeof(D) <= inline_size && alignof(D) <= alignof(std::max_align_t) &&
      std::is_nothrow_move_constructible_v<D>;
  template <class D>
  static constexpr bool trivial =
      std::is_trivially_copyable_v<D> && std::is_trivially_destructible_v<D>;

  template <class D>
  static constexpr ops inline_ops{
      [](void* s) { (*std::launder(static_cast<D*>(s)))(); },
      trivial<D> ? nullptr
                 : +[](void* to, void* from) noexcept {
                     D* src = std::launder(static_cast<D*>(from));
                     ::new (to) D(std::move(*src));
                     src->~D();
                   },
      trivial<D> ? nullptr : +[](void* s) noexcept { std::launder(static_cast<D*>(s))->~D(); }};
  template <class D>
  static constexpr ops heap_ops{[](void* s) { (**static_cast<D**>(s))(); }, nullptr,
                                [](void* s) noexcept { delete *static_cast<D**>(s); }};
  static constexpr ops resume_ops{
      [](void* s) { std::coroutine_handle<>::from_address(*static_cast<void**>(s)).resume(); },
      nullptr, nullptr};

  void relocate(callback& other) noexcept {
    if (ops_->move != nullptr) {
      ops_->move(storage_, other.storage_);
    } else {
      std::memcpy(storage_, other.storage_, inline_size);
    }
  }

  const ops* ops_ = nullptr;
  alignas(std::max_align_t) unsigned char storage_[inline_size];
};

}  // namespace coloop::detail
