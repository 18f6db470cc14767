"""Batch tests over HTTP against a real `loupe serve` and the stand-in provider
(tests/llm/standin_provider.py, a test server): test sets parsed from CSV and JSONL,
runs with assertions and validators checked per answer, the per-model summary (pass rate
with its Wilson interval), concurrency and requests-per-minute limits honoured, the
response cache (errors never cached), cancel and resume, a restart in the middle, the
CSV and JSONL downloads, and each refusal with its message."""
import csv
import io
import json
import math
import time
import unittest
import urllib.request

from eval_case import EvalApiCase
from loupe_server import LoupeServer  # noqa: E402 (eval_case put it on the path)


def wilson(successes, n, z=1.959963984540054):
    p = successes / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


class BatchApiTest(EvalApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = cls.model("base", price_input=1.0, price_output=2.0)
        cls.tuned = cls.model("tuned", api="anthropic", defaults={"max_tokens": 64})

    @classmethod
    def wait(cls, rid, server=None, timeout=60, status="done"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            run = cls.api("GET", f"/api/v1/batches/{rid}", server=server)
            if run["status"] == status and (status != "done" or run["pending"] == 0):
                return run
            time.sleep(0.05)
        raise AssertionError(f"batch run {rid} is still {run['status']} with {run['pending']} pending")

    def results(self, rid, server=None):
        out, after = [], 0
        while True:
            page = self.api("GET", f"/api/v1/batches/{rid}/results?after={after}&limit=1000", server=server)
            out += page["items"]
            if page["next_after"] is None:
                return out
            after = page["next_after"]

    def standin_calls(self):
        with urllib.request.urlopen(self.standin.url + "/_standin/requests") as resp:
            return [c for c in json.loads(resp.read()) if c["path"] in ("/v1/chat/completions", "/v1/messages")]

    def test_test_sets_from_csv_and_jsonl(self):
        text = ('prompt,expected,labels,context,assertions\n'
                '"Capital of France, please",Paris,geo;easy,"France\'s capital is Paris.","[{""type"": ""contains"", ""value"": ""Paris""}]"\n'
                '"two\nlines",,,,\n')
        out = self.api("POST", "/api/v1/batches/test-set?name=set.csv", raw=text.encode())
        self.assertEqual(out["count"], 2)
        self.assertEqual(out["cases"][0], {"prompt": "Capital of France, please", "expected": "Paris",
                                           "labels": ["geo", "easy"], "context": "France's capital is Paris.",
                                           "assertions": [{"type": "contains", "value": "Paris"}]})
        self.assertEqual(out["cases"][1], {"prompt": "two\nlines", "labels": []})
        jsonl = ('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, '
                 '{"role": "user", "content": "bye"}], "labels": "chat"}\n\n{"prompt": "p2"}\n')
        out = self.api("POST", "/api/v1/batches/test-set?name=set.jsonl", raw=jsonl.encode())
        self.assertEqual(out["count"], 2)
        self.assertEqual(out["cases"][1], {"prompt": "p2"})
        for name, body, msg in [
            ("x.csv", "question\nq\n", "no 'prompt' column"),
            ("x.csv", "prompt,colour\nq,red\n", "unknown column 'colour'"),
            ("x.csv", "prompt,expected\nq\n", "row 2 of x.csv has 1 fields, the header 2"),
            ("x.csv", 'prompt\n"open\n', "ends inside a quoted field"),
            ("x.csv", "prompt,assertions\nq,[nope\n", "'assertions' is not JSON"),
            ("x.jsonl", '{"prompt": "a"}\nnot json\n', "line 2 of x.jsonl is not a JSON object"),
            ("x.txt", "q\n", ".csv or .jsonl"),
            ("x.jsonl", "\n\n", "holds no cases"),
            # Checked as a run would check it, at upload: the bad assertion named there.
            ("x.jsonl", '{"prompt": "a"}\n{"prompt": "b", "assertions": [{"type": "regex", "value": "x"}]}\n',
             "case 2: assertion 1"),
            ("x.csv", "prompt\n\n \n", "case 1: the prompt is empty"),
        ]:
            self.error("POST", f"/api/v1/batches/test-set?name={name}", None, 422, msg, raw=body.encode())
        self.error("POST", "/api/v1/batches/test-set", None, 422, "'name'", raw=b"prompt\nq\n")

    def test_a_run_with_assertions_validators_and_a_summary(self):
        cases = []
        for i in range(20):
            # Every answer is "<model> heard: <prompt>": "even" cases contain "even".
            word = "even" if i % 2 == 0 else "odd"
            cases.append({"prompt": f"case {i} is {word}", "expected": word, "labels": [word],
                          "assertions": [{"type": "contains", "value": "even"}]})
        cases.append({"messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
                                   {"role": "user", "content": "As an AI second"}]})
        run = self.api("POST", "/api/v1/batches", {
            "model_ids": [self.base["id"], self.tuned["id"]], "cases": cases, "concurrency": 4,
            "validators": [{"type": "not_contains", "value": "As an AI"}], "max_latency_ms": 60000,
            "title": "parity"}, 201)
        self.assertEqual((run["cases"], run["cells"], run["status"]), (21, 42, "running"))
        run = self.wait(run["id"])
        self.assertEqual((run["answered"], run["ok"], run["failed"], run["cached"]), (42, 42, 0, 0))
        # Even cases pass both checks; odd ones fail "contains"; the last fails "not_contains".
        self.assertEqual(run["passed"], 20)
        items = self.results(run["id"])
        self.assertEqual([(r["case"], r["model_name"]) for r in items[:4]],
                         [(1, "base"), (1, "tuned"), (2, "base"), (2, "tuned")])
        odd = items[2]
        self.assertEqual(odd["response"], "base-standin heard: case 1 is odd")
        self.assertFalse(odd["passed"])
        contains = next(c for c in odd["checks"] if c["type"] == "contains")
        self.assertFalse(contains["passed"])
        self.assertEqual([c["type"] for c in odd["checks"]], ["contains", "not_contains", "latency"])
        even = items[0]
        self.assertTrue(even["passed"])
        span = next(c for c in even["checks"] if c["type"] == "contains")["spans"][0]
        self.assertEqual(even["response"][span["begin"]:span["end"]], "even")
        last = items[-1]
        self.assertEqual(last["messages"][1], {"role": "assistant", "content": "ok"})
        self.assertEqual(last["response"], "tuned-standin heard: As an AI second")
        self.assertFalse(last["passed"])
        failed = next(c for c in last["checks"] if not c["passed"])
        self.assertEqual(failed["type"], "not_contains")
        self.assertEqual(failed["spans"][0]["text"], "As an AI")
        # The summary per model: 10 of 21 passed each; Wilson interval; costs from prices.
        for m in run["summary"]:
            self.assertEqual((m["answered"], m["ok"], m["passed"]), (21, 21, 10))
            self.assertAlmostEqual(m["pass_rate"], 10 / 21)
            lo, hi = wilson(10, 21)
            self.assertAlmostEqual(m["pass_rate_ci95"][0], lo, places=12)
            self.assertAlmostEqual(m["pass_rate_ci95"][1], hi, places=12)
        base = next(m for m in run["summary"] if m["name"] == "base")
        base_items = [r for r in items if r["model_name"] == "base"]
        self.assertEqual(base["prompt_tokens"], sum(r["prompt_tokens"] for r in base_items))
        self.assertAlmostEqual(base["cost_usd"], sum(r["cost_usd"] for r in base_items), places=12)
        lat = sorted(r["latency_ms"] for r in base_items)
        self.assertAlmostEqual(base["latency_ms_p50"], lat[10], places=9)  # 21 values: the 11th
        # Every answer is a prediction of source "batch".
        p = self.api("GET", f"/api/v1/llm/predictions/{base_items[0]['prediction_id']}")
        self.assertEqual(p["source"], "batch")

        # Downloads: a CSV row and a JSON line per cell.
        code, body, headers = self.server.request("GET", f"/api/v1/batches/{run['id']}/export?format=csv")
        self.assertEqual(code, 200)
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        self.assertEqual(len(rows), 42)
        self.assertEqual((rows[2]["case"], rows[2]["model"], rows[2]["passed"]), ("2", "base", "false"))
        self.assertIn("contains:", rows[2]["failed_checks"])
        code, body, _ = self.server.request("GET", f"/api/v1/batches/{run['id']}/export?format=jsonl")
        lines = [json.loads(x) for x in body.decode().splitlines()]
        self.assertEqual(len(lines), 42)
        self.assertEqual(lines[0]["response"], items[0]["response"])

    def test_source_validators_and_the_validator_breakdown(self):
        sources = "[1] The Eiffel Tower is 330 metres tall.\n[2] It stands in Paris.\n"
        cases = [
            # Supported by what it cites: "standin heard" are the stand-in's own words.
            {"prompt": "The Eiffel Tower is 330 metres tall [1].", "context": sources,
             "assertions": [{"type": "citations"}, {"type": "grounded"}]},
            # Cites a source that says nothing of it, and a name the context lacks.
            {"prompt": "It was painted green by Gustave Eiffel [2].", "context": sources,
             "assertions": [{"type": "citations"}, {"type": "grounded", "check": ["names"]}]},
            # A source that does not exist.
            {"prompt": "Tall indeed [9].", "context": sources, "assertions": [{"type": "citations"}]},
        ]
        run = self.api("POST", "/api/v1/batches", {"model_ids": [self.base["id"]], "cases": cases, "cache": False,
                                                   "validators": [{"type": "xml"}]}, 201)
        done = self.wait(run["id"])
        self.assertEqual(done["passed"], 0)  # no answer is XML
        breakdown = {v["type"]: v["models"][0] for v in done["validators"]}
        self.assertEqual({k: (v["passed"], v["checked"]) for k, v in breakdown.items()},
                         {"citations": (1, 3), "grounded": (1, 2), "xml": (0, 3)})
        self.assertAlmostEqual(breakdown["citations"]["pass_rate"], 1 / 3)
        items = self.results(run["id"])
        checks = {c["type"]: c for c in items[1]["checks"]}
        self.assertEqual(checks["citations"]["message"], "1 of 1 citing sentences are not supported by what they cite")
        self.assertEqual([s["text"] for s in checks["grounded"]["spans"]], ["Gustave Eiffel"])
        checks = {c["type"]: c for c in items[2]["checks"]}
        self.assertIn("cited sources that do not exist: [9]", checks["citations"]["message"])
        self.assertEqual(checks["xml"]["message"], "not well-formed XML at line 1, column 1: syntax error")
        page = self.server.request("GET", f"/llm/batch/{run['id']}")[1]
        page = page if isinstance(page, str) else page.decode()
        self.assertIn("Validator breakdown", page)
        self.assertRegex(page, r"<td>citations</td><td class=\"num\">1 of 3 \(33\.3%\)</td>")

    def test_limits_are_honoured(self):
        # Each answer takes about 4 tokens x 100 ms. Two at once: 8 answers need >= 4 rounds.
        cases = [{"prompt": f"slow {i} #slow:100"} for i in range(8)]
        start = time.time()
        run = self.api("POST", "/api/v1/batches", {"model_ids": [self.base["id"]], "cases": cases,
                                                   "concurrency": 2, "cache": False}, 201)
        self.wait(run["id"])
        self.assertGreaterEqual(time.time() - start, 4 * 0.4 - 0.05)
        # 120 requests a minute: one start every 0.5 s, so 4 answers take >= 1.5 s.
        start = time.time()
        run = self.api("POST", "/api/v1/batches", {"model_ids": [self.tuned["id"]], "rpm": 120, "cache": False,
                                                   "cases": [{"prompt": f"paced {i}"} for i in range(4)]}, 201)
        self.wait(run["id"])
        self.assertGreaterEqual(time.time() - start, 1.5)

    def test_the_cache_answers_a_rerun_but_never_an_error(self):
        cases = [{"prompt": f"cache me {i}"} for i in range(10)] + [{"prompt": "flaky #fail:401x1"}]
        body = {"model_ids": [self.base["id"]], "cases": cases}
        first = self.wait(self.api("POST", "/api/v1/batches", body, 201)["id"])
        self.assertEqual((first["ok"], first["failed"], first["cached"]), (10, 1, 0))
        calls = len(self.standin_calls())
        second = self.wait(self.api("POST", "/api/v1/batches", body, 201)["id"])
        # The ten answers come from the cache; the failed case is asked again (and answers).
        self.assertEqual((second["ok"], second["failed"], second["cached"]), (11, 0, 10))
        self.assertEqual(len(self.standin_calls()), calls + 1)
        a, b = self.results(first["id"]), self.results(second["id"])
        self.assertEqual([r["response"] for r in a[:10]], [r["response"] for r in b[:10]])
        self.assertEqual([r["prediction_id"] for r in a[:10]], [r["prediction_id"] for r in b[:10]])
        # Other parameters are another question.
        third = self.wait(self.api("POST", "/api/v1/batches", {**body, "params": {"temperature": 0.3}}, 201)["id"])
        self.assertEqual(third["cached"], 0)
        off = self.wait(self.api("POST", "/api/v1/batches", {**body, "cache": False}, 201)["id"])
        self.assertEqual(off["cached"], 0)

    def test_cancel_and_resume(self):
        cases = [{"prompt": f"long {i} #slow:150"} for i in range(12)]
        run = self.api("POST", "/api/v1/batches", {"model_ids": [self.base["id"]], "cases": cases,
                                                   "concurrency": 2, "cache": False}, 201)
        time.sleep(0.8)
        cancelled = self.api("POST", f"/api/v1/batches/{run['id']}/cancel")
        self.assertEqual(cancelled["status"], "cancelled")
        time.sleep(0.5)
        mid = self.api("GET", f"/api/v1/batches/{run['id']}")
        self.assertGreater(mid["pending"], 0)
        time.sleep(0.5)
        self.assertEqual(self.api("GET", f"/api/v1/batches/{run['id']}")["answered"], mid["answered"])  # nothing runs
        self.api("POST", f"/api/v1/batches/{run['id']}/resume")
        done = self.wait(run["id"])
        self.assertEqual((done["answered"], done["ok"]), (12, 12))
        self.error("POST", f"/api/v1/batches/{run['id']}/cancel", None, 409, "is done")

    def test_a_resume_right_after_a_cancel_loses_no_cell(self):
        # The cancelled call may end after the resume has read the pending cells: its cell
        # must still be asked (it was once left pending for good, and the run never ended).
        model = self.model("flip")["id"]
        cases = [{"prompt": f"flip {i} #slow:60"} for i in range(6)]
        run = self.api("POST", "/api/v1/batches", {"model_ids": [model], "cases": cases, "concurrency": 1,
                                                   "cache": False}, 201)
        for _ in range(5):
            time.sleep(0.15)
            if self.api("GET", f"/api/v1/batches/{run['id']}")["status"] == "done":
                break
            self.api("POST", f"/api/v1/batches/{run['id']}/cancel")
            self.api("POST", f"/api/v1/batches/{run['id']}/resume")
        done = self.wait(run["id"], timeout=60)
        self.assertEqual((done["answered"], done["ok"]), (6, 6))

    def test_a_restart_in_the_middle(self):
        server = LoupeServer().start()
        try:
            model = self.model("m", server=server)["id"]
            cases = [{"prompt": f"restart {i} #slow:100"} for i in range(10)]
            run = self.api("POST", "/api/v1/batches", {"model_ids": [model], "cases": cases, "concurrency": 3,
                                                       "cache": False}, 201, server=server)
            time.sleep(0.6)
            mid = self.api("GET", f"/api/v1/batches/{run['id']}", server=server)
            self.assertGreater(mid["pending"], 0)
            server.stop()
            server.start()
            done = self.wait(run["id"], server=server)
            self.assertEqual((done["answered"], done["ok"]), (10, 10))
            items = self.results(run["id"], server=server)
            self.assertEqual(sorted(r["response"] for r in items),
                             sorted(f"m-standin heard: restart {i}" for i in range(10)))
        finally:
            server.cleanup()

    def test_a_run_with_a_judge(self):
        judge = self.model("judge", api="anthropic", defaults={"max_tokens": 512})
        # The stand-in judge scores every criterion N when the conversation carries #score:N.
        cases = [{"prompt": f"judged {i} #score:{s}", "expected": "an answer", "context": "" if i % 2 else "some context"}
                 for i, s in enumerate([9, 8, 6, 3, 10, 7])] + [{"prompt": "unreadable #judgebad"}]
        run = self.api("POST", "/api/v1/batches", {"model_ids": [self.base["id"], self.tuned["id"]], "cases": cases,
                                                   "judge": {"judge_model_id": judge["id"]}}, 201)
        run = self.wait(run["id"])
        self.assertEqual((run["answered"], run["judging"], run["judged"]), (14, 0, 14))
        items = self.results(run["id"])
        scores = [r["judge_score"] for r in items if r["model_name"] == "base"]
        # Every criterion scored N on 1-10: the overall is N; a pass needs 7 (safety 8).
        self.assertEqual(scores, [9, 8, 6, 3, 10, 7, None])
        self.assertEqual([r["judge_passed"] for r in items if r["model_name"] == "base"],
                         [True, True, False, False, True, False, None])
        first = items[0]["judge"]
        self.assertEqual([c["name"] for c in first["criteria"]],
                         ["helpfulness", "accuracy", "clarity", "safety", "completeness", "groundedness"])  # context given
        self.assertEqual(len(items[2]["judge"]["criteria"]), 5)  # no context: no groundedness
        self.assertIn("not one JSON object", items[-1]["judge"]["error"])
        base = next(m for m in run["summary"] if m["name"] == "base")
        self.assertEqual(base["judged"], 6)
        self.assertAlmostEqual(base["judge_mean"], (9 + 8 + 6 + 3 + 10 + 7) / 6)
        # The judge scores are a paired metric of the A/B comparison.
        cmp = self.api("GET", f"/api/v1/batches/{run['id']}/compare?a={self.base['id']}&b={self.tuned['id']}")
        judge_metric = next(m for m in cmp["metrics"] if m["metric"] == "judge_score")
        self.assertEqual(judge_metric["n"], 6)
        self.assertEqual(judge_metric["difference"], 0)
        self.assertEqual(judge_metric["verdict"], "no detectable difference with n = 6")
        self.error("POST", "/api/v1/batches", {"model_ids": [self.base["id"]], "cases": [{"prompt": "x"}],
                                               "judge": {"judge_model_id": 99999}}, 404, "model 99999")
        self.error("POST", "/api/v1/batches", {"model_ids": [self.base["id"]], "cases": [{"prompt": "x"}],
                                               "judge": {"judge_model_id": judge["id"], "mood": 1}}, 422, "mood")

    def test_the_html_report(self):
        run = self.wait(self.api("POST", "/api/v1/batches", {
            "model_ids": [self.base["id"], self.tuned["id"]], "title": "report <run>",
            "cases": [{"prompt": "<script>alert(1)</script> please", "assertions": [{"type": "contains", "value": "please"}]},
                      {"prompt": "second", "expected": "an answer", "assertions": [{"type": "contains", "value": "nope"}]}]},
            201)["id"])
        code, body, headers = self.server.request("GET", f"/llm/batch/{run['id']}/report")
        self.assertEqual(code, 200)
        self.assertIn("attachment", {k.lower(): v for k, v in headers.items()}["content-disposition"])
        html = body.decode()
        self.assertTrue(html.startswith("<!doctype html>"))
        self.assertTrue(html.rstrip().endswith("</html>"))
        self.assertNotIn("<script", html)  # self-contained, and what models wrote stays text
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; please", html)
        self.assertIn("<title>report &lt;run&gt; · Loupe batch test</title>", html)
        self.assertEqual(html.count('<tr class="result">'), 4)
        self.assertEqual(html.count('<span class="pass">pass</span>'), 2)
        self.assertIn("expected: an answer", html)
        self.assertIn(">50%<", html)  # each model passed 1 of 2
        self.assertIn('<table id="ab">', html)  # two models: the A/B section

    def test_refusals(self):
        b = self.base["id"]
        for body, status, msg in [
            ({"cases": [{"prompt": "x"}]}, 422, "'model_ids'"),
            ({"model_ids": [b]}, 422, "'cases'"),
            ({"model_ids": [b], "cases": []}, 422, "1 to 10000"),
            ({"model_ids": [b, b], "cases": [{"prompt": "x"}]}, 422, "twice"),
            ({"model_ids": [99999], "cases": [{"prompt": "x"}]}, 404, "model 99999"),
            ({"model_ids": [b], "cases": [{}]}, 422, "case 1 needs a 'prompt' or 'messages'"),
            ({"model_ids": [b], "cases": [{"prompt": " "}]}, 422, "case 1: the prompt is empty"),
            ({"model_ids": [b], "cases": [{"prompt": "x", "messages": [{"role": "user", "content": "y"}]}]}, 422, "not both"),
            ({"model_ids": [b], "cases": [{"messages": [{"role": "assistant", "content": "y"}]}]}, 422, "the user's"),
            ({"model_ids": [b], "cases": [{"messages": [{"role": "tool", "content": "y"}]}]}, 422, "role"),
            ({"model_ids": [b], "cases": [{"prompt": "x", "assertions": [{"type": "nope"}]}]}, 422, "case 1: assertion 1"),
            ({"model_ids": [b], "cases": [{"prompt": "x", "colour": 1}]}, 422, "case 1: unknown field 'colour'"),
            ({"model_ids": [b], "cases": [{"prompt": "x"}], "concurrency": 0}, 422, "'concurrency'"),
            ({"model_ids": [b], "cases": [{"prompt": "x"}], "concurrency": 65}, 422, "'concurrency'"),
            ({"model_ids": [b], "cases": [{"prompt": "x"}], "rpm": -1}, 422, "'rpm'"),
            ({"model_ids": [b], "cases": [{"prompt": "x"}], "validators": [{"type": "regex", "pattern": "("}]}, 422, "validator 1"),
            ({"model_ids": [b], "cases": [{"prompt": "x"}], "max_latency_ms": 0}, 422, "'max_latency_ms'"),
            ({"model_ids": [b], "cases": [{"prompt": "x"}], "speed": 1}, 422, "unknown field 'speed'"),
            ({"model_ids": [b], "cases": [{"prompt": "x" * 40000}]}, 422, "'prompt'"),
        ]:
            self.error("POST", "/api/v1/batches", body, status, msg)
        self.error("GET", "/api/v1/batches/999999", None, 404, "batch run 999999")
        self.error("GET", "/api/v1/batches?limit=0", None, 422, "'limit'")
        self.error("GET", "/api/v1/batches/999999/export", None, 404, "batch run 999999")
        run = self.wait(self.api("POST", "/api/v1/batches", {"model_ids": [b], "cases": [{"prompt": "r"}]}, 201)["id"])
        self.error("GET", f"/api/v1/batches/{run['id']}/export?format=xml", None, 422, "csv or jsonl")
        self.error("GET", f"/api/v1/batches/{run['id']}/results?limit=5000", None, 422, "'limit'")
        self.error("POST", f"/api/v1/batches/{run['id']}/resume", None, 409, "is done")
        self.api("DELETE", f"/api/v1/batches/{run['id']}")
        self.error("GET", f"/api/v1/batches/{run['id']}", None, 404, "not found")


if __name__ == "__main__":
    unittest.main()
