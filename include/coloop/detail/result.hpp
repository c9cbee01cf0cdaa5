#pragma once
// layer: core
// A value-or-exception slot: what a finished coroutine or a settled future holds.

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace coloop::detail {

[[noreturn]] void throw_no_result();  // logic_error: result read before completion

template <class T>
class result {
 public:
  result() noexcept {}
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result() { reset(); }

  template <class... Args>
  void set_value(Args&&... args) {
    if (state_ != state::empty) reset();
    std::construct_at(std::addressof(value_), std::forward<Args>(args)...);
    state_ = state::value;
  }
  /// set_value on an empty result (a coroutine's one co_return): no reset to check for.
  template <class... Args>
  void set_first_value(Args&&... args) {
    std::construct_at(std::addressof(value_), std::forward<Args>(args)...);
    state_ = state::value;
  }
  void set_exception(std::exception_ptr e) noexcept {
    if (state_ != state::empty) reset();
    std::construct_at(std::addressof(error_), std::move(e));
    state_ = state::error;
  }
  bool has_value() const noexcept { return state_ == state::value; }
  bool has_exception() const noexcept { return state_ == state::error; }
  bool empty() const noexcept { return state_ == state::empty; }
  std::exception_ptr exception() const noexcept {
    return state_ == state::error ? error_ : std::exception_ptr{};
  }
  /// Moves the exception out (the result becomes empty), or null: the reader then holds the
  /// last reference, so the exception dies on the reader's thread, not the writer's.
  std::exception_ptr take_exception() noexcept {
    if (state_ != state::error) return {};
    std::exception_ptr e = std::move(error_);
    reset();
    return e;
  }

  T& get() & {
    check();
    return value_;
  }
  T get() && {
    check();
    return std::move(value_);
  }

 private:
  enum class state : unsigned char { empty, value, error };
  void check() const {
    if (state_ != state::value) [[unlikely]] no_value();
  }
  [[noreturn, gnu::noinline, gnu::cold]] void no_value() const {
    if (state_ == state::error) std::rethrow_exception(error_);
    throw_no_result();
  }
  void reset() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      if (state_ == state::value) std::destroy_at(std::addressof(value_));
    }
    if (state_ == state::error) std::destroy_at(std::addressof(error_));
    state_ = state::empty;
  }
  union {
    T value_;
    std::exception_ptr error_;
  };
  state state_ = state::empty;
};

template <class T>
class result<T&> {
 public:
  void set_value(T& v) noexcept { inner_.set_value(std::addressof(v)); }
  void set_first_value(T& v) noexcept { inner_.set_first_value(std::addressof(v)); }
  void set_exception(std::exception_ptr e) noexcept { inner_.set_exception(std::move(e)); }
  bool has_value() const noexcept { return inner_.has_value(); }
  bool has_exception() const noexcept { return inner_.has_exception(); }
  bool empty() const noexcept { return inner_.empty(); }
  std::exception_ptr exception() const noexcept { return inner_.exception(); }
  std::exception_ptr take_exception() noexcept { return inner_.take_exception(); }
  T& get() { return *inner_.get(); }

 private:
  result<T*> inner_;
};

struct void_value {};

template <>
class result<void> {
 public:
  void set_value() noexcept { inner_.set_value(); }
  void set_first_value() noexcept { inner_.set_first_value(); }
  void set_exception(std::exception_ptr e) noexcept { inner_.set_exception(std::move(e)); }
  bool has_value() const noexcept { return inner_.has_value(); }
  bool has_exception() const noexcept { return inner_.has_exception(); }
  bool empty() const noexcept { return inner_.empty(); }
  std::exception_ptr exception() const noexcept { return inner_.exception(); }
  std::exception_ptr take_exception() noexcept { return inner_.take_exception(); }
  void get() { inner_.get(); }

 private:
  result<void_value> inner_;
};

}  // namespace coloop::detail
