#include "store/prediction_rows.h"

namespace loupe {

namespace {

// The prompt indexed for search: the last user message of the call.
constexpr const char* kIndexPrediction =
    "INSERT INTO predictions_fts(rowid, prompt, response) "
    "SELECT id, coalesce((SELECT json_extract(m.value, '$.content') FROM json_each(predictions.messages) m "
    "WHERE json_extract(m.value, '$.role')='user' ORDER BY m.key DESC LIMIT 1), ''), response "
    "FROM predictions WHERE id=?";

}  // namespace

Prediction PredictionAt(const sql::Rows& q, int at) {
  Prediction p;
  p.id = q.Int(at + 0);
  p.time = q.Int(at + 1);
  p.model_id = q.OptionalInt(at + 2);
  p.model_name = q.Text(at + 3);
  p.api = q.Text(at + 4);
  p.provider_model = q.Text(at + 5);
  p.messages_json = q.Text(at + 6);
  p.params_json = q.Text(at + 7);
  p.response = q.Text(at + 8);
  p.finish_reason = q.Text(at + 9);
  p.outcome = q.Text(at + 10);
  p.error_type = q.Text(at + 11);
  p.error_text = q.Text(at + 12);
  p.latency_ms = q.Double(at + 13);
  p.ttft_ms = q.OptionalDouble(at + 14);
  p.prompt_tokens = q.OptionalInt(at + 15);
  p.completion_tokens = q.OptionalInt(at + 16);
  p.cost_usd = q.OptionalDouble(at + 17);
  p.conversation_id = q.OptionalInt(at + 18);
  p.trace_id = q.Text(at + 19);
  p.source = q.Text(at + 20);
  p.tags_json = q.Text(at + 21);
  p.created_by = q.Text(at + 22);
  return p;
}

Result<int64_t> InsertPrediction(SqliteDb& db, const Prediction& p) {
  LOUPE_RETURN_IF_ERROR(sql::Exec(
      db,
      "INSERT INTO predictions(time, model_id, model_name, api, provider_model, messages, params, response, "
      "finish_reason, outcome, error_type, error_text, latency_ms, ttft_ms, prompt_tokens, completion_tokens, "
      "cost_usd, conversation_id, trace_id, source, tags, created_by) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      p.time, p.model_id, p.model_name, p.api, p.provider_model, p.messages_json, p.params_json, p.response,
      p.finish_reason, p.outcome, p.error_type, p.error_text, p.latency_ms, p.ttft_ms, p.prompt_tokens,
      p.completion_tokens, p.cost_usd, p.conversation_id, p.trace_id, p.source, p.tags_json, p.created_by));
  const int64_t id = db.LastInsertId();
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, kIndexPrediction, id));
  return id;
}

}  // namespace loupe
