// The HTTP status each Status code is answered with. Only web/ and ui/ speak HTTP.
#pragma once

#include "common/status.h"

namespace loupe {

constexpr int HttpStatus(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 422;
    case Code::kBadRequest: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kForbidden: return 403;
    case Code::kRateLimited: return 429;
    case Code::kNotFound: return 404;
    case Code::kGone: return 410;
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kNoSpace: return 507;
    case Code::kCancelled: return 499;  // nginx's "client closed request", the usual choice
    case Code::kCorrupt: return 500;
    case Code::kInternal: return 500;
  }
  return 500;
}

inline int HttpStatus(const Status& st) { return HttpStatus(st.code()); }

}  // namespace loupe
