#include "core/status.h"

namespace argus {

StatusCode StatusCodeFromName(std::string_view name) {
  static constexpr StatusCode kAll[] = {StatusCode::kOk,
                                        StatusCode::kCancelled,
                                        StatusCode::kUnknown,
                                        StatusCode::kInvalidArgument,
                                        StatusCode::kDeadlineExceeded,
                                        StatusCode::kNotFound,
                                        StatusCode::kAlreadyExists,
                                        StatusCode::kPermissionDenied,
                                        StatusCode::kResourceExhausted,
                                        StatusCode::kFailedPrecondition,
                                        StatusCode::kAborted,
                                        StatusCode::kOutOfRange,
                                        StatusCode::kUnimplemented,
                                        StatusCode::kInternal,
                                        StatusCode::kUnavailable,
                                        StatusCode::kDataLoss,
                                        StatusCode::kUnauthenticated,
                                        StatusCode::kConditionFailed,
                                        StatusCode::kPayloadTooLarge,
                                        StatusCode::kUnsupportedMediaType,
                                        StatusCode::kRangeNotSatisfiable};
  for (StatusCode code : kAll) {
    if (StatusCodeName(code) == name) return code;
  }
  return StatusCode::kUnknown;
}

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kUnknown:
      return "unknown";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kAborted:
      return "aborted";
    case StatusCode::kOutOfRange:
      return "out_of_range";
    case StatusCode::kUnimplemented:
      return "unimplemented";
    case StatusCode::kInternal:
      return "internal";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDataLoss:
      return "data_loss";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kConditionFailed:
      return "precondition_failed";
    case StatusCode::kPayloadTooLarge:
      return "payload_too_large";
    case StatusCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case StatusCode::kRangeNotSatisfiable:
      return "range_not_satisfiable";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string message) {
  // An OK code never carries a message: keep OK free.
  if (code != StatusCode::kOk) rep_ = std::make_unique<Rep>(Rep{code, std::move(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(StatusCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
Status PermissionDeniedError(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
Status OutOfRangeError(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
Status ConditionFailedError(std::string m) { return {StatusCode::kConditionFailed, std::move(m)}; }
Status CancelledError(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
Status PayloadTooLargeError(std::string m) { return {StatusCode::kPayloadTooLarge, std::move(m)}; }
Status UnsupportedMediaTypeError(std::string m) {
  return {StatusCode::kUnsupportedMediaType, std::move(m)};
}
Status RangeNotSatisfiableError(std::string m) {
  return {StatusCode::kRangeNotSatisfiable, std::move(m)};
}

}  // namespace argus
