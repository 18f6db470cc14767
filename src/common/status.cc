#include "common/status.h"

namespace loupe {

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "INVALID_ARGUMENT";
    case Code::kBadRequest: return "BAD_REQUEST";
    case Code::kUnauthenticated: return "UNAUTHENTICATED";
    case Code::kForbidden: return "FORBIDDEN";
    case Code::kRateLimited: return "RATE_LIMITED";
    case Code::kNotFound: return "NOT_FOUND";
    case Code::kGone: return "GONE";
    case Code::kConflict: return "CONFLICT";
    case Code::kTooLarge: return "TOO_LARGE";
    case Code::kUnavailable: return "UNAVAILABLE";
    case Code::kNoSpace: return "NO_SPACE";
    case Code::kCancelled: return "CANCELLED";
    case Code::kCorrupt: return "CORRUPT";
    case Code::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace loupe
