#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace argus {

/// Canonical error codes (Abseil's set). Pick by what the caller should do next:
/// kUnavailable → retry the call; kAborted → retry the whole operation; kInvalidArgument and
/// kFailedPrecondition → do not retry; kNotFound / kAlreadyExists → exactly that.
/// kConditionFailed is Argus's one addition: an HTTP precondition (If-Match, If-None-Match: *)
/// did not hold (412).
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
  kConditionFailed = 100,       ///< HTTP 412: an If-Match / If-None-Match condition failed
  kPayloadTooLarge = 101,       ///< HTTP 413
  kUnsupportedMediaType = 102,  ///< HTTP 415
  kRangeNotSatisfiable = 103,   ///< HTTP 416
};

/// The wire name of a code: snake_case ("invalid_argument", "not_found", ...).
std::string_view StatusCodeName(StatusCode code);
/// The code of a wire name (a task's recorded error code); kUnknown for a name no code has.
StatusCode StatusCodeFromName(std::string_view name);

/// A success or an error (code + operator-facing message). An OK status costs one null pointer.
/// Thread-compatible: const methods may be called concurrently.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  /// "not_found: bucket 'x' does not exist", or "ok".
  std::string ToString() const;

  /// Marks an error as deliberately ignored, so ignored errors are greppable.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status DataLossError(std::string message);
Status OutOfRangeError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status ConditionFailedError(std::string message);
Status CancelledError(std::string message);
Status PayloadTooLargeError(std::string message);
Status UnsupportedMediaTypeError(std::string message);
Status RangeNotSatisfiableError(std::string message);

}  // namespace argus

#define ARGUS_STATUS_CONCAT_INNER(a, b) a##b
#define ARGUS_STATUS_CONCAT(a, b) ARGUS_STATUS_CONCAT_INNER(a, b)

/// Returns from the enclosing function when `expr` (a Status) is not OK.
#define ARGUS_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::argus::Status argus_status_ = (expr);        \
    if (!argus_status_.ok()) return argus_status_; \
  } while (0)
