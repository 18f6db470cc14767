#include "llm/training_export.h"

namespace loupe::llm {

namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The prompt's messages, when they are [{role, content: string}] with a user turn.
std::optional<json> PromptMessages(const std::string& messages_json) {
  json m = json::parse(messages_json, nullptr, false);
  if (!m.is_array() || m.empty()) return std::nullopt;
  bool user = false;
  for (const json& x : m) {
    if (!x.is_object() || !x.contains("role") || !x["role"].is_string() || !x.contains("content") ||
        !x["content"].is_string()) {
      return std::nullopt;
    }
    user = user || x["role"] == "user";
  }
  if (!user) return std::nullopt;
  return m;
}

// The system prompt (the first message, when it is one), "" when none.
std::string SystemText(const json& messages) {
  return messages.front()["role"] == "system" ? messages.front()["content"].get<std::string>() : "";
}

}  // namespace

std::optional<SftFormat> ParseSftFormat(const std::string& name) {
  if (name == "openai") return SftFormat::kOpenAi;
  if (name == "sharegpt") return SftFormat::kShareGpt;
  if (name == "table") return SftFormat::kTable;
  return std::nullopt;
}

std::optional<PreferenceFormat> ParsePreferenceFormat(const std::string& name) {
  if (name == "trl") return PreferenceFormat::kTrl;
  if (name == "openai") return PreferenceFormat::kOpenAi;
  if (name == "table") return PreferenceFormat::kTable;
  return std::nullopt;
}

std::optional<std::string> SftLine(const Prediction& p, const std::string& answer, SftFormat format) {
  std::optional<json> m = PromptMessages(p.messages_json);
  if (!m) return std::nullopt;
  if (format == SftFormat::kTable) {
    return Dump({{"prediction_id", p.id}, {"model", p.model_name}, {"system", SystemText(*m)},
                 {"prompt", LastUserText(p.messages_json)}, {"completion", answer}, {"messages", Dump(*m)}});
  }
  if (format == SftFormat::kOpenAi) {
    // OpenAI trains on every assistant turn unless it carries weight 0: the history's
    // answers are examples of their own (and may have been rated bad), so only this
    // call's answer is trained on here.
    for (json& x : *m) {
      if (x["role"] == "assistant") x["weight"] = 0;
    }
    m->push_back({{"role", "assistant"}, {"content", answer}});
    return Dump({{"messages", *m}});
  }
  m->push_back({{"role", "assistant"}, {"content", answer}});
  json turns = json::array();
  for (const json& x : *m) {
    const std::string role = x["role"];
    turns.push_back({{"from", role == "user" ? "human" : role == "assistant" ? "gpt" : role}, {"value", x["content"]}});
  }
  return Dump({{"conversations", turns}});
}

std::string LastUserText(const std::string& messages_json) {
  json m = json::parse(messages_json, nullptr, false);
  if (!m.is_array()) return "";
  for (auto it = m.rbegin(); it != m.rend(); ++it) {
    if (it->is_object() && it->value("role", "") == "user" && (*it)["content"].is_string()) return (*it)["content"];
  }
  return "";
}

std::string ExpectedAnswer(const std::string& evaluation_json) {
  if (evaluation_json.empty()) return "";
  json e = json::parse(evaluation_json, nullptr, false);
  if (!e.is_object() || !e.contains("expected") || !e["expected"].is_string()) return "";
  return e["expected"];
}

Verdict VerdictOf(const PredictionRow& row) {
  if (row.thumbs) return *row.thumbs > 0 ? Verdict::kGood : Verdict::kBad;
  json e = json::parse(row.evaluation_json.empty() ? "{}" : row.evaluation_json, nullptr, false);
  if (e.is_object() && e.contains("success") && e["success"] == false) return Verdict::kBad;
  if (row.stars) {
    if (*row.stars >= 4) return Verdict::kGood;
    if (*row.stars <= 2) return Verdict::kBad;
  }
  return Verdict::kNone;
}

std::vector<PreferencePair> PairsOf(const std::vector<PredictionRow>& rows, size_t max_pairs) {
  std::vector<const PredictionRow*> good, bad;
  for (const PredictionRow& r : rows) {
    if (r.p.outcome != "ok") continue;
    Verdict v = VerdictOf(r);
    if (v == Verdict::kGood) good.push_back(&r);
    if (v == Verdict::kBad) bad.push_back(&r);
  }
  std::vector<PreferencePair> out;
  for (const PredictionRow* b : bad) {
    const std::string expected = ExpectedAnswer(b->evaluation_json);
    if (!expected.empty() && expected != b->p.response && out.size() < max_pairs) {
      out.push_back({b->p.messages_json, expected, b->p.response, 0, b->p.id});
    }
    for (const PredictionRow* g : good) {
      if (out.size() >= max_pairs) return out;
      if (g->p.response == b->p.response) continue;
      out.push_back({b->p.messages_json, g->p.response, b->p.response, g->p.id, b->p.id});
    }
  }
  return out;
}

std::optional<std::string> PreferenceLine(const PreferencePair& pair, PreferenceFormat format) {
  std::optional<json> m = PromptMessages(pair.messages_json);
  if (!m) return std::nullopt;
  if (format == PreferenceFormat::kTable) {
    return Dump({{"prompt", LastUserText(pair.messages_json)}, {"chosen", pair.chosen}, {"rejected", pair.rejected},
                 {"system", SystemText(*m)}, {"messages", Dump(*m)}, {"chosen_prediction", pair.chosen_prediction},
                 {"rejected_prediction", pair.rejected_prediction}});
  }
  json chosen = json::array({{{"role", "assistant"}, {"content", pair.chosen}}});
  json rejected = json::array({{{"role", "assistant"}, {"content", pair.rejected}}});
  if (format == PreferenceFormat::kTrl) return Dump({{"prompt", *m}, {"chosen", chosen}, {"rejected", rejected}});
  return Dump({{"input", {{"messages", *m}, {"tools", json::array()}, {"parallel_tool_calls", true}}},
               {"preferred_output", chosen},
               {"non_preferred_output", rejected}});
}

}  // namespace loupe::llm
