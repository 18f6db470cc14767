"""Artifacts and the model registry from the Python SDK against a live server: a folder
logged and downloaded back byte for byte, dedup (nothing sent twice), lineage between
runs, a file larger than one chunk, the registry with aliases, and clear errors."""
import hashlib
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import SharedServerTest  # noqa: E402

import loupe  # noqa: E402
from loupe import _artifacts, _http  # noqa: E402


def tree(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            full = os.path.join(dirpath, f)
            with open(full, "rb") as fh:
                out[os.path.relpath(full, root).replace(os.sep, "/")] = hashlib.sha256(fh.read()).hexdigest()
    return out


class ArtifactSdkTest(SharedServerTest):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loupe-artifacts-")
        self.spool = os.path.join(self.tmp, "spool")

    def tearDown(self):
        if loupe.run is not None and not loupe.run.finished:
            loupe.run.finish(timeout=1)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def init(self, **extra):
        return loupe.init(project="sdk-artifacts", host=self.server.url, spool_dir=self.spool, flush_interval=0.1,
                          capture_console=False, system_metrics_interval=0, **extra)

    def folder(self, name, files):
        root = os.path.join(self.tmp, name)
        for rel, data in files.items():
            path = os.path.join(root, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        return root

    def test_folder_round_trip_dedup_and_lineage(self):
        root = self.folder("ckpt", {"weights.bin": os.urandom(100000), "config/model.json": b'{"layers": 3}',
                                    "empty.txt": b""})
        producer = self.init(name="train")
        puts = []
        real_request = _http.request

        def counting(base, method, path, *a, **k):
            if method == "PUT" and path.startswith("/api/v1/artifact-blobs/"):
                puts.append(path)
            return real_request(base, method, path, *a, **k)

        with mock.patch.object(_http, "request", counting):
            art = producer.log_artifact(root, name="sdk-ckpt", type="model", aliases=["best"],
                                        metadata={"val_acc": 0.91})
            self.assertEqual((art.ref, art.created, art.aliases), ("sdk-ckpt:v0", True, ["latest", "best"]))
            self.assertEqual(len(puts), 3)
            again = producer.log_artifact(root, name="sdk-ckpt", type="model")
            self.assertEqual((again.ref, again.created), ("sdk-ckpt:v0", False))
            self.assertEqual(len(puts), 3)  # nothing sent twice
        self.assertEqual(art.size, 100000 + 13)
        self.assertEqual(art.metadata, {"val_acc": 0.91})
        producer_id = producer.id
        producer.finish()

        consumer = self.init(name="eval")
        used = consumer.use_artifact("sdk-ckpt:best")
        out = used.download(os.path.join(self.tmp, "dl"))
        self.assertEqual(tree(out), tree(root))
        self.assertEqual(used.produced_by["id"], producer_id)
        # A second download finds the files in place and fetches nothing.
        with mock.patch.object(_http, "fetch", side_effect=AssertionError("fetched again")):
            used.download(os.path.join(self.tmp, "dl"))
        # A damaged local file is fetched again.
        with open(os.path.join(out, "weights.bin"), "r+b") as f:
            f.write(b"X")
        used.download(os.path.join(self.tmp, "dl"))
        self.assertEqual(tree(out), tree(root))
        status, p, _ = self.server.request("GET", f"/api/v1/experiments/{consumer.id}/artifacts")
        self.assertEqual([v["ref"] for v in p["data"]["used"]], ["sdk-ckpt:v0"])
        consumer.finish()

    def test_file_larger_than_a_chunk(self):
        big = os.path.join(self.tmp, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(_artifacts.CHUNK_BYTES + 12345))
        run = self.init()
        art = run.log_artifact(big, type="dataset")
        self.assertEqual(art.ref, "big.bin:v0")  # named after the file
        detail = self.server.request("GET", "/api/v1/artifacts/big.bin/v0")[1]["data"]
        self.assertEqual(len(detail["files"][0]["chunks"]), 2)
        path = loupe.use_artifact("big.bin:latest").file("big.bin", os.path.join(self.tmp, "dl"))
        with open(path, "rb") as a, open(big, "rb") as b:
            self.assertEqual(hashlib.sha256(a.read()).digest(), hashlib.sha256(b.read()).digest())
        run.finish()

    def test_registry_register_promote_and_use(self):
        run = self.init()
        v0 = run.log_artifact(self.folder("m0", {"w": b"first"}), name="sdk-model", type="model")
        v1 = run.log_artifact(self.folder("m1", {"w": b"second"}), name="sdk-model", type="model")
        run.finish()
        mv = loupe.register_model("sdk-model:v0", "sdk-classifier", aliases=["production"], host=self.server.url)
        self.assertEqual((mv.ref, mv.artifact.ref), ("sdk-classifier:v0", "sdk-model:v0"))
        mv1 = loupe.register_model(v1, "sdk-classifier", aliases=["staging"], host=self.server.url)
        self.assertEqual(mv1.version, 1)
        prod = loupe.use_model("sdk-classifier:production", host=self.server.url)
        self.assertEqual(prod.artifact.id, v0.id)
        with open(os.path.join(prod.download(os.path.join(self.tmp, "prod")), "w"), "rb") as f:
            self.assertEqual(f.read(), b"first")
        self.assertEqual(loupe.use_model("sdk-classifier", host=self.server.url).version, 1)  # latest

    def test_symlinks_neither_loop_nor_escape(self):
        root = self.folder("looped", {"f.txt": b"once"})
        os.symlink(".", os.path.join(root, "again"))  # a loop: walked once
        os.symlink(root, os.path.join(root, "self"))
        run = self.init()
        art = run.log_artifact(root, name="sdk-looped")
        self.assertEqual([f["path"] for f in art.files], ["f.txt"])
        # A download never writes through a symlinked folder to outside its root.
        nested = run.log_artifact(self.folder("nested", {"sub/evil.txt": b"x"}), name="sdk-nested")
        target = os.path.join(self.tmp, "dl-target")
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(target)
        os.makedirs(outside)
        os.symlink(outside, os.path.join(target, "sub"))
        with self.assertRaisesRegex(loupe.ArtifactError, "would leave"):
            nested.download(target)
        self.assertEqual(os.listdir(outside), [])
        run.finish()

    def test_log_model_registers_it(self):
        run = self.init()
        art = run.log_model(self.folder("lm", {"model.pt": b"weights"}), name="sdk-lm", aliases=["best"],
                            metadata={"acc": 0.5}, registered_model_name="sdk-lm-registry",
                            registry_aliases=["staging"])
        self.assertEqual((art.type, art.aliases), ("model", ["latest", "best"]))
        self.assertEqual((art.registered.ref, art.registered.aliases), ("sdk-lm-registry:v0", ["latest", "staging"]))
        self.assertEqual(loupe.use_model("sdk-lm-registry:staging", host=self.server.url).artifact.id, art.id)
        run.finish()

    def test_errors_are_clear(self):
        run = self.init()
        with self.assertRaises(FileNotFoundError):
            run.log_artifact(os.path.join(self.tmp, "nothing-here"))
        with self.assertRaises(ValueError):
            run.log_artifact(self.folder("x", {"a": b"1"}), name="bad name")
        os.makedirs(os.path.join(self.tmp, "empty-dir"))
        with self.assertRaises(ValueError):
            run.log_artifact(os.path.join(self.tmp, "empty-dir"))
        run.log_artifact(self.folder("typed", {"a": b"1"}), name="sdk-typed", type="dataset")
        with self.assertRaisesRegex(loupe.ArtifactError, "holds type 'dataset'"):
            run.log_artifact(self.folder("typed2", {"b": b"2"}), name="sdk-typed", type="model")
        with self.assertRaisesRegex(loupe.ArtifactError, "no version 'v42'"):
            run.use_artifact("sdk-typed:v42")
        run.finish()
        with self.assertRaises(RuntimeError):
            run.log_artifact(self.folder("late", {"a": b"1"}))
        disabled = self.init(mode="disabled")
        self.assertIsNone(disabled.log_artifact(self.folder("dis", {"a": b"1"})))  # as every method: nothing
        self.assertIsNone(disabled.log_model(self.folder("dis2", {"a": b"1"}), registered_model_name="x"))
        with self.assertRaisesRegex(RuntimeError, "disabled"):
            disabled.use_artifact("sdk-typed")  # nothing to hand back
        disabled.finish()
        offline = self.init(mode="offline")
        with self.assertRaisesRegex(RuntimeError, "offline"):
            offline.log_artifact(self.folder("off", {"a": b"1"}))
        offline.finish()


if __name__ == "__main__":
    unittest.main()
