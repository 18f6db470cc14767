// Predictions as rows: the columns every reader selects (the table aliased `p`), reading
// them back, and the insert with its search index, shared by the stores that record or
// list model calls (chats, feedback, comparisons).
#pragma once

#include "store/chat_store.h"
#include "store/sql.h"

namespace loupe {

inline constexpr const char* kPredictionColumnsOfP =
    "p.id, p.time, p.model_id, p.model_name, p.api, p.provider_model, p.messages, p.params, p.response, "
    "p.finish_reason, p.outcome, p.error_type, p.error_text, p.latency_ms, p.ttft_ms, p.prompt_tokens, "
    "p.completion_tokens, p.cost_usd, p.conversation_id, p.trace_id, p.source, p.tags, p.created_by";
inline constexpr int kPredictionColumnCount = 23;

// The prediction whose columns start at `at`.
Prediction PredictionAt(const sql::Rows& q, int at);

// Inserts the prediction and indexes its prompt and answer for search; returns its id.
// Inside a write transaction.
Result<int64_t> InsertPrediction(SqliteDb& db, const Prediction& p);

}  // namespace loupe
