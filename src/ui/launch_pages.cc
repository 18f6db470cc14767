#include "ui/launch_pages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/ascii_case.h"
#include "common/display_text.h"
#include "ui/auth_pages.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/http_status.h"
#include "web/launch_api.h"

namespace loupe {

namespace {

using nlohmann::json;

bool Active(const std::string& state) {
  return state == "queued" || state == "pending" || state == "running" || state == "stopping";
}

std::string When(const json& seconds) {
  if (!seconds.is_number()) return "—";
  return FormatMicrosUtc(static_cast<int64_t>(std::llround(seconds.get<double>() * 1e6)));
}

std::string Elapsed(const json& seconds) {
  return FormatDuration(static_cast<int64_t>(std::llround(seconds.get<double>() * 1e6)));
}

// "$0.0042 of $0.50 (1%)" / "$0.0042" without a money cap.
std::string CostText(const json& j) {
  std::string out = FormatDollars(j["cost"].get<double>());
  if (j["budget"].contains("max_cost")) {
    out += " of " + FormatDollars(j["budget"]["max_cost"].get<double>());
  }
  return out;
}

std::string TimeText(const json& j) {
  std::string out = Elapsed(j["elapsed_seconds"]);
  if (j["budget"].contains("max_minutes")) {
    out += " of " + FormatDuration(static_cast<int64_t>(std::llround(j["budget"]["max_minutes"].get<double>() * 60e6)));
  }
  return out;
}

json JobRow(const json& j) {
  const std::string state = j["state"].get<std::string>();
  const bool capped = !j["budget"].empty();
  const double used = j["budget_used"].get<double>();
  return {{"id", j["id"]},
          {"name", j["name"]},
          {"project", j["project"]},
          {"experiment_id", j["experiment_id"]},
          {"state", state},
          {"badge", state == "lost" ? "crashed" : state == "stopping" ? "running" : state},
          {"active", Active(state)},
          {"reason", j["stop_reason"] == "budget_time"   ? "time budget"
                     : j["stop_reason"] == "budget_cost" ? "money budget"
                                                         : ""},
          {"elapsed", TimeText(j)},
          {"cost", CostText(j)},
          {"rate", j["rate_per_hour"].get<double>() > 0 ? FormatDollars(j["rate_per_hour"].get<double>()) + "/h" : "—"},
          {"rate_text", j["rate_per_hour"].get<double>() > 0 ? "at " + FormatDollars(j["rate_per_hour"].get<double>()) + "/h"
                        : j["segments"].get<int64_t>() == 0
                            ? "(nothing has run yet)"
                            : "(no price set for its resources: Prices on the Jobs page)"},
          {"budget_pct", capped ? std::to_string(static_cast<int>(std::floor(std::min(used, 1.0) * 100))) + "%" : ""},
          {"budget_bar", capped ? std::to_string(std::min(100, static_cast<int>(std::floor(used * 100)))) : "0"},
          {"capped", capped},
          {"warn", capped && used >= 0.8},
          {"exit", j["exit"].is_string() ? j["exit"] : json("")},
          {"message", j["message"]},
          {"created", When(j["create_time"])},
          {"restarts", j["restarts"]}};
}

json LiveView(const json& j, bool can_edit) {
  json v = JobRow(j);
  v["can_edit"] = can_edit;
  json events = json::array();
  for (const json& e : j["events"]) events.push_back({{"time", When(e["time"])}, {"kind", e["kind"]}, {"message", e["message"]}});
  json segs = json::array();
  for (const json& s : j["segment_list"]) {
    segs.push_back({{"seq", s["seq"]},
                    {"start", When(s["start_time"])},
                    {"duration", Elapsed(s["seconds"])},
                    {"rate", s["rate_per_hour"].get<double>() > 0 ? FormatDollars(s["rate_per_hour"].get<double>()) + "/h" : "—"},
                    {"cost", FormatDollars(s["cost"].get<double>())},
                    {"end", s["end"].is_string() ? s["end"] : json("running")}});
  }
  v["events"] = events;
  v["segments"] = segs;
  v["has_segments"] = !segs.empty();
  json checkpoints = json::array();
  for (const json& c : j["checkpoints"]) {
    std::string metrics;
    for (auto it = c["metrics"].begin(); it != c["metrics"].end(); ++it) {
      metrics += (metrics.empty() ? "" : ", ") + it.key() + " " + JsonValueText(it.value(), true);
    }
    checkpoints.push_back({{"id", c["id"]},
                           {"ref", c["ref"]},
                           {"step", c["step"].is_number() ? c["step"].dump() : "—"},
                           {"saved", When(c["create_time"])},
                           {"size", FormatBytes(c["size"].get<int64_t>())},
                           {"metrics", metrics.empty() ? "—" : metrics},
                           {"download", c["download"]},
                           {"current", c["ref"] == j["resume_from"]}});
  }
  const std::string state = j["state"].get<std::string>();
  const json& progress = j["progress"];
  if (state == "finished" && progress["total_steps"].is_number()) {
    v["progress"] = "done" + (progress["step"].is_number() ? ", last step " + progress["step"].dump() : std::string()) +
                    " (" + progress["total_steps"].dump() + " steps declared)";
  } else if (progress["fraction"].is_number() && progress["step"].is_number()) {
    const double f = progress["fraction"].get<double>();
    v["progress"] = std::to_string(progress["step"].get<int64_t>()) + " of " +
                    std::to_string(progress["total_steps"].get<int64_t>()) + " steps (" +
                    std::to_string(static_cast<int>(std::floor(f * 100))) + "%)";
    // An ended job's projection is what the whole run would have taken at that pace.
    v["projected_label"] = Active(state) ? "Projected total" : "Whole run at that pace";
    v["projected"] = FormatDuration(static_cast<int64_t>(std::llround(progress["projected_seconds"].get<double>() * 1e6))) +
                     ", " + FormatDollars(progress["projected_cost"].get<double>());
  } else if (progress["step"].is_number()) {
    v["progress"] = "step " + std::to_string(progress["step"].get<int64_t>()) +
                    " (declare total_steps in the spec or the run's config for a projection)";
  }
  v["checkpoints"] = checkpoints;
  v["has_checkpoints"] = !checkpoints.empty();
  v["running"] = state == "running";
  v["stop_pending"] = j["message"].is_string() && j["message"].get<std::string>().rfind("stopping after a checkpoint", 0) == 0;
  v["ended"] = !Active(state);
  v["resume_from"] = j["resume_from"].is_string() ? j["resume_from"] : json("");
  v["has_resume_from"] = j["resume_from"].is_string();
  v["has_exit"] = !Active(state) && j["exit"].is_string();
  // The resume form starts from the caps the job has (totals over every segment). A cap
  // already (nearly) spent is offered again on top of what was used: as it stands, the
  // resumed job would be stopped again at once.
  auto offer = [](const json& cap, double used, double scale) -> std::string {
    if (!cap.is_number()) return "";
    const double c = cap.get<double>();
    const double total = used >= 0.9 * c ? used + c : c;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.10g", std::ceil(total * scale - 1e-9) / scale);
    return buf;
  };
  const double used_minutes = j["elapsed_seconds"].get<double>() / 60, used_cost = j["cost"].get<double>();
  v["cap_minutes"] = offer(j["budget"].value("max_minutes", json()), used_minutes, 100);
  v["cap_cost"] = offer(j["budget"].value("max_cost", json()), used_cost, 10000);
  char used[96];
  std::snprintf(used, sizeof used, "%.2f", used_minutes);
  v["used_minutes"] = used;
  v["used_cost"] = FormatDollars(used_cost);
  v["gpus"] = j["gpus"].get<std::string>().empty() ? json("none") : j["gpus"];
  if (j["executor"] == "runpod" && j["spec"].contains("resources") && j["spec"].contains("runpod")) {
    // A pod's GPUs are what it was made with: "2 × NVIDIA GeForce RTX 4090, SECURE cloud".
    const json& res = j["spec"]["resources"];
    v["gpus"] = std::to_string(res.value("gpus", 0)) + " × " + res.value("gpu_type", std::string()) + ", " +
                j["spec"]["runpod"].value("cloud", std::string("SECURE")) + " cloud";
  }
  v["pid"] = j["pid"].is_number() ? j["pid"].dump() : "—";
  v["slurm_job"] = j["slurm_job_id"].is_string() ? j["slurm_job_id"] : json("");
  v["has_slurm_job"] = j["slurm_job_id"].is_string();
  v["runpod_pod"] = j["runpod_pod_id"].is_string() ? j["runpod_pod_id"] : json("");
  v["has_runpod_pod"] = j["runpod_pod_id"].is_string();
  v["has_process"] = !v["has_slurm_job"].get<bool>() && !v["has_runpod_pod"].get<bool>();
  return v;
}

HttpResponse ListPage(launch::LaunchService& launches, const HttpRequest& req) {
  PageFrame frame{"Training jobs", {{"Home", "/"}, {"Training jobs", ""}}, "launch", false, {"api.js", "launch.js"}};
  Result<json> list = launches.ListJson(200);
  if (!list.ok()) return HtmlErrorPage(list.status(), frame);
  Result<std::map<std::string, double>> prices = launches.Prices();
  if (!prices.ok()) return HtmlErrorPage(prices.status(), frame);
  json rows = json::array();
  for (const json& j : (*list)["jobs"]) rows.push_back(JobRow(j));
  std::string price_text;
  json price_rows = json::array();
  for (const auto& [k, v] : *prices) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    price_text += k + ": " + buf + "\n";
    price_rows.push_back({{"resource", k}, {"price", FormatDollars(v) + "/h"}});
  }
  Result<json> spend = launches.SpendJson();
  if (!spend.ok()) return HtmlErrorPage(spend.status(), frame);
  auto spend_rows = [](const json& list, const char* key) {
    json out = json::array();
    for (const json& r : list) {
      out.push_back({{"name", r[key]},
                     {"cost", FormatDollars(r["cost"].get<double>())},
                     {"time", FormatDuration(static_cast<int64_t>(std::llround(r["seconds"].get<double>() * 1e6)))},
                     {"jobs", r["jobs"]}});
    }
    return out;
  };
  double top_day = 0;
  for (const json& d : (*spend)["by_day"]) top_day = std::max(top_day, d["cost"].get<double>());
  json days = json::array();
  for (const json& d : (*spend)["by_day"]) {
    const double c = d["cost"].get<double>();
    days.push_back({{"day", d["day"]},
                    {"cost", FormatDollars(c)},
                    {"bar", top_day > 0 ? std::to_string(static_cast<int>(std::lround(c / top_day * 100))) : "0"}});
  }
  const json& total = (*spend)["total"];
  json spend_view = {{"total", FormatDollars(total["cost"].get<double>())},
                     {"time", FormatDuration(static_cast<int64_t>(std::llround(total["seconds"].get<double>() * 1e6)))},
                     {"jobs", std::to_string(total["jobs"].get<int64_t>()) + (total["jobs"] == 1 ? " job" : " jobs")},
                     {"projects", spend_rows((*spend)["by_project"], "project")},
                     {"executors", spend_rows((*spend)["by_executor"], "executor")},
                     {"gpu_types", spend_rows((*spend)["by_gpu_type"], "gpu_type")},
                     {"days", days}};
  const json machine = launches.MachineJson();
  std::string gpus;
  for (const json& g : machine["gpus"]) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s#%d %s (%.0f GiB)", gpus.empty() ? "" : ", ", g["index"].get<int>(),
                  g["name"].get<std::string>().c_str(), g["memory_gb"].get<double>());
    gpus += buf;
  }
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", machine["memory_gb"].get<double>());
  json view = {{"jobs", rows},
               {"has_jobs", !rows.empty()},
               {"can_edit", CanEdit(req)},
               {"prices", price_rows},
               {"has_prices", !price_rows.empty()},
               {"price_text", price_text},
               {"cpus", machine["cpus"]},
               {"memory", memory},
               {"gpus", gpus.empty() ? "none" : gpus},
               {"spend", total["jobs"].get<int64_t>() > 0 ? spend_view : json(false)}};
  return HtmlPage(frame, RenderTemplate("launches", view));
}

HttpResponse JobPage(launch::LaunchService& launches, const HttpRequest& req) {
  PageFrame frame{"Training job", {{"Home", "/"}, {"Training jobs", "/launch"}}, "launch", false, {"api.js", "launch.js"}};
  Result<int64_t> id = PagePathId(req, "job");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<json> job = launches.JobJson(*id);
  if (!job.ok()) return HtmlErrorPage(job.status(), frame);
  const json& j = *job;
  frame.title = j["name"].get<std::string>() + " — job " + std::to_string(*id);
  frame.crumbs.push_back({j["name"].get<std::string>(), ""});
  json view = {{"id", j["id"]},
               {"name", j["name"]},
               {"project", j["project"]},
               {"experiment_id", j["experiment_id"]},
               {"command", j["spec"]["command"]},
               {"executor", j["executor"]},
               {"created", When(j["create_time"])},
               {"created_by", j["created_by"]},
               {"spec", j["spec"].dump(2, ' ', false, json::error_handler_t::replace)},
               {"can_edit", CanEdit(req)},
               {"active", Active(j["state"].get<std::string>())},
               {"live", RenderTemplate("launch_job_live", LiveView(j, CanEdit(req)))}};
  json mounts = json::array();
  for (const json& m : j["spec"].value("mounts", json::array())) {
    const bool mount = m.value("mode", "") == "mount";
    mounts.push_back({{"source", m.value("source", "")},
                      {"path", m.value("path", "") + "/"},
                      {"how", mount ? "mounted read-only" : m.value("write_back", false) ? "copied in, written back at the end"
                                                                                         : "copied in"}});
  }
  view["mounts"] = mounts;
  view["has_mounts"] = !mounts.empty();
  return HtmlPage(frame, RenderTemplate("launch_job", view));
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

HttpResponse GpuPage(launch::LaunchService& launches, const HttpRequest& req, const Status& azure_error = Status::Ok()) {
  PageFrame frame{"GPU picker", {{"Home", "/"}, {"Training jobs", "/launch"}, {"GPU picker", ""}}, "launch", false, {}};
  Result<launch::LaunchService::GpuPickerQuery> q = GpuPickerQueryOf(req);
  if (!q.ok()) return HtmlErrorPage(q.status(), frame);
  Result<json> picked = launches.GpuPickerJson(*q);
  if (!picked.ok()) return HtmlErrorPage(picked.status(), frame);
  json rows = json::array();
  for (const json& g : (*picked)["gpus"]) {
    json offers = json::array();
    for (const json& o : g["offers"]) {
      const std::string provider = o["provider"].get<std::string>();
      std::string text;
      if (provider == "runpod") {
        text = "RunPod " + AsciiLower(o["cloud"].get<std::string>()) + ": " + FormatDollars(o["price_per_gpu_hour"].get<double>()) +
               "/h, up to " + std::to_string(o["max_gpus"].get<int>()) + " per pod";
      } else if (provider == "azure") {
        text = "Azure " + o["region"].get<std::string>() + ": " + FormatDollars(o["price_per_gpu_hour"].get<double>()) +
               "/h (" + o["vm"].get<std::string>() + ", " + std::to_string(o["gpus_per_vm"].get<int>()) + " GPU" +
               (o["gpus_per_vm"].get<int>() == 1 ? "" : "s") + " at " + FormatDollars(o["price_per_vm_hour"].get<double>()) +
               "/h)";
      } else if (provider == "your prices") {
        text = "your price: " + FormatDollars(o["price_per_gpu_hour"].get<double>()) + "/h";
      } else {
        text = "this machine: " + std::to_string(o["count"].get<int>()) + " (" + o["name"].get<std::string>() + ")";
      }
      offers.push_back({{"text", text}});
    }
    rows.push_back({{"name", g["name"]},
                    {"source", g["source"].is_string() ? g["source"] : json("")},
                    {"memory", Number(g["memory_gb"].get<double>()) + " GB"},
                    {"architecture", g["architecture"].is_string() ? g["architecture"] : json("—")},
                    {"tflops", g["bf16_tflops"].is_number() ? Number(g["bf16_tflops"].get<double>()) : "—"},
                    {"offers", offers},
                    {"cheapest", g["cheapest_per_gpu_hour"].is_number() ? FormatDollars(g["cheapest_per_gpu_hour"].get<double>()) + "/h" : "—"},
                    {"per_pflop", g["per_pflop_hour"].is_number() ? FormatDollars(g["per_pflop_hour"].get<double>()) : "—"},
                    {"fits", g["fits"].is_boolean() && g["fits"].get<bool>()}});
  }
  json sorts = json::array();
  for (auto [value, label] : {std::pair<const char*, const char*>{"price", "price per GPU-hour"},
                              {"price_per_tflop", "price per PFLOP-hour"},
                              {"memory", "memory"}}) {
    sorts.push_back({{"value", value}, {"label", label}, {"selected", q->sort == value}});
  }
  const json& runpod = (*picked)["runpod"];
  json view = {{"table_date", (*picked)["table_date"]},
               {"rows", rows},
               {"has_rows", !rows.empty()},
               {"has_need", q->need_gb > 0},
               {"min_memory", q->min_memory_gb > 0 ? Number(q->min_memory_gb) : ""},
               {"need", q->need_gb > 0 ? Number(q->need_gb) : ""},
               {"sorts", sorts},
               {"runpod_error", runpod.contains("error") ? runpod["error"] : json(false)},
               {"can_edit", CanEdit(req)}};
  std::string azure_region = "eastus";
  for (const json& c : (*picked)["clouds"]) {
    if (c["provider"] != "azure") continue;
    azure_region = c["region"].get<std::string>();
    view["azure_read"] = "read " + When(c["fetched_at"]) + " UTC, " + std::to_string(c["offers"].get<int>()) + " VM sizes with GPUs";
  }
  view["azure_region"] = azure_region;
  if (!azure_error.ok()) view["azure_error"] = azure_error.message();
  HttpResponse out = HtmlPage(frame, RenderTemplate("launch_gpus", view));
  if (!azure_error.ok()) out.status = HttpStatus(azure_error);
  return out;
}

}  // namespace


std::vector<Route> LaunchPageRoutes(launch::LaunchService& launches) {
  std::vector<Route> r;
  r.push_back({"GET", "/launch", [&](const HttpRequest& req) { return ListPage(launches, req); }});
  r.push_back({"GET", "/launch/gpus", [&](const HttpRequest& req) { return GpuPage(launches, req); }});
  // Azure's prices for a region, read on request (the form on the picker), then the picker.
  r.push_back(Offload({"POST", "/launch/gpus/prices", [&](const HttpRequest& req) {
    if (req.body.size() > 4096) return HtmlErrorPage(Status::TooLarge("the form is too large"), {"GPU picker", {}, "launch", false, {}});
    const std::map<std::string, std::string> form = ParseFormBody(req.body);
    const auto region = form.find("region");
    Result<json> read = launches.RefreshCloudPrices("azure", region == form.end() ? "" : region->second);
    HttpRequest shown = req;
    shown.method = "GET";
    if (!read.ok()) return GpuPage(launches, shown, read.status());
    HttpResponse out;
    out.status = 303;
    out.content_type = "text/plain; charset=utf-8";
    out.body = "See /launch/gpus";
    out.headers.emplace_back("Location", "/launch/gpus");
    return out;
  }}));
  r.push_back({"GET", "/launch/:id", [&](const HttpRequest& req) { return JobPage(launches, req); }});
  r.push_back({"GET", "/launch/:id/live", [&](const HttpRequest& req) {
    HttpResponse resp;
    Result<int64_t> id = PagePathId(req, "job");
    Result<json> job = id.ok() ? launches.JobJson(*id) : Result<json>(id.status());
    if (!job.ok()) {
      resp.status = job.status().code() == Code::kNotFound ? 404 : 400;
      resp.content_type = "text/plain; charset=utf-8";
      resp.body = job.status().message();
      return resp;
    }
    resp.content_type = "text/html; charset=utf-8";
    resp.body = RenderTemplate("launch_job_live", LiveView(*job, CanEdit(req)));
    return resp;
  }});
  return r;
}

}  // namespace loupe
