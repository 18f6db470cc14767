"""Regression suites over HTTP against a real `loupe serve` and the stand-in provider
(tests/llm/standin_provider.py, a test server): suites created and refused with their
messages; a run on demand; a run that starts by itself when a new version of the base
model is registered (and a fine-tune of that version), never twice across a restart;
the verdict against the threshold and the diff against the previous version (newly
failing first); a scheduled run; the per-version history the tracking chart plots and
the pages; and `loupe eval run`'s exit status for CI (0 pass, 1 regression, 2 no verdict).

The stand-in answers "<model>-standin heard: <prompt>", so the cases' assertions decide
which version passes what: case 1 passes everywhere, case 2 only on the base model's
answers, case 3 only on v2's and its fine-tunes'."""
import os
import subprocess
import time
import unittest

from eval_case import EvalApiCase
from loupe_server import LoupeServer  # noqa: E402 (eval_case put it on the path)

CASES = [
    {"prompt": "say anything", "assertions": [{"type": "contains", "value": "heard"}]},
    {"prompt": "name yourself", "assertions": [{"type": "contains", "value": "base-standin"}]},
    {"prompt": "are you new?", "assertions": [{"type": "regex", "pattern": "^v2"}]},
]


def loupe(*args, env=None, timeout=120):
    binary = os.path.abspath(os.environ.get("LOUPE_BIN", "build/loupe"))
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


class SuiteApiTest(EvalApiCase):
    def wait_run(self, suite, run, server=None, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.api("GET", f"/api/v1/suites/{suite}/runs/{run}", server=server)
            if r["done"]:
                return r
            time.sleep(0.05)
        raise AssertionError(f"suite run {run} did not finish: {r}")

    def wait_runs(self, suite, count, server=None, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            runs = self.api("GET", f"/api/v1/suites/{suite}/runs", server=server)["runs"]
            if len(runs) >= count:
                return runs
            time.sleep(0.05)
        raise AssertionError(f"suite {suite} has {len(runs)} runs, not {count}")

    def test_suites_are_validated(self):
        base = self.model("val-base")["id"]
        ok = {"name": "val", "test_set": {"cases": CASES}}
        for body, status, msg in [
            ({"test_set": {"cases": CASES}}, 422, "'name' is required"),
            ({"name": "x"}, 422, "'test_set' ({cases, ...}) is required"),
            ({**ok, "threshold": 1.5}, 422, "'threshold' must be the share of cases that must pass, 0 to 1"),
            ({**ok, "threshold": "high"}, 422, "'threshold'"),
            ({**ok, "schedule_minutes": 60}, 422, "a schedule needs 'base_model_id'"),
            ({**ok, "base_model_id": base, "schedule_minutes": 3}, 422, "'schedule_minutes' must be 0"),
            ({**ok, "colour": 1}, 422, "unknown field 'colour'"),
            ({**ok, "name": ""}, 422, "'name' must be 1 to 100 characters"),
            ({"name": "x", "test_set": {"cases": []}}, 422, "the test set: 'cases' must hold 1 to"),
            ({"name": "x", "test_set": {"cases": CASES, "model_ids": [base]}}, 422, "a test set names no models"),
            ({"name": "x", "test_set": [1]}, 422, "'test_set' must be an object"),
            ({"name": "x", "test_set": {"cases": [{"prompt": ""}]}}, 422, "case 1: the prompt is empty"),
            ({"name": "x", "test_set": {"cases": CASES, "validators": [{"type": "nope"}]}}, 422, "validator 1"),
            ({"name": "x", "test_set": {"cases": [{"prompt": "p", "assertions": [{"type": "regex", "value": "x"}]}]}},
             422, "a regex validator has no field 'value' (its fields: case_sensitive, pattern)"),
            ({"name": "x", "test_set": {"cases": CASES, "match_expected": "fuzzy"}}, 422, "'match_expected' must be exact or contains"),
            ({**ok, "base_model_id": 99999}, 404, "model 99999 not found"),
        ]:
            with self.subTest(body=body):
                self.error("POST", "/api/v1/suites", body, status, msg)
        self.error("POST", "/api/v1/suites", None, 400, "", raw=b"{nope")
        suite = self.api("POST", "/api/v1/suites", {**ok, "description": "d"}, 201)
        self.assertEqual((suite["name"], suite["cases"], suite["threshold"], suite["base_model"]), ("val", 3, 0.9, None))
        self.assertEqual(suite["test_set"], {"cases": CASES})
        self.error("POST", "/api/v1/suites", ok, 409, "a suite named 'val' already exists")
        self.assertEqual(self.api("GET", "/api/v1/suites?name=val")["suites"][0]["id"], suite["id"])
        self.error("GET", "/api/v1/suites?name=nothing", None, 404, "no suite named 'nothing'")
        self.error("GET", "/api/v1/suites?colour=1", None, 422, "colour")
        changed = self.api("PATCH", f"/api/v1/suites/{suite['id']}", {"threshold": 0.5, "base_model_id": base})
        self.assertEqual((changed["threshold"], changed["base_model"]["id"]), (0.5, base))
        self.error("PATCH", f"/api/v1/suites/{suite['id']}", {"threshold": -1}, 422, "'threshold'")
        self.error("GET", "/api/v1/suites/0", None, 404, "suite 0 not found")
        self.error("GET", "/api/v1/suites/abc", None, 422, "suite id must be a non-negative integer")
        # Runs: the model by id or name, a reason of manual or ci.
        path = f"/api/v1/suites/{suite['id']}/runs"
        self.error("POST", path, {}, 422, "'model_id' or 'model' (the model to test) is required")
        self.error("POST", path, {"model": "ghost"}, 404, "no model named 'ghost'")
        self.error("POST", path, {"model_id": 99999}, 404, "model 99999 not found")
        self.error("POST", path, {"model_id": base, "model": "val-base"}, 422, "not both")
        self.error("POST", path, {"model_id": base, "reason": "schedule"}, 422, "'reason' must be manual or ci")
        self.error("POST", path, {"model_id": base, "extra": 1}, 422, "unknown field 'extra'")
        self.error("GET", f"{path}/99999", None, 404, "batch run 99999 not found")
        other = self.api("POST", "/api/v1/batches", {"model_ids": [base], "cases": [{"prompt": "p"}]}, 201)
        self.error("GET", f"{path}/{other['id']}", None, 404, "is not a run of suite 'val'")
        self.api("DELETE", f"/api/v1/suites/{suite['id']}")
        self.error("DELETE", f"/api/v1/suites/{suite['id']}", None, 404, "not found")

    def test_new_versions_run_the_suite_and_the_diff_names_what_changed(self):
        server = LoupeServer().start()
        try:
            base = self.model("base", server=server)["id"]
            suite = self.api("POST", "/api/v1/suites", {"name": "lineage", "base_model_id": base, "threshold": 0.9,
                                                        "test_set": {"cases": CASES}}, 201, server=server)
            sid = suite["id"]
            # On demand, on the base: cases 1 and 2 pass.
            first = self.api("POST", f"/api/v1/suites/{sid}/runs", {"model": "base"}, 201, server=server)
            self.assertEqual(first["run"]["reason"], "manual")
            r = self.wait_run(sid, first["run"]["id"], server=server)
            self.assertEqual((r["cases"], r["passed"], r["failed"]), (3, 2, 1))
            self.assertAlmostEqual(r["score"], 2 / 3)
            self.assertIs(r["met_threshold"], False)
            self.assertIsNone(r["baseline"])
            self.assertEqual(r["failing_new_cases_count"], 1)
            self.assertEqual(r["failing_new_cases"][0]["case"], 3)
            self.assertIn("regex", r["failing_new_cases"][0]["why"])
            # A model of another lineage runs nothing; a new version of the base does.
            self.model("unrelated", server=server)
            v2 = self.model("v2", server=server, base_model_id=base)["id"]
            runs = self.wait_runs(sid, 2, server=server)
            self.assertEqual((runs[0]["model_id"], runs[0]["reason"]), (v2, "new_version"))
            r = self.wait_run(sid, runs[0]["id"], server=server)
            self.assertEqual((r["passed"], r["baseline"]["run_id"], r["baseline"]["model_name"]), (2, first["run"]["id"], "base"))
            self.assertFalse(r["baseline"]["same_model"])
            self.assertAlmostEqual(r["change"], 0.0)
            self.assertEqual([c["case"] for c in r["newly_failing"]], [2])
            self.assertEqual(r["newly_failing"][0]["prompt"], "name yourself")
            self.assertEqual([c["case"] for c in r["newly_passing"]], [3])
            self.assertEqual(r["still_failing_count"], 0)
            # A fine-tune of v2 is a version too; its baseline is v2, the version before it.
            v3 = self.model("v2-tuned", server=server, base_model_id=v2)["id"]
            runs = self.wait_runs(sid, 3, server=server)
            self.assertEqual(runs[0]["model_id"], v3)
            r = self.wait_run(sid, runs[0]["id"], server=server)
            self.assertEqual(r["baseline"]["model_id"], v2)
            self.assertEqual((r["newly_failing_count"], r["newly_passing_count"], r["still_failing_count"]), (0, 0, 1))
            time.sleep(0.5)
            self.assertEqual(len(self.api("GET", f"/api/v1/suites/{sid}/runs", server=server)["runs"]), 3)
            # A restart runs no version twice.
            server.stop()
            server.start()
            time.sleep(1.0)
            self.assertEqual(len(self.api("GET", f"/api/v1/suites/{sid}/runs", server=server)["runs"]), 3)
            # The history: each version's latest finished run, in registration order.
            h = self.api("GET", f"/api/v1/suites/{sid}/history", server=server)
            self.assertEqual([(v["model_name"], v["passed"], v["cases"]) for v in h["versions"]],
                             [("base", 2, 3), ("v2", 2, 3), ("v2-tuned", 2, 3)])
            self.assertTrue(all(v["in_lineage"] for v in h["versions"]))
            listed = self.api("GET", "/api/v1/suites", server=server)["suites"][0]
            self.assertEqual((listed["last_run"]["model_name"], listed["last_run"]["passed"]), ("v2-tuned", 2))
            # The list page: the last run's score and verdict against the threshold.
            _, listing, _ = server.request("GET", "/llm/suites")
            listing = listing if isinstance(listing, str) else listing.decode()
            self.assertRegex(listing, r'>lineage</a></td><td>base</td><td class="num">3</td><td class="num">90%</td>'
                                      r'<td>on demand; each new version</td>')
            self.assertIn('>v2-tuned</a> <span class="muted">', listing)
            self.assertRegex(listing, r'<td class="num">66\.7%</td><td><span class="badge failed">under threshold</span>')
            # The pages: the chart's points carry their figures, the run page its diff.
            _, page, _ = server.request("GET", f"/llm/suites/{sid}")
            page = page if isinstance(page, str) else page.decode()
            self.assertIn("<title>v2: 66.7% (2 of 3 cases)</title>", page)
            self.assertIn("threshold 90%", page)
            self.assertIn("loupe eval run --suite &apos;lineage&apos; --model MODEL --fail-under 0.9", page)
            _, run_page, _ = server.request("GET", f"/llm/suites/{sid}/runs/{runs[1]['id']}")
            run_page = run_page if isinstance(run_page, str) else run_page.decode()
            self.assertIn("Newly failing", run_page)
            self.assertIn("2 of 3 cases passed: 66.7%", run_page)
            self.assertIn("under threshold", run_page)
            self.assertLess(run_page.index("Newly failing"), run_page.index("Newly passing"))
            code, _, _ = server.request("GET", f"/llm/suites/{sid}/runs/999999")
            self.assertEqual(code, 404)
            # The verdict as one self-contained file, for a CI failure.
            code, report, headers = server.request("GET", f"/llm/suites/{sid}/runs/{runs[1]['id']}/report")
            report = report if isinstance(report, str) else report.decode()
            self.assertEqual(code, 200)
            self.assertIn("attachment", dict((k.lower(), v) for k, v in headers.items())["content-disposition"])
            self.assertIn("2 of 3 cases passed: 66.7%", report)
            self.assertIn("Newly failing", report)
            self.assertNotIn("<script", report)
        finally:
            server.cleanup()

    def test_versions_that_existed_or_cannot_run_and_repeated_prompts(self):
        server = LoupeServer().start()
        try:
            base = self.model("old-base", server=server)["id"]
            judge = self.model("judge", server=server)["id"]
            suite = self.api("POST", "/api/v1/suites", {"name": "late", "test_set": {"cases": CASES[:1]}}, 201,
                             server=server)
            self.model("old-v2", server=server, base_model_id=base)
            time.sleep(0.3)
            # A base given later: the versions that exist then are not new ones.
            self.api("PATCH", f"/api/v1/suites/{suite['id']}", {"base_model_id": base}, server=server)
            server.request("POST", "/api/v1/llm/models", {"name": "unrelated-poke", "api": "openai",
                                                          "base_url": self.standin.url + "/v1", "model": "x",
                                                          "api_key": "sk-test"})
            time.sleep(0.5)
            self.assertEqual(self.api("GET", f"/api/v1/suites/{suite['id']}/runs", server=server)["runs"], [])
            # A version that cannot be run (its judge was removed) is passed over, and the suite says why.
            self.api("PATCH", f"/api/v1/suites/{suite['id']}",
                     {"test_set": {"cases": CASES[:1], "judge": {"judge_model_id": judge}}}, server=server)
            self.api("DELETE", f"/api/v1/llm/models/{judge}", server=server)
            self.model("old-v3", server=server, base_model_id=base)
            deadline = time.time() + 10
            while time.time() < deadline:
                got = self.api("GET", f"/api/v1/suites/{suite['id']}", server=server)
                if got["last_error"]:
                    break
                time.sleep(0.05)
            self.assertIn("new version 'old-v3' was not run", got["last_error"])
            code, page, _ = server.request("GET", f"/llm/suites/{suite['id']}")
            self.assertIn("The last automatic run could not start", page if isinstance(page, str) else page.decode())
            # The same prompt twice is two cases: each compared with its own earlier result.
            twice = [{"prompt": "hi", "assertions": [{"type": "contains", "value": "old-base-standin"}]},
                     {"prompt": "hi", "assertions": [{"type": "contains", "value": "old-base-standin"}]},
                     {"prompt": "hi", "assertions": [{"type": "contains", "value": "zzz"}]}]
            dup = self.api("POST", "/api/v1/suites", {"name": "dup", "test_set": {"cases": twice}}, 201, server=server)
            first = self.api("POST", f"/api/v1/suites/{dup['id']}/runs", {"model": "old-base"}, 201, server=server)
            self.wait_run(dup["id"], first["run"]["id"], server=server)
            second = self.api("POST", f"/api/v1/suites/{dup['id']}/runs", {"model": "old-v2"}, 201, server=server)
            r = self.wait_run(dup["id"], second["run"]["id"], server=server)
            self.assertEqual((r["newly_failing_count"], r["still_failing_count"]), (2, 1))
            self.assertEqual([c["case"] for c in r["newly_failing"]], [1, 2])
            # The A/B of the two runs on the same cases: McNemar on the 2 discordant pairs.
            self.assertEqual(r["ab"]["paired_n"], 3)
            self.assertEqual(r["ab"]["metrics"][0]["statistic"], {"a_only": 2, "b_only": 0})
            self.assertAlmostEqual(r["ab"]["metrics"][0]["p_value"], 0.5)
        finally:
            server.cleanup()

    def test_a_schedule_runs_the_newest_version_once_per_interval(self):
        server = LoupeServer().start()
        try:
            base = self.model("sched-base", server=server)["id"]
            newest = self.model("sched-v2", server=server, base_model_id=base)["id"]
            suite = self.api("POST", "/api/v1/suites", {"name": "nightly", "base_model_id": base,
                                                        "schedule_minutes": 60, "threshold": 0.3,
                                                        "test_set": {"cases": CASES[:1]}}, 201, server=server)
            runs = self.wait_runs(suite["id"], 1, server=server)
            self.assertEqual((runs[0]["reason"], runs[0]["model_id"]), ("schedule", newest))
            r = self.wait_run(suite["id"], runs[0]["id"], server=server)
            self.assertIs(r["met_threshold"], True)
            got = self.api("GET", f"/api/v1/suites/{suite['id']}", server=server)
            self.assertAlmostEqual(got["next_scheduled"] - got["last_scheduled"], 3600, places=3)
            server.stop()
            server.start()
            time.sleep(1.0)
            self.assertEqual(len(self.api("GET", f"/api/v1/suites/{suite['id']}/runs", server=server)["runs"]), 1)
        finally:
            server.cleanup()

    def test_loupe_eval_run_exits_by_the_verdict(self):
        base = self.model("ci-base")["id"]
        cases = [{"prompt": "one", "assertions": [{"type": "contains", "value": "heard"}]},
                 {"prompt": "two", "assertions": [{"type": "contains", "value": "ci-base-standin"}]}]
        self.api("POST", "/api/v1/suites", {"name": "ci suite", "base_model_id": base, "threshold": 0.9,
                                            "test_set": {"cases": cases}}, 201)
        self.model("ci-v2", base_model_id=base)
        self.api("POST", "/api/v1/llm/models", {"name": "ci-down", "api": "openai", "base_url": "http://127.0.0.1:9/v1",
                                                "model": "x", "api_key": "sk-test"}, 201)
        url = ["--url", self.server.url]
        # The base passes both cases; the local token is found through the runtime file, and
        # never sent through a proxy (this one answers nothing).
        out = loupe("eval", "run", "--suite", "ci suite", "--model", "ci-base", *url,
                    env={"http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("2 of 2 cases passed (100.0%); bar 90.0%: PASS", out.stdout)
        # v2 fails case 2: under the bar, exit 1, the newly failing case named.
        out = loupe("eval", "run", "--suite", "ci suite", "--model", "ci-v2", "--fail-under", "0.9", *url)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("1 of 2 cases passed (50.0%); bar 90.0%: REGRESSION", out.stdout)
        self.assertIn("newly failing (1):\n  case 2: two  -- contains", out.stdout)
        self.assertIn("baseline: ci-base", out.stdout)
        # A lower bar passes it, unless new failures fail the build.
        out = loupe("eval", "run", "--suite", "ci suite", "--model", "ci-v2", "--fail-under", "0.5", *url)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        # The bar went with the run: its pages judge it as CI did.
        suite_id = self.api("GET", "/api/v1/suites?name=ci%20suite")["suites"][0]["id"]
        latest = self.api("GET", f"/api/v1/suites/{suite_id}/runs")["runs"][0]
        self.assertEqual((latest["threshold"], latest["met_threshold"], latest["reason"]), (0.5, True, "ci"))
        out = loupe("eval", "run", "--suite", "ci suite", "--model", "ci-v2", "--fail-under", "0.5",
                    "--fail-on-new-failures", "--json", *url)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        import json as _json
        verdict = _json.loads(out.stdout)
        self.assertEqual((verdict["regression"], verdict["fail_under"], verdict["run"]["reason"]), (True, 0.5, "ci"))
        # No verdict: exit 2 with the reason.
        for args, env, msg in [
            (["--suite", "nothing", "--model", "ci-base", *url], None, "no suite named 'nothing'"),
            (["--suite", "ci suite", "--model", "ghost", *url], None, "no model named 'ghost'"),
            (["--suite", "ci suite", "--model", "ci-base", "--fail-under", "2", *url], None, "--fail-under must be"),
            (["--suite", "ci suite", "--model", "ci-base", "--url", "http://127.0.0.1:9"], None, "cannot reach Loupe"),
            (["--suite", "ci suite", "--model", "ci-base", *url], {"LOUPE_API_KEY": "wrong"}, "LOUPE_API_KEY"),
            (["--suite", "ci suite", "--model", "ci-down", *url], None, "no case got an answer from 'ci-down'"),
        ]:
            with self.subTest(args=args):
                out = loupe("eval", "run", *args, env=env)
                self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
                self.assertIn(msg, out.stderr)


if __name__ == "__main__":
    unittest.main()
