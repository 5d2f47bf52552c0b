#pragma once

#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/status.h"

namespace argus {

/// A value or a non-OK Status (modelled on absl::StatusOr). A Result never holds an OK status
/// without a value: constructing one from an OK status yields an internal error instead.
/// Accessing value() of an error Result aborts (a programmer error).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = InternalError("Result constructed from an OK status");
  }
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, Result<T>>)
      Result(U&& value)
      : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T& value() & {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  void CheckOk() const {
    if (!value_.has_value()) std::abort();
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace argus

/// `ARGUS_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns its Status.
#define ARGUS_ASSIGN_OR_RETURN(lhs, expr) \
  ARGUS_ASSIGN_OR_RETURN_IMPL(ARGUS_STATUS_CONCAT(argus_result_, __LINE__), lhs, expr)
#define ARGUS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
