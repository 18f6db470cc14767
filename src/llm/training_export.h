// Training data from predictions: supervised examples (OpenAI chat `{"messages": [...]}`
// and ShareGPT `{"conversations": [{"from", "value"}]}`) and preference pairs (TRL's
// conversational `{prompt, chosen, rejected}` and OpenAI DPO's `{input, preferred_output,
// non_preferred_output}`), one JSON line each. The `table` forms are flat (strings and
// numbers only), the shape a Loupe dataset holds and TRL's standard (not conversational)
// prompt-completion and preference data use.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "store/feedback_store.h"

namespace loupe::llm {

enum class SftFormat { kOpenAi, kShareGpt, kTable };
enum class PreferenceFormat { kTrl, kOpenAi, kTable };

std::optional<SftFormat> ParseSftFormat(const std::string& name);            // openai | sharegpt | table
std::optional<PreferenceFormat> ParsePreferenceFormat(const std::string& name);  // trl | openai | table

// A prediction's prompt (`messages_json`: [{role, content}]) and `answer` as one line
// (without the newline); nullopt when the prompt cannot be read or has no user turn.
// kTable: {prediction_id, model, system, prompt (the last user turn), completion,
// messages (the whole prompt as JSON text, so earlier turns are not lost)}.
std::optional<std::string> SftLine(const Prediction& p, const std::string& answer, SftFormat format);

// The last thing the user said in a prompt (`messages_json`), "" when none.
std::string LastUserText(const std::string& messages_json);

// The corrected answer ("expected behaviour") of an evaluation's evidence, "" when none.
std::string ExpectedAnswer(const std::string& evaluation_json);

// Whether a judged answer is one to prefer or to avoid: a thumbs up or 4-5 stars is
// good, a thumbs down, 1-2 stars or a failed evaluation is bad; the latest thumbs wins
// over stars when they disagree. Neither: not used in pairs.
enum class Verdict { kNone, kGood, kBad };
Verdict VerdictOf(const PredictionRow& row);

// Preference pairs among judged answers to one prompt (rows sharing messages_json):
// every good answer against every bad one, and a bad answer's expected behaviour
// against that answer; at most `max_pairs`.
struct PreferencePair {
  std::string messages_json;
  std::string chosen;
  std::string rejected;
  int64_t chosen_prediction = 0;  // 0: a person's expected behaviour
  int64_t rejected_prediction = 0;
};
std::vector<PreferencePair> PairsOf(const std::vector<PredictionRow>& same_prompt, size_t max_pairs);

// kTable: {prompt (the last user turn), chosen, rejected, system, messages,
// chosen_prediction (0: a person's expected behaviour), rejected_prediction}.
std::optional<std::string> PreferenceLine(const PreferencePair& pair, PreferenceFormat format);

}  // namespace loupe::llm
