// Cloud GPU prices for the picker and cost estimates: Azure's public Retail Prices API
// (https://prices.azure.com/api/retail/prices, no login) read for one region, Linux
// pay-as-you-go VMs whose GPUs Loupe knows (the SKU table below), priced per GPU-hour as
// the VM's hourly price over its GPU count (the VM's CPUs and memory come with it).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace loupe::launch {

// A VM size with whole GPUs of one type (the GPU named as the GPU catalogue names it).
struct CloudGpuSku {
  const char* sku;  // Azure's armSkuName
  const char* gpu;
  int gpus;
};
const std::vector<CloudGpuSku>& AzureGpuSkus();

struct CloudOffer {
  std::string provider;  // "azure"
  std::string region;
  std::string sku;
  std::string gpu;
  int gpus = 0;
  double price_per_hour = 0;  // the VM's, USD
  std::string effective;       // the price's effectiveStartDate
  double PerGpuHour() const { return gpus > 0 ? price_per_hour / gpus : 0; }
};

// The query of one region's GPU VM prices: "/api/retail/prices?$filter=..." (encoded).
Result<std::string> AzurePricesQuery(const std::string& region);

// The offers of one page of Azure's answer ({BillingCurrency, Items: [...], NextPageLink,
// Count}): Linux pay-as-you-go ("Consumption", not Windows, not Spot or Low Priority, USD
// per "1 Hour") items of a known SKU in `region`. `next` is the next page's link ("" at
// the end). Corrupt when the page is not that shape.
Result<std::vector<CloudOffer>> ParseAzurePricesPage(const nlohmann::json& page, const std::string& region,
                                                     std::string& next);

// One offer per SKU: the newest price (Azure may list a meter per effective date).
std::vector<CloudOffer> CurrentPerSku(std::vector<CloudOffer> offers);

nlohmann::json OfferJson(const CloudOffer& o);

// The two URLs are on the same server: scheme, host (any case) and port (the scheme's
// default when absent) alike, and no user info.
bool SameServer(const std::string& a, const std::string& b);

}  // namespace loupe::launch
