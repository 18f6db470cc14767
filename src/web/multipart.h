// multipart/form-data bodies (file uploads), parsed with RESTinio's multipart helpers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "web/http_types.h"

namespace loupe {

struct FormPart {
  std::string name;                     // the form field
  std::optional<std::string> filename;  // set for file fields
  std::string body;
};

bool IsMultipart(const HttpRequest& req);
// BadRequest naming what is wrong (no boundary, a part without a name, ...).
Result<std::vector<FormPart>> ParseMultipart(const HttpRequest& req);

}  // namespace loupe
