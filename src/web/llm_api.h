// The LLM workbench's API under /api/v1/llm: model endpoints (add, list, edit, test,
// remove), conversations and their streamed answers, predictions and feedback. Handlers
// parse and check the request's shape and render JSON; the services hold the rules.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <vector>

#include "llm/chat_service.h"
#include "llm/dataset_export.h"
#include "llm/feedback_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"
#include "web/stream_workers.h"

namespace loupe {

std::vector<Route> LlmApiRoutes(llm::ModelRegistry& models);
// Conversations, streamed answers (server-sent events), predictions (chat_api.cc).
std::vector<Route> ChatApiRoutes(llm::ChatService& chat);
// Predictions found again, thumbs, evaluations, judgments, feedback per model, and the
// streamed exports (predictions, judgments, SFT and preference data) (feedback_api.cc).
// "Save as a dataset" hands the file to `sink`, at most `max_bytes` of it.
struct DatasetSaving {
  llm::DatasetSink sink;
  size_t max_bytes = 64u << 20;
};
std::vector<Route> FeedbackApiRoutes(llm::FeedbackService& feedback, ChatStore& chats, StreamWorkers& workers,
                                     DatasetSaving saving);
// The query rules those routes share with the pages: a predictions list's filters, sort
// and paging (q, model_id, conversation_id, outcome, rating, tag, source, since, until,
// ids, sort, order, limit, offset), and a feedback summary's (q, model_id, since, until,
// tag, bucket day|week).
Result<PredictionFilter> PredictionListFilter(const HttpRequest& req);
Result<FeedbackFilter> FeedbackSummaryFilter(const HttpRequest& req, std::string* bucket);

// A model as the API and the pages show it: its key only as {set, hint, secret}.
// `all` and `secrets`, when given, spare a lookup per model on lists.
nlohmann::json LlmModelJson(llm::ModelRegistry& models, const LlmModel& m, const std::vector<LlmModel>* all = nullptr,
                            const std::vector<SealedSecret>* secrets = nullptr);

}  // namespace loupe
