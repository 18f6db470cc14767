"""The tracking pages and their JSON helpers, over HTTP against a live server, with
runs logged through the SDK."""
import json
import os
import re
import sys
import time
import unittest
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer  # noqa: E402
import loupe  # noqa: E402


class PagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = LoupeServer().start()
        cls.ids = []
        for i, lr in enumerate((0.1, 0.01, 0.001)):
            run = loupe.init(project="pages", name=f"lr-{lr}", host=cls.server.url,
                             config={"lr": lr, "seed": 1, "note": "</script><b>x</b>"})
            for step in range(50):
                run.log({"train/loss": (i + 1) / (step + 1), "val/acc": step / 50}, step=step)
            print(f"epoch done <{i}>")
            run.finish()
            cls.ids.append(run.id)
        status, body, _ = cls.server.post("/api/v1/experiments", {"project": "pages", "name": "still-running"})
        cls.running = body["data"]["id"]
        cls.server.post(f"/api/v1/experiments/{cls.running}/console",
                        {"lines": [{"text": f"line {n} {'ERROR boom' if n % 100 == 0 else 'ok'}"} for n in range(1, 1001)]})

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def page(self, path, status=200):
        code, text = self.server.html(path)
        self.assertEqual(code, status, path)
        return text

    def test_home_lists_recent_runs_and_projects(self):
        p = self.page("/")
        for name in ("lr-0.1", "lr-0.01", "still-running"):
            self.assertIn(f">{name}</a>", p)
        self.assertIn('href="/projects/1"', p)
        self.assertIn('<a class="btn" href="/v1/dashboard">', p)

    def test_projects_page(self):
        p = self.page("/projects")
        self.assertRegex(p, r'<a href="/projects/1">pages</a></td><td class="num">4</td><td class="num">1</td>')

    def test_a_project_was_updated_when_its_runs_last_wrote(self):
        _, body, _ = self.server.post("/api/v1/experiments", {"project": "updated-late", "name": "r"})
        created = body["data"]["create_time"]
        time.sleep(2.1)
        wrote = time.time()
        self.server.post(f"/api/v1/experiments/{body['data']['id']}/metrics", {"steps": [{"step": 0, "values": {"x": 1}}]})
        row = re.search(r'>updated-late</a></td><td class="num">1</td><td class="num">1</td><td>([^<]+)</td>',
                        self.page("/projects")).group(1)
        shown = datetime.strptime(row, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
        self.assertGreater(shown, datetime.fromisoformat(created).timestamp() + 1, row)  # not the creation time
        self.assertLess(abs(shown - wrote), 2, row)

    def test_numbers_in_configs_are_compared_as_numbers_and_one_run_has_no_sd(self):
        ids = []
        for config in ({"f": 1, "lr": 0.00001, "seed": 1}, {"f": 1.0, "lr": 1e-05, "seed": 2}):
            _, body, _ = self.server.post("/api/v1/experiments", {"project": "numbers-cfg", "config": config})
            ids.append(body["data"]["id"])
            self.server.post(f"/api/v1/experiments/{ids[-1]}/metrics", {"steps": [{"step": 0, "values": {"acc": 0.5}}]})
        p = self.page(f"/compare?ids={ids[0]},{ids[1]}")
        for key, cls in (("f", "same"), ("lr", "same"), ("seed", "diff")):
            self.assertRegex(p, rf'<tr class="{cls}"><td><code>{key}</code></td>', key)
        project = self.server.get(f"/api/v1/experiments/{ids[0]}")[1]["data"]["project_id"]
        grouped = self.page(f"/projects/{project}?group=seed&cols=acc")
        self.assertIn('title="mean of 1 run (no spread for one run)', grouped)
        self.assertIn("· 1 run</span>", grouped)
        self.assertNotIn("sd 0,", grouped)

    def test_the_page_size_in_use_is_the_one_selected(self):
        p = self.page("/projects/1?per_page=5")
        self.assertIn('<option value="5" selected>5 / page</option>', p)
        self.assertNotIn('<option value="20" selected>', p)
        self.assertIn('<option value="20">20 / page</option>', p)

    def test_experiments_table(self):
        p = self.page("/projects/1?sort=metric:train/loss&dir=asc")
        names = re.findall(r'<a href="/experiments/\d+">([^<]+)</a>', p)
        self.assertEqual(names, ["lr-0.1", "lr-0.01", "lr-0.001", "still-running"])  # no loss sorts last
        self.assertIn("train/loss ▲", p)
        self.assertIn('<span class="badge running">running</span>', p)
        # Each run's range below its last value: loss (i+1)/(step+1), acc step/50, steps 0..49.
        row = re.search(r'<tr data-id="\d+">.*?>lr-0.001</a>.*?</tr>', p, re.S).group(0)
        cells = re.findall(r'<td class="num"><span class="last">([^<]*)</span>(?:<div class="range" title="([^"]*)">'
                           r'<span class="">([^<]*)</span> – <span class="">([^<]*)</span></div>)?</td>', row)
        self.assertEqual(cells[-2:], [("0.06", "min 0.06 at step 49, max 3 at step 0 (finite values over all steps)", "0.06", "3"),
                                      ("0.98", "min 0 at step 0, max 0.98 at step 49 (finite values over all steps)", "0", "0.98")])
        p = self.page("/projects/1?sort=min:train/loss&dir=desc")
        names = re.findall(r'<a href="/experiments/\d+">([^<]+)</a>', p)
        self.assertEqual(names, ["lr-0.001", "lr-0.01", "lr-0.1", "still-running"])  # no loss sorts last
        self.assertIn('title="sort by each run\'s minimum">min ▼</a>', p)
        # The sorted end of each range stands out.
        self.assertIn('<span class="sorted">0.06</span> – <span class="">3</span>', p)
        self.assertIn("sort=max%3Atrain/loss", p)
        self.assertIn("must be name, status, start, duration, metric:&lt;key&gt;, min:&lt;key&gt;", self.page("/projects/1?sort=min:", 422))
        p = self.page("/projects/1?status=finished&q=lr%3D0.01")
        self.assertEqual(re.findall(r'<a href="/experiments/\d+">([^<]+)</a>', p), ["lr-0.01"])
        p = self.page("/projects/1?per_page=2&page=9")
        self.assertIn("Page 2 of 2 (4 total)", p)
        p = self.page("/projects/1?cols=val/acc")
        self.assertIn(">val/acc", p)
        self.assertNotIn(">train/loss</a>", p)
        self.assertIn("must be name, status, start, duration", self.page("/projects/1?sort=bogus", 422))
        self.assertIn("status must be", self.page("/projects/1?status=zombie", 422))
        self.assertIn("project 99 not found", self.page("/projects/99", 404).lower())
        self.assertIn("positive integer", self.page("/projects/abc", 400))

    def test_experiments_csv(self):
        status, body, headers = self.server.get("/projects/1/experiments.csv?sort=name&dir=asc")
        self.assertEqual(status, 200)
        self.assertIn("attachment", headers["Content-Disposition"])
        lines = body.decode().strip().split("\n")
        # The config keys that differ between the runs come before the metrics.
        self.assertEqual(lines[0], "id,run_id,name,status,start,duration_seconds,config.lr,train/loss,min(train/loss),"
                                   "max(train/loss),val/acc,min(val/acc),max(val/acc),config")
        self.assertEqual(len(lines), 5)
        self.assertIn(",lr-0.001,finished,", lines[1])
        # lr-0.001 logged loss 3/(step+1) and acc step/50 over steps 0..49.
        self.assertIn(",0.001,0.06,0.06,3,0.98,0,0.98,", lines[1])
        self.assertIn(",,,,,,,", lines[4])  # still-running logged nothing

    def test_experiment_page(self):
        eid = self.ids[0]
        p = self.page(f"/experiments/{eid}")
        self.assertIn('<a href="/projects/1">pages</a>', p)  # breadcrumb to the project
        self.assertIn("<code>lr</code></td><td class=\"mono\">0.1</td>", p)
        self.assertNotIn("</script><b>x</b>", p)  # escaped in the table and in the embedded JSON
        data = json.loads(re.search(r'<script type="application/json" id="experiment-data">(.*?)</script>', p, re.S).group(1))
        self.assertEqual([k["key"] for k in data["keys"]], ["train/loss", "val/acc"])
        self.assertEqual(data["keys"][0]["namespace"], "train")
        self.assertIn('/static/uPlot.iife.min.js', p)
        self.assertIn("not found", self.page("/experiments/9999", 404))
        self.assertNotIn('id="run-error"', p)

    def test_a_crashed_runs_traceback_is_on_its_page(self):
        _, body, _ = self.server.post("/api/v1/experiments", {"project": "pages-crash", "name": "crashed"})
        eid = body["data"]["id"]
        traceback = 'Traceback (most recent call last):\n  File "t.py", line 3, in <module>\nValueError: <bad> shape'
        self.server.post(f"/api/v1/experiments/{eid}/finish", {"status": "crashed", "error": traceback})
        p = self.page(f"/experiments/{eid}")
        self.assertIn("The run ended with an exception: ValueError: &lt;bad&gt; shape</summary>", p)
        self.assertIn('File &quot;t.py&quot;, line 3', p)
        # A finished run cannot carry one.
        _, body, _ = self.server.post("/api/v1/experiments", {"project": "pages-crash", "name": "fine"})
        status, err, _ = self.server.request("POST", f"/api/v1/experiments/{body['data']['id']}/finish",
                                             body={"status": "finished", "error": "x"})
        self.assertEqual(status, 422, err)

    def test_console_page_and_api(self):
        self.assertIn('id="console"', self.page(f"/experiments/{self.running}/console"))
        _, body, _ = self.server.get(f"/api/v1/experiments/{self.running}/console/lines?from=995&limit=10")
        self.assertEqual(body["data"]["total"], 1000)
        self.assertEqual([l["line"] for l in body["data"]["lines"]], list(range(995, 1001)))
        _, body, _ = self.server.get(f"/api/v1/experiments/{self.running}/console/search?level=error")
        self.assertEqual([l["line"] for l in body["data"]["matches"]], list(range(100, 1001, 100)))
        _, body, _ = self.server.get(f"/api/v1/experiments/{self.running}/console/search?q=LINE%2099&limit=3")
        self.assertEqual([l["line"] for l in body["data"]["matches"]], [99, 990, 991])
        self.assertTrue(body["data"]["truncated"])
        for bad in ("lines?limit=0", "lines?from=abc", "search?level=loud", "search?stream=both", "search?limit=999999"):
            status, body, _ = self.server.get(f"/api/v1/experiments/{self.running}/console/{bad}")
            self.assertEqual(status, 422, bad)

    def test_series_export(self):
        eid = self.ids[1]
        status, body, headers = self.server.get(f"/api/v1/experiments/{eid}/series/export?key=train/loss&format=csv")
        self.assertEqual(status, 200)
        rows = body.decode().strip().split("\n")
        self.assertEqual(rows[0], "step,value,timestamp")
        self.assertEqual(len(rows), 51)
        self.assertTrue(rows[2].startswith("1,1,"))  # 2 / (1 + 1)
        status, body, _ = self.server.get(f"/api/v1/experiments/{eid}/series/export?key=val/acc&format=json")
        self.assertEqual(len(body["points"]), 50)
        self.assertEqual(self.server.get(f"/api/v1/experiments/{eid}/series/export?key=nope")[0], 404)
        self.assertEqual(self.server.get(f"/api/v1/experiments/{eid}/series/export?key=val/acc&format=xml")[0], 422)

    def test_series_batch(self):
        eid = self.ids[2]
        status, body, _ = self.server.get(f"/api/v1/experiments/{eid}/series/batch?keys=train/loss,nope,val/acc&max_points=10")
        self.assertEqual(status, 200)
        self.assertEqual([s["key"] for s in body["data"]["series"]], ["train/loss", "val/acc"])
        self.assertEqual(body["data"]["missing"], ["nope"])
        self.assertEqual(body["data"]["series"][0]["count"], 50)
        self.assertLessEqual(len(body["data"]["series"][0]["points"]), 10)
        # Ten keys are read by two threads; the answer keeps the request's order.
        keys = ["train/loss", "m1", "m2", "m3", "m4", "m5", "val/acc", "m6", "m7", "m8"]
        _, body, _ = self.server.get(f"/api/v1/experiments/{eid}/series/batch?keys={','.join(keys)}")
        self.assertEqual([s["key"] for s in body["data"]["series"]], ["train/loss", "val/acc"])
        self.assertEqual(body["data"]["missing"], ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"])
        self.assertEqual(self.server.get(f"/api/v1/experiments/{eid}/series/batch")[0], 422)
        many = ",".join(f"k{i}" for i in range(201))
        self.assertEqual(self.server.get(f"/api/v1/experiments/{eid}/series/batch?keys={many}")[0], 422)
        self.assertEqual(self.server.get(f"/api/v1/experiments/{eid}/series/batch?keys=a&max_points=2")[0], 422)

    def test_compare_page(self):
        ids = ",".join(map(str, self.ids))
        p = self.page(f"/compare?ids={ids}")
        self.assertIn("Compare 3 experiments", p)
        diff = re.findall(r'<tr class="(diff|same)"><td><code>([^<]+)</code>', p)
        self.assertEqual(dict((k, c) for c, k in diff), {"lr": "diff", "note": "same", "seed": "same"})
        self.assertIn("at most 20", self.page("/compare?ids=" + ",".join(str(i) for i in range(1, 22)), 400))
        self.assertIn("separated by commas", self.page("/compare?ids=1,x", 400))
        empty = self.page("/compare")  # nothing picked yet: the form, no charts
        self.assertIn("Compare 0 experiments", empty)
        self.assertIn('"keys":[]', empty)

    def test_unknown_pages_are_html_404s(self):
        status, text = self.server.html("/no/such/page")
        self.assertEqual(status, 404)
        self.assertIn("There is no page at /no/such/page.", text)
        self.assertIn('<a href="/">Home</a>', text)
        status, body, _ = self.server.get("/api/v1/nope")
        self.assertEqual((status, body["code"]), (404, 3404))  # the API keeps its JSON envelope

    def test_static_assets_are_embedded(self):
        status, body, headers = self.server.get("/static/uPlot.iife.min.js")
        self.assertEqual(status, 200)
        self.assertIn("immutable", headers["Cache-Control"])
        self.assertGreater(len(body), 30000)
        self.assertEqual(self.server.get("/static/nope.js")[0], 404)

    def test_live_events_stream_a_snapshot(self):
        req = urllib.request.Request(self.server.url + f"/api/v1/experiments/{self.running}/events",
                                     headers={"Authorization": f"Bearer {self.server.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            self.assertTrue(resp.headers["Content-Type"].startswith("text/event-stream"))
            self.assertEqual(resp.readline().decode().strip(), "retry: 1000")
            resp.readline()
            line = resp.readline().decode()
            self.assertTrue(line.startswith("data: "), line)
            snap = json.loads(line[6:])
            self.assertEqual(snap["status"], "running")
            self.assertEqual(snap["console_lines"], 1000)
            # A new metric shows up in the next snapshot.
            status, _, _ = self.server.post(f"/api/v1/experiments/{self.running}/metrics",
                                            {"steps": [{"step": 0, "values": {"late": 1}}]})
            self.assertEqual(status, 200)
            resp.readline()
            line = resp.readline().decode()
            self.assertIn('"late"', line)
        self.assertEqual(self.server.get("/api/v1/experiments/9999/events")[0], 404)


if __name__ == "__main__":
    unittest.main()
