"""Media keys of every type through the native API: text samples and histograms are
checked before they are kept, and a key's files are listed with text and histograms
inline."""
import json
import unittest
import urllib.parse

from api_test import ApiTestBase


class MediaTest(ApiTestBase):
    def upload(self, eid, key, step, filename, data, status=200, code=0, caption=None):
        q = {"key": key, "step": step, "filename": filename}
        if caption is not None:
            q["caption"] = caption
        return self.call("POST", f"/api/v1/experiments/{eid}/media?" + urllib.parse.urlencode(q), raw=data,
                         status=status, code=code)

    def listing(self, eid, key, status=200, code=0, **extra):
        q = urllib.parse.urlencode({"key": key, **extra})
        return self.call("GET", f"/api/v1/experiments/{eid}/media?{q}", status=status, code=code)

    def test_text_samples_and_histograms_are_kept_and_listed_inline(self):
        e = self.new_run("media")["id"]
        self.upload(e, "gen", 1, "a.txt", "first ✓ <b>x</b>".encode(), caption="prompt 1")
        self.upload(e, "gen", 2, "a.txt", b"second")
        hist = {"edges": [0, 1, 2.5], "counts": [3, 0]}
        self.upload(e, "w", 0, "w.hist.json", json.dumps(hist).encode())
        texts = self.listing(e, "gen")
        self.assertEqual((texts["type"], texts["truncated"]), ("text", False))
        self.assertEqual([(i["step"], i["text"], i["caption"]) for i in texts["items"]],
                         [(1, "first ✓ <b>x</b>", "prompt 1"), (2, "second", None)])
        h = self.listing(e, "w")
        self.assertEqual(h["type"], "histogram")
        self.assertEqual(h["items"][0]["histogram"], hist)
        # The file itself is served with its type.
        status, body, headers = self.server.request("GET", h["items"][0]["url"])
        self.assertEqual(status, 200)
        self.assertEqual(dict(headers)["Content-Type"], "application/vnd.loupe.histogram+json")
        keys = {k["key"]: k["type"] for k in self.call("GET", f"/api/v1/experiments/{e}/keys")["keys"]}
        self.assertEqual(keys, {"gen": "text", "w": "histogram"})

    def test_bad_text_and_histograms_are_refused_and_nothing_is_kept(self):
        e = self.new_run("media")["id"]
        self.upload(e, "gen", 0, "a.txt", b"\xff\xfe not utf-8", status=422, code=3422)
        self.upload(e, "gen", 0, "a.txt", b"x" * 65537, status=413, code=3413)
        for bad in ({"edges": [0, 1], "counts": [1, 2]}, {"edges": [1, 0], "counts": [1]},
                    {"edges": [0, 1], "counts": [-1]}, {"edges": [0, "1"], "counts": [1]},
                    {"counts": [1]}, [1, 2], {"edges": list(range(514)), "counts": [1] * 513}):
            self.upload(e, "w", 0, "w.hist.json", json.dumps(bad).encode(), status=422, code=3422)
        self.upload(e, "w", 0, "w.json", b'{"edges": [0, 1], "counts": [1]}', status=422, code=3422)
        # A key holds one kind of media.
        self.upload(e, "mixed", 0, "a.txt", b"text first")
        self.upload(e, "mixed", 1, "w.hist.json", b'{"edges": [0, 1], "counts": [1]}', status=422, code=3422)
        self.assertEqual([k["key"] for k in self.call("GET", f"/api/v1/experiments/{e}/keys")["keys"]], ["mixed"])
        self.assertEqual(len(self.listing(e, "mixed")["items"]), 1)

    def test_listing_errors_and_limits(self):
        e = self.new_run("media")["id"]
        self.log(e, [{"step": 0, "values": {"loss": 1}}])
        for step in range(5):
            self.upload(e, "gen", step, "a.txt", f"s{step}".encode())
        page = self.listing(e, "gen", limit=2)
        self.assertEqual(([i["step"] for i in page["items"]], page["truncated"]), ([3, 4], True))
        self.listing(e, "", status=422, code=3422)
        self.listing(e, "loss", status=422, code=3422)
        self.listing(e, "nope", status=404, code=3404)
        self.listing(e, "gen", status=422, code=3422, limit=0)
        self.listing(e, "gen", status=422, code=3422, limit=5001)
        self.call("GET", "/api/v1/experiments/99999/media?key=gen", status=404, code=3404)


if __name__ == "__main__":
    unittest.main()
