"""Azure's public GPU prices in the GPU picker, read from the Azure Retail Prices STAND-IN
(azure_prices_standin.py: Microsoft's documented answer, OData filter and paging; made-up
prices). Only Linux pay-as-you-go prices of the region asked, the newest per VM size,
priced per GPU-hour as the VM's price over its GPUs; a failed read keeps the prices read
before; the picker page reads them by its form."""
import json
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
sys.path.insert(0, os.path.dirname(__file__))
from loupe_server import LoupeServer  # noqa: E402
from azure_prices_standin import AzurePricesStandIn  # noqa: E402


class CloudPricesTest(unittest.TestCase):
    def setUp(self):
        self.azure = AzurePricesStandIn(page_size=3)
        self.addCleanup(self.azure.stop)
        self.server = LoupeServer(extra_args=["--azure-prices-url", self.azure.url + "/"]).start()
        self.addCleanup(self.server.cleanup)

    def read(self, region="eastus", provider="azure"):
        return self.server.post("/api/v1/launch/gpus/prices", {"provider": provider, "region": region})

    def picker(self):
        status, body, _ = self.server.get("/api/v1/launch/gpus")
        self.assertEqual(status, 200, body)
        return {g["name"]: g for g in body["data"]["gpus"]}, body["data"]

    def test_a_regions_linux_pay_as_you_go_prices_per_gpu_hour(self):
        status, body, _ = self.read()
        self.assertEqual(status, 200, body)
        offers = {o["offer"]["vm"]: (o["gpu"], o["offer"]) for o in body["data"]["offers"]}
        # Windows, Spot, Low Priority, DevTest, reservations, another region, an older
        # price and a VM without GPUs are not offers.
        self.assertEqual(sorted(offers), ["Standard_NC24ads_A100_v4", "Standard_NC40ads_H100_v5", "Standard_NC4as_T4_v3",
                                          "Standard_NC96ads_A100_v4", "Standard_ND96isr_H100_v5",
                                          "Standard_NV36ads_A10_v5"])
        gpu, a100 = offers["Standard_NC24ads_A100_v4"]
        self.assertEqual(gpu, "A100 80GB")
        self.assertEqual(a100, {"provider": "azure", "region": "eastus", "vm": "Standard_NC24ads_A100_v4",
                                "gpus_per_vm": 1, "price_per_vm_hour": 3.673, "price_per_gpu_hour": 3.673,
                                "effective": "2024-06-01T00:00:00Z"})
        self.assertEqual(offers["Standard_NC96ads_A100_v4"][1]["price_per_gpu_hour"], 14.692 / 4)
        self.assertEqual(offers["Standard_ND96isr_H100_v5"][0], "H100 SXM")
        self.assertEqual(offers["Standard_ND96isr_H100_v5"][1]["price_per_gpu_hour"], 98.32 / 8)
        # What was asked: the region's GPU sizes only, every page followed.
        with urllib.request.urlopen(self.azure.url + "/_standin/requests") as r:
            asked = json.load(r)
        self.assertGreaterEqual(len(asked), 3)
        self.assertIn("armRegionName eq 'eastus'", asked[0]["query"]["$filter"])
        self.assertIn("armSkuName eq 'Standard_NC24ads_A100_v4'", asked[0]["query"]["$filter"])
        self.assertEqual([q["query"].get("$skip") for q in asked], [None] + [str(3 * i) for i in range(1, len(asked))])
        # The picker: each offer on its GPU's row; the cheapest per GPU-hour is the row's price.
        rows, data = self.picker()
        self.assertEqual(data["clouds"][0]["provider"], "azure")
        self.assertEqual(data["clouds"][0]["region"], "eastus")
        self.assertEqual(data["clouds"][0]["offers"], 6)
        azure = [o for o in rows["A100 80GB"]["offers"] if o["provider"] == "azure"]
        self.assertEqual(sorted(o["price_per_gpu_hour"] for o in azure), [3.673, 14.692 / 4])
        self.assertEqual(rows["A100 80GB"]["cheapest_per_gpu_hour"], 14.692 / 4)
        self.assertEqual(rows["H100 SXM"]["cheapest_per_gpu_hour"], 98.32 / 8)
        self.assertAlmostEqual(rows["H100 SXM"]["per_pflop_hour"], (98.32 / 8) / (989 / 1000), places=12)
        self.assertEqual(rows["T4"]["cheapest_per_gpu_hour"], 0.526)
        status, page = self.server.html("/launch/gpus")
        self.assertIn("<div>Azure eastus: $3.67/h (Standard_NC24ads_A100_v4, 1 GPU at $3.67/h)</div>", page)
        self.assertIn("<div>Azure eastus: $12.29/h (Standard_ND96isr_H100_v5, 8 GPUs at $98.32/h)</div>", page)
        self.assertIn("6 VM sizes with GPUs", page)

    def test_a_failed_read_says_why_and_keeps_the_prices_read_before(self):
        self.assertEqual(self.read()[0], 200)
        urllib.request.urlopen(urllib.request.Request(self.azure.url + "/_standin/fail", data=b'{"status": 500}',
                                                      method="POST"))
        status, body, _ = self.read()
        self.assertEqual(status, 503, body)
        self.assertIn("Azure's price list answered HTTP 500", body["message"])
        rows, data = self.picker()
        self.assertEqual(data["clouds"][0]["offers"], 6)  # still there
        # A next page on another server is not followed; nothing of that read is kept.
        urllib.request.urlopen(urllib.request.Request(self.azure.url + "/_standin/next_host",
                                                      data=b'{"url": "http://elsewhere.invalid"}', method="POST"))
        status, body, _ = self.read(region="eastus")
        self.assertEqual(status, 503, body)
        self.assertIn("a next page on another server", body["message"])
        self.assertEqual(self.picker()[1]["clouds"][0]["offers"], 6)
        # A region where Azure lists none of the sizes: said, and nothing read before is lost.
        status, body, _ = self.read(region="northeurope")
        self.assertEqual(status, 503, body)
        self.assertIn("Azure listed no price for the GPU VM sizes Loupe knows in region 'northeurope'", body["message"])
        self.assertEqual(self.picker()[1]["clouds"][0]["region"], "eastus")
        for bad, field in ((self.read(region="East US"), "region"), (self.read(provider="aws"), "provider")):
            self.assertEqual(bad[0], 422, bad[1])
            self.assertIn(field, bad[1]["message"])
        status, body, _ = self.server.post("/api/v1/launch/gpus/prices", {"region": 5})
        self.assertEqual(status, 422, body)

    def test_the_picker_page_reads_a_region_by_its_form(self):
        status, page = self.server.html("/launch/gpus")
        self.assertIn("not read yet", page)
        # The form's answer sends the browser back to the picker (urllib follows the 303).
        status, body, headers = self.server.request("POST", "/launch/gpus/prices", raw=b"region=eastus",
                                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, body)
        page = body.decode()
        self.assertRegex(page, r'<span class="muted" id="azure-read">read \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, '
                               r'6 VM sizes with GPUs</span>')
        status, body, _ = self.server.request("POST", "/launch/gpus/prices", raw=b"region=not%20a%20region",
                                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 422)
        self.assertIn("region must be an Azure region name", body.decode())


if __name__ == "__main__":
    unittest.main()
