#include "common/status.h"

namespace loupe {

int Status::http_status() const {
  switch (code_) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 422;
    case Code::kBadRequest: return 400;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kCorrupt: return 500;
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::to_string(http_status()) + ": " + message_;
}

}  // namespace loupe
