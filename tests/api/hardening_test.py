"""Issue 9: no request, stored row or file can crash the server. Each test reproduces an
attack that used to kill the process and checks that it now gets a clear 4xx (or is
skipped with a message) while the server keeps serving."""
import json
import os
import sqlite3
import sys
import time
import unittest

from loupe_server import LoupeServer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "claas"))
import claas_fixtures as fx  # noqa: E402

DEEP_ARRAY = "[" * 100000 + "]" * 100000  # 200 KB: overflowed the stack when serialised


def deep_object(depth):
    return '{"a":' * depth + "1" + "}" * depth


class DeepJsonTest(unittest.TestCase):
    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)

    def alive(self):
        status, body, _ = self.server.request("GET", "/api/v1/health")
        self.assertEqual(status, 200, body)
        self.assertIsNone(self.server.proc.poll(), self.server.log()[-2000:])

    def post_raw(self, method, path, text, ctype="application/json"):
        return self.server.request(method, path, raw=text.encode(), headers={"Content-Type": ctype})

    def test_deep_bodies_are_refused_with_the_limit_named(self):
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "p", "run_id": "r"})
        eid = body["data"]["id"]
        deep_config = '{"project": "p", "config": ' + deep_object(60000) + "}"
        attacks = [
            ("POST", "/api/v1/experiments", deep_config, "application/json"),
            ("POST", "/api/v1/experiments", DEEP_ARRAY, "text/plain"),
            ("PUT", f"/api/v1/experiments/{eid}/config", '{"config": ' + deep_object(60000) + "}", "application/json"),
            ("PUT", f"/api/v1/experiments/{eid}/system", '{"system": ' + deep_object(60000) + "}", "application/json"),
            ("POST", f"/api/v1/experiments/{eid}/console", '{"lines": ' + DEEP_ARRAY + "}", "application/json"),
            ("POST", f"/api/v1/experiments/{eid}/metrics", '{"steps": ' + DEEP_ARRAY + "}", "application/json"),
            ("POST", "/api/v1/run/", DEEP_ARRAY, "application/json"),
            ("POST", "/api/v1/job/", '{"job_type": "ModelJob", "kwargs": ' + deep_object(60000) + "}",
             "application/json"),
            ("POST", "/api/v1/explorer/", DEEP_ARRAY, "text/plain"),
            ("PATCH", f"/api/v1/experiment/{eid}", DEEP_ARRAY, "application/json"),
        ]
        for method, path, text, ctype in attacks:
            with self.subTest(path=path, ctype=ctype):
                status, body, _ = self.post_raw(method, path, text, ctype)
                self.assertIn(status, (400, 422), body)
                self.alive()
        status, body, _ = self.post_raw("POST", "/api/v1/experiments", deep_config)
        self.assertEqual(status, 422)
        self.assertIn("nested deeper than 64 levels", body["message"])
        # 64 levels are still fine.
        status, body, _ = self.post_raw("PUT", f"/api/v1/experiments/{eid}/config",
                                        '{"config": ' + deep_object(63) + "}")
        self.assertEqual(status, 200, body)

    def test_a_deep_value_stored_by_an_older_version_cannot_crash_reads(self):
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "old", "run_id": "deep"})
        eid = body["data"]["id"]
        port = self.server.port
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data_dir, "loupe.db"))
        db.execute("UPDATE experiments SET config=?, system=? WHERE id=?",
                   (deep_object(55000), deep_object(55000), eid))
        db.commit()
        db.close()
        self.server.port = port
        self.server.start()
        for path in (f"/api/v1/experiments/{eid}", "/api/v1/projects", "/api/v1/project",
                     f"/api/v1/experiment/{eid}", "/", "/projects/1", f"/experiments/{eid}"):
            with self.subTest(path=path):
                status, _, _ = self.server.request("GET", path)
                self.assertIn(status, (200, 404), path)
                self.alive()
        status, body, _ = self.server.request("PUT", f"/api/v1/experiments/{eid}/config", {"config": {"lr": 1}})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.server.request("GET", f"/api/v1/experiments/{eid}")[1]["data"]["config"], {"lr": 1})

    def test_a_deep_claas_feedback_file_is_skipped_not_a_crash_loop(self):
        root = self.server.data_dir
        self.server.stop()
        fb = os.path.join(root, "feedback")
        fx.write_feedback(fb, 0, fx.feedback_log(fx.request_id(0), fx.timestamp(0), mode="local", step=1))
        for i, where in ((1, "metadata"), (2, "training")):
            log = fx.feedback_log(fx.request_id(i), fx.timestamp(i), mode="local", step=i + 1)
            if where == "metadata":
                log["distill_result"]["metadata"]["deep"] = "@DEEP@"
            else:
                log["requests"][0]["training"]["deep"] = "@DEEP@"
            name = fx.write_feedback(fb, i, log)
            path = os.path.join(fb, name)
            with open(path) as f:
                text = f.read().replace('"@DEEP@"', DEEP_ARRAY)
            with open(path, "w") as f:
                f.write(text)
        self.server.start()
        time.sleep(1.0)  # the importer's first pass runs at start
        status, _, _ = self.server.request("GET", "/claas")
        self.assertIn(status, (200, 404))
        self.alive()
        status, body, _ = self.server.request("GET", "/v1/dashboard")
        self.assertEqual(status, 200)
        self.alive()


class SmallDefectsTest(unittest.TestCase):
    """Issue 9 item 7: out-of-range times, spreadsheet formulas in exports, framing."""

    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)
        _, body, _ = self.server.request("POST", "/api/v1/experiments",
                                         {"project": "p", "name": "=HYPERLINK(\"http://evil\",\"x\")"})
        self.eid = body["data"]["id"]

    def test_times_out_of_range_are_refused_not_stored_wrapped(self):
        for ts in (1e300, 1e12, -1):
            status, body, _ = self.server.request("POST", f"/api/v1/experiments/{self.eid}/metrics",
                                                  {"steps": [{"step": 0, "ts": ts, "values": {"x": 1}}]})
            self.assertEqual(status, 422, (ts, body))
            self.assertIn("ts must be Unix time", body["message"])
            status, body, _ = self.server.request("POST", f"/api/v1/experiments/{self.eid}/console",
                                                  {"lines": [{"text": "x", "ts": ts}]})
            self.assertEqual(status, 422, (ts, body))
        status, body, _ = self.server.request("POST", f"/api/v1/experiments/{self.eid}/metrics",
                                              {"steps": [{"step": 0, "ts": 1.7e9, "values": {"x": 1}}]})
        self.assertEqual(status, 200, body)
        got = self.server.request("GET", f"/api/v1/experiments/{self.eid}/series?key=x")[1]["data"]["points"]
        self.assertEqual(got[0][2], 1.7e9)

    def test_a_path_escape_that_is_not_utf8_is_a_bad_request(self):
        for path in ("/api/v1/projects/%FF", "/projects/%FF", "/api/v1/artifacts/%C3%28/latest",
                     f"/api/v1/media/%FF?experiment_id={self.eid}"):
            status, body, _ = self.server.request("GET", path)
            self.assertEqual(status, 400, (path, body))
        status, body, _ = self.server.request("GET", "/api/v1/projects/%FF")
        self.assertEqual((body["code"], body["message"]), (3400, "the path does not decode to valid UTF-8"))
        self.assertEqual(self.server.request("GET", "/api/v1/health")[0], 200)  # and the server goes on

    def test_csv_exports_keep_formulas_as_text(self):
        pid = self.server.request("GET", "/api/v1/projects")[1]["data"]["projects"][0]["id"]
        status, body, _ = self.server.request("GET", f"/projects/{pid}/experiments.csv")
        self.assertEqual(status, 200)
        text = body.decode()
        self.assertIn('"\'=HYPERLINK(""http://evil"",""x"")"', text)
        self.assertNotIn(',"=HYPERLINK', text)

    def test_pages_cannot_be_framed_by_other_origins_and_run_only_loupes_scripts(self):
        for path in ("/", f"/experiments/{self.eid}", "/no-such-page"):
            _, _, headers = self.server.request("GET", path)
            csp = headers.get("Content-Security-Policy", "")
            self.assertIn("frame-ancestors 'self'", csp, path)
            self.assertIn("script-src 'self'", csp, path)
            self.assertEqual(headers.get("X-Frame-Options"), "SAMEORIGIN", path)


class UntrustedFilesTest(unittest.TestCase):
    """Issue 9 item 7: a FIFO in the import root blocked a handler forever; CLaaS files
    symlinked to outside their folders were read."""

    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="loupe-files-")
        self.addCleanup(__import__("shutil").rmtree, self.dir, True)
        os.makedirs(os.path.join(self.dir, "data", "imports"))
        os.mkfifo(os.path.join(self.dir, "data", "imports", "pipe.csv"))
        fb = os.path.join(self.dir, "data", "feedback")
        fx.write_feedback(fb, 0, fx.feedback_log(fx.request_id(0), fx.timestamp(0), mode="local", step=1))
        outside = os.path.join(self.dir, "outside.json")
        fx.write_feedback(self.dir, 1, fx.feedback_log(fx.request_id(1), fx.timestamp(1), mode="local", step=2),
                          name="outside.json")
        os.symlink(outside, os.path.join(fb, "20990101T000000-linked.json"))
        self.server = LoupeServer(cwd=self.dir, data_dir="./data").start()
        self.addCleanup(self.server.cleanup)

    def test_a_fifo_in_the_import_root_is_refused_at_once(self):
        start = time.time()
        status, body, _ = self.server.post("/api/v1/dataset/", {"path": "./data/imports/pipe.csv"})
        self.assertLess(time.time() - start, 5)
        self.assertIn(status, (400, 422), body)
        self.assertIn("not a regular file", body["message"])
        self.assertEqual(self.server.request("GET", "/api/v1/health")[0], 200)

    def test_errors_do_not_name_server_paths(self):
        from loupe_server import multipart
        body, ctype = multipart({"name": "d"}, {"file": ("d.csv", b"a,b\n1,2\n")})
        status, out, _ = self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
        self.assertIn(status, (200, 201), out)
        did = out["data"]["id"]
        folder = os.path.join(self.dir, "data", "datasets", str(did))
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        status, out, _ = self.server.request("GET", f"/api/v1/dataset/{did}/preview")
        self.assertGreaterEqual(status, 400)
        self.assertIn("data file is missing", out["message"])
        self.assertNotIn(self.dir, out["message"])
        self.assertNotIn("datasets/", out["message"])

    def test_markup_in_column_names_and_values_is_plain_text_in_figures(self):
        from loupe_server import multipart
        csv = b'"<a href=""javascript:alert(1)"">col</a>",n\n<b>x</b>,1\n<b>x</b>,2\ny,3\n'
        body, ctype = multipart({"name": "markup"}, {"file": ("m.csv", csv)})
        status, out, _ = self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
        self.assertIn(status, (200, 201), out)
        col = '<a href="javascript:alert(1)">col</a>'
        status, out, _ = self.server.request("POST", "/api/v1/explorer/", {
            "dataset_id": out["data"]["id"], "exploration_type": "BarCountExplorer", "columns": [col]})
        self.assertIn(status, (200, 201), out)
        eid = out["data"]["id"]
        deadline = time.time() + 30
        while time.time() < deadline:
            e = self.server.request("GET", f"/api/v1/explorer/{eid}")[1]["data"]
            if e["status"] in ("FINISHED", "ERROR"):
                break
            time.sleep(0.05)
        self.assertEqual(e["status"], "FINISHED", e)
        figure = json.dumps(self.server.request("GET", f"/api/v1/explorer/{eid}/results")[1]["data"]["data"])
        self.assertNotIn("<a", figure)
        self.assertNotIn("<b>", figure)
        self.assertIn("&lt;a href", figure)

    def test_a_feedback_file_linking_outside_its_folder_is_not_read(self):
        status, page, _ = self.server.request("GET", "/v1/dashboard")
        self.assertEqual(status, 200)
        text = page.decode()
        self.assertIn("links outside its folder", text)
        self.assertNotIn(fx.request_id(1), text)


class FreeDiskGuardTest(unittest.TestCase):
    """Issue 9 item 4: new data is refused with 507 before the disk is full, while reads,
    finishes and deletes keep working (so space can be reclaimed through Loupe)."""

    def test_new_data_is_refused_below_the_reserve_and_reads_and_deletes_work(self):
        server = LoupeServer().start()
        self.addCleanup(server.cleanup)
        _, body, _ = server.request("POST", "/api/v1/experiments", {"project": "p", "run_id": "r"})
        eid = body["data"]["id"]
        self.assertEqual(server.request("POST", f"/api/v1/experiments/{eid}/metrics",
                                        {"steps": [{"step": 0, "values": {"x": 1}}]})[0], 200)
        port = server.port
        server.stop()
        server.port = port
        server.extra_args = ["--min-free-mb", str(1 << 30)]  # a reserve larger than any disk
        server.start()
        refused = [
            ("POST", f"/api/v1/experiments/{eid}/metrics", {"steps": [{"step": 1, "values": {"x": 2}}]}),
            ("POST", f"/api/v1/experiments/{eid}/console", {"lines": [{"text": "hi"}]}),
            ("POST", "/api/v1/experiments", {"project": "p", "run_id": "new"}),
            ("POST", "/api/v1/dataset/samples/iris", None),
        ]
        for method, path, payload in refused:
            status, body, _ = server.request(method, path, payload)
            self.assertEqual(status, 507, (path, body))
            self.assertIn("MiB Loupe keeps in reserve", body["message"])
        status, body, _ = server.request("POST", f"/api/v1/experiments/{eid}/media?key=img&step=0&filename=a.png",
                                         raw=b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
        self.assertEqual(status, 507, body)
        self.assertEqual(server.request("GET", f"/api/v1/experiments/{eid}/series?key=x")[0], 200)
        self.assertEqual(server.request("POST", f"/api/v1/experiments/{eid}/finish", {"status": "finished"})[0], 200)
        self.assertEqual(server.request("DELETE", f"/api/v1/experiment/{eid}")[0], 200)


class QuotaTest(unittest.TestCase):
    """Issue 9 item 4: one client could fill the disk (1.5 GB of media in 10 s, 585 MB of
    console text, 9,211 experiments). Every kind of data now has a configurable quota;
    past it the write is refused whole with 413 and the flag that raises it, while what
    is within it, reads and deletes keep working. A partial metrics batch (what the SDK
    sends) loses only the keys past the key quota."""

    def setUp(self):
        self.server = LoupeServer(extra_args=["--max-keys", "3", "--max-console-mb", "1", "--max-media-mb", "1",
                                              "--max-experiments", "3", "--max-datasets", "1"]).start()
        self.addCleanup(self.server.cleanup)
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "q", "run_id": "one"})
        self.assertEqual(status, 201, body)
        self.eid = body["data"]["id"]

    def metrics(self, values, step=0):
        return self.server.request("POST", f"/api/v1/experiments/{self.eid}/metrics",
                                   {"steps": [{"step": step, "values": values}]})

    def test_keys_per_experiment(self):
        self.assertEqual(self.metrics({"a": 1, "b": 2, "c": 3})[0], 200)
        status, body, _ = self.metrics({"a": 1, "d": 4}, step=1)
        self.assertEqual(status, 413, body)
        self.assertIn("maximum of 3 keys", body["message"])
        self.assertIn("--max-keys", body["message"])
        self.assertEqual(self.metrics({"a": 5, "b": 6}, step=2)[0], 200)  # known keys still take points
        status, body, _ = self.server.request("POST", f"/api/v1/experiments/{self.eid}/metrics",
                                              {"partial": True, "steps": [{"step": 3, "values": {"a": 7, "e": 8}}]})
        self.assertEqual(status, 200, body)
        self.assertEqual([r["key"] for r in body["data"]["refused"]], ["e"])
        self.assertEqual(body["data"]["refused_points"], 1)
        keys = self.server.get(f"/api/v1/experiments/{self.eid}/keys")[1]["data"]["keys"]
        self.assertEqual(sorted(k["key"] if isinstance(k, dict) else k for k in keys), ["a", "b", "c"])
        points = self.server.get(f"/api/v1/experiments/{self.eid}/series?key=a")[1]["data"]["points"]
        self.assertEqual([p[0] for p in points], [0, 2, 3])  # the refused batch wrote nothing

    def test_console_bytes_per_experiment(self):
        line = "x" * 99
        batch = {"lines": [{"stream": "stdout", "text": line} for _ in range(6000)]}  # about 600 KB
        self.assertEqual(self.server.request("POST", f"/api/v1/experiments/{self.eid}/console", batch)[0], 200)
        status, body, _ = self.server.request("POST", f"/api/v1/experiments/{self.eid}/console", batch)
        self.assertEqual(status, 413, body)
        self.assertIn("--max-console-mb", body["message"])
        self.assertIn("holds 0.57 MiB (594000 bytes) of console text; this write of 594000 bytes would pass its "
                      "quota of 1.00 MiB (1048576 bytes)", body["message"])
        lines = self.server.get(f"/api/v1/experiments/{self.eid}/console?limit=100000")[1]["data"]["lines"]
        self.assertEqual(len(lines), 6000)

    def test_media_bytes_per_experiment_leave_no_file_behind(self):
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024)
        path = f"/api/v1/experiments/{self.eid}/media?key=img&step=0&filename=a.png"
        self.assertEqual(self.server.request("POST", path, raw=png)[0], 200)
        status, body, _ = self.server.request("POST", path.replace("step=0", "step=1"), raw=png)
        self.assertEqual(status, 413, body)
        self.assertIn("--max-media-mb", body["message"])
        media_dir = os.path.join(self.server.data_dir, "media", str(self.eid))
        self.assertEqual(len(os.listdir(media_dir)), 1)

    def test_experiments_and_datasets_per_server(self):
        for run in ["two", "three"]:
            self.assertEqual(self.server.request("POST", "/api/v1/experiments", {"project": "q", "run_id": run})[0], 201)
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "q", "run_id": "four"})
        self.assertEqual(status, 413, body)
        self.assertIn("maximum of 3 experiments", body["message"])
        # Resuming an existing run is not a new experiment; deleting one makes room.
        self.assertEqual(self.server.request("POST", "/api/v1/experiments", {"project": "q", "run_id": "two"})[0], 200)
        self.assertEqual(self.server.request("DELETE", f"/api/v1/experiment/{self.eid}")[0], 200)
        self.assertEqual(self.server.request("POST", "/api/v1/experiments", {"project": "q", "run_id": "four"})[0], 201)
        from loupe_server import multipart
        body, ctype = multipart({"name": "d1"}, {"file": ("d1.csv", b"a,b\n1,2\n")})
        self.assertIn(self.server.request("POST", "/api/v1/dataset/", raw=body,
                                          headers={"Content-Type": ctype})[0], (200, 201))
        body, ctype = multipart({"name": "d2"}, {"file": ("d2.csv", b"a,b\n1,2\n")})
        status, answer, _ = self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
        self.assertEqual(status, 413, answer)
        self.assertIn("--max-datasets", answer["message"])
        datasets = os.listdir(os.path.join(self.server.data_dir, "datasets"))
        self.assertEqual(len(datasets), 1, datasets)  # the refused upload left no folder


class TempFilesTest(unittest.TestCase):
    """Issue 9 item 4: a full disk or a crash left `.tmp` files that nothing removed."""

    def test_temporary_files_a_crash_left_are_removed_at_start(self):
        import tempfile
        data = tempfile.mkdtemp(prefix="loupe-tmp-")
        outside = tempfile.NamedTemporaryFile(suffix=".tmp", delete=False)
        outside.close()
        self.addCleanup(os.unlink, outside.name)
        os.makedirs(os.path.join(data, "media", "7"))
        left = [os.path.join(data, "media", "7", "a.png.tmp"), os.path.join(data, "secret.key.tmp")]
        for path in left:
            with open(path, "wb") as f:
                f.write(b"half")
        kept = os.path.join(data, "notes.txt.tmp.txt")  # only names ending in .tmp go
        with open(kept, "wb") as f:
            f.write(b"whole")
        os.symlink(outside.name, os.path.join(data, "link.tmp"))
        server = LoupeServer(data_dir=data).start()
        self.addCleanup(server.cleanup)
        self.addCleanup(lambda: __import__("shutil").rmtree(data, True))
        for path in left:
            self.assertFalse(os.path.exists(path), path)
        self.assertTrue(os.path.exists(kept))
        self.assertTrue(os.path.exists(outside.name))  # a link is not followed out of the data folder
        self.assertIn("removed 2 temporary file(s)", server.log())


# Item 2 (descriptors, the connection cap) and item 3 (what the HTTP layer refuses):
# http_limits_test.py.


if __name__ == "__main__":
    unittest.main()
