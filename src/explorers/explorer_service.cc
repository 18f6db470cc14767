#include "explorers/explorer_service.h"

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "explorers/explorer_catalog.h"

namespace loupe::explorers {

using nlohmann::json;

Result<json> ExplorerService::Validate(const json& body, bool allow_no_dataset) {
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  json id = body.contains("dataset_id") ? body["dataset_id"] : body.value("notebook_id", json(nullptr));
  const bool no_dataset = id.is_null() && allow_no_dataset;
  if (!no_dataset && (!id.is_number_integer() || id.get<int64_t>() < 1)) {
    return Status::InvalidArgument("dataset_id must be a positive integer");
  }
  auto type = body.find("exploration_type");
  if (type == body.end() || !type->is_string()) return Status::InvalidArgument("exploration_type is required");
  std::vector<std::string> columns;
  if (auto c = body.find("columns"); c != body.end() && !c->is_null()) {
    if (!c->is_array()) return Status::InvalidArgument("columns must be an array of column names");
    for (const json& v : *c) {
      if (!v.is_string()) return Status::InvalidArgument("columns must be an array of column names");
      columns.push_back(v.get<std::string>());
    }
  }
  json params = body.contains("parameters") && !body["parameters"].is_null() ? body["parameters"] : json::object();
  if (no_dataset) {
    // DashAI's client validates before it names a notebook: what can be checked is.
    LOUPE_ASSIGN_OR_RETURN(json checked, ValidateExploration(type->get<std::string>(), columns, params, nullptr));
    return json{{"dataset_id", nullptr}, {"exploration_type", *type}, {"columns", columns}, {"parameters", checked},
                {"columns_checked", false},
                {"note", "column names and types are checked against the dataset when the explorer is created"}};
  }
  LOUPE_ASSIGN_OR_RETURN(DatasetRecord dataset, datasets_.Get(id.get<int64_t>()));
  std::vector<std::pair<std::string, datasets::ColumnType>> dataset_columns;
  for (const json& c : ParseBoundedJson(dataset.columns_json)) {
    if (auto t = datasets::ParseColumnType(c.value("type", ""))) dataset_columns.emplace_back(c.value("name", ""), *t);
  }
  LOUPE_ASSIGN_OR_RETURN(json checked, ValidateExploration(type->get<std::string>(), columns, params, &dataset_columns));
  return json{{"dataset_id", id}, {"exploration_type", *type}, {"columns", columns}, {"parameters", checked},
              {"columns_checked", true}};
}

Result<ExplorerRecord> ExplorerService::Create(const json& body) {
  LOUPE_ASSIGN_OR_RETURN(json v, Validate(body));
  ExplorerRecord e;
  e.dataset_id = (v)["dataset_id"].get<int64_t>();
  e.type = (v)["exploration_type"].get<std::string>();
  e.columns_json = (v)["columns"].dump();
  e.parameters_json = (v)["parameters"].dump();
  std::string name;
  if (auto n = body.find("name"); n != body.end() && !n->is_null()) {
    if (!n->is_string()) return Status::InvalidArgument("name must be a string");
    name = n->get<std::string>();
  }
  if (name.size() > 200) return Status::InvalidArgument("name is longer than 200 bytes");
  e.name = name.empty() ? e.type : name;
  LOUPE_ASSIGN_OR_RETURN(int64_t id, store_.CreateExplorer(e));
  return store_.GetExplorer(id);
}

Status ExplorerService::SetJob(int64_t id, int64_t job_id) { return store_.SetExplorerJob(id, job_id); }

Result<json> ExplorerService::Execute(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(ExplorerRecord e, store_.GetExplorer(id));
  e.status = WorkStatus::kStarted;
  LOUPE_RETURN_IF_ERROR(store_.UpdateExplorer(e));
  auto finish = [&](const Result<json>& result) -> Result<json> {
    e.status = result.ok() ? WorkStatus::kFinished : WorkStatus::kError;
    e.error = result.ok() ? "" : result.status().message();
    e.result_json = result.ok() ? result->dump() : "null";
    e.end_time = NowMicros();
    LOUPE_RETURN_IF_ERROR(store_.UpdateExplorer(e));
    if (!result.ok()) return result.status();
    return json{{"explorer_id", id}, {"type", (*result)["type"]}};
  };
  Result<datasets::Table> table = datasets_.Load(e.dataset_id);
  if (!table.ok()) return finish(table.status());
  std::vector<std::string> columns = json::parse(e.columns_json).get<std::vector<std::string>>();
  return finish(RunExploration(e.type, columns, json::parse(e.parameters_json), *table));
}

Status ExplorerService::RecoverInterrupted() {
  Result<int> n = store_.FailInterruptedExplorers(
      "interrupted: Loupe stopped while this exploration was computed; create it again");
  return n.ok() ? Status::Ok() : n.status();
}

}  // namespace loupe::explorers
