// Status and Result<T>: errors as values.
//
// Every service and store call returns a Status (or a Result<T> carrying a value
// or a Status). A Status has a code (web/http_status.h maps each onto one HTTP status)
// and a message written for the user who sent the request. Exceptions never cross
// module boundaries. Both types are plain values: copy them, return them, any thread.
// Both are [[nodiscard]]: an error is handled or explicitly ignored with a reason.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace loupe {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // 422: a field is missing or has the wrong type/value
  kBadRequest,        // 400: the request itself is malformed (bad JSON, bad path)
  kUnauthenticated,   // 401: no credential, or one that is not valid
  kForbidden,         // 403: the caller may not do this (role, origin, host)
  kRateLimited,       // 429: too many attempts; retry later
  kNotFound,          // 404
  kGone,              // 410: it existed and was deleted; its id is never reused
  kConflict,          // 409
  kTooLarge,          // 413
  kUnavailable,       // 503: shutting down, overloaded, storage I/O failing
  kNoSpace,           // 507: the disk (or a quota) is full
  kCancelled,         // 499: the work was cancelled while it ran
  kCorrupt,           // 500: stored data cannot be read
  kInternal,          // 500: anything unexpected
};

const char* CodeName(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status BadRequest(std::string m) { return {Code::kBadRequest, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }
  static Status RateLimited(std::string m) { return {Code::kRateLimited, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Gone(std::string m) { return {Code::kGone, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: experiment 3 not found", for logs and test failures.
  std::string ToString() const;
  // Drops the status on purpose; say why beside the call.
  void IgnoreError() const {}

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace loupe

#define LOUPE_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::loupe::Status _st = (expr);            \
    if (!_st.ok()) return _st;               \
  } while (0)

// `LOUPE_ASSIGN_OR_RETURN(auto rows, LoadRows(id));` evaluates a Result<T>: on error
// the enclosing function returns its Status, otherwise `rows` holds the value.
#define LOUPE_STATUS_CONCAT_INNER(a, b) a##b
#define LOUPE_STATUS_CONCAT(a, b) LOUPE_STATUS_CONCAT_INNER(a, b)
#define LOUPE_ASSIGN_OR_RETURN(lhs, expr) \
  LOUPE_ASSIGN_OR_RETURN_IMPL(LOUPE_STATUS_CONCAT(_loupe_result_, __LINE__), lhs, expr)
#define LOUPE_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                \
  if (!result.ok()) return result.status();            \
  lhs = std::move(*result)
