#include "tracking/validation.h"

#include <algorithm>

namespace loupe {

namespace {
bool KeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '/' || c == ' ';
}
}  // namespace

Status ValidateKey(std::string_view key, const Limits& limits) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid key '" + std::string(key.substr(0, 300)) + "': " + why);
  };
  if (key.empty()) return Status::InvalidArgument("invalid key '': a key must not be empty");
  if (key.size() > limits.max_key_length) {
    return bad("longer than " + std::to_string(limits.max_key_length) + " bytes");
  }
  for (char c : key) {
    if (!KeyChar(c)) return bad("only letters, digits, '_', '-', '.', '/' and spaces are allowed");
  }
  if (key.front() == ' ' || key.back() == ' ') return bad("must not start or end with a space");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) return bad("empty segment between '/'");
    if (seg == "." || seg == "..") return bad("'.' and '..' segments are not allowed");
    start = end + 1;
  }
  return Status::Ok();
}

Status ValidateClientId(std::string_view client) {
  bool ok = !client.empty() && client.size() <= 64;
  for (char c : client) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  return ok ? Status::Ok() : Status::InvalidArgument("client must be 1 to 64 letters, digits, '_' or '-'");
}

Result<StepOrigin> ParseStepOrigin(std::string_view name) {
  if (name == "absolute") return StepOrigin::kAbsolute;
  if (name == "resume") return StepOrigin::kResume;
  if (name == "resume_system") return StepOrigin::kResumeSystem;
  return Status::InvalidArgument("step_origin must be \"absolute\", \"resume\" or \"resume_system\"");
}

Status ValidateRunId(std::string_view run_id) {
  if (run_id.empty() || run_id.size() > 128) {
    return Status::InvalidArgument("run_id must be 1 to 128 characters long");
  }
  for (char c : run_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return Status::InvalidArgument("run_id may only contain letters, digits, '_', '-' and '.'");
  }
  return Status::Ok();
}

Status ValidateName(std::string_view what, std::string_view name, const Limits& limits) {
  if (name.empty()) return Status::InvalidArgument(std::string(what) + " must not be empty");
  if (name.size() > limits.max_name_length) {
    return Status::InvalidArgument(std::string(what) + " is longer than " +
                                   std::to_string(limits.max_name_length) + " bytes");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(what) + " must not contain control characters");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> NormalizeTags(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  for (const std::string& raw : tags) {
    size_t a = raw.find_first_not_of(' ');
    size_t b = raw.find_last_not_of(' ');
    std::string tag = a == std::string::npos ? "" : raw.substr(a, b - a + 1);
    if (tag.empty()) return Status::InvalidArgument("a tag must not be empty");
    if (tag.size() > kMaxTagBytes) {
      return Status::InvalidArgument("tag '" + tag.substr(0, 40) + "...' is longer than " +
                                     std::to_string(kMaxTagBytes) + " bytes");
    }
    for (unsigned char c : tag) {
      if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("a tag must not contain control characters");
      if (c == ',') return Status::InvalidArgument("tag '" + tag + "' contains a comma; tags are separated by commas");
      if (c == '"') return Status::InvalidArgument("tag '" + tag + "' contains a double quote; the search quotes tags");
    }
    if (std::find(out.begin(), out.end(), tag) == out.end()) out.push_back(tag);
  }
  if (out.size() > kMaxTags) {
    return Status::InvalidArgument("a run has at most " + std::to_string(kMaxTags) + " tags; got " +
                                   std::to_string(out.size()));
  }
  return out;
}

}  // namespace loupe
