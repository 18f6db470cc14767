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
        self.assertEqual((acc["count"], acc["min"], acc["max"]), (2, None, None))  # no finite value: none to give
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
