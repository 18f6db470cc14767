"""Datasets over HTTP against a live server: multipart upload, server-side paths,
preview, statistics, type overrides, samples from Debian's python3-sklearn, errors."""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402

CSV = ("name,age,member,joined,city,bio\n"
       "Ada,36,yes,2024-01-02,London,\"Wrote the first program, \"\"notes\"\" and all\"\n"
       "Alan,41,no,2024-02-03,London,Broke codes and thought about machines thinking\n"
       "Grace,,yes,2024-03-04,Arlington,Invented the compiler and found a real moth bug\n"
       "Edsger,forty,no,2024-04-05,Austin,Considered goto harmful in a famous short letter\n")


class DatasetApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-ds-")
        os.makedirs(os.path.join(cls.dir, "data", "imports", "sub"))
        with open(os.path.join(cls.dir, "data", "imports", "sub", "people.tsv"), "w") as f:
            f.write("a\tb\n1\tx\n2\ty\n")
        with open(os.path.join(cls.dir, "secret.csv"), "w") as f:
            f.write("a\n1\n")
        cls.server = LoupeServer(cwd=cls.dir, data_dir="./data", extra_args=["--max-upload-mb", "1"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def upload(self, filename, data, **fields):
        body, ctype = multipart(fields, {"file": (filename, data)})
        return self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})

    def test_upload_infers_types_and_previews(self):
        status, body, _ = self.upload("people.csv", CSV.encode(), name="people-upload")
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertEqual(d["rows"], 4)
        self.assertEqual(d["format"], "csv")
        self.assertEqual(d["source"], "upload:people.csv")
        types = {c["name"]: c["type"] for c in d["columns"]}
        self.assertEqual(types, {"name": "text", "age": "text", "member": "boolean", "joined": "datetime",
                                 "city": "categorical", "bio": "text"})
        status, body, _ = self.server.get(f"/api/v1/dataset/{d['id']}/preview?offset=1&limit=2")
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["total"], 4)
        self.assertEqual(body["data"]["rows"][0][:3], ["Alan", "41", "no"])  # as written, not "false"
        self.assertIsNone(body["data"]["rows"][1][1])  # Grace's missing age
        status, body, _ = self.server.get(f"/api/v1/dataset/{d['id']}/stats")
        stats = {c["name"]: c for c in body["data"]["columns"]}
        self.assertEqual(stats["age"]["missing"], 1)
        self.assertEqual(stats["city"]["top"][0], {"value": "London", "count": 2})
        self.assertEqual(stats["joined"]["min"], "2024-01-02T00:00:00Z")

    def test_type_override_is_all_or_nothing(self):
        _, body, _ = self.upload("retype.csv", CSV.encode())
        did = body["data"]["id"]
        self.assertEqual(body["data"]["name"], "retype")
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{did}/types", body={"age": "numeric"})
        self.assertEqual(status, 422)
        self.assertEqual(body["message"], 'column "age", row 4: "forty" is not a numeric value (1 of 3 values do not convert)')
        _, body, _ = self.server.get(f"/api/v1/dataset/{did}")
        self.assertEqual({c["name"]: c["type"] for c in body["data"]["columns"]}["age"], "text")  # unchanged
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{did}/types", body={"name": "categorical"})
        self.assertEqual(status, 200, body)
        col = [c for c in body["data"]["columns"] if c["name"] == "name"][0]
        self.assertEqual((col["type"], col["overridden"]), ("categorical", True))
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{did}/types", body={"name": "auto"})
        self.assertEqual([c for c in body["data"]["columns"] if c["name"] == "name"][0]["type"], "text")
        for bad, msg in (({"nope": "text"}, 'no column "nope"'), ({"age": "float"}, "type must be"), ({}, "at least one")):
            status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{did}/types", body=bad)
            self.assertEqual(status, 422)
            self.assertIn(msg, body["message"])

    def test_bad_rows_are_all_named_and_can_be_skipped_kept_and_downloaded(self):
        messy = (b"id,sepal_length,species\n1,5.1,setosa\n2,4.9\n3,4.7,setosa,extra\n4,4.6,versicolor\n"
                 b"5,\"5.0\"x,setosa\n6,three,virginica\n7,5.4,virginica\n")
        status, body, _ = self.upload("messy.csv", messy, name="messy-refused")
        self.assertEqual(status, 422)
        self.assertTrue(body["message"].startswith(
            "3 bad rows: line 3: expected 3 fields, found 2; line 4: expected 3 fields, found 4; "
            "line 6: column 2: unexpected character after a closing quote."), body["message"])
        self.assertNotIn("messy-refused", [d["name"] for d in self.server.get("/api/v1/dataset/")[1]["data"]])

        status, body, _ = self.upload("messy.csv", messy, name="messy", skip_bad_rows="true")
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertEqual(d["rows"], 4)
        self.assertEqual(d["bad_rows"]["count"], 3)
        self.assertEqual([b["line"] for b in d["bad_rows"]["first"]], [3, 4, 6])
        self.assertEqual(d["bad_rows"]["file"], f"/api/v1/dataset/{d['id']}/bad-rows")
        status, raw, headers = self.server.request("GET", d["bad_rows"]["file"])
        self.assertEqual(status, 200)
        self.assertEqual(raw.decode() if isinstance(raw, bytes) else raw,
                         'id,sepal_length,species\n2,4.9\n3,4.7,setosa,extra\n5,"5.0"x,setosa\n')
        self.assertIn('filename="messy-bad_rows.csv"', {k.lower(): v for k, v in headers.items()}["content-disposition"])
        # "three" keeps sepal_length text until the retype is told to coerce it
        cols = {c["name"]: c["type"] for c in self.server.get(f"/api/v1/dataset/{d['id']}")[1]["data"]["columns"]}
        self.assertNotEqual(cols["sepal_length"], "numeric")
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{d['id']}/types", body={"sepal_length": "numeric"})
        self.assertEqual(status, 422)
        self.assertIn('"three" is not a numeric value', body["message"])
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{d['id']}/types?coerce=true", body={"sepal_length": "numeric"})
        self.assertEqual(status, 200, body)
        col = next(c for c in body["data"]["columns"] if c["name"] == "sepal_length")
        self.assertEqual((col["type"], col["coerce"], col["coerced"]), ("numeric", True, 1))
        self.assertEqual(body["data"]["bad_rows"]["count"], 3)  # the retype read the source the same way
        status, prev, _ = self.server.get(f"/api/v1/dataset/{d['id']}/preview")
        self.assertEqual([r[1] for r in prev["data"]["rows"]], ["5.1", "4.6", None, "5.4"])
        # a later retype of another column keeps the coercion
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{d['id']}/types", body={"id": "text"})
        self.assertEqual(status, 200, body)
        self.assertEqual(next(c for c in body["data"]["columns"] if c["name"] == "sepal_length")["coerced"], 1)
        status, body, _ = self.server.request("PATCH", f"/api/v1/dataset/{d['id']}/types?coerce=maybe", body={"id": "text"})
        self.assertEqual((status, body["message"]), (422, 'coerce must be true or false (got "maybe")'))
        status, body, _ = self.upload("messy.csv", messy, name="messy-2", skip_bad_rows="sometimes")
        self.assertEqual((status, body["message"]), (422, 'skip_bad_rows must be true or false (got "sometimes")'))
        status, body, _ = self.upload("clean.csv", b"a,b\n1,2\n", name="clean-skip", skip_bad_rows="true")
        self.assertEqual(status, 201, body)
        self.assertIsNone(body["data"]["bad_rows"])
        status, body, _ = self.server.get(f"/api/v1/dataset/{body['data']['id']}/bad-rows")
        self.assertEqual(status, 404)

    def test_malformed_files_name_line_and_column(self):
        how = ". Fix them, or upload again with skip_bad_rows to leave them out (they are listed and kept for download)"
        status, body, _ = self.upload("bad.csv", b"a,b\n1,2\n3,\"4\n")
        self.assertEqual((status, body["message"]), (422, "1 bad row: line 3: column 2: unterminated quoted field" + how))
        status, body, _ = self.upload("bad.jsonl", b'{"a": 1}\n{"a": 2\n')
        self.assertEqual((status, body["message"]), (422, "1 bad row: line 2: invalid JSON" + how))
        status, body, _ = self.upload("data.xlsx", b"PK")
        self.assertEqual(status, 422)
        self.assertIn("cannot tell the format", body["message"])
        status, body, _ = self.upload("header-only.csv", b"a,b\n")
        self.assertEqual((status, body["message"]), (422, "the file has a header but no rows"))
        status, body, _ = self.upload("big.csv", b"a\n" + b"1\n" * 600000)
        self.assertEqual((status, body["message"]),
                         (413, "the file is 1200002 bytes (1 MiB); the server takes files up to 1048576 bytes "
                               "(1 MiB) (loupe serve --max-upload-mb)"))
        status, body, _ = self.server.request("POST", "/api/v1/dataset/", raw=b"--x\r\n", headers={"Content-Type": "multipart/form-data"})
        self.assertEqual(status, 400)
        _, listing, _ = self.server.get("/api/v1/dataset/")
        self.assertFalse(any(d["name"] in ("bad", "header-only", "big") for d in listing["data"]))  # nothing half-made

    def test_odd_uploads_are_not_server_errors(self):
        # Found by fuzz/dataset_table: both were 500 "unexpected error".
        status, body, _ = self.upload("latin1.csv", "café,n\nthé,1\n".encode("latin-1"))
        self.assertEqual(status, 201, body)
        self.assertEqual([c["name"] for c in body["data"]["columns"]], ["caf\ufffd", "n"])
        status, body, _ = self.upload("huge.json", b'[{"a": 2e2002}]')
        self.assertEqual((status, body["message"]), (422, "invalid JSON (number overflow parsing '2e2002')"))
        # Found by fuzz/api_handlers: a name that is not a string was a 500 too.
        status, body, _ = self.server.post("/api/v1/dataset/", {"path": "./data/imports/sub/people.tsv", "name": 5})
        self.assertEqual((status, body["message"]), (422, "name must be a string"))

    def test_server_side_paths_stay_inside_the_import_root(self):
        status, body, _ = self.server.post("/api/v1/dataset/", {"path": "./data/imports/sub/people.tsv"})
        self.assertEqual(status, 201, body)
        self.assertEqual((body["data"]["name"], body["data"]["format"], body["data"]["rows"]), ("people", "tsv", 2))
        for bad in ("./data/imports/../../secret.csv", os.path.join(self.dir, "secret.csv"), "/etc/passwd",
                    "./data/imports2/x.csv"):
            status, body, _ = self.server.post("/api/v1/dataset/", {"path": bad})
            self.assertEqual(status, 400, bad)
            self.assertIn("must be inside", body["message"])
        status, body, _ = self.server.post("/api/v1/dataset/", {"path": "./data/imports/missing.csv"})
        self.assertEqual(status, 404)
        status, body, _ = self.server.post("/api/v1/dataset/", {"name": "x"})
        self.assertEqual(status, 422)

    def test_names_are_unique(self):
        self.assertEqual(self.upload("dup.csv", b"a\n1\n")[0], 201)
        status, body, _ = self.upload("dup.csv", b"a\n1\n")
        self.assertEqual((status, body["message"]), (409, 'a dataset named "dup" already exists'))

    def test_samples_from_sklearn(self):
        _, body, _ = self.server.get("/api/v1/dataset/samples")
        self.assertTrue({s["name"]: s["available"] for s in body["data"]}["iris"])
        status, body, _ = self.server.post("/api/v1/dataset/samples/iris")
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertEqual(d["rows"], 150)
        self.assertEqual([c["type"] for c in d["columns"]], ["numeric"] * 4 + ["categorical"])
        _, stats, _ = self.server.get(f"/api/v1/dataset/{d['id']}/stats")
        species = stats["data"]["columns"][4]
        self.assertEqual(species["distinct"], 3)
        self.assertEqual(sorted(t["value"] for t in species["top"]), ["setosa", "versicolor", "virginica"])
        self.assertAlmostEqual(stats["data"]["columns"][0]["mean"], 5.843333, places=5)
        self.assertEqual(self.server.post("/api/v1/dataset/samples/mnist-9000")[0], 404)

    def test_spam_assassin_sample_from_npm(self):
        status, body, _ = self.server.post("/api/v1/dataset/samples/spam_assassin")
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertGreater(d["rows"], 6000)
        self.assertEqual([(c["name"], c["type"]) for c in d["columns"]],
                         [("text", "text"), ("label", "categorical"), ("group", "categorical")])
        _, stats, _ = self.server.get(f"/api/v1/dataset/{d['id']}/stats")
        label = stats["data"]["columns"][1]
        self.assertEqual(sorted(t["value"] for t in label["top"]), ["ham", "spam"])
        self.assertEqual(label["missing"], 0)

    def test_delete(self):
        _, body, _ = self.upload("gone.csv", b"a\n1\n")
        did = body["data"]["id"]
        self.assertEqual(self.server.request("DELETE", f"/api/v1/dataset/{did}")[0], 200)
        self.assertEqual(self.server.get(f"/api/v1/dataset/{did}")[0], 404)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "datasets", str(did))))
        self.assertEqual(self.server.get("/api/v1/dataset/abc")[0], 422)


if __name__ == "__main__":
    unittest.main()
