#include "launch/cloud_prices.h"

#include "common/url_encode.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <tuple>

namespace loupe::launch {

using json = nlohmann::json;

// From Azure's VM size pages (NC A100 v4, ND A100 v4, ND H100 v5, ND H200 v5, NC H100 v5,
// ND MI300X v5, NVadsA10 v5, NCasT4 v3), read 2026-12-03. Only sizes with whole GPUs: a
// fraction of one (the small NVads A10 sizes) is not a GPU-hour.
const std::vector<CloudGpuSku>& AzureGpuSkus() {
  static const std::vector<CloudGpuSku> kSkus = {
      {"Standard_NC24ads_A100_v4", "A100 80GB", 1},   {"Standard_NC48ads_A100_v4", "A100 80GB", 2},
      {"Standard_NC96ads_A100_v4", "A100 80GB", 4},   {"Standard_ND96amsr_A100_v4", "A100 80GB", 8},
      {"Standard_ND96asr_v4", "A100 40GB", 8},        {"Standard_ND96isr_H100_v5", "H100 SXM", 8},
      {"Standard_ND96isr_H200_v5", "H200", 8},        {"Standard_NC40ads_H100_v5", "H100 NVL", 1},
      {"Standard_NC80adis_H100_v5", "H100 NVL", 2},   {"Standard_ND96isr_MI300X_v5", "MI300X", 8},
      {"Standard_NV36ads_A10_v5", "A10", 1},          {"Standard_NV72ads_A10_v5", "A10", 2},
      {"Standard_NC4as_T4_v3", "T4", 1},              {"Standard_NC8as_T4_v3", "T4", 1},
      {"Standard_NC16as_T4_v3", "T4", 1},             {"Standard_NC64as_T4_v3", "T4", 4},
  };
  return kSkus;
}

namespace {

const CloudGpuSku* FindSku(const std::string& sku) {
  for (const CloudGpuSku& s : AzureGpuSkus()) {
    if (sku == s.sku) return &s;
  }
  return nullptr;
}

std::string Str(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

bool Contains(const std::string& s, const char* word) { return s.find(word) != std::string::npos; }

}  // namespace

Result<std::string> AzurePricesQuery(const std::string& region) {
  static const std::regex kRegion(R"(^[a-z0-9]{2,40}$)");
  if (!std::regex_match(region, kRegion)) {
    return Status::InvalidArgument("region must be an Azure region name (e.g. eastus, westeurope)");
  }
  std::string skus;
  for (const CloudGpuSku& s : AzureGpuSkus()) skus += std::string(skus.empty() ? "" : " or ") + "armSkuName eq '" + s.sku + "'";
  const std::string filter = "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and armRegionName eq '" +
                             region + "' and (" + skus + ")";
  return "/api/retail/prices?currencyCode=USD&$filter=" + PercentEncode(filter);
}

Result<std::vector<CloudOffer>> ParseAzurePricesPage(const json& page, const std::string& region, std::string& next) {
  next.clear();
  if (!page.is_object() || !page.contains("Items") || !page["Items"].is_array()) {
    return Status::Corrupt("Azure's price list answered without an Items list");
  }
  if (page.contains("NextPageLink") && page["NextPageLink"].is_string()) next = page["NextPageLink"].get<std::string>();
  std::vector<CloudOffer> out;
  for (const json& item : page["Items"]) {
    if (!item.is_object()) continue;
    const CloudGpuSku* sku = FindSku(Str(item, "armSkuName"));
    if (!sku || Str(item, "armRegionName") != region || Str(item, "currencyCode") != "USD") continue;
    // Pay-as-you-go Linux only: Windows has its licence in the price, Spot and Low Priority
    // can be taken away, DevTestConsumption and Reservation are other contracts.
    const std::string product = Str(item, "productName"), sku_name = Str(item, "skuName"), meter = Str(item, "meterName");
    if (Str(item, "type") != "Consumption" || Contains(product, "Windows") || Contains(sku_name, "Spot") ||
        Contains(sku_name, "Low Priority") || Contains(meter, "Spot") || Contains(meter, "Low Priority") ||
        Str(item, "unitOfMeasure") != "1 Hour") {
      continue;
    }
    if (!item.contains("retailPrice") || !item["retailPrice"].is_number()) continue;
    const double price = item["retailPrice"].get<double>();
    // A GPU VM costs cents to hundreds of dollars an hour: outside that, the item is not a
    // price to show (a misread unit, a hostile answer).
    if (!std::isfinite(price) || price < 0.01 || price > 10000) continue;
    static const std::regex kDate(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$)");
    if (!std::regex_match(Str(item, "effectiveStartDate"), kDate)) continue;  // the newest is chosen by it
    out.push_back({"azure", region, sku->sku, sku->gpu, sku->gpus, price, Str(item, "effectiveStartDate")});
  }
  return out;
}

bool SameServer(const std::string& a, const std::string& b) {
  auto parts = [](const std::string& url) -> std::optional<std::tuple<std::string, std::string, std::string>> {
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return std::nullopt;
    std::string scheme = url.substr(0, scheme_end);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string authority = url.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (authority.find('@') != std::string::npos || authority.empty()) return std::nullopt;  // no user info
    std::string host = authority, port;
    if (const size_t colon = authority.rfind(':'); colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (port.empty()) port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
    if (port.empty()) return std::nullopt;
    return std::make_tuple(scheme, host, port);
  };
  const auto x = parts(a), y = parts(b);
  return x && y && *x == *y;
}

std::vector<CloudOffer> CurrentPerSku(std::vector<CloudOffer> offers) {
  std::map<std::string, CloudOffer> best;
  for (CloudOffer& o : offers) {
    auto it = best.find(o.sku);
    // The newest price (ISO dates sort as text); of two from the same day, the lower.
    if (it == best.end() || o.effective > it->second.effective ||
        (o.effective == it->second.effective && o.price_per_hour < it->second.price_per_hour)) {
      best[o.sku] = std::move(o);
    }
  }
  std::vector<CloudOffer> out;
  for (auto& [sku, o] : best) out.push_back(std::move(o));
  return out;
}

json OfferJson(const CloudOffer& o) {
  return {{"provider", o.provider},         {"region", o.region},
          {"vm", o.sku},                    {"gpus_per_vm", o.gpus},
          {"price_per_vm_hour", o.price_per_hour}, {"price_per_gpu_hour", o.PerGpuHour()},
          {"effective", o.effective}};
}

}  // namespace loupe::launch
