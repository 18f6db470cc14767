#include "claas/eval_results.h"

#include "claas/claas_json.h"
#include "common/bounded_json.h"
#include "common/file_util.h"
#include "common/path_rule.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace loupe::claas {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxJsonBytes = 64ull << 20;
constexpr size_t kMaxPlotBytes = 16ull << 20;

int64_t MtimeOf(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtime);
}

std::optional<double> Num(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Newest file a run in progress writes in its preference subfolders (steps.jsonl, and
// before the first step metadata.json and baseline.json), or -1 when there is none.
int64_t NewestPreferenceFileMtime(const fs::path& dir) {
  int64_t newest = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory(ec)) continue;
    for (const char* f : {"steps.jsonl", "baseline.json", "metadata.json"}) newest = std::max(newest, MtimeOf(e.path() / f));
  }
  return newest;
}

Result<json> ReadJsonFile(const fs::path& path) {
  LOUPE_ASSIGN_OR_RETURN(std::string content,
                         ReadFileInFolder(path.parent_path().string(), path.filename().string(), kMaxJsonBytes));
  json doc = ParseClaasJson(content);
  if (doc.is_discarded()) return Status::InvalidArgument("not valid JSON");
  return doc;
}

// Steps become metric steps (and batch sequence numbers) when imported: integers from 0
// to 2^53. A line with any other step is skipped, so it cannot fail every import pass.
constexpr double kMaxStep = 9007199254740992.0;

Result<EvalStep> ParseStep(const json& j) {
  EvalStep s;
  if (auto v = Num(j, "step")) {
    if (!(*v >= 0 && *v <= kMaxStep)) return Status::InvalidArgument("step must be an integer from 0 to 2^53");
    s.step = static_cast<int64_t>(*v);
  }
  s.timestamp = Str(j, "timestamp");
  s.feedback = Str(j, "feedback_given");
  s.prompt = Str(j, "prompt_used");
  s.response = Str(j, "response_text");
  s.timing_s = Num(j, "timing_s");
  if (auto v = Num(j, "sub_step_count"); v && *v >= 0 && *v <= kMaxStep) s.sub_step_count = static_cast<int64_t>(*v);
  auto sdpo = j.find("sdpo_metrics");
  if (sdpo != j.end() && sdpo->is_object()) {
    s.sdpo_metrics = *sdpo;
    s.sdpo_mode = sdpo->contains("adv_mean") ? EngineMode::kTinker : EngineMode::kLocal;
    s.loss = Num(*sdpo, s.sdpo_mode == EngineMode::kTinker ? "adv_mean" : "distill_loss");
  }
  if (auto e = j.find("eval"); e != j.end()) s.eval = ParseEvalMetrics(*e);
  return s;
}

void ReadPreference(const fs::path& dir, const std::string& name, EvalRun& run, EvalPreference& pref) {
  pref.name = name;
  std::error_code ec;
  if (fs::exists(dir / "metadata.json", ec)) {
    Result<json> md = ReadJsonFile(dir / "metadata.json");
    if (!md.ok()) {
      run.skipped.push_back({name + "/metadata.json", md.status().message()});
    } else if (md->is_object()) {
      pref.lora_id = Str(*md, "lora_id");
      if (auto c = md->find("config"); c != md->end()) pref.config = *c;
    } else {
      run.skipped.push_back({name + "/metadata.json", "expected a JSON object"});
    }
  }
  if (fs::exists(dir / "baseline.json", ec)) {
    Result<json> base = ReadJsonFile(dir / "baseline.json");
    if (!base.ok()) {
      run.skipped.push_back({name + "/baseline.json", base.status().message()});
    } else if (!base->is_object()) {
      run.skipped.push_back({name + "/baseline.json", "expected a JSON object"});
    } else {
      pref.baseline = ParseEvalMetrics(*base);
    }
  }
  Result<std::string> steps = ReadFileInFolder(dir.string(), "steps.jsonl", kMaxJsonBytes);
  if (!steps.ok()) {
    if (fs::exists(dir / "steps.jsonl", ec)) run.skipped.push_back({name + "/steps.jsonl", steps.status().message()});
    return;
  }
  std::istringstream lines(*steps);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = ParseClaasJson(line);
    std::string where = name + "/steps.jsonl line " + std::to_string(line_no);
    if (j.is_discarded()) {
      run.skipped.push_back({where, "not valid JSON"});
    } else if (!j.is_object()) {
      run.skipped.push_back({where, "expected a JSON object"});
    } else if (Result<EvalStep> step = ParseStep(j); !step.ok()) {
      run.skipped.push_back({where, step.status().message()});
    } else {
      pref.steps.push_back(std::move(*step));
    }
  }
  std::stable_sort(pref.steps.begin(), pref.steps.end(),
                   [](const EvalStep& a, const EvalStep& b) { return a.step < b.step; });
}

}  // namespace

EvalMetrics ParseEvalMetrics(const json& j) {
  EvalMetrics m;
  if (!j.is_object()) return m;
  m.raw = j;
  m.raw.erase("rollouts");
  if (auto lm = j.find("logprob_margin"); lm != j.end() && lm->is_object()) {
    m.margin = Num(*lm, "margin");
    m.margin_delta = Num(*lm, "margin_delta_from_baseline");
  }
  m.compliance = Num(j, "preference_compliance");
  if (auto g = j.find("general"); g != j.end()) m.general_score = Num(*g, "general_score");
  if (auto r = j.find("rollouts"); r != j.end() && r->is_array()) {
    for (const json& item : *r) {
      if (!item.is_object()) continue;
      Rollout ro;
      ro.metric = Str(item, "metric");
      if (auto md = item.find("metadata"); md != item.end()) ro.metadata = *md;
      if (auto msgs = item.find("messages"); msgs != item.end() && msgs->is_array()) {
        for (const json& msg : *msgs) ro.messages.push_back({Str(msg, "role"), Str(msg, "content")});
      }
      m.rollouts.push_back(std::move(ro));
    }
  }
  return m;
}

std::string Base64Encode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::vector<EvalRunRef>> DiscoverEvalRuns(const std::string& results_dir) {
  std::vector<EvalRunRef> runs;
  fs::path root(results_dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return runs;
  // results_dir may itself be a run (programmatic runs write straight into it), finished
  // or in progress; it is named by its folder, as upstream names runs.
  std::string own_name = root.lexically_normal().filename().string();
  if (own_name.empty()) own_name = root.lexically_normal().parent_path().filename().string();
  if (own_name.empty() || own_name == "." || own_name == "..") own_name = ".";
  if (int64_t m = MtimeOf(root / "summary.json"); m >= 0) {
    runs.push_back({".", root.string(), false, m, own_name});
  } else if (int64_t s = NewestPreferenceFileMtime(root); s >= 0) {
    runs.push_back({".", root.string(), true, s, own_name});
  }
  fs::directory_iterator it(root, ec);
  if (ec) return Status::Unavailable("cannot read " + results_dir + ": " + ec.message());
  for (const auto& e : it) {
    if (!e.is_directory(ec)) continue;
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    // A run folder that is a symlink to somewhere outside results_dir is not listed.
    if (e.is_symlink(ec) && !ResolveInsideRoot(e.path().string(), results_dir).ok()) continue;
    if (int64_t m = MtimeOf(e.path() / "summary.json"); m >= 0) {
      runs.push_back({name, e.path().string(), false, m, name});
    } else if (int64_t s = NewestPreferenceFileMtime(e.path()); s >= 0) {
      runs.push_back({name, e.path().string(), true, s, name});
    }
  }
  std::sort(runs.begin(), runs.end(), [](const EvalRunRef& a, const EvalRunRef& b) {
    return a.mtime != b.mtime ? a.mtime > b.mtime : a.id > b.id;
  });
  return runs;
}

EvalRun ReadEvalRun(const EvalRunRef& ref, bool with_plots) {
  EvalRun run;
  run.id = ref.id;
  run.label = ref.label.empty() ? ref.id : ref.label;
  run.path = ref.path;
  run.in_progress = ref.in_progress;
  run.mtime = ref.mtime;
  fs::path dir(ref.path);
  std::error_code ec;
  if (!ref.in_progress) {
    // In the file's order, which is the run's config order, as CLaaS shows it.
    Result<std::string> text = ReadFileInFolder(dir.string(), "summary.json", kMaxJsonBytes);
    const nlohmann::ordered_json doc = text.ok() ? ParseClaasOrderedJson(*text) : nlohmann::ordered_json();
    if (!text.ok()) {
      run.skipped.push_back({"summary.json", text.status().message()});
    } else if (doc.is_discarded()) {
      run.skipped.push_back({"summary.json", "not valid JSON"});
    } else if (!doc.is_object()) {
      run.skipped.push_back({"summary.json", "expected a JSON object"});
    } else {
      for (auto it = doc.begin(); it != doc.end(); ++it) {
        const json row = json(it.value());
        if (!row.is_object()) {
          run.skipped.push_back({"summary.json", "entry \"" + it.key() + "\": expected an object"});
          continue;
        }
        EvalSummaryRow r;
        r.preference = Str(row, "preference");
        if (r.preference.empty()) r.preference = it.key();
        r.lora_id = Str(row, "lora_id");
        r.margin_delta = Num(row, "logprob_margin_delta");
        r.compliance = Num(row, "final_compliance");
        r.capability_ratio = Num(row, "capability_ratio");
        run.summary.push_back(std::move(r));
      }
    }
  }
  // Plots, sorted by name.
  std::vector<fs::path> plots;
  for (const auto& e : fs::directory_iterator(dir / "plots", ec)) {
    if (!with_plots) break;
    // Symlinked plots are skipped: they could point anywhere on the machine.
    if (e.path().extension() == ".png" && e.is_regular_file(ec) && !e.is_symlink(ec)) plots.push_back(e.path());
  }
  std::sort(plots.begin(), plots.end());
  for (const fs::path& p : plots) {
    Result<std::string> bytes = ReadFileUpTo(p.string(), kMaxPlotBytes);
    if (!bytes.ok()) {
      run.skipped.push_back({"plots/" + p.filename().string(), bytes.status().message()});
    } else if (bytes->size() < 8 || bytes->compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
      run.skipped.push_back({"plots/" + p.filename().string(), "not a PNG file"});
    } else {
      run.plots.emplace_back(p.filename().string(), Base64Encode(*bytes));
    }
  }
  // Preferences: every subfolder except plots, sorted by name.
  std::vector<std::string> prefs;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory(ec) || name == "plots" || name.empty() || name[0] == '.') continue;
    if (e.is_symlink(ec) && !ResolveInsideRoot(e.path().string(), ref.path).ok()) continue;  // points elsewhere
    if (fs::exists(e.path() / "steps.jsonl", ec) || fs::exists(e.path() / "metadata.json", ec) ||
        fs::exists(e.path() / "baseline.json", ec)) {
      prefs.push_back(name);
    }
  }
  // The summary's order first (CLaaS's), then the rest by name.
  std::sort(prefs.begin(), prefs.end(), [&](const std::string& a, const std::string& b) {
    auto rank = [&](const std::string& name) {
      for (size_t i = 0; i < run.summary.size(); ++i) {
        if (run.summary[i].preference == name) return i;
      }
      return run.summary.size();
    };
    const size_t ra = rank(a), rb = rank(b);
    return ra != rb ? ra < rb : a < b;
  });
  for (const std::string& name : prefs) {
    EvalPreference pref;
    ReadPreference(dir / name, name, run, pref);
    run.preferences.push_back(std::move(pref));
  }
  return run;
}

Result<EvalPage> ReadEvalPage(const std::string& results_dir, int64_t page, int64_t per_page) {
  EvalPage out;
  std::error_code ec;
  out.folder_missing = !fs::exists(results_dir, ec);
  LOUPE_ASSIGN_OR_RETURN(std::vector<EvalRunRef> refs, DiscoverEvalRuns(results_dir));
  out.page = Paginate(static_cast<int64_t>(refs.size()), page, per_page);
  int64_t end = std::min<int64_t>(out.page.offset + out.page.per_page, out.page.total);
  for (int64_t i = out.page.offset; i < end; ++i) out.runs.push_back(ReadEvalRun((refs)[i]));
  return out;
}

}  // namespace loupe::claas
