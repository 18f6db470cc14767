#include "claas/feedback_log.h"

#include "claas/claas_json.h"
#include "common/bounded_json.h"
#include "common/file_util.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace loupe::claas {

namespace {

using nlohmann::json;

// Field readers: absent or null is fine, a wrong type is an error naming the field.
Status GetString(const json& obj, const char* key, std::string* out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Status::InvalidArgument(where + key + ": expected a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

const json* GetObject(const json& obj, const char* key) {
  auto it = obj.find(key);
  return (it != obj.end() && it->is_object()) ? &*it : nullptr;
}

Status ExpectObjectOrNull(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null() || it->is_object()) return Status::Ok();
  return Status::InvalidArgument(std::string(key) + ": expected an object");
}

Status ExpectArrayOrNull(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null() || it->is_array()) return Status::Ok();
  return Status::InvalidArgument(std::string(key) + ": expected a list");
}

EngineMode DetectMode(const json& metadata) {
  if (metadata.contains("adv_mean")) return EngineMode::kTinker;
  for (const char* k : {"distill_loss", "kl_reg", "mean_is_ratio", "clip_fraction", "total_loss"}) {
    if (metadata.contains(k)) return EngineMode::kLocal;
  }
  return EngineMode::kUnknown;
}

std::optional<double> NumberAt(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

std::optional<int64_t> FeedbackBatch::Timing(std::string_view key) const {
  for (const auto& [k, v] : timing_ms) {
    if (k == key) return v;
  }
  return std::nullopt;
}

const std::vector<std::pair<std::string, std::string>>& MetricColumns(EngineMode mode) {
  static const std::vector<std::pair<std::string, std::string>> local = {
      {"Loss", "distill_loss"}, {"KL reg", "kl_reg"}, {"IS ratio", "mean_is_ratio"}, {"Clip frac", "clip_fraction"}};
  static const std::vector<std::pair<std::string, std::string>> tinker = {
      {"adv_mean", "adv_mean"}, {"kl_mean", "kl_mean"}, {"Eff. KL coef", "effective_kl_coef"}, {"kl_gain", "kl_gain"}};
  static const std::vector<std::pair<std::string, std::string>> none;
  return mode == EngineMode::kLocal ? local : mode == EngineMode::kTinker ? tinker : none;
}

const char* EngineModeName(EngineMode mode) {
  return mode == EngineMode::kLocal ? "local" : mode == EngineMode::kTinker ? "tinker" : "";
}

Result<FeedbackBatch> ParseFeedbackLog(const std::string& file_name, std::string_view content) {
  json doc = ParseClaasJson(content);
  if (doc.is_discarded()) return Status::InvalidArgument("not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument("expected a JSON object at the top level");

  FeedbackBatch b;
  b.file_name = file_name;
  for (auto [key, out] : {std::pair{"request_id", &b.request_id}, {"timestamp_utc", &b.timestamp_utc},
                          {"status", &b.status}, {"phase", &b.phase}, {"lora_id", &b.lora_id},
                          {"error", &b.error}}) {
    LOUPE_RETURN_IF_ERROR(GetString(doc, key, out, ""));
  }
  for (const char* k : {"timing_ms", "vllm", "distill_result"}) LOUPE_RETURN_IF_ERROR(ExpectObjectOrNull(doc, k));
  for (const char* k : {"requests", "batch_samples"}) LOUPE_RETURN_IF_ERROR(ExpectArrayOrNull(doc, k));

  if (const json* timing = GetObject(doc, "timing_ms")) {
    for (const char* k : {"total", "distill", "sleep", "wake", "save", "logprobs"}) {
      auto it = timing->find(k);
      if (it == timing->end() || it->is_null()) {
        b.timing_ms.emplace_back(k, std::nullopt);
      } else if (it->is_number()) {
        // Converting a double beyond int64_t's range is undefined, and no duration is that long.
        const double ms = it->get<double>();
        if (!(std::fabs(ms) < 9e18)) return Status::InvalidArgument(std::string("timing_ms.") + k + ": out of range");
        b.timing_ms.emplace_back(k, static_cast<int64_t>(ms));
      } else {
        return Status::InvalidArgument(std::string("timing_ms.") + k + ": expected a number");
      }
    }
  }
  if (const json* vllm = GetObject(doc, "vllm")) {
    if (auto it = vllm->find("slept"); it != vllm->end() && it->is_boolean()) b.vllm_slept = it->get<bool>();
    if (auto it = vllm->find("woke"); it != vllm->end() && it->is_boolean()) b.vllm_woke = it->get<bool>();
  }

  std::vector<std::string> teacher_texts;
  b.metadata = json::object();
  if (const json* result = GetObject(doc, "distill_result")) {
    LOUPE_RETURN_IF_ERROR(ExpectObjectOrNull(*result, "metadata"));
    if (const json* md = GetObject(*result, "metadata")) {
      b.metadata = *md;
      if (auto it = b.metadata.find("teacher_scored_texts"); it != b.metadata.end()) {
        if (it->is_array()) {
          for (const auto& t : *it) teacher_texts.push_back(t.is_string() ? t.get<std::string>() : t.dump());
        }
        b.metadata.erase(it);
      }
    }
  }
  b.mode = DetectMode(b.metadata);
  for (const auto& [title, key] : MetricColumns(b.mode)) b.metrics.push_back({title, key, NumberAt(b.metadata, key)});

  // Samples: batch_samples when present (they carry the chat-templated prompt), else
  // requests, else the oldest logs' single `request` object (written 2026-02-10 to 02-14).
  const char* list_key = doc.contains("batch_samples") && doc["batch_samples"].is_array() ? "batch_samples" : "requests";
  json single;
  if (auto it = doc.find(list_key); (it == doc.end() || !it->is_array()) && doc.contains("request") && doc["request"].is_object()) {
    single = json::array({doc["request"]});
    list_key = "request";
  }
  const json* list = single.is_array() ? &single : nullptr;
  if (!list) {
    if (auto it = doc.find(list_key); it != doc.end() && it->is_array()) list = &*it;
  }
  if (list) {
    size_t i = 0;
    for (const json& s : *list) {
      std::string where = single.is_array() ? std::string("request.") : std::string(list_key) + "[" + std::to_string(i) + "].";
      if (!s.is_object()) return Status::InvalidArgument(where.substr(0, where.size() - 1) + ": expected an object");
      FeedbackSample sample;
      std::string raw_prompt, user_prompt;
      LOUPE_RETURN_IF_ERROR(GetString(s, "prompt", &raw_prompt, where));
      LOUPE_RETURN_IF_ERROR(GetString(s, "user_prompt", &user_prompt, where));
      LOUPE_RETURN_IF_ERROR(GetString(s, "system_prompt", &sample.system_prompt, where));
      LOUPE_RETURN_IF_ERROR(GetString(s, "response", &sample.response, where));
      LOUPE_RETURN_IF_ERROR(GetString(s, "feedback", &sample.feedback, where));
      sample.prompt = user_prompt.empty() ? raw_prompt : user_prompt;
      if (!user_prompt.empty() && raw_prompt != user_prompt) sample.chat_prompt = raw_prompt;
      if (i < teacher_texts.size()) sample.teacher_scored_text = teacher_texts[i];
      b.samples.push_back(std::move(sample));
      ++i;
    }
  }
  return b;
}

Result<std::vector<std::string>> ListFeedbackFiles(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return names;
    return Status::Unavailable("cannot read the feedback folder " + dir + ": " + std::strerror(errno));
  }
  while (dirent* e = readdir(d)) {
    std::string_view n(e->d_name);
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json" && n[0] != '.' && e->d_type != DT_DIR) names.emplace_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end(), std::greater<>());
  return names;
}

Result<FeedbackPage> ReadFeedbackPage(const std::string& dir, int64_t page, int64_t per_page) {
  constexpr size_t kMaxFileBytes = 64ull << 20;
  FeedbackPage out;
  DIR* probe = opendir(dir.c_str());
  if (probe) closedir(probe);
  out.folder_missing = !probe && errno == ENOENT;
  LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> listed, ListFeedbackFiles(dir));
  const std::vector<std::string>& names = listed;
  out.page = Paginate(static_cast<int64_t>(names.size()), page, per_page);
  int64_t end = std::min<int64_t>(out.page.offset + out.page.per_page, out.page.total);
  for (int64_t i = out.page.offset; i < end; ++i) {
    const std::string& name = names[i];
    Result<std::string> content = ReadFileInFolder(dir, name, kMaxFileBytes);
    if (!content.ok()) {
      out.skipped.push_back({name, content.status().message()});
      continue;
    }
    Result<FeedbackBatch> batch = ParseFeedbackLog(name, *content);
    if (!batch.ok()) {
      out.skipped.push_back({name, batch.status().message()});
      continue;
    }
    out.batches.push_back(std::move(*batch));
  }
  return out;
}

}  // namespace loupe::claas
