// LaunchService's GPU picker: the known GPU types with their offers, filtered and sorted.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>

#include "common/file_util.h"
#include "common/time_util.h"
#include "launch/budget.h"
#include "launch/cloud_prices.h"
#include "launch/gpu_catalog.h"
#include "launch/launch_service.h"
#include "llm/http_client.h"

namespace loupe::launch {

using json = nlohmann::json;

namespace {

struct Row {
  std::string name;
  double memory_gb = 0;
  std::string architecture;
  int year = 0;
  double tflops = 0;
  std::string source;
  json offers = json::array();
  std::optional<double> cheapest;  // USD per GPU-hour, the lowest offer with a price

  void Offer(json offer) {
    if (offer.contains("price_per_gpu_hour")) {
      const double p = offer["price_per_gpu_hour"].get<double>();
      if (p > 0 && (!cheapest || p < *cheapest)) cheapest = p;
    }
    offers.push_back(std::move(offer));
  }
  std::optional<double> PerPflop() const {  // USD per PFLOP-hour of peak dense BF16
    if (!cheapest || tflops <= 0) return std::nullopt;
    return *cheapest / (tflops / 1000);
  }
};

}  // namespace

Result<json> LaunchService::GpuPickerJson(const GpuPickerQuery& q) {
  if (q.sort != "price" && q.sort != "price_per_tflop" && q.sort != "memory") {
    return Status::InvalidArgument("sort must be price, price_per_tflop or memory");
  }
  if (!std::isfinite(q.min_memory_gb) || q.min_memory_gb < 0 || q.min_memory_gb > 1e6 || !std::isfinite(q.need_gb) ||
      q.need_gb < 0 || q.need_gb > 1e6) {
    return Status::InvalidArgument("min_memory_gb and need_gb must be numbers from 0 to 1,000,000");
  }
  std::vector<Row> rows;
  for (const GpuSpec& g : KnownGpus()) rows.push_back({g.name, g.memory_gb, g.architecture, g.year, g.bf16_tflops, g.source});
  // The row a name means: a known type's, else one of its own (a GPU the table lacks).
  auto row_for = [&](const std::string& name, double memory_gb) -> Row& {
    const GpuSpec* known = FindGpu(name);
    const std::string key = known ? known->name : name;
    for (Row& r : rows) {
      if (r.name == key) return r;
    }
    rows.push_back({name, memory_gb});
    return rows.back();
  };
  Result<std::map<std::string, double>> prices = store_.LaunchPrices();
  if (prices.ok()) {
    for (Row& r : rows) {
      if (std::optional<double> p = GpuPrice(*prices, r.name, ""); p && *p > 0) {
        r.Offer({{"provider", "your prices"}, {"price_per_gpu_hour", *p}});
      }
    }
  }
  std::map<std::string, int> here;
  for (const GpuInfo& g : options_.gpus) ++here[g.name];
  for (const auto& [name, count] : here) {
    double memory = 0;
    for (const GpuInfo& g : options_.gpus) {
      if (g.name == name) memory = g.memory_gb;
    }
    row_for(name, memory).Offer({{"provider", "this machine"}, {"count", count}, {"name", name}});
  }
  json runpod = {{"read", false}};
  Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(q.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
  if (!key.ok()) {
    runpod["error"] = "no RunPod key (secret '" + q.secret + "'): RunPod's GPUs and prices are not shown";
  } else if (Result<std::vector<RunPodGpuType>> types = RunPodCatalog(*key); !types.ok()) {
    runpod["error"] = "RunPod's catalogue cannot be read: " + types.status().message();
  } else {
    runpod["read"] = true;
    for (const RunPodGpuType& t : *types) {
      Row& r = row_for(t.id, t.memory_gb);
      for (const char* cloud : {"SECURE", "COMMUNITY"}) {
        if (!t.Offered(cloud) || t.Price(cloud) <= 0) continue;
        r.Offer({{"provider", "runpod"},
                 {"cloud", cloud},
                 {"gpu_id", t.id},
                 {"price_per_gpu_hour", t.Price(cloud)},
                 {"max_gpus", t.MaxCount(cloud)}});
      }
    }
  }
  // Clouds' public prices, as last read (RefreshCloudPrices).
  json clouds = json::array();
  {
    std::lock_guard<std::mutex> lock(cloud_prices_mu_);
    std::ifstream f(options_.data_dir + "/launch/cloud-prices.json");
    const json kept = json::parse(f, nullptr, false);
    if (kept.is_object()) {
      for (auto it = kept.begin(); it != kept.end(); ++it) {
        const json& c = it.value();
        if (!c.is_object() || !c.contains("offers") || !c["offers"].is_array()) continue;
        for (const json& o : c["offers"]) {
          if (!o.is_object() || !o.contains("gpu") || !o["gpu"].is_string() || !o.contains("offer")) continue;
          row_for(o["gpu"].get<std::string>(), 0).Offer(o["offer"]);
        }
        clouds.push_back({{"provider", it.key()}, {"region", c.value("region", "")},
                          {"fetched_at", c.value("fetched_at", 0.0)}, {"offers", c["offers"].size()}});
      }
    }
  }
  std::vector<const Row*> shown;
  for (const Row& r : rows) {
    if (r.memory_gb >= q.min_memory_gb) shown.push_back(&r);
  }
  auto by = [&](const Row* a, const Row* b) {
    if (q.sort == "memory" && a->memory_gb != b->memory_gb) return a->memory_gb > b->memory_gb;
    const std::optional<double> x = q.sort == "price_per_tflop" ? a->PerPflop() : a->cheapest;
    const std::optional<double> y = q.sort == "price_per_tflop" ? b->PerPflop() : b->cheapest;
    if (q.sort != "memory" && x.has_value() != y.has_value()) return x.has_value();  // priced first
    if (q.sort != "memory" && x && y && *x != *y) return *x < *y;
    if (a->memory_gb != b->memory_gb) return a->memory_gb > b->memory_gb;
    return a->name < b->name;
  };
  std::stable_sort(shown.begin(), shown.end(), by);
  json out = json::array();
  for (const Row* r : shown) {
    const std::optional<double> per = r->PerPflop();
    out.push_back({{"name", r->name},
                   {"memory_gb", r->memory_gb},
                   {"architecture", r->architecture.empty() ? json(nullptr) : json(r->architecture)},
                   {"year", r->year ? json(r->year) : json(nullptr)},
                   {"bf16_tflops", r->tflops > 0 ? json(r->tflops) : json(nullptr)},
                   {"source", r->source.empty() ? json(nullptr) : json(r->source)},
                   {"offers", r->offers},
                   {"cheapest_per_gpu_hour", r->cheapest ? json(*r->cheapest) : json(nullptr)},
                   {"per_pflop_hour", per ? json(*per) : json(nullptr)},
                   {"fits", q.need_gb > 0 ? json(r->memory_gb >= q.need_gb) : json(nullptr)}});
  }
  return json{{"table_date", kGpuCatalogDate}, {"gpus", out}, {"runpod", runpod}, {"clouds", clouds}, {"sort", q.sort},
              {"min_memory_gb", q.min_memory_gb}, {"need_gb", q.need_gb > 0 ? json(q.need_gb) : json(nullptr)}};
}

Result<json> LaunchService::RefreshCloudPrices(const std::string& provider, const std::string& region) {
  if (provider != "azure") return Status::InvalidArgument("provider must be 'azure' (AWS and GCP prices are not read yet)");
  LOUPE_ASSIGN_OR_RETURN(std::string query, AzurePricesQuery(region));
  // One read at a time: each may take minutes of a request thread on a slow answer.
  std::unique_lock<std::mutex> reading(cloud_refresh_mu_, std::try_to_lock);
  if (!reading.owns_lock()) return Status::Conflict("Azure's prices are being read already; try again when that ends");
  const std::string base = options_.azure_prices_url;
  std::string url = base + query;
  std::vector<CloudOffer> all;
  constexpr int kMaxPages = 50;  // a region's GPU sizes are a page or two; a loop is not followed forever
  int pages = 0;
  for (; pages < kMaxPages && !url.empty(); ++pages) {
    llm::OutboundRequest req;
    req.method = "GET";
    req.url = url;
    req.headers = {{"Accept", "application/json"}};
    req.timeout_ms = 60000;
    req.idle_timeout_s = 30;
    Result<llm::FetchResult> r = http_->Fetch(std::move(req), 8 << 20);
    if (!r.ok()) return Status::Unavailable("Azure's price list cannot be read: " + r.status().message());
    if (r->head.status != 200) {
      return Status::Unavailable("Azure's price list answered HTTP " + std::to_string(r->head.status) + ": " +
                                 r->body.substr(0, 300));
    }
    const json page = json::parse(r->body, nullptr, false);
    std::string next;
    Result<std::vector<CloudOffer>> offers = ParseAzurePricesPage(page, region, next);
    if (!offers.ok()) {
      return Status::Unavailable("Azure's price list answered something that is not a price list (" +
                                 offers.status().message() + "); the prices read before are kept");
    }
    all.insert(all.end(), offers->begin(), offers->end());
    // The next page is followed only on the same server (its link is the answer's to give).
    if (!next.empty() && !SameServer(next, base)) {
      return Status::Unavailable("Azure's price list sent a next page on another server: " + next.substr(0, 200));
    }
    url = next;
  }
  if (!url.empty()) return Status::Unavailable("Azure's price list had more than 50 pages; nothing was kept");
  if (all.empty()) {
    return Status::Unavailable("Azure listed no price for the GPU VM sizes Loupe knows in region '" + region +
                               "' (a region without them, or an answer without prices); the prices read before are kept");
  }
  json offers = json::array();
  for (const CloudOffer& o : CurrentPerSku(std::move(all))) offers.push_back({{"gpu", o.gpu}, {"offer", OfferJson(o)}});
  const json entry = {{"region", region}, {"fetched_at", static_cast<double>(NowMicros()) / 1e6}, {"offers", offers}};
  std::lock_guard<std::mutex> lock(cloud_prices_mu_);
  const std::string path = options_.data_dir + "/launch/cloud-prices.json";
  std::ifstream f(path);
  json kept = json::parse(f, nullptr, false);
  if (!kept.is_object()) kept = json::object();
  kept[provider] = entry;
  LOUPE_RETURN_IF_ERROR(WriteFileDurably(path, kept.dump(), "the cloud prices"));
  return json{{"provider", provider}, {"region", region}, {"fetched_at", entry["fetched_at"]}, {"offers", offers}};
}

}  // namespace loupe::launch
