// Azure's retail price answers read as Microsoft documents them: only Linux pay-as-you-go
// hourly prices of a known GPU VM size in the region asked; the newest price per size.
#include <gtest/gtest.h>

#include "launch/cloud_prices.h"

namespace loupe::launch {
namespace {

using nlohmann::json;

// An item as the documentation's example has it (a Windows Spot DevTest meter), with the
// fields changed per case.
json Item(const std::string& sku, double price, json changes = json::object()) {
  json i = {{"currencyCode", "USD"},           {"tierMinimumUnits", 0.0},
            {"retailPrice", price},            {"unitPrice", price},
            {"armRegionName", "eastus"},       {"location", "US East"},
            {"effectiveStartDate", "2024-06-01T00:00:00Z"},
            {"meterId", "000a794b-bdb0-58be-a0cd-0c3a0f222923"},
            {"meterName", "NC24ads A100 v4"},  {"productId", "DZH318Z08M22"},
            {"skuId", "DZH318Z08M22/00TG"},    {"productName", "Virtual Machines NCads A100 v4 Series"},
            {"skuName", "NC24ads A100 v4"},    {"serviceName", "Virtual Machines"},
            {"serviceId", "DZH313Z7MMC8"},     {"serviceFamily", "Compute"},
            {"unitOfMeasure", "1 Hour"},       {"type", "Consumption"},
            {"isPrimaryMeterRegion", true},    {"armSkuName", sku}};
  i.update(changes);
  return i;
}

TEST(CloudPricesTest, OnlyLinuxPayAsYouGoHoursOfAKnownGpuSizeInTheRegion) {
  const json page = {
      {"BillingCurrency", "USD"}, {"CustomerEntityId", "Default"}, {"CustomerEntityType", "Retail"},
      {"Items", json::array({Item("Standard_NC24ads_A100_v4", 3.673),
                             Item("Standard_NC24ads_A100_v4", 3.857, {{"productName", "Virtual Machines NCads A100 v4 Series Windows"}}),
                             Item("Standard_NC24ads_A100_v4", 0.73, {{"skuName", "NC24ads A100 v4 Spot"}, {"meterName", "NC24ads A100 v4 Spot"}}),
                             Item("Standard_NC24ads_A100_v4", 0.73, {{"skuName", "NC24ads A100 v4 Low Priority"}}),
                             Item("Standard_NC24ads_A100_v4", 2.9, {{"type", "DevTestConsumption"}}),
                             Item("Standard_NC24ads_A100_v4", 25007.0, {{"type", "Reservation"}, {"reservationTerm", "1 Year"}}),
                             Item("Standard_NC24ads_A100_v4", 4.0, {{"armRegionName", "westeurope"}}),
                             Item("Standard_NC24ads_A100_v4", 3.1, {{"currencyCode", "EUR"}}),
                             Item("Standard_NC24ads_A100_v4", 3.1, {{"unitOfMeasure", "1/Month"}}),
                             Item("Standard_NC24ads_A100_v4", 3.1, {{"retailPrice", nullptr}}),
                             Item("Standard_D4s_v3", 0.192),
                             Item("Standard_NC96ads_A100_v4", 1e-7),
                             Item("Standard_NC96ads_A100_v4", 1e308),
                             Item("Standard_NC96ads_A100_v4", 14.692, {{"effectiveStartDate", "zzzz"}}),
                             Item("Standard_ND96isr_H100_v5", 98.32),
                             "not an item"})},
      {"NextPageLink", "https://prices.azure.com/api/retail/prices?$skip=100"},
      {"Count", 16}};
  std::string next;
  Result<std::vector<CloudOffer>> offers = ParseAzurePricesPage(page, "eastus", next);
  ASSERT_TRUE(offers.ok()) << offers.status().ToString();
  EXPECT_EQ(next, "https://prices.azure.com/api/retail/prices?$skip=100");
  ASSERT_EQ(offers->size(), 2u);
  EXPECT_EQ((*offers)[0].sku, "Standard_NC24ads_A100_v4");
  EXPECT_EQ((*offers)[0].gpu, "A100 80GB");
  EXPECT_EQ((*offers)[0].PerGpuHour(), 3.673);
  EXPECT_EQ((*offers)[1].gpu, "H100 SXM");
  EXPECT_EQ((*offers)[1].PerGpuHour(), 98.32 / 8);
  EXPECT_EQ(OfferJson((*offers)[1]),
            json({{"provider", "azure"}, {"region", "eastus"}, {"vm", "Standard_ND96isr_H100_v5"}, {"gpus_per_vm", 8},
                  {"price_per_vm_hour", 98.32}, {"price_per_gpu_hour", 98.32 / 8}, {"effective", "2024-06-01T00:00:00Z"}}));
  // The last page has a null link; an answer without Items is not a price list.
  json last = page;
  last["NextPageLink"] = nullptr;
  ASSERT_TRUE(ParseAzurePricesPage(last, "eastus", next).ok());
  EXPECT_EQ(next, "");
  EXPECT_EQ(ParseAzurePricesPage(json{{"Error", "x"}}, "eastus", next).status().code(), Code::kCorrupt);
}

TEST(CloudPricesTest, APageIsFollowedOnTheSameServerOnly) {
  EXPECT_TRUE(SameServer("https://prices.azure.com:443/api/retail/prices?$skip=100", "https://prices.azure.com"));
  EXPECT_TRUE(SameServer("https://PRICES.azure.com/api/retail/prices", "https://prices.azure.com"));
  EXPECT_TRUE(SameServer("http://127.0.0.1:4711/api?$skip=3", "http://127.0.0.1:4711"));
  EXPECT_FALSE(SameServer("http://prices.azure.com/api", "https://prices.azure.com"));
  EXPECT_FALSE(SameServer("https://prices.azure.com:8443/api", "https://prices.azure.com"));
  EXPECT_FALSE(SameServer("https://prices.azure.com@evil.example/api", "https://prices.azure.com"));
  EXPECT_FALSE(SameServer("https://evil.example/api", "https://prices.azure.com"));
  EXPECT_FALSE(SameServer("file:///etc/passwd", "https://prices.azure.com"));
}

TEST(CloudPricesTest, TheNewestPricePerSize) {
  std::vector<CloudOffer> offers = {{"azure", "eastus", "Standard_NC24ads_A100_v4", "A100 80GB", 1, 3.4, "2023-01-01T00:00:00Z"},
                                    {"azure", "eastus", "Standard_NC24ads_A100_v4", "A100 80GB", 1, 3.673, "2024-06-01T00:00:00Z"},
                                    {"azure", "eastus", "Standard_NC4as_T4_v3", "T4", 1, 0.6, "2024-06-01T00:00:00Z"},
                                    {"azure", "eastus", "Standard_NC4as_T4_v3", "T4", 1, 0.526, "2024-06-01T00:00:00Z"}};
  const std::vector<CloudOffer> current = CurrentPerSku(offers);
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].price_per_hour, 3.673);
  EXPECT_EQ(current[1].price_per_hour, 0.526);
}

TEST(CloudPricesTest, TheQueryAsksForTheRegionsGpuSizesEncoded) {
  Result<std::string> q = AzurePricesQuery("westeurope");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->rfind("/api/retail/prices?currencyCode=USD&$filter=serviceName%20eq%20%27Virtual%20Machines%27%20and%20"
                     "priceType%20eq%20%27Consumption%27%20and%20armRegionName%20eq%20%27westeurope%27%20and%20%28"
                     "armSkuName%20eq%20%27Standard_NC24ads_A100_v4%27%20or%20",
                     0),
            0u)
      << *q;
  EXPECT_EQ(q->back(), '9');  // ...%29: the closing parenthesis, encoded
  for (const char* bad : {"", "East US", "eastus'", "x", "eastus)or(1"}) {
    EXPECT_EQ(AzurePricesQuery(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace loupe::launch
