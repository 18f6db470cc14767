"""Every route of the native and SwanLab APIs against a live server: happy paths and errors."""
import math
import unittest

from loupe_server import LoupeServer, SharedServerTest


class ApiTestBase(SharedServerTest):
    def call(self, method, path, body=None, raw=None, status=200, code=0):
        got_status, payload, headers = self.server.request(method, path, body=body, raw=raw)
        self.assertEqual(got_status, status, f"{method} {path}: {payload}")
        if isinstance(payload, dict):
            self.assertEqual(payload["code"], code, payload)
            if code == 0:
                self.assertEqual(payload["message"], "success")
        return payload.get("data") if isinstance(payload, dict) else payload

    def new_run(self, project="api", **extra):
        return self.call("POST", "/api/v1/experiments", {"project": project, **extra}, status=201)

    def log(self, exp_id, steps, seq=None, status=200, code=0):
        body = {"steps": steps}
        if seq is not None:
            body["seq"] = seq
        return self.call("POST", f"/api/v1/experiments/{exp_id}/metrics", body, status=status, code=code)


class NativeApiTest(ApiTestBase):
    def test_health(self):
        self.assertEqual(self.call("GET", "/api/v1/health")["status"], "ok")

    def test_create_resume_and_list(self):
        run = self.new_run("native-a", name="first", run_id="run-x1", config={"lr": 0.1, "opt": {"name": "adam"}})
        self.assertEqual(run["status"], "running")
        self.assertFalse(run["resumed"])
        self.call("POST", f"/api/v1/experiments/{run['id']}/finish", {"status": "finished"})
        again = self.call("POST", "/api/v1/experiments", {"project": "native-a", "run_id": "run-x1"})
        self.assertTrue(again["resumed"])
        self.assertEqual(again["id"], run["id"])
        self.assertEqual(again["status"], "running")
        projects = self.call("GET", "/api/v1/projects")["projects"]
        pid = next(p["id"] for p in projects if p["name"] == "native-a")
        exps = self.call("GET", f"/api/v1/projects/{pid}/experiments")["experiments"]
        self.assertEqual([e["name"] for e in exps], ["first"])
        self.assertEqual(exps[0]["config"]["opt"]["name"], "adam")

    def test_create_errors(self):
        self.call("POST", "/api/v1/experiments", raw=b"{not json", status=400, code=3400)
        self.call("POST", "/api/v1/experiments", raw=b"[1]", status=400, code=3400)
        self.call("POST", "/api/v1/experiments", {"run_id": "a/b"}, status=422, code=3422)
        self.call("POST", "/api/v1/experiments", {"config": [1, 2]}, status=422, code=3422)
        self.call("POST", "/api/v1/experiments", {"name": 5}, status=422, code=3422)
        self.call("POST", "/api/v1/experiments", {"project": "x" * 300}, status=422, code=3422)
        self.call("GET", "/api/v1/projects/999/experiments", status=404, code=3404)
        self.call("GET", "/api/v1/experiments/999", status=404, code=3404)
        self.call("GET", "/api/v1/experiments/abc", status=422, code=3422)

    def test_metrics_roundtrip_with_nonfinite_out_of_order_and_overwrite(self):
        run = self.new_run()
        ack = self.log(run["id"], [{"step": 2, "values": {"train/loss": 0.5, "acc": "NaN"}},
                                   {"step": 0, "values": {"train/loss": 1.0, "acc": "Infinity"}},
                                   {"step": 1, "values": {"train/loss": 9.0}}])
        self.assertEqual(ack["accepted"], 5)
        self.log(run["id"], [{"step": 1, "values": {"train/loss": 0.75}}])
        series = self.call("GET", f"/api/v1/experiments/{run['id']}/series?key=train/loss")
        self.assertEqual([p[0] for p in series["points"]], [0, 1, 2])
        self.assertEqual([p[1] for p in series["points"]], [1.0, 0.75, 0.5])
        self.assertEqual(series["max"], 1.0)
        acc = self.call("GET", f"/api/v1/experiments/{run['id']}/series?key=acc")
        self.assertEqual([p[1] for p in acc["points"]], ["Infinity", "NaN"])
        keys = self.call("GET", f"/api/v1/experiments/{run['id']}/keys")["keys"]
        self.assertEqual({k["key"] for k in keys}, {"train/loss", "acc"})

    def test_retried_batch_is_not_counted_twice(self):
        run = self.new_run()
        self.assertFalse(self.log(run["id"], [{"step": 0, "values": {"m": 1}}], seq=1)["duplicate"])
        dup = self.log(run["id"], [{"step": 0, "values": {"m": 1}}], seq=1)
        self.assertTrue(dup["duplicate"])
        self.assertEqual(dup["accepted"], 0)
        self.assertEqual(self.call("GET", f"/api/v1/experiments/{run['id']}/series?key=m")["count"], 1)

    def test_bad_batches_are_rejected_whole(self):
        run = self.new_run()
        rid = run["id"]
        cases = [
            ([{"step": 0, "values": {"ok": 1, "bad key!": 2}}], 422, "invalid key"),
            ([{"step": -1, "values": {"ok": 1}}], 422, "non-negative"),
            ([{"step": 1.5, "values": {"ok": 1}}], 422, "integer"),
            ([{"step": 0, "values": {"ok": "high"}}], 422, 'values["ok"]'),
            ([{"step": 0, "values": {"ok": None}}], 422, "number"),
            ([{"step": 0}], 422, "values is required"),
            ([{"step": 0, "values": {"a//b": 1}}], 422, "empty segment"),
            ([{"step": 2 ** 60, "values": {"ok": 1}}], 422, "2^53"),
        ]
        for steps, status, fragment in cases:
            _, payload, _ = self.server.request("POST", f"/api/v1/experiments/{rid}/metrics", body={"steps": steps})
            self.assertEqual(payload["code"], 3000 + status, payload)
            self.assertIn(fragment, payload["message"])
        self.assertEqual(self.call("GET", f"/api/v1/experiments/{rid}/keys")["keys"], [])
        self.log(999999, [{"step": 0, "values": {"m": 1}}], status=404, code=3404)
        big = b'{"steps":[' + b",".join(b'{"step":%d,"values":{"m":1}}' % i for i in range(1200000)) + b"]}"
        self.call("POST", f"/api/v1/experiments/{rid}/metrics", raw=big, status=413, code=3413)

    def test_series_errors(self):
        run = self.new_run()
        rid = run["id"]
        self.log(rid, [{"step": 0, "values": {"m": 1}}])
        self.call("GET", f"/api/v1/experiments/{rid}/series", status=422, code=3422)
        self.call("GET", f"/api/v1/experiments/{rid}/series?key=nope", status=404, code=3404)
        self.call("GET", f"/api/v1/experiments/{rid}/series?key=m&max_points=2", status=422, code=3422)
        self.call("GET", f"/api/v1/experiments/{rid}/series?key=m&from=5&to=1", status=422, code=3422)
        self.call("GET", f"/api/v1/experiments/{rid}/series?key=m&from=x", status=422, code=3422)

    def test_config_system_console_heartbeat_finish(self):
        run = self.new_run(config={"a": 1})
        rid = run["id"]
        self.call("PUT", f"/api/v1/experiments/{rid}/config", {"config": {"b": {"c": 2}}})
        self.call("PUT", f"/api/v1/experiments/{rid}/config", {"config": 3}, status=422, code=3422)
        self.call("PUT", f"/api/v1/experiments/{rid}/system",
                  {"system": {"os": "Linux", "cpu": {"cores": 2}}, "requirements": ["numpy==1.24"]})
        self.call("PUT", f"/api/v1/experiments/{rid}/system", {"system": {}, "requirements": [1]},
                  status=422, code=3422)
        exp = self.call("GET", f"/api/v1/experiments/{rid}")
        self.assertEqual(exp["config"], {"a": 1, "b": {"c": 2}})
        self.assertEqual(exp["system"]["cpu"]["cores"], 2)
        self.call("POST", f"/api/v1/experiments/{rid}/console",
                  {"seq": 1, "lines": [{"text": "epoch 1 loss 0.3"}, {"stream": "stderr", "text": "warn: x"}]})
        self.call("POST", f"/api/v1/experiments/{rid}/console", {"lines": [{"stream": "tty", "text": "x"}]},
                  status=422, code=3422)
        self.call("POST", f"/api/v1/experiments/{rid}/console", {"lines": [{"text": "x" * 70000}]},
                  status=413, code=3413)
        lines = self.call("GET", f"/api/v1/experiments/{rid}/console")["lines"]
        self.assertEqual([l["stream"] for l in lines], ["stdout", "stderr"])
        self.assertEqual(self.call("POST", f"/api/v1/experiments/{rid}/heartbeat")["status"], "running")
        self.call("POST", f"/api/v1/experiments/{rid}/finish", {"status": "exploded"}, status=422, code=3422)
        self.call("POST", f"/api/v1/experiments/{rid}/finish", {"status": 5}, status=422, code=3422)
        self.call("POST", f"/api/v1/experiments/{rid}/console", {"lines": [{"stream": 1, "text": "x"}]},
                  status=422, code=3422)
        self.assertEqual(self.call("POST", f"/api/v1/experiments/{rid}/finish", {"status": "crashed"})["status"],
                         "crashed")

    def test_media_upload_and_errors(self):
        run = self.new_run()
        rid = run["id"]
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        self.call("POST", f"/api/v1/experiments/{rid}/media?key=samples/img&step=3&filename=a.png", raw=png)
        self.call("POST", f"/api/v1/experiments/{rid}/media?key=samples/img&step=3&filename=a.exe", raw=png,
                  status=422, code=3422)
        self.call("POST", f"/api/v1/experiments/{rid}/media?key=samples/img&filename=a.png", raw=png,
                  status=422, code=3422)
        tag = self.call("GET", f"/api/v1/experiment/{rid}/tag/samples/img")
        self.assertEqual(tag["list"][0]["index"], 3)
        name = tag["list"][0]["data"][0]
        status, body, headers = self.server.request("GET", f"/api/v1/media/{name}?tag=samples/img&experiment_id={rid}")
        self.assertEqual((status, body), (200, png))
        self.assertEqual(headers["Content-Type"], "image/png")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.call("GET", f"/api/v1/media/..%2F..%2Floupe.db?experiment_id={rid}", status=404, code=3404)
        self.call("GET", f"/api/v1/media/{name}", status=422, code=3422)

    def test_chart_data_is_revalidated_with_etags(self):
        run = self.new_run()
        rid = run["id"]
        self.log(rid, [{"step": 0, "values": {"m": 1}}])
        for path in (f"/api/v1/experiment/{rid}/tag/m", f"/api/v1/experiments/{rid}/series?key=m"):
            status, _, headers = self.server.request("GET", path)
            etag = headers["ETag"]
            self.assertEqual(status, 200)
            status, body, _ = self.server.request("GET", path, headers={"If-None-Match": etag})
            self.assertEqual((status, body), (304, b""))
        _, _, h1 = self.server.request("GET", f"/api/v1/experiments/{rid}/series?key=m&max_points=10")
        self.assertNotEqual(h1["ETag"], etag, "the query is part of the tag")
        self.log(rid, [{"step": 0, "values": {"m": 2}}])  # an overwrite changes the data
        status, body, headers = self.server.request("GET", f"/api/v1/experiment/{rid}/tag/m",
                                                    headers={"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["list"][0]["data"], 2)

    def test_unknown_route_is_json_404(self):
        self.call("GET", "/api/v1/nothing/here", status=404, code=3404)


class SwanlabApiTest(ApiTestBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.server
        _, p, _ = srv.request("POST", "/api/v1/experiments", {"project": "swan", "name": "exp-a", "config": {"lr": 0.1}})
        cls.a = p["data"]["id"]
        _, p, _ = srv.request("POST", "/api/v1/experiments", {"project": "swan", "name": "exp-b"})
        cls.b = p["data"]["id"]
        steps = [{"step": s, "values": {"train/loss": 1.0 / (s + 1), "train/lr": 0.001, "epoch": s // 100}}
                 for s in range(5000)]
        steps[2500]["values"]["train/loss"] = 42.0  # a spike the downsampling must keep
        srv.request("POST", f"/api/v1/experiments/{cls.a}/metrics", {"steps": steps})
        srv.request("POST", f"/api/v1/experiments/{cls.b}/metrics",
                    {"steps": [{"step": 0, "values": {"train/loss": 3.0, "val/acc": 0.5}}]})
        srv.request("POST", f"/api/v1/experiments/{cls.a}/console",
                    {"lines": [{"text": "swanlab: Tracking run"}, {"text": "{'loss': 1.68, 'epoch': 0.02}"}]})
        srv.request("PUT", f"/api/v1/experiments/{cls.a}/system",
                    {"system": {"os": "Linux", "python": "3.11"}, "requirements": ["torch==1.13.1", "numpy"]})

    def project_id(self):
        return next(p["id"] for p in self.call("GET", "/api/v1/projects")["projects"] if p["name"] == "swan")

    def test_headers_on_every_api_response(self):
        _, _, headers = self.server.request("GET", f"/api/v1/experiment/{self.a}")
        self.assertGreaterEqual(float(headers["SwanLab-Process-Time"]), 0.0)
        self.assertTrue(headers["SwanLab-Version"])
        _, _, headers = self.server.request("GET", "/api/v1/experiment/987654")
        self.assertIn("SwanLab-Version", headers)

    def test_project(self):
        pid = self.project_id()
        data = self.call("GET", f"/api/v1/project?project_id={pid}")
        for field in ("id", "name", "description", "sum", "charts", "more", "pinned_opened", "hidden_opened",
                      "version", "create_time", "update_time", "logdir", "colors", "experiments"):
            self.assertIn(field, data)
        self.assertEqual(len(data["colors"]["light"]), 16)
        self.assertEqual(data["sum"], 2)
        exp = data["experiments"][0]
        for field in ("id", "experiment_id", "run_id", "name", "description", "sort", "status", "show", "light",
                      "dark", "pinned_opened", "hidden_opened", "more", "version", "create_time", "update_time",
                      "finish_time", "config"):
            self.assertIn(field, exp)
        self.assertEqual(exp["status"], 0)
        self.assertTrue(exp["create_time"].endswith("+00:00"))
        self.call("GET", "/api/v1/project?project_id=9999", status=404, code=3404)
        self.call("GET", "/api/v1/project?project_id=abc", status=422, code=3422)

    def test_project_summaries_and_charts(self):
        pid = self.project_id()
        s = self.call("GET", f"/api/v1/project/summaries?project_id={pid}")
        self.assertEqual(s["tags"][:3], ["train/loss", "train/lr", "epoch"])
        self.assertIn("val/acc", s["tags"])
        self.assertEqual(s["summaries"]["exp-b"]["train/loss"], 3.0)
        self.assertAlmostEqual(s["summaries"]["exp-a"]["train/loss"], 1.0 / 5000)
        c = self.call("GET", f"/api/v1/project/charts?project_id={pid}")
        loss = next(ch for ch in c["charts"] if ch["name"] == "train/loss")
        self.assertTrue(loss["multi"])
        self.assertEqual(loss["source"], ["exp-a", "exp-b"])
        self.assertEqual(loss["source_map"], {"exp-a": self.a, "exp-b": self.b})
        train = next(n for n in c["namespaces"] if n["name"] == "train")
        self.assertIn(loss["id"], train["charts"])

    def test_experiment_detail(self):
        e = self.call("GET", f"/api/v1/experiment/{self.a}")
        for field in ("id", "run_id", "name", "description", "sort", "status", "show", "more", "version",
                      "create_time", "update_time", "finish_time", "config", "system"):
            self.assertIn(field, e)
        self.assertEqual(e["config"], {"lr": 0.1})
        self.assertEqual(e["system"]["os"], "Linux")
        self.assertEqual(self.call("GET", f"/api/v1/experiment/{self.b}")["system"], {})
        self.call("GET", "/api/v1/experiment/424242", status=404, code=3404)
        self.call("GET", "/api/v1/experiment/x1", status=422, code=3422)

    def test_charts_and_namespaces(self):
        c = self.call("GET", f"/api/v1/experiment/{self.a}/chart")
        names = [ch["name"] for ch in c["charts"]]
        self.assertEqual(names, ["train/loss", "train/lr", "epoch"])
        chart = c["charts"][0]
        self.assertEqual(chart["reference"], "step")
        self.assertEqual(chart["source"], ["train/loss"])
        self.assertFalse(chart["multi"])
        self.assertEqual(chart["source_map"], {"train/loss": self.a})
        ns = c["namespaces"]
        self.assertEqual((ns[0]["id"], ns[0]["name"]), (-1, "pinned"))
        self.assertEqual((ns[-1]["id"], ns[-1]["name"]), (-2, "hidden"))
        self.assertEqual([n["name"] for n in ns[1:-1]], ["train", "default"])
        self.call("GET", "/api/v1/experiment/424242/chart", status=404, code=3404)

    def test_tag_downsamples_keeping_first_last_and_spike(self):
        t = self.call("GET", f"/api/v1/experiment/{self.a}/tag/train/loss")
        self.assertEqual(t["sum"], 5000)
        self.assertEqual(t["max"], 42.0)
        self.assertEqual(t["experiment_id"], self.a)
        lst = t["list"]
        self.assertLessEqual(len(lst), 1500)
        self.assertEqual(lst[0]["index"], 0)
        self.assertEqual(lst[-1]["index"], 4999)
        self.assertTrue(lst[-1]["_last"])
        self.assertNotIn("_last", lst[0])
        self.assertIn({"index": 2500, "data": 42.0}, [{"index": p["index"], "data": p["data"]} for p in lst])
        self.assertTrue(lst[0]["create_time"].endswith("+00:00"))
        self.call("GET", f"/api/v1/experiment/{self.a}/tag/train/nope", status=404, code=3404)
        self.call("GET", "/api/v1/experiment/424242/tag/train/loss", status=404, code=3404)

    def test_status_summary_requirements(self):
        st = self.call("GET", f"/api/v1/experiment/{self.a}/status")
        self.assertEqual(st["status"], 0)
        self.assertIsNone(st["finish_time"])
        self.assertEqual(len(st["charts"]["charts"]), 3)
        summ = self.call("GET", f"/api/v1/experiment/{self.a}/summary")["summaries"]
        self.assertEqual(summ[0]["key"], "train/loss")
        self.assertAlmostEqual(summ[0]["value"], 1.0 / 5000)
        self.assertEqual({s["key"]: s["value"] for s in summ}["epoch"], 49)
        reqs = self.call("GET", f"/api/v1/experiment/{self.a}/requirements")["requirements"]
        self.assertEqual(reqs, ["torch==1.13.1", "numpy"])
        self.call("GET", "/api/v1/experiment/424242/status", status=404, code=3404)
        self.call("GET", "/api/v1/experiment/424242/summary", status=404, code=3404)
        self.call("GET", "/api/v1/experiment/424242/requirements", status=404, code=3404)

    def test_recent_log(self):
        log = self.call("GET", f"/api/v1/experiment/{self.a}/recent_log")
        self.assertEqual(log["recent"], ["swanlab:", "{'loss':"])
        self.assertEqual(log["logs"][0], "swanlab: Tracking run")
        self.call("GET", f"/api/v1/experiment/{self.b}/recent_log", status=404, code=3404)

    def test_stop_patch_show_delete(self):
        run = self.new_run("swan-tmp", name="doomed")
        rid = run["id"]
        stopped = self.call("GET", f"/api/v1/experiment/{rid}/stop")
        self.assertEqual((stopped["id"], stopped["status"]), (rid, -1))
        self.assertIsNotNone(stopped["finish_time"])
        self.call("GET", f"/api/v1/experiment/{rid}/stop", status=409, code=3409)
        # The client learns of the stop on its next call.
        self.assertEqual(self.call("POST", f"/api/v1/experiments/{rid}/heartbeat")["status"], "stopped")
        upd = self.call("PATCH", f"/api/v1/experiment/{rid}", {"name": "renamed", "description": "d"})
        self.assertEqual(upd["experiment"]["name"], "renamed")
        self.call("PATCH", f"/api/v1/experiment/{rid}", {"description": "no name"}, status=422, code=3422)
        self.call("PATCH", f"/api/v1/experiment/{rid}", {"name": ""}, status=422, code=3422)
        shown = self.call("PATCH", f"/api/v1/experiment/{rid}/show", {"show": False})
        self.assertEqual(shown["experiment"]["show"], 0)
        self.call("PATCH", f"/api/v1/experiment/{rid}/show", {"show": "no"}, status=422, code=3422)
        self.assertEqual(self.call("DELETE", f"/api/v1/experiment/{rid}"), {"experiment_id": rid})
        self.call("GET", f"/api/v1/experiment/{rid}", status=404, code=3404)
        self.call("DELETE", f"/api/v1/experiment/{rid}", status=404, code=3404)

    def test_project_update_and_delete(self):
        run = self.new_run("to-delete")
        pid = run["project_id"]
        upd = self.call("PATCH", f"/api/v1/project/update?project_id={pid}", {"name": "deleted-soon", "description": "x"})
        self.assertEqual(upd["updates"]["name"], "deleted-soon")
        self.call("PATCH", f"/api/v1/project/update?project_id={pid}", {"name": "swan"}, status=409, code=3409)
        self.call("PATCH", f"/api/v1/project/update?project_id={pid}", {"description": "x"}, status=422, code=3422)
        self.call("DELETE", f"/api/v1/project?project_id={pid}", status=409, code=3409)
        self.call("POST", f"/api/v1/experiments/{run['id']}/finish", {"status": "finished"})
        self.call("DELETE", f"/api/v1/project?project_id={pid}")
        self.call("GET", f"/api/v1/project?project_id={pid}", status=404, code=3404)
        self.call("DELETE", "/api/v1/project?project_id=9999", status=404, code=3404)

    def test_project_changes_without_an_id_touch_nothing_when_there_are_several(self):
        # SwanLab's board keeps one project; Loupe deleted whichever came first.
        first = self.new_run("kept-a")["project_id"]
        self.new_run("kept-b")
        for method, path, body in (("DELETE", "/api/v1/project", None),
                                   ("PATCH", "/api/v1/project/update", {"name": "renamed"})):
            status, err, _ = self.server.request(method, path, body=body)
            self.assertEqual((status, err["code"]), (400, 3400))
            self.assertRegex(err["message"], r"^this server keeps \d+ projects: name the one to change with \?project_id=$")
        self.assertNotEqual(self.call("GET", f"/api/v1/project?project_id={first}")["name"], "renamed")

    def test_namespace_opened(self):
        c = self.call("GET", f"/api/v1/experiment/{self.a}/chart")
        train = next(n for n in c["namespaces"] if n["name"] == "train")
        self.call("PATCH", f"/api/v1/namespace/{train['id']}/opened", {"opened": False, "experiment_id": self.a})
        self.call("PATCH", "/api/v1/namespace/-2/opened", {"opened": 1, "experiment_id": self.a})
        c = self.call("GET", f"/api/v1/experiment/{self.a}/chart")
        self.assertEqual(next(n for n in c["namespaces"] if n["name"] == "train")["opened"], 0)
        self.assertEqual(c["namespaces"][-1]["opened"], 1)
        pid = self.project_id()
        self.call("PATCH", "/api/v1/namespace/-1/opened", {"opened": 0, "project_id": pid})
        self.assertEqual(self.call("GET", f"/api/v1/project?project_id={pid}")["pinned_opened"], 0)
        self.call("PATCH", f"/api/v1/namespace/{train['id']}/opened", {}, status=422, code=3422)
        self.call("PATCH", "/api/v1/namespace/987654/opened", {"opened": 1}, status=404, code=3404)
        self.call("PATCH", "/api/v1/namespace/-1/opened", {"opened": 1}, status=422, code=3422)
        self.call("PATCH", "/api/v1/namespace/zz/opened", {"opened": 1}, status=422, code=3422)

    def test_chart_status(self):
        c = self.call("GET", f"/api/v1/experiment/{self.a}/chart")
        lr = next(ch for ch in c["charts"] if ch["name"] == "train/lr")
        groups = self.call("PATCH", f"/api/v1/chart/{lr['id']}/status", {"status": 1})["groups"]
        pinned = groups[0]
        self.assertEqual(pinned["name"], "pinned")
        self.assertEqual([ch["name"] for ch in pinned["charts"]], ["train/lr"])
        st = self.call("GET", f"/api/v1/experiment/{self.a}/status")
        self.assertEqual(next(ch for ch in st["charts"]["charts"] if ch["id"] == lr["id"])["status"], 1)
        self.call("PATCH", f"/api/v1/chart/{lr['id']}/status", {"status": 0})
        self.call("PATCH", f"/api/v1/chart/{lr['id']}/status", {"status": 5}, status=422, code=3422)
        self.call("PATCH", "/api/v1/chart/987654/status", {"status": 1}, status=404, code=3404)


class EmptyServerTest(unittest.TestCase):
    def test_project_before_any_run_is_404_and_port_in_use_fails_loudly(self):
        server = LoupeServer().start()
        try:
            status, payload, _ = server.request("GET", "/api/v1/project")
            self.assertEqual((status, payload["code"]), (404, 3404))
            clash = LoupeServer(port=server.port)
            with self.assertRaises(RuntimeError) as err:
                clash.start()
            self.assertIn("cannot listen", str(err.exception))
        finally:
            server.cleanup()

    def test_unusable_data_dir_fails_loudly(self):
        import tempfile, os
        with tempfile.NamedTemporaryFile() as f:
            server = LoupeServer(data_dir=os.path.join(f.name, "sub"))
            with self.assertRaises(RuntimeError) as err:
                server.start()
            self.assertIn("data dir", str(err.exception))


if __name__ == "__main__":
    unittest.main()
