#include "artifacts/artifact_rules.h"

#include <sodium.h>

#include <algorithm>

namespace loupe::artifacts {

namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool Alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 64));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out + (s.size() > 64 ? "…" : "");
}

Status CheckNameRule(std::string_view s, std::string_view what, size_t max) {
  if (s.empty()) return Status::InvalidArgument(std::string(what) + " must not be empty");
  if (s.size() > max) {
    return Status::InvalidArgument(std::string(what) + " '" + Shown(s) + "' is longer than " + std::to_string(max) +
                                   " bytes");
  }
  if (!Alnum(s[0]) || !std::all_of(s.begin(), s.end(), NameChar)) {
    return Status::InvalidArgument(std::string(what) + " '" + Shown(s) +
                                   "' may hold only letters, digits, '_', '-' and '.', and must start with a "
                                   "letter or digit");
  }
  return Status::Ok();
}

bool IsVersionSelector(std::string_view s) {
  return s.size() >= 2 && s[0] == 'v' && std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

Status ValidateName(std::string_view name, std::string_view what) { return CheckNameRule(name, what, 128); }

Status ValidateType(std::string_view type) { return CheckNameRule(type, "artifact type", 64); }

Status ValidateAlias(std::string_view alias) {
  LOUPE_RETURN_IF_ERROR(CheckNameRule(alias, "alias", 64));
  if (alias == "latest" || IsVersionSelector(alias)) {
    return Status::InvalidArgument("alias '" + std::string(alias) +
                                   "' names a version already ('latest' is always the newest, 'v<N>' version N)");
  }
  return Status::Ok();
}

Status ValidateFilePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("a file path in the artifact is empty");
  if (path.size() > 1024) {
    return Status::InvalidArgument("file path '" + Shown(path) + "' is longer than 1024 bytes");
  }
  if (!ValidUtf8(path)) return Status::InvalidArgument("file path '" + Shown(path) + "' is not valid UTF-8");
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') {
      return Status::InvalidArgument("file path '" + Shown(path) +
                                     "' holds a control character or a backslash; use '/' between folders");
    }
  }
  if (path.front() == '/') {
    return Status::InvalidArgument("file path '" + Shown(path) + "' must be relative to the artifact's root");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return Status::InvalidArgument("file path '" + Shown(path) +
                                     "' has an empty, '.' or '..' part; paths stay inside the artifact");
    }
    start = end + 1;
  }
  return Status::Ok();
}

bool IsDigest(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<Ref> ParseRef(std::string_view ref, std::string_view what) {
  Ref out;
  size_t colon = ref.find(':');
  out.name = std::string(ref.substr(0, colon));
  out.selector = colon == std::string_view::npos ? "latest" : std::string(ref.substr(colon + 1));
  LOUPE_RETURN_IF_ERROR(ValidateName(out.name, what));
  if (out.selector != "latest" && !IsVersionSelector(out.selector)) {
    Status st = CheckNameRule(out.selector, "version or alias", 64);
    if (!st.ok()) {
      return Status::InvalidArgument("'" + Shown(ref) + "' is not a reference: write name, name:v3, name:latest or name:<alias>");
    }
  }
  if (IsVersionSelector(out.selector) && out.selector.size() > 12) {
    return Status::InvalidArgument("version '" + out.selector + "' is out of range");
  }
  return out;
}

int64_t ChunkCount(int64_t size) { return size <= 0 ? 1 : (size + kChunkBytes - 1) / kChunkBytes; }

std::string Sha256Hex(std::string_view bytes) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (unsigned char b : out) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

std::string ManifestDigest(const std::vector<ArtifactFile>& files) {
  std::string text;
  for (const ArtifactFile& f : files) text += f.path + "\t" + std::to_string(f.size) + "\t" + f.sha256 + "\n";
  return Sha256Hex(text);
}

}  // namespace loupe::artifacts
