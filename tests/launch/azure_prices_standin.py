"""A STAND-IN for Azure's Retail Prices API (GET https://prices.azure.com/api/retail/prices),
which tests cannot reach. It answers as Microsoft's documentation describes: an envelope
{BillingCurrency, CustomerEntityId, CustomerEntityType, Items, NextPageLink, Count}, items
with the documented fields (currencyCode, tierMinimumUnits, retailPrice, unitPrice,
armRegionName, location, effectiveStartDate, meterId, meterName, productId, skuId,
productName, skuName, serviceName, serviceId, serviceFamily, unitOfMeasure, type,
isPrimaryMeterRegion, armSkuName), an OData $filter of `field eq 'value'` terms joined by
and/or with parentheses (filter values are case-sensitive, as in the 2023 API), pages
followed by NextPageLink with $skip. Its prices are made up for the tests, not Azure's.
Hooks: POST /_standin/fail {"status": 500} fails the next request; /_standin/requests lists
the requests; POST /_standin/next_host {"url": ...} makes the next NextPageLink point there."""
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIELDS = ("currencyCode", "tierMinimumUnits", "retailPrice", "unitPrice", "armRegionName", "location",
          "effectiveStartDate", "meterId", "meterName", "productId", "skuId", "productName", "skuName",
          "serviceName", "serviceId", "serviceFamily", "unitOfMeasure", "type", "isPrimaryMeterRegion", "armSkuName")


def item(sku, meter, price, region="eastus", product="Virtual Machines NCads A100 v4 Series", kind="Consumption",
         effective="2024-06-01T00:00:00Z", unit="1 Hour"):
    n = abs(hash((sku, meter, price, region, product, kind, effective))) % 10**12
    return {"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
            "armRegionName": region, "location": {"eastus": "US East", "westeurope": "EU West"}[region],
            "effectiveStartDate": effective, "meterId": f"{n:012d}-0000-0000-0000-000000000000",
            "meterName": meter, "productId": "DZH318Z08M22", "skuId": f"DZH318Z08M22/{n % 1000:04d}",
            "productName": product, "skuName": meter, "serviceName": "Virtual Machines", "serviceId": "DZH313Z7MMC8",
            "serviceFamily": "Compute", "unitOfMeasure": unit, "type": kind, "isPrimaryMeterRegion": True,
            "armSkuName": sku}


ITEMS = [
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4", 3.673),
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4", 3.4, effective="2023-01-01T00:00:00Z"),  # an older price
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4", 3.857, product="Virtual Machines NCads A100 v4 Series Windows"),
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4 Spot", 0.7346),
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4 Low Priority", 0.7346),
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4", 2.9, kind="DevTestConsumption"),
    item("Standard_NC24ads_A100_v4", "NC24ads A100 v4", 4.0, region="westeurope"),
    item("Standard_NC96ads_A100_v4", "NC96ads A100 v4", 14.692),
    item("Standard_ND96isr_H100_v5", "ND96isr H100 v5", 98.32, product="Virtual Machines ND H100 v5 Series"),
    item("Standard_NC40ads_H100_v5", "NC40ads H100 v5", 6.98, product="Virtual Machines NCads H100 v5 Series"),
    item("Standard_NV36ads_A10_v5", "NV36ads A10 v5", 3.2, product="Virtual Machines NVadsA10 v5 Series"),
    item("Standard_NC4as_T4_v3", "NC4as T4 v3", 0.526, product="Virtual Machines NCasT4 v3 Series"),
    item("Standard_NC4as_T4_v3", "NC4as T4 v3", 0.526, product="Virtual Machines NCasT4 v3 Series", kind="Reservation"),
    item("Standard_D4s_v3", "D4s v3", 0.192, product="Virtual Machines Dsv3 Series"),
]

TERM = re.compile(r"\s*(\()|\s*(\))|\s*(and|or)\b|\s*([A-Za-z]+) eq '([^']*)'")


def parse_filter(text):
    """`a eq 'x' and (b eq 'y' or b eq 'z')` -> a predicate; ValueError on anything else."""
    tokens, at = [], 0
    while at < len(text.rstrip()):
        m = TERM.match(text, at)
        if not m:
            raise ValueError(f"Invalid OData filter at {at}: {text[at:at + 30]!r}")
        if m.group(4) and m.group(4) not in FIELDS and m.group(4) != "priceType":
            raise ValueError(f"Unknown field {m.group(4)}")
        tokens.append(m.groups())
        at = m.end()
    pos = 0

    def chain(op, operand):  # operand (op operand)*, left to right
        nonlocal pos
        left = operand()
        while pos < len(tokens) and tokens[pos][2] == op:
            pos += 1
            right, prev = operand(), left
            left = ((lambda i, a=prev, b=right: a(i) or b(i)) if op == "or"
                    else (lambda i, a=prev, b=right: a(i) and b(i)))
        return left

    def expr():
        return chain("or", conj)

    def conj():
        return chain("and", atom)

    def atom():
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("Invalid OData filter: it ends early")
        t = tokens[pos]
        pos += 1
        if t[0]:
            e = expr()
            if pos >= len(tokens) or not tokens[pos][1]:
                raise ValueError("Invalid OData filter: ( without )")
            pos += 1
            return e
        if t[3]:
            field = "type" if t[3] == "priceType" else t[3]
            return lambda i, f=field, v=t[4]: str(i.get(f)) == v
        raise ValueError("Invalid OData filter")

    predicate = expr()
    if pos != len(tokens):
        raise ValueError("Invalid OData filter: extra terms")
    return predicate


class AzurePricesStandIn:
    def __init__(self, page_size=3):
        self.page_size = page_size
        self.requests = []
        self.fail_next = None
        self.next_host = None
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/_standin/fail":
                    standin.fail_next = body.get("status", 500)
                elif self.path == "/_standin/next_host":
                    standin.next_host = body["url"]
                self.send(200, {})

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/_standin/requests":
                    return self.send(200, standin.requests)
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                standin.requests.append({"path": url.path, "query": query})
                if standin.fail_next:
                    status, standin.fail_next = standin.fail_next, None
                    return self.send(status, {"Error": {"Code": "InternalServerError", "Message": "stand-in failure"}})
                if url.path != "/api/retail/prices":
                    return self.send(404, {"Error": {"Code": "NotFound", "Message": "Not found"}})
                try:
                    keep = parse_filter(query["$filter"]) if "$filter" in query else (lambda i: True)
                except ValueError as e:
                    return self.send(400, {"Error": {"Code": "BadRequest", "Message": str(e)}})
                matched = [i for i in ITEMS if keep(i)]
                skip = int(query.get("$skip", "0"))
                page = matched[skip:skip + standin.page_size]
                next_link = None
                if skip + standin.page_size < len(matched):
                    rest = dict(query, **{"$skip": str(skip + standin.page_size)})
                    host = standin.next_host or standin.url
                    next_link = host + "/api/retail/prices?" + urllib.parse.urlencode(rest, quote_via=urllib.parse.quote)
                self.send(200, {"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                                "Items": [{k: i[k] for k in FIELDS} for i in page], "NextPageLink": next_link,
                                "Count": len(page)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
