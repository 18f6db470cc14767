"""Predictions and feedback over HTTP against a real `loupe serve` and the stand-in
provider (standin_provider.py, a test server): the predictions list (search, filters,
sorting, paging), thumbs and evaluations, automated judgments, feedback per model with
its Wilson interval, and the streamed exports (predictions, judgments, SFT and preference
JSONL) read back line by line."""
import csv
import http.client
import io
import json
import math
import os
import sqlite3
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from loupe_server import LoupeServer  # noqa: E402
from llm_models_api_test import Standin  # noqa: E402

TAGS = ["hallucination", "wrong_tool", "incomplete", "incorrect_info", "off_topic", "tone_issues", "format_issues"]


def wilson(successes, n, z=1.959963984540054):
    p = successes / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


class FeedbackApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin = Standin()
        cls.server = LoupeServer().start()
        cls.base = cls.api("POST", "/api/v1/llm/models", {
            "name": "base", "api": "openai", "base_url": cls.standin.url + "/v1", "model": "base-standin",
            "api_key": "sk-test", "price_input": 1.0, "price_output": 2.0}, 201)
        cls.tuned = cls.api("POST", "/api/v1/llm/models", {
            "name": "tuned", "api": "openai", "base_url": cls.standin.url + "/v1", "model": "tuned-standin",
            "api_key": "sk-test", "base_model_id": cls.base["id"]}, 201)
        cls.conv = cls.api("POST", "/api/v1/llm/conversations",
                           {"title": "compare", "model_id": cls.base["id"], "system": "Be brief."}, 201)
        # Four prompts to base, each also sent to tuned; one failing call.
        cls.answers = {}
        for prompt in ["capital of France", "largest planet", "boiling point of water", "speed of light"]:
            done = cls.send(f"/api/v1/llm/conversations/{cls.conv['id']}/messages", {"content": prompt})
            cls.answers[(prompt, "base")] = done["message"]["prediction_id"]
            user = done["message"]["reply_to"]
            done = cls.send(f"/api/v1/llm/conversations/{cls.conv['id']}/messages/{user}/answers",
                            {"model_id": cls.tuned["id"]})
            cls.answers[(prompt, "tuned")] = done["message"]["prediction_id"]
        cls.failed = cls.send(f"/api/v1/llm/conversations/{cls.conv['id']}/messages",
                              {"content": "broken #fail:401x1"}, "error")["message"]["prediction_id"]

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.standin.stop()

    @classmethod
    def api(cls, method, path, body=None, status=200):
        code, payload, _ = cls.server.request(method, path, body)
        assert code == status, (method, path, code, payload)
        return payload.get("data") if isinstance(payload, dict) and "data" in payload else payload

    @classmethod
    def send(cls, path, body, last="done"):
        """Streams an answer; returns the data of its last event (which must be `last`)."""
        conn = http.client.HTTPConnection("127.0.0.1", cls.server.port, timeout=30)
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {cls.server.token}"})
        resp = conn.getresponse()
        assert resp.status == 200, (resp.status, resp.read())
        events, event = [], None
        while True:
            raw = resp.readline()
            if not raw:
                break
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
        conn.close()
        assert events[-1][0] == last, events[-1]
        return events[-1][1]

    def get_raw(self, path):
        code, body, headers = self.server.request("GET", path)
        return code, body, headers

    def error(self, path, status=422, method="GET", body=None):
        code, payload, _ = self.server.request(method, path, body)
        self.assertEqual(code, status, (path, payload))
        return payload["message"]

    # The list --------------------------------------------------------------------------

    def test_the_list_searches_filters_sorts_and_pages(self):
        c = f"conversation_id={self.conv['id']}"
        page = self.api("GET", f"/api/v1/llm/predictions?limit=500&{c}")
        self.assertEqual(page["total"], 9)
        self.assertEqual(len(page["predictions"]), 9)
        first = page["predictions"][0]  # newest: the failed call
        self.assertEqual(first["id"], self.failed)
        self.assertEqual(first["outcome"], "error")
        self.assertEqual(first["prompt"], "broken #fail:401x1")
        self.assertIsNone(first["thumbs"])
        self.assertEqual(first["failure_tags"], [])
        times = [p["time"] for p in page["predictions"]]
        self.assertEqual(times, sorted(times, reverse=True))

        found = self.api("GET", f"/api/v1/llm/predictions?q=planet&{c}")
        self.assertEqual(sorted(p["id"] for p in found["predictions"]),
                         sorted([self.answers[("largest planet", "base")], self.answers[("largest planet", "tuned")]]))
        self.assertEqual(found["total"], 2)
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions?q=tuned-standin%20heard%20plan&{c}")["total"], 0)
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions?q=tuned-standin%20heard%20plan*&{c}")["total"], 1)
        self.assertEqual(self.api("GET", "/api/v1/llm/predictions?q=%22%28OR")["total"], 0)  # syntax is text

        tuned = self.api("GET", f"/api/v1/llm/predictions?model_id={self.tuned['id']}")
        self.assertEqual(tuned["total"], 4)
        self.assertTrue(all(p["model_name"] == "tuned" for p in tuned["predictions"]))
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions?outcome=error&{c}")["total"], 1)
        self.assertEqual(self.api("GET", "/api/v1/llm/predictions?outcome=ok&model_id=%d" % self.base["id"])["total"], 4)

        by_latency = self.api("GET", f"/api/v1/llm/predictions?sort=latency&order=asc&limit=500&{c}")["predictions"]
        lat = [p["latency_ms"] for p in by_latency]
        self.assertEqual(lat, sorted(lat))
        by_cost = self.api("GET", f"/api/v1/llm/predictions?sort=cost&limit=500&{c}")["predictions"]
        costs = [p["cost_usd"] for p in by_cost]
        known = [c for c in costs if c is not None]
        self.assertEqual(known, sorted(known, reverse=True))
        self.assertEqual(costs[:len(known)], known)  # unknown costs (tuned has no prices) last

        two = self.api("GET", f"/api/v1/llm/predictions?limit=2&offset=2&{c}")
        self.assertEqual([p["id"] for p in two["predictions"]], [p["id"] for p in page["predictions"][2:4]])
        self.assertEqual((two["limit"], two["offset"], two["total"]), (2, 2, 9))
        ids = f"{self.failed},{self.answers[('speed of light', 'base')]}"
        self.assertEqual(self.api("GET", "/api/v1/llm/predictions?ids=" + ids)["total"], 2)
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions?since=2000-01-01&until=2000-01-02&{c}")["total"], 0)
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions?since=2000-01-01&{c}")["total"], 9)

    def test_bad_list_queries_get_precise_errors(self):
        self.assertIn("'rating' must be one of up, down, rated, unrated",
                      self.error("/api/v1/llm/predictions?rating=maybe"))
        self.assertIn("'sort' must be one of", self.error("/api/v1/llm/predictions?sort=bogus"))
        self.assertIn("'since' must be a date", self.error("/api/v1/llm/predictions?since=yesterday"))
        self.assertIn("'since' must be a date", self.error("/api/v1/llm/predictions?since=2026-02-30"))
        for odd in ("0x10", "0000-01-01", "-001-01-01", "1e3", "-5", "2026-1-011", "nan", "inf"):
            self.assertIn("'since' must be a date", self.error("/api/v1/llm/predictions?since=" + odd))
        self.assertIn("'since' must be before 'until'",
                      self.error("/api/v1/llm/predictions?since=2026-02-02&until=2026-02-01"))
        self.assertIn("limit is at least 1", self.error("/api/v1/llm/predictions?limit=0"))
        self.assertIn("limit is at most 500", self.error("/api/v1/llm/predictions?limit=501"))
        self.assertIn("unknown query parameter 'colour'", self.error("/api/v1/llm/predictions?colour=red"))
        self.assertIn("'tag' must be one of hallucination", self.error("/api/v1/llm/predictions?tag=rude"))
        self.assertIn("'q' is at most 500 bytes", self.error("/api/v1/llm/predictions?q=" + "x" * 501))
        self.assertIn("ids", self.error("/api/v1/llm/predictions?ids=1,,2"))
        self.assertIn("at most 1000", self.error("/api/v1/llm/predictions?ids=" + ",".join(["1"] * 1001)))
        self.error("/api/v1/llm/predictions/999999", 404)
        self.error("/api/v1/llm/exports/sft?outcome=error")

    # Feedback --------------------------------------------------------------------------

    def test_thumbs_replace_each_other_and_evaluations_are_checked(self):
        pid = self.answers[("speed of light", "tuned")]
        j = self.api("PUT", f"/api/v1/llm/predictions/{pid}/thumbs", {"up": True})
        self.assertEqual((j["source"], j["criterion"], j["passed"], j["score"]), ("human", "thumbs", True, 1.0))
        self.assertEqual(j["model_id"], self.tuned["id"])
        again = self.api("PUT", f"/api/v1/llm/predictions/{pid}/thumbs", {"up": False})
        self.assertEqual(again["id"], j["id"])
        full = self.api("GET", f"/api/v1/llm/predictions/{pid}")
        self.assertEqual(full["thumbs"], "down")
        self.assertEqual(len([x for x in full["judgments"] if x["criterion"] == "thumbs"]), 1)
        self.api("DELETE", f"/api/v1/llm/predictions/{pid}/thumbs")
        self.assertIsNone(self.api("GET", f"/api/v1/llm/predictions/{pid}")["thumbs"])
        self.error(f"/api/v1/llm/predictions/{pid}/thumbs", 404, "DELETE")

        ev = {"stars": 2, "success": False, "failure_tags": ["incomplete", "hallucination", "incomplete"],
              "strengths": "short", "notes": "misses units", "expected": "299,792,458 m/s",
              "groundedness": 35, "citations": [{"source": "https://physics.example/c", "correct": False}]}
        e = self.api("PUT", f"/api/v1/llm/predictions/{pid}/evaluation", ev)
        self.assertEqual(e["tags"], ["hallucination", "incomplete"])
        self.assertEqual((e["score"], e["passed"]), (2.0, False))
        self.assertEqual(e["evidence"]["expected"], "299,792,458 m/s")
        self.assertEqual(e["evidence"]["groundedness"], 35)
        self.assertEqual(e["evidence"]["citations"], [{"source": "https://physics.example/c", "correct": False}])
        listed = self.api("GET", f"/api/v1/llm/predictions?tag=hallucination")
        self.assertIn(pid, [p["id"] for p in listed["predictions"]])
        self.assertEqual(self.api("GET", f"/api/v1/llm/predictions/{pid}")["stars"], 2.0)

        for body, message in [({"stars": 6}, "'stars' must be a whole number from 1 to 5"),
                              ({"stars": 2.5}, "'stars' must be a whole number from 1 to 5"),
                              ({"failure_tags": ["rude"]}, "a failure tag is one of hallucination"),
                              ({"groundedness": 101}, "'groundedness' must be a number from 0 to 100"),
                              ({"citations": [{"source": "x"}]}, "a citation is"),
                              ({"notes": "x" * 20000}, "'notes' is at most 16384 bytes"),
                              ({"mood": "bad"}, "unknown field 'mood'"),
                              ({}, "an evaluation needs at least one of its fields")]:
            self.assertIn(message, self.error(f"/api/v1/llm/predictions/{pid}/evaluation", 422, "PUT", body))
        self.assertIn("'up' must be true or false", self.error(f"/api/v1/llm/predictions/{pid}/thumbs", 422, "PUT", {"up": 1}))
        self.error("/api/v1/llm/predictions/999999/thumbs", 404, "PUT", {"up": True})

        rule = self.api("POST", f"/api/v1/llm/predictions/{pid}/judgments",
                        {"source": "rule", "criterion": "mentions_units", "passed": False, "score": 0,
                         "evidence": {"pattern": "m/s"}}, 201)
        self.assertEqual(rule["source"], "rule")
        self.assertIn("'source' must be rule or llm",
                      self.error(f"/api/v1/llm/predictions/{pid}/judgments", 422, "POST", {"source": "human", "criterion": "x"}))
        self.assertIn("a person's criterion",
                      self.error(f"/api/v1/llm/predictions/{pid}/judgments", 422, "POST", {"source": "llm", "criterion": "thumbs"}))
        judgments = self.api("GET", f"/api/v1/llm/predictions/{pid}/judgments")["judgments"]
        self.assertEqual(sorted(j["criterion"] for j in judgments), ["evaluation", "mentions_units"])
        self.api("DELETE", f"/api/v1/llm/predictions/{pid}/evaluation")

    def test_feedback_per_model_with_tag_shares_and_a_wilson_interval(self):
        # A fresh model so the numbers are this test's alone.
        m = self.api("POST", "/api/v1/llm/models", {"name": "judged", "api": "openai",
                                                    "base_url": self.standin.url + "/v1", "model": "judged",
                                                    "api_key": "sk-test"}, 201)
        c = self.api("POST", "/api/v1/llm/conversations", {"title": "judged", "model_id": m["id"]}, 201)
        ids = [self.send(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": f"question {i}"})
               ["message"]["prediction_id"] for i in range(5)]
        for pid, up in zip(ids, [True, True, True, False, None]):
            if up is not None:
                self.api("PUT", f"/api/v1/llm/predictions/{pid}/thumbs", {"up": up})
        for pid, stars, tags in [(ids[0], 5, []), (ids[3], 1, ["hallucination", "off_topic"]), (ids[4], 2, ["hallucination"]),
                                 (ids[1], 4, [])]:
            self.api("PUT", f"/api/v1/llm/predictions/{pid}/evaluation", {"stars": stars, "failure_tags": tags,
                                                                        "success": stars >= 4})
        s = self.api("GET", f"/api/v1/llm/feedback?model_id={m['id']}")
        self.assertEqual(len(s["models"]), 1)
        row = s["models"][0]
        self.assertEqual((row["predictions"], row["thumbs_up"], row["thumbs_down"], row["evaluations"]), (5, 3, 1, 4))
        self.assertAlmostEqual(row["up_rate"], 0.75)
        low, high = wilson(3, 4)
        self.assertAlmostEqual(row["up_rate_ci95"][0], low, places=9)
        self.assertAlmostEqual(row["up_rate_ci95"][1], high, places=9)
        self.assertAlmostEqual(row["average_stars"], 3.0)
        self.assertAlmostEqual(row["success_rate"], 0.5)
        shares = {t["tag"]: (t["count"], t["share"]) for t in row["failure_tags"]}
        self.assertEqual(list(shares), TAGS)
        self.assertEqual(shares["hallucination"], (2, 0.5))
        self.assertEqual(shares["off_topic"], (1, 0.25))
        self.assertEqual(shares["tone_issues"], (0, 0.0))
        self.assertEqual(len(s["trend"]), 1)  # all today
        self.assertEqual((s["trend"][0]["thumbs_up"], s["trend"][0]["thumbs_down"]), (3, 1))
        self.assertEqual(s["trend"][0]["start"] % 86400, 0)
        week = self.api("GET", f"/api/v1/llm/feedback?model_id={m['id']}&bucket=week")
        self.assertEqual((week["trend"][0]["start"] - 4 * 86400) % (7 * 86400), 0)  # a Monday
        only = self.api("GET", f"/api/v1/llm/feedback?model_id={m['id']}&tag=off_topic")["models"][0]
        self.assertEqual(only["predictions"], 1)
        self.assertIn("'bucket' must be one of day, week", self.error("/api/v1/llm/feedback?bucket=month"))

        history = self.api("GET", f"/api/v1/llm/judgments?model_id={m['id']}&limit=3")
        self.assertEqual(len(history["judgments"]), 3)
        rest = self.api("GET", f"/api/v1/llm/judgments?model_id={m['id']}&after_id={history['next_after_id']}")
        self.assertEqual(len(history["judgments"]) + len(rest["judgments"]), 8)

        code, body, headers = self.get_raw(f"/api/v1/llm/exports/judgments?format=csv&model_id={m['id']}")
        self.assertEqual(code, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        self.assertEqual(len(rows), 8)
        bad = [r for r in rows if r["criterion"] == "evaluation" and r["score"] == "1.0"][0]
        self.assertEqual(bad["tags"], "hallucination;off_topic")
        self.assertEqual(bad["prompt"], "question 3")
        self.assertEqual(bad["response"], "judged heard: question 3")
        code, body, _ = self.get_raw(f"/api/v1/llm/exports/judgments?format=jsonl&model_id={m['id']}")
        lines = [json.loads(x) for x in body.decode().splitlines()]
        self.assertEqual(len(lines), 8)
        self.assertEqual({x["model_id"] for x in lines}, {m["id"]})

    # Exports ---------------------------------------------------------------------------

    def test_the_feedback_page_compares_two_models_thumbs_unpaired(self):
        ids = {}
        for name, ups in (("ab-x", 8), ("ab-y", 3)):
            m = self.api("POST", "/api/v1/llm/models", {"name": name, "api": "openai",
                                                        "base_url": self.standin.url + "/v1", "model": name,
                                                        "api_key": "sk-test"}, 201)
            ids[name] = m["id"]
            c = self.api("POST", "/api/v1/llm/conversations", {"title": name, "model_id": m["id"]}, 201)
            for i in range(10):
                pid = self.send(f"/api/v1/llm/conversations/{c['id']}/messages", {"content": f"q {i}"})["message"]["prediction_id"]
                self.api("PUT", f"/api/v1/llm/predictions/{pid}/thumbs", {"up": i < ups})
        code, html, _ = self.server.request("GET", f"/llm/feedback?a={ids['ab-x']}&b={ids['ab-y']}")
        self.assertEqual(code, 200)
        html = html.decode() if isinstance(html, bytes) else html
        self.assertIn("A/B: ab-y against ab-x", html)
        # scipy.stats.fisher_exact([[8, 2], [3, 7]]) p = 0.0698; Newcombe's interval of 0.3 - 0.8.
        self.assertIn("<td>thumbs-up rate (different prompts)</td><td class=\"num\">20</td><td class=\"num\">80%</td>"
                      "<td class=\"num\">30%</td><td class=\"num\">-50.0 pts</td>", html)
        self.assertIn("<td>Fisher exact (unpaired)</td><td class=\"num\">0.070</td>", html)
        self.assertIn("no detectable difference with n = 20", html)

    def test_predictions_export_as_csv_and_json_with_every_row(self):
        code, body, headers = self.get_raw("/api/v1/llm/exports/predictions?format=csv&model_id=%d" % self.base["id"])
        self.assertEqual(code, 200)
        self.assertIn("attachment", headers["Content-Disposition"])
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        self.assertEqual(len(rows), 5)  # four answers and the failed call
        by_id = {int(r["id"]): r for r in rows}
        one = by_id[self.answers[("capital of France", "base")]]
        self.assertEqual(one["prompt"], "capital of France")
        self.assertEqual(one["response"], "base-standin heard: capital of France")
        self.assertEqual(json.loads(one["messages"])[0], {"role": "system", "content": "Be brief."})
        full = self.api("GET", f"/api/v1/llm/predictions/{one['id']}")
        self.assertEqual(float(one["latency_ms"]), full["latency_ms"])
        self.assertEqual(int(one["total_tokens"]), full["total_tokens"])
        self.assertAlmostEqual(float(one["cost_usd"]), full["cost_usd"], places=15)
        code, body, _ = self.get_raw(f"/api/v1/llm/exports/predictions?format=json&conversation_id={self.conv['id']}")
        data = body if isinstance(body, list) else json.loads(body)
        self.assertEqual(len(data), 9)
        self.assertEqual({p["id"] for p in data}, {p["id"] for p in self.api("GET", f"/api/v1/llm/predictions?limit=500&conversation_id={self.conv['id']}")["predictions"]})
        self.assertIn("unknown query parameter", self.error("/api/v1/llm/exports/predictions?format=csv&page=2"))
        self.assertIn("'format' must be one of csv, json, jsonl", self.error("/api/v1/llm/exports/predictions?format=xml"))

    def test_sft_and_preference_exports_read_back_line_by_line(self):
        light_base, light_tuned = self.answers[("speed of light", "base")], self.answers[("speed of light", "tuned")]
        planet_base, planet_tuned = self.answers[("largest planet", "base")], self.answers[("largest planet", "tuned")]
        self.api("PUT", f"/api/v1/llm/predictions/{planet_base}/thumbs", {"up": False})
        self.api("PUT", f"/api/v1/llm/predictions/{planet_tuned}/thumbs", {"up": True})
        self.api("PUT", f"/api/v1/llm/predictions/{light_base}/evaluation", {"stars": 1, "expected": "About 300,000 km/s."})
        c = f"conversation_id={self.conv['id']}"
        try:
            code, body, headers = self.get_raw(f"/api/v1/llm/exports/sft?format=openai&conversation_id={self.conv['id']}")
            self.assertEqual(code, 200)
            lines = [json.loads(x) for x in body.decode().splitlines()]
            # Every answered call but the one rated down (no correction): 7. The failed call
            # is not an example either.
            self.assertEqual(len(lines), 7)
            self.assertNotIn("base-standin heard: largest planet", [x["messages"][-1]["content"] for x in lines])
            for line in lines:
                roles = [m["role"] for m in line["messages"]]
                self.assertEqual(roles[0], "system")
                self.assertEqual(roles[-2:], ["user", "assistant"])
            corrected = [x for x in lines if x["messages"][-1]["content"] == "About 300,000 km/s."]
            self.assertEqual(len(corrected), 1)  # the expected behaviour replaced the answer
            raw = self.get_raw(f"/api/v1/llm/exports/sft?format=openai&use_expected=false&rating=up&{c}")[1].decode()
            ups = [json.loads(x) for x in raw.splitlines()]
            self.assertEqual([u["messages"][-1]["content"] for u in ups], ["tuned-standin heard: largest planet"])
            share = [json.loads(x) for x in self.get_raw(f"/api/v1/llm/exports/sft?format=sharegpt&rating=up&{c}")[1].decode().splitlines()]
            # The second prompt of the conversation: its history comes along.
            self.assertEqual([t["from"] for t in share[0]["conversations"]], ["system", "human", "gpt", "human", "gpt"])
            self.assertEqual(share[0]["conversations"][-1]["value"], "tuned-standin heard: largest planet")

            trl = [json.loads(x) for x in self.get_raw(f"/api/v1/llm/exports/preferences?format=trl&{c}")[1].decode().splitlines()]
            pairs = {(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in trl}
            self.assertIn(("tuned-standin heard: largest planet", "base-standin heard: largest planet"), pairs)
            self.assertIn(("About 300,000 km/s.", "base-standin heard: speed of light"), pairs)
            self.assertEqual(len(trl), 2)
            for p in trl:
                self.assertEqual(p["prompt"][-1]["role"], "user")
                self.assertEqual(set(p), {"prompt", "chosen", "rejected"})
            dpo = [json.loads(x) for x in self.get_raw(f"/api/v1/llm/exports/preferences?format=openai&{c}")[1].decode().splitlines()]
            self.assertEqual(len(dpo), 2)
            for p in dpo:
                self.assertEqual(set(p), {"input", "preferred_output", "non_preferred_output"})
                self.assertEqual(p["input"]["messages"][-1]["role"], "user")
                self.assertEqual(p["input"]["tools"], [])
                self.assertIs(p["input"]["parallel_tool_calls"], True)
                self.assertEqual(len(p["preferred_output"]), 1)
                self.assertEqual(p["preferred_output"][0]["role"], "assistant")
        finally:
            self.api("DELETE", f"/api/v1/llm/predictions/{planet_base}/thumbs")
            self.api("DELETE", f"/api/v1/llm/predictions/{planet_tuned}/thumbs")
            self.api("DELETE", f"/api/v1/llm/predictions/{light_base}/evaluation")

    def test_exports_save_as_datasets_in_their_table_form(self):
        planet_base, planet_tuned = self.answers[("largest planet", "base")], self.answers[("largest planet", "tuned")]
        self.api("PUT", f"/api/v1/llm/predictions/{planet_base}/thumbs", {"up": False})
        self.api("PUT", f"/api/v1/llm/predictions/{planet_tuned}/thumbs", {"up": True})
        c = f"conversation_id={self.conv['id']}"
        try:
            table = [json.loads(x) for x in self.get_raw(f"/api/v1/llm/exports/sft?format=table&{c}")[1].decode().splitlines()]
            self.assertEqual(len(table), 7)  # the answer rated down is no example
            for row in table:
                self.assertEqual(set(row), {"prediction_id", "model", "system", "prompt", "completion", "messages"})
                self.assertEqual(row["system"], "Be brief.")
                self.assertEqual(json.loads(row["messages"])[-1], {"role": "user", "content": row["prompt"]})
                self.assertTrue(row["completion"].endswith("heard: " + row["prompt"]), row)
            saved = self.api("POST", f"/api/v1/llm/exports/dataset?kind=sft&name=chat-sft&{c}", None, 201)
            self.assertEqual((saved["name"], saved["kind"], saved["rows"]), ("chat-sft", "sft", 7))
            self.assertEqual(saved["href"], f"/datasets/{saved['dataset_id']}")
            ds = self.api("GET", f"/api/v1/dataset/{saved['dataset_id']}")
            self.assertEqual(ds["name"], "chat-sft")
            preview = self.api("GET", f"/api/v1/dataset/{saved['dataset_id']}/preview?limit=100")
            self.assertEqual(preview["total"], 7)
            names = [col["name"] for col in preview["columns"]]
            self.assertEqual(set(names), {"prediction_id", "model", "system", "prompt", "completion", "messages"})
            got = sorted((int(r[names.index("prediction_id")]), r[names.index("completion")]) for r in preview["rows"])
            self.assertEqual(got, sorted((r["prediction_id"], r["completion"]) for r in table))

            pairs = self.api("POST", f"/api/v1/llm/exports/dataset?kind=preferences&name=chat-pairs&{c}", None, 201)
            self.assertEqual(pairs["rows"], 1)
            preview = self.api("GET", f"/api/v1/dataset/{pairs['dataset_id']}/preview")
            names = [col["name"] for col in preview["columns"]]
            row = dict(zip(names, preview["rows"][0]))
            self.assertEqual((row["prompt"], row["chosen"], row["rejected"]),
                             ("largest planet", "tuned-standin heard: largest planet", "base-standin heard: largest planet"))
            self.assertEqual((int(row["chosen_prediction"]), int(row["rejected_prediction"])), (planet_tuned, planet_base))

            # Errors: each precise, nothing saved.
            before = len(self.api("GET", "/api/v1/dataset/"))
            self.assertIn("no preference pairs", self.error(f"/api/v1/llm/exports/dataset?kind=preferences&name=x&model_id={self.base['id']}", 422, "POST"))
            self.assertIn("no answered calls", self.error("/api/v1/llm/exports/dataset?kind=sft&name=x&q=zzzznothing", 422, "POST"))
            self.assertIn("name is required", self.error("/api/v1/llm/exports/dataset?kind=sft", 422, "POST"))
            self.assertIn("control characters", self.error(f"/api/v1/llm/exports/dataset?kind=sft&name=a%0Ab&{c}", 422, "POST"))
            self.assertIn("kind", self.error("/api/v1/llm/exports/dataset?kind=csv&name=x", 422, "POST"))
            self.assertIn("outcome ok", self.error("/api/v1/llm/exports/dataset?kind=sft&name=x&outcome=error", 422, "POST"))
            self.assertIn("use_expected is for kind=sft",
                          self.error("/api/v1/llm/exports/dataset?kind=preferences&name=x&use_expected=false", 422, "POST"))
            self.assertIn("unknown query parameter 'format'", self.error("/api/v1/llm/exports/dataset?kind=sft&name=x&format=openai", 422, "POST"))
            self.assertIn("body must be empty", self.error("/api/v1/llm/exports/dataset?kind=sft&name=x", 422, "POST", {"kind": "sft"}))
            self.assertEqual(len(self.api("GET", "/api/v1/dataset/")), before)
        finally:
            self.api("DELETE", f"/api/v1/llm/predictions/{planet_base}/thumbs")
            self.api("DELETE", f"/api/v1/llm/predictions/{planet_tuned}/thumbs")

    def test_exports_page_through_thousands_of_rows(self):
        # Rows written straight into the database (as a long-lived server accumulates
        # them): more than several export pages, with text that needs CSV quoting.
        db = sqlite3.connect(os.path.join(self.server.data_dir, "loupe.db"), timeout=30)
        n = 1234
        with db:
            for i in range(n):
                msgs = json.dumps([{"role": "user", "content": f"bulk, \"quoted\"\nline {i}"}])
                cur = db.execute(
                    "INSERT INTO predictions(time, model_id, model_name, api, provider_model, messages, params, response,"
                    " finish_reason, outcome, error_type, error_text, latency_ms, trace_id, source) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (1000 + i, None, "bulk", "openai", "bulk", msgs, "{}", f"answer {i}", "stop", "ok", "", "", 1.5, "", "batch"))
                db.execute("INSERT INTO predictions_fts(rowid, prompt, response) VALUES(?,?,?)",
                           (cur.lastrowid, f"bulk line {i}", f"answer {i}"))
        db.close()
        body = self.get_raw("/api/v1/llm/exports/predictions?format=csv&source=batch")[1].decode()
        rows = list(csv.DictReader(io.StringIO(body)))
        self.assertEqual(len(rows), n)
        self.assertEqual(rows[7]["prompt"], 'bulk, "quoted"\nline 7')
        self.assertEqual(len({r["id"] for r in rows}), n)
        sft = self.get_raw("/api/v1/llm/exports/sft?format=openai&source=batch")[1].decode().splitlines()
        self.assertEqual(len(sft), n)
        self.assertEqual(json.loads(sft[-1])["messages"][-1]["content"], f"answer {n - 1}")
        self.assertEqual(self.api("GET", "/api/v1/llm/predictions?source=batch&q=bulk")["total"], n)


if __name__ == "__main__":
    unittest.main()
