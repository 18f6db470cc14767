"""Artifacts and the model registry over HTTP: the upload protocol (missing blobs, blobs,
commit), every refusal, versions and aliases, lineage, downloads (blob, file, zip) and
registered models. Artifact names are global, so each test uses its own."""
import hashlib
import io
import json
import os
import subprocess
import time
import unittest
import zipfile

from api_test import ApiTestBase
from loupe_server import LoupeServer

CHUNK = 16 << 20


def sha(b):
    return hashlib.sha256(b).hexdigest()


class ArtifactApiTest(ApiTestBase):
    def put_blob(self, data, status=200, code=0, digest=None):
        return self.call("PUT", f"/api/v1/artifact-blobs/{digest or sha(data)}", raw=data, status=status, code=code)

    def commit(self, name, files, status=201, code=0, **extra):
        """files: {path: bytes}; blobs are uploaded first."""
        listed = []
        for path, data in files.items():
            self.put_blob(data)
            listed.append({"path": path, "size": len(data), "sha256": sha(data), "chunks": [sha(data)]})
        return self.call("POST", "/api/v1/artifact-versions",
                         {"name": name, "type": extra.pop("type", "dataset"), "files": listed, **extra},
                         status=status, code=code)

    def test_upload_protocol_versions_and_dedup(self):
        a, b = b"alpha\n", b"beta\n" * 100
        missing = self.call("POST", "/api/v1/artifact-blobs/missing", {"digests": [sha(a), sha(b), sha(a)]})["missing"]
        self.assertEqual(missing, [sha(a), sha(b)])
        self.put_blob(a)
        self.assertEqual(self.call("POST", "/api/v1/artifact-blobs/missing", {"digests": [sha(a), sha(b)]})["missing"],
                         [sha(b)])
        run = self.new_run("artifacts")["id"]
        v0 = self.commit("api-ds", {"train.csv": a, "nested/b.txt": b}, experiment_id=run, aliases=["raw"],
                         metadata={"rows": 2}, description="first")
        self.assertEqual((v0["version"], v0["ref"], v0["created"], v0["size"], v0["file_count"]),
                         (0, "api-ds:v0", True, len(a) + len(b), 2))
        self.assertEqual(v0["aliases"], ["latest", "raw"])
        self.assertEqual(v0["metadata"], {"rows": 2})
        self.assertEqual(v0["produced_by"]["id"], run)
        # The digest is the SHA-256 of the sorted manifest lines.
        lines = "".join(f"{p}\t{len(d)}\t{sha(d)}\n" for p, d in sorted({"train.csv": a, "nested/b.txt": b}.items()))
        self.assertEqual(v0["digest"], sha(lines.encode()))
        # Same content, listed in another order: the same version, not a new one (200, not 201).
        again = self.commit("api-ds", {"nested/b.txt": b, "train.csv": a}, status=200)
        self.assertEqual((again["id"], again["created"]), (v0["id"], False))
        v1 = self.commit("api-ds", {"train.csv": a + b"more\n"}, aliases=["raw"])
        self.assertEqual(v1["version"], 1)
        listing = self.call("GET", "/api/v1/artifacts/api-ds")
        self.assertEqual([(v["version"], v["aliases"]) for v in listing["versions"]],
                         [(1, ["latest", "raw"]), (0, [])])
        summary = next(s for s in self.call("GET", "/api/v1/artifacts")["artifacts"] if s["name"] == "api-ds")
        self.assertEqual((summary["version_count"], summary["latest_version"], summary["latest_size"]),
                         (2, 1, len(a) + 5))
        detail = self.call("GET", "/api/v1/artifacts/api-ds/v0")
        self.assertEqual([f["path"] for f in detail["files"]], ["nested/b.txt", "train.csv"])
        self.assertEqual(self.call("GET", "/api/v1/artifacts/api-ds/raw")["version"], 1)

    def test_blob_refusals(self):
        self.put_blob(b"abc", digest=sha(b"abd"), status=422, code=3422)
        self.put_blob(b"abc", digest="ABC", status=422, code=3422)
        self.put_blob(b"abc", digest=sha(b"abc").upper(), status=422, code=3422)
        self.put_blob(b"x" * (CHUNK + 1), status=413, code=3413)
        self.call("GET", f"/api/v1/artifact-blobs/{sha(b'never sent')}", status=404, code=3404)
        self.call("POST", "/api/v1/artifact-blobs/missing", {"digests": "x"}, status=422, code=3422)
        self.call("POST", "/api/v1/artifact-blobs/missing", {"digests": ["nothex"]}, status=422, code=3422)
        self.call("POST", "/api/v1/artifact-blobs/missing", {"digests": [sha(b"")] * 10001}, status=422, code=3422)
        self.assertEqual(self.put_blob(b"")["size"], 0)  # an empty file's single chunk

    def test_commit_refusals_store_nothing(self):
        good = b"content"
        self.put_blob(good)
        f = {"path": "a.bin", "size": len(good), "sha256": sha(good), "chunks": [sha(good)]}

        def refuse(body, status=422, code=3422, contains=None):
            p = self.call("POST", "/api/v1/artifact-versions", {"name": "api-bad", "type": "model", **body},
                          status=status, code=code)
            return p

        refuse({"files": []})
        refuse({"files": "a"})
        refuse({"name": "../x", "files": [f]})
        refuse({"name": "a:b", "files": [f]})
        refuse({"type": "has space", "files": [f]})
        refuse({"aliases": ["latest"], "files": [f]})
        refuse({"aliases": ["v2"], "files": [f]})
        refuse({"aliases": ["a"] * 17, "files": [f]})
        refuse({"metadata": [1], "files": [f]})
        refuse({"experiment_id": "1", "files": [f]})
        refuse({"experiment_id": 999999, "files": [f]}, status=404, code=3404)
        for path in ("/abs", "../up", "a/../b", "a//b", "a\\b", "", "x/"):
            refuse({"files": [{**f, "path": path}]})
        refuse({"files": [f, f]})  # the same path twice
        refuse({"files": [{**f, "path": "a"}, {**f, "path": "a/b"}]})  # a file and a folder at once
        refuse({"files": [{**f, "size": len(good) + 1}]})  # the blob is shorter than the size says
        refuse({"files": [{**f, "size": -1}]})
        refuse({"files": [{**f, "sha256": sha(b"other")}]})  # one chunk: its digest is the file's
        refuse({"files": [{**f, "size": CHUNK + 1, "chunks": [sha(good)]}]})  # needs two chunks
        # Chunks not stored: 409, naming them.
        lost = sha(b"not uploaded")
        p = self.call("POST", "/api/v1/artifact-versions",
                      {"name": "api-bad", "type": "model",
                       "files": [{"path": "x", "size": 12, "sha256": lost, "chunks": [lost]}]}, status=409, code=3409)
        self.call("GET", "/api/v1/artifacts/api-bad", status=404, code=3404)
        self.call("POST", "/api/v1/artifact-versions", raw=b"{nope", status=400, code=3400)
        # A name keeps its type.
        self.commit("api-typed", {"a": good}, type="dataset")
        self.commit("api-typed", {"b": good}, type="model", status=409, code=3409)

    def test_version_page_of_an_upload_without_a_run(self):
        self.commit("api-plain", {"x.txt": b"plain"})
        status, html = self.server.html("/artifacts/api-plain/v0")
        self.assertEqual(status, 200)
        produced = html.split('id="produced-by">', 1)[1].split("</dd>", 1)[0]
        self.assertEqual(produced, '<span class="muted">no run (uploaded directly)</span>')
        self.assertNotIn('id="metadata"', html)  # no metadata, no empty card
        self.assertNotIn(" by </dd>", html)
        status, html = self.server.html("/artifacts/api-plain")
        row = html.split('data-version="0">', 1)[1].split("</tr>", 1)[0]
        self.assertIn('<span class="muted">no run</span>', row)
        self.assertEqual(row.count("<a "), 1)  # the version's own link only

    def test_a_huge_manifest_of_missing_chunks_is_answered_quickly(self):
        # 100,000 files whose chunks are all missing: the 409 comes back in seconds (a
        # quadratic search for duplicates took minutes and held a compute thread).
        files = [{"path": f"f{i}", "size": 1, "sha256": sha(str(i).encode())} for i in range(100000)]
        start = time.monotonic()
        p = self.call("POST", "/api/v1/artifact-versions", {"name": "api-huge", "type": "dataset", "files": files},
                      status=409, code=3409)
        self.assertLess(time.monotonic() - start, 20)
        self.call("GET", "/api/v1/artifacts/api-huge", status=404, code=3404)

    def test_multi_chunk_file_round_trip(self):
        data = os.urandom(CHUNK + 1000)
        parts = [data[:CHUNK], data[CHUNK:]]
        for p in parts:
            self.put_blob(p)
        body = {"name": "api-big", "type": "model",
                "files": [{"path": "w.bin", "size": len(data), "sha256": sha(b"wrong"), "chunks": [sha(p) for p in parts]}]}
        self.call("POST", "/api/v1/artifact-versions", body, status=422, code=3422)
        body["files"][0]["sha256"] = sha(data)
        v = self.call("POST", "/api/v1/artifact-versions", body, status=201)
        status, got, headers = self.server.request("GET", f"/api/v1/artifact-versions/{v['id']}/files/w.bin")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.assertIn('filename="w.bin"', headers["Content-Disposition"])
        self.assertEqual(sha(got), sha(data))

    def test_file_and_zip_downloads(self):
        files = {"model/weights.bin": os.urandom(3000), "README.md": "# ünïcode\n".encode(), "empty": b"",
                 "é/ü.txt": "non-ASCII names".encode()}
        v = self.commit("api-zip", files, type="model")
        status, body, headers = self.server.request("GET", f"/api/v1/artifact-versions/{v['id']}/zip")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/zip")
        self.assertIn('filename="api-zip-v0.zip"', headers["Content-Disposition"])
        z = zipfile.ZipFile(io.BytesIO(body))
        self.assertEqual(sorted(z.namelist()), sorted("api-zip-v0/" + p for p in files))
        for p, d in files.items():
            self.assertEqual(z.read("api-zip-v0/" + p), d)  # names read back as written (UTF-8 flag set)
        status, body, _ = self.server.request("GET", f"/api/v1/artifact-versions/{v['id']}/files/model/weights.bin")
        self.assertEqual((status, body), (200, files["model/weights.bin"]))
        status, body, _ = self.server.request("GET", f"/api/v1/artifact-versions/{v['id']}/files/empty")
        self.assertEqual((status, body), (200, b""))
        self.call("GET", f"/api/v1/artifact-versions/{v['id']}/files/nope", status=404, code=3404)
        self.call("GET", f"/api/v1/artifact-versions/{v['id']}/files/..%2F..%2Fetc%2Fpasswd", status=422, code=3422)
        self.call("GET", "/api/v1/artifact-versions/999999/zip", status=404, code=3404)
        self.call("GET", "/api/v1/artifact-versions/abc/zip", status=422, code=3422)

    def test_aliases_lineage_and_delete(self):
        producer = self.new_run("artifacts")["id"]
        consumer = self.new_run("artifacts")["id"]
        v = self.commit("api-lineage", {"d": b"data"}, experiment_id=producer)
        used = self.call("POST", "/api/v1/artifacts/api-lineage/latest/use", {"experiment_id": consumer})
        self.assertEqual([u["id"] for u in used["used_by"]], [consumer])
        self.call("POST", "/api/v1/artifacts/api-lineage/latest/use", {"experiment_id": "x"}, status=422, code=3422)
        self.call("POST", "/api/v1/artifacts/api-lineage/latest/use", {}, status=422, code=3422)
        self.call("POST", "/api/v1/artifacts/api-lineage/v9/use", {"experiment_id": consumer}, status=404, code=3404)
        of_consumer = self.call("GET", f"/api/v1/experiments/{consumer}/artifacts")
        self.assertEqual(([x["ref"] for x in of_consumer["produced"]], [x["ref"] for x in of_consumer["used"]]),
                         ([], ["api-lineage:v0"]))
        self.assertEqual([x["ref"] for x in self.call("GET", f"/api/v1/experiments/{producer}/artifacts")["produced"]],
                         ["api-lineage:v0"])
        got = self.call("POST", f"/api/v1/artifact-versions/{v['id']}/aliases", {"alias": "golden"})
        self.assertEqual(got["aliases"], ["latest", "golden"])
        self.call("POST", f"/api/v1/artifact-versions/{v['id']}/aliases", {"alias": "latest"}, status=422, code=3422)
        self.call("POST", f"/api/v1/artifact-versions/{v['id']}/aliases", {"alias": 3}, status=422, code=3422)
        self.assertEqual(self.call("DELETE", f"/api/v1/artifact-versions/{v['id']}/aliases/golden")["aliases"], ["latest"])
        self.call("DELETE", f"/api/v1/artifact-versions/{v['id']}/aliases/golden", status=404, code=3404)
        # The producing run deleted: the version stays, naming a deleted run.
        self.call("DELETE", f"/api/v1/experiments/{producer}")
        after = self.call("GET", "/api/v1/artifacts/api-lineage/v0")
        self.assertEqual(after["produced_by"]["deleted"], True)
        self.assertIsNone(after["produced_by"]["name"])
        self.call("DELETE", f"/api/v1/artifact-versions/{v['id']}")
        self.assertEqual(self.call("GET", "/api/v1/artifacts/api-lineage")["versions"], [])
        self.assertNotIn("api-lineage", [a["name"] for a in self.call("GET", "/api/v1/artifacts")["artifacts"]])
        status, html = self.server.html("/artifacts/api-lineage")  # where the page's Delete leads
        self.assertEqual(status, 200)
        self.assertIn("Every version of this artifact was deleted", html)
        # Every version deleted: the next is v1, so "api-lineage:v0" never means other content.
        self.assertEqual(self.commit("api-lineage", {"d": b"other data"})["ref"], "api-lineage:v1")
        self.call("GET", "/api/v1/artifacts/api-lineage/v0", status=404, code=3404)

    def test_registry(self):
        a = self.commit("api-weights", {"w": b"1"}, type="model")
        b = self.commit("api-weights", {"w": b"2"}, type="model")
        m0 = self.call("POST", "/api/v1/registry/models/api-clf/versions", {"artifact": "api-weights:v0",
                                                                           "aliases": ["production"]})
        self.assertEqual((m0["ref"], m0["artifact"]["id"], m0["aliases"]), ("api-clf:v0", a["id"], ["latest", "production"]))
        m1 = self.call("POST", "/api/v1/registry/models/api-clf/versions", {"artifact_version_id": b["id"],
                                                                           "aliases": ["staging"], "description": "b"})
        self.assertEqual(m1["version"], 1)
        model = self.call("GET", "/api/v1/registry/models/api-clf")
        self.assertEqual((model["version_count"], model["aliases"]), (2, {"production": 0, "staging": 1}))
        self.assertEqual([v["version"] for v in model["versions"]], [1, 0])
        # Promote: production moves to v1.
        moved = self.call("PUT", "/api/v1/registry/models/api-clf/aliases/production", {"version": 1})
        self.assertEqual(moved["aliases"], {"production": 1, "staging": 1})
        self.assertEqual(self.call("GET", "/api/v1/registry/models/api-clf/versions/production")["artifact"]["id"], b["id"])
        self.assertEqual(self.call("GET", "/api/v1/registry/models/api-clf/versions/v0")["artifact"]["id"], a["id"])
        self.call("PUT", "/api/v1/registry/models/api-clf/aliases/production", {"version": 7}, status=404, code=3404)
        self.call("PUT", "/api/v1/registry/models/api-clf/aliases/latest", {"version": 0}, status=422, code=3422)
        self.call("PUT", "/api/v1/registry/models/api-clf/aliases/prod", {"version": "1"}, status=422, code=3422)
        self.call("DELETE", "/api/v1/registry/models/api-clf/aliases/staging")
        self.call("DELETE", "/api/v1/registry/models/api-clf/aliases/staging", status=404, code=3404)
        self.assertEqual(self.call("PATCH", "/api/v1/registry/models/api-clf", {"description": "MNIST"})["description"],
                         "MNIST")
        self.call("PATCH", "/api/v1/registry/models/api-clf", {"description": "x" * 5000}, status=422, code=3422)
        # The registry protects what it points at.
        self.call("DELETE", f"/api/v1/artifact-versions/{b['id']}", status=409, code=3409)
        self.call("POST", "/api/v1/registry/models/api-clf/versions", {"artifact": "api-weights:v9"}, status=404, code=3404)
        self.call("POST", "/api/v1/registry/models/bad%20name/versions", {"artifact": "api-weights:v0"}, status=422, code=3422)
        self.call("POST", "/api/v1/registry/models/api-clf/versions", {}, status=422, code=3422)
        self.call("GET", "/api/v1/registry/models/nope", status=404, code=3404)
        self.call("DELETE", "/api/v1/registry/models/api-clf/versions/v1")
        self.call("DELETE", f"/api/v1/artifact-versions/{b['id']}")
        self.call("DELETE", "/api/v1/registry/models/api-clf/versions/v0")
        model = next(m for m in self.call("GET", "/api/v1/registry/models")["models"] if m["name"] == "api-clf")
        self.assertEqual((model["version_count"], model["aliases"]), (0, {}))
        # Numbers go on after the last version was deleted: "api-clf:v0" keeps meaning what it meant.
        again = self.call("POST", "/api/v1/registry/models/api-clf/versions", {"artifact": "api-weights:v0"})
        self.assertEqual(again["ref"], "api-clf:v2")

    def test_damaged_blob_is_never_served_and_is_repaired_by_logging_again(self):
        data = os.urandom(5000)
        v = self.commit("api-damaged", {"one.bin": data})
        blob = os.path.join(self.server.data_dir, "artifacts", "blobs", sha(data)[:2], sha(data))
        with open(blob, "r+b") as f:
            f.truncate(100)
        self.call("GET", f"/api/v1/artifact-versions/{v['id']}/files/one.bin", status=500, code=3500)
        self.call("GET", f"/api/v1/artifact-versions/{v['id']}/zip", status=500, code=3500)
        # Logging the content again: the commit finds the damage, asks for the chunk, and the upload repairs it.
        body = {"name": "api-damaged", "type": "dataset",
                "files": [{"path": "one.bin", "size": len(data), "sha256": sha(data)}]}
        self.call("POST", "/api/v1/artifact-versions", body, status=409, code=3409)
        self.assertEqual(self.call("POST", "/api/v1/artifact-blobs/missing", {"digests": [sha(data)]})["missing"],
                         [sha(data)])
        self.put_blob(data)
        self.assertEqual(self.call("POST", "/api/v1/artifact-versions", body)["id"], v["id"])
        status, got, _ = self.server.request("GET", f"/api/v1/artifact-versions/{v['id']}/files/one.bin")
        self.assertEqual((status, got), (200, data))
        # A PUT of the right bytes also replaces a damaged copy directly.
        with open(blob, "r+b") as f:
            f.write(b"XXXX")
        self.put_blob(data)
        with open(blob, "rb") as f:
            self.assertEqual(f.read(), data)


class ArtifactRestartTest(unittest.TestCase):
    def test_orphan_blobs_are_swept_at_start_and_versions_survive(self):
        server = LoupeServer()
        try:
            server.start()
            data, orphan = b"kept bytes", b"orphan bytes"
            for blob in (data, orphan):
                status, _, _ = server.request("PUT", f"/api/v1/artifact-blobs/{sha(blob)}", raw=blob)
                self.assertEqual(status, 200)
            status, v, _ = server.request("POST", "/api/v1/artifact-versions", body={
                "name": "sweep", "type": "dataset",
                "files": [{"path": "d", "size": len(data), "sha256": sha(data)}]})
            self.assertEqual(status, 201, v)
            server.stop()
            server.start()
            status, got, _ = server.request("GET", f"/api/v1/artifact-versions/{v['data']['id']}/files/d")
            self.assertEqual((status, got), (200, data))
            status, _, _ = server.request("GET", f"/api/v1/artifact-blobs/{sha(orphan)}")
            self.assertEqual(status, 404)
            # A second server on the same data folder is refused: its start-up sweep would
            # delete chunks the first one is receiving.
            binary = os.path.abspath(os.environ.get("LOUPE_BIN", "build/loupe"))
            second = subprocess.run([binary, "serve", "--port", "0", "--data-dir", server.data_dir],
                                    capture_output=True, text=True, timeout=60)
            self.assertNotEqual(second.returncode, 0)
            self.assertIn("another `loupe serve` is using the data folder", second.stderr)
            status, got, _ = server.request("GET", f"/api/v1/artifact-versions/{v['data']['id']}/files/d")
            self.assertEqual((status, got), (200, data))
        finally:
            server.stop()
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
