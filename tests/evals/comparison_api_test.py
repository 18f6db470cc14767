"""The comparison lab over HTTP against a real `loupe serve` and the stand-in provider
(tests/llm/standin_provider.py, a test server): every prompt answered by every model in
parallel, blind rows shuffled and their order kept, ratings, preferences and ties stored,
position bias, preference pairs (TRL, OpenAI DPO), the Bradley-Terry leaderboard, a
restart in the middle of a comparison, and each refusal with its message."""
import json
import math
import time
import unittest

from eval_case import EvalApiCase
from loupe_server import LoupeServer  # noqa: E402 (eval_case put it on the path)


class ComparisonApiTest(EvalApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = cls.model("base", price_input=1.0, price_output=2.0)
        cls.tuned = cls.model("tuned", base_model_id=cls.base["id"])
        cls.third = cls.model("third", api="anthropic")

    @classmethod
    def wait(cls, cid, server=None, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            c = cls.api("GET", f"/api/v1/comparisons/{cid}", server=server)
            if c["pending"] == 0:
                return c
            time.sleep(0.1)
        raise AssertionError(f"comparison {cid} still has answers pending")

    def download(self, path):
        code, body, headers = self.server.request("GET", path)
        self.assertEqual(code, 200, body)
        text = body.decode() if isinstance(body, bytes) else json.dumps(body)
        return [json.loads(line) for line in text.splitlines() if line]

    def test_a_blind_comparison_of_twenty_prompts(self):
        prompts = [f"question number {i}" for i in range(20)]
        created = self.api("POST", "/api/v1/comparisons",
                           {"model_ids": [self.base["id"], self.tuned["id"]], "prompts": prompts}, 201)
        self.assertTrue(created["blind"])  # blind unless asked otherwise
        self.assertTrue(created["hidden"])
        self.assertIsNone(created["models"])
        self.assertEqual(created["title"], "Blind comparison of 2 models")  # the names would give it away
        self.assertEqual((created["rows"], created["answers"]), (20, 40))
        c = self.wait(created["id"])
        self.assertEqual((c["answered"], c["pending"], c["decided"]), (40, 0, 0))
        rows = c["items"]
        self.assertEqual([r["prompt"] for r in rows], prompts)
        orders = set()
        for r in rows:
            self.assertEqual([x["label"] for x in r["cells"]], ["A", "B"])
            texts = sorted(x["response"] for x in r["cells"])
            self.assertEqual(texts, [f"base-standin heard: {r['prompt']}", f"tuned-standin heard: {r['prompt']}"])
            for x in r["cells"]:
                self.assertEqual(x["state"], "ok")
                # Nothing that tells the models apart while hidden.
                for k in ("model_id", "model_name", "latency_ms", "ttft_ms", "cost_usd", "prompt_tokens",
                          "completion_tokens", "prediction_id"):
                    self.assertIsNone(x[k], k)
            orders.add(r["cells"][0]["response"].split(" ")[0])
        # Shuffled per row: both models stand on the left somewhere (all 20 alike: p = 2^-19).
        self.assertEqual(orders, {"base-standin", "tuned-standin"})

        # Ratings: stored as the caller's judgments, replaced, taken back.
        cell = rows[0]["cells"][0]
        row = self.api("PUT", f"/api/v1/comparisons/{c['id']}/answers/{cell['id']}/ratings",
                       {"clarity": 4, "accuracy": 5, "conciseness": 3, "overall": 4})
        self.assertEqual(row["cells"][0]["ratings"], {"clarity": 4, "accuracy": 5, "conciseness": 3, "overall": 4})
        row = self.api("PUT", f"/api/v1/comparisons/{c['id']}/answers/{cell['id']}/ratings", {"overall": 2, "clarity": None})
        self.assertEqual(row["cells"][0]["ratings"], {"clarity": None, "accuracy": 5, "conciseness": 3, "overall": 2})
        for bad, msg in [({"overall": 6}, "1 to 5"), ({"overall": 0}, "1 to 5"), ({"overall": 2.5}, "1 to 5"),
                         ({"overall": "4"}, "1 to 5"), ({"style": 3}, "unknown rating 'style'"), ({}, "clarity")]:
            self.error("PUT", f"/api/v1/comparisons/{c['id']}/answers/{cell['id']}/ratings", bad, 422, msg)
        self.error("PUT", f"/api/v1/comparisons/{c['id']}/answers/999999/ratings", {"overall": 3}, 404, "not in comparison")

        # Prefer the left answer of every row: the position bias is plain to see.
        left_texts = []
        for r in rows:
            decided = self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{r['id']}/decision",
                               {"decision": "prefer", "preferred": r["cells"][0]["id"]})
            self.assertEqual(decided["decision"], "prefer")
            self.assertEqual(decided["preferred_cell"], r["cells"][0]["id"])
            self.assertEqual(decided["rejected_cells"], [r["cells"][1]["id"]])
            self.assertTrue(decided["decided_blind"])
            left_texts.append((r["cells"][0]["response"], r["cells"][1]["response"]))
        c = self.api("GET", f"/api/v1/comparisons/{c['id']}")
        self.assertEqual(c["decided"], 20)
        bias = c["position_bias"]
        self.assertEqual((bias["decided_blind"], bias["by_position"]), (20, [20, 0]))
        self.assertAlmostEqual(bias["p_value"], 2 * 0.5 ** 20, delta=1e-12)  # binomtest(20, 20)

        # 20 decided rows of two models: 20 pairs, the preferred answer chosen.
        for fmt in ("trl", "openai"):
            lines = self.download(f"/api/v1/comparisons/{c['id']}/preferences?format={fmt}")
            self.assertEqual(len(lines), 20)
            for line, (chosen, rejected), prompt in zip(lines, left_texts, prompts):
                if fmt == "trl":
                    self.assertEqual(line["prompt"], [{"role": "user", "content": prompt}])
                    self.assertEqual(line["chosen"], [{"role": "assistant", "content": chosen}])
                    self.assertEqual(line["rejected"], [{"role": "assistant", "content": rejected}])
                else:
                    self.assertEqual(line["input"]["messages"], [{"role": "user", "content": prompt}])
                    self.assertEqual(line["preferred_output"], [{"role": "assistant", "content": chosen}])
                    self.assertEqual(line["non_preferred_output"], [{"role": "assistant", "content": rejected}])

        # A tie gives no pair; clearing a decision takes the row out.
        self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{rows[0]['id']}/decision", {"decision": "tie"})
        self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{rows[1]['id']}/decision", {"decision": ""})
        self.assertEqual(len(self.download(f"/api/v1/comparisons/{c['id']}/preferences?format=trl")), 18)
        c = self.api("GET", f"/api/v1/comparisons/{c['id']}")
        self.assertEqual((c["decided"], c["ties"]), (19, 1))

        # While hidden, nothing names the models: not the leaderboard, not the table export.
        self.error("GET", f"/api/v1/comparisons/leaderboard?comparison_id={c['id']}", None, 409, "reveal them first")
        self.error("GET", f"/api/v1/comparisons/{c['id']}/ab", None, 409, "reveal them first")
        self.error("GET", f"/api/v1/comparisons/{c['id']}/preferences?format=table", None, 409, "reveal the models first")
        board = self.api("GET", "/api/v1/comparisons/leaderboard")
        self.assertEqual(board["battles"], sum(m["battles"] for m in board["models"]) // 2)
        hidden_battles = board["battles"]

        # Reveal: names and numbers appear; later decisions are not blind.
        revealed = self.api("POST", f"/api/v1/comparisons/{c['id']}/reveal")
        self.assertFalse(revealed["hidden"])
        self.assertEqual([m["name"] for m in revealed["models"]], ["base", "tuned"])
        c = self.api("GET", f"/api/v1/comparisons/{c['id']}")
        x = c["items"][2]["cells"][0]
        self.assertIn(x["model_name"], ("base", "tuned"))
        self.assertTrue(x["response"].startswith(x["model_name"] + "-standin heard:"))
        self.assertGreater(x["latency_ms"], 0)
        self.assertIsInstance(x["prediction_id"], int)
        d = self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{rows[1]['id']}/decision",
                     {"decision": "prefer", "preferred": rows[1]["cells"][1]["id"]})
        self.assertFalse(d["decided_blind"])
        # The answers are predictions of source "comparison", with the ratings as judgments.
        pred = self.api("GET", f"/api/v1/llm/predictions/{x['prediction_id']}")
        self.assertEqual((pred["source"], pred["conversation_id"]), ("comparison", None))
        # Revealed, its 20 decided rows join the all-comparisons leaderboard.
        self.assertEqual(self.api("GET", "/api/v1/comparisons/leaderboard")["battles"], hidden_battles + 20)
        rated = next(y for y in c["items"][0]["cells"] if y["id"] == cell["id"])
        p = self.api("GET", f"/api/v1/llm/predictions/{rated['prediction_id']}")
        self.assertEqual(sorted((j["criterion"], j["score"], j["source"]) for j in p["judgments"]),
                         [("accuracy", 5, "human"), ("conciseness", 3, "human"), ("overall", 2, "human")])

    def test_leaderboard_from_known_decisions(self):
        c = self.api("POST", "/api/v1/comparisons", {
            "model_ids": [self.base["id"], self.tuned["id"]], "blind": False,
            "prompts": [f"board prompt {i}" for i in range(20)], "title": "board"}, 201)
        c = self.wait(c["id"])
        self.assertEqual([x["model_name"] for x in c["items"][0]["cells"]], ["base", "tuned"])  # not shuffled
        for i, r in enumerate(c["items"]):
            tuned_cell = next(x["id"] for x in r["cells"] if x["model_name"] == "tuned")
            base_cell = next(x["id"] for x in r["cells"] if x["model_name"] == "base")
            body = ({"decision": "tie"} if i >= 18 else
                    {"decision": "prefer", "preferred": tuned_cell if i < 12 else base_cell})
            self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{r['id']}/decision", body)
        board = self.api("GET", f"/api/v1/comparisons/leaderboard?comparison_id={c['id']}")
        self.assertEqual((board["battles"], board["rows"]), (20, 20))
        first, second = board["models"]
        self.assertEqual((first["name"], second["name"]), ("tuned", "base"))
        self.assertEqual((first["wins"], first["ties"], first["losses"], first["battles"]), (12, 2, 6, 20))
        self.assertEqual((second["wins"], second["ties"], second["losses"]), (6, 2, 12))
        self.assertEqual(board["matrix_models"], ["tuned", "base"])
        self.assertEqual(board["battle_counts"], [[0, 20], [20, 0]])
        self.assertAlmostEqual(board["win_rate"][0][1], 13 / 20)  # ties count half
        self.assertAlmostEqual(board["win_rate"][1][0], 7 / 20)
        self.assertIsNone(board["win_rate"][0][0])
        # Two players: the fit's odds are the record's, shrunk by one virtual game of each
        # against an average player; the gap is below the raw 400 log10(13/7) = 107.5.
        gap = first["rating"] - second["rating"]
        self.assertGreater(gap, 0)
        self.assertLess(gap, 400 * math.log10(13 / 7) + 1e-9)
        self.assertAlmostEqual((first["rating"] + second["rating"]) / 2, 1000, places=6)
        for m in board["models"]:
            self.assertLessEqual(m["ci_low"], m["rating"])
            self.assertGreaterEqual(m["ci_high"], m["rating"])
        # The page shows the same numbers.
        code, html, _ = self.server.request("GET", f"/llm/compare/leaderboard?comparison_id={c['id']}")
        self.assertEqual(code, 200)
        html = html.decode()
        self.assertIn(f">{first['rating']:.0f}<", html)
        self.assertIn(f">{first['ci_low']:.0f} – {first['ci_high']:.0f}<", html)
        self.assertIn(">12</td><td class=\"num\">2</td><td class=\"num\">6<", html)  # tuned's wins, ties, losses
        self.assertIn(">65%<", html)
        self.assertIn(">35%<", html)

        # A/B of the two on the same prompts: 12 rows tuned, 6 base, 2 ties; overall ratings
        # on 10 rows (scipy 1.10: binomtest(12, 18) p = 0.2378; wilcoxon of the differences).
        a_overall = [3, 3, 2, 4, 3, 2, 3, 3, 2, 3]
        b_overall = [4, 5, 3, 4, 4, 3, 5, 4, 3, 4]
        for i, r in enumerate(c["items"][:10]):
            for cell in r["cells"]:
                score = a_overall[i] if cell["model_name"] == "base" else b_overall[i]
                self.api("PUT", f"/api/v1/comparisons/{c['id']}/answers/{cell['id']}/ratings", {"overall": score})
        ab = self.api("GET", f"/api/v1/comparisons/{c['id']}/ab")
        self.assertEqual((ab["a"]["name"], ab["b"]["name"], ab["a"]["wins"], ab["b"]["wins"], ab["ties"]),
                         ("base", "tuned", 6, 12, 2))
        pref, overall = ab["metrics"]
        self.assertEqual((pref["metric"], pref["n"]), ("preference", 20))
        self.assertAlmostEqual(pref["p_value"], 0.237884521484375, places=12)
        self.assertAlmostEqual(pref["difference"], 6 / 20)
        self.assertEqual((overall["metric"], overall["n"]), ("overall", 10))
        self.assertAlmostEqual(overall["p_value"], 0.004957885081270752, places=9)
        self.assertAlmostEqual(overall["p_holm"], 2 * 0.004957885081270752, places=9)
        self.assertTrue(overall["verdict"].startswith("tuned better, significant"), overall["verdict"])
        self.assertEqual(pref["verdict"], "no detectable difference with n = 20")
        swapped = self.api("GET", f"/api/v1/comparisons/{c['id']}/ab?a={self.tuned['id']}&b={self.base['id']}")
        self.assertAlmostEqual(swapped["metrics"][1]["difference"], -1.1)
        self.error("GET", f"/api/v1/comparisons/{c['id']}/ab?a={self.base['id']}&b={self.base['id']}", None, 422,
                   "two different models of comparison")
        self.error("GET", f"/api/v1/comparisons/{c['id']}/ab?a=abc", None, 422, "a must be a non-negative integer, got 'abc'")
        self.error("GET", f"/api/v1/comparisons/{c['id']}/ab?x=1", None, 422, "x")
        code, html, _ = self.server.request("GET", f"/llm/compare/leaderboard?comparison_id={c['id']}")
        html = html.decode()
        self.assertIn("20 of 20 prompts decided between them: tuned preferred 12, base preferred 6, 2 tied.", html)
        self.assertIn("<td>mean overall rating (1–5)</td><td class=\"num\">10</td><td class=\"num\">2.8</td>"
                      "<td class=\"num\">3.9</td><td class=\"num\">+1.10</td>", html)

    def test_failures_are_answers_with_their_reason(self):
        c = self.api("POST", "/api/v1/comparisons", {
            "model_ids": [self.base["id"], self.third["id"], self.tuned["id"]], "blind": False,
            "prompts": ["works fine", "broken #fail:401x3"]}, 201)
        c = self.wait(c["id"])
        broken = c["items"][1]
        states = sorted(x["state"] for x in broken["cells"])
        self.assertEqual(states, ["error", "error", "error"])
        self.assertTrue(all("401" in x["error_text"] or "key" in x["error_text"].lower() for x in broken["cells"]))
        ok = c["items"][0]
        third = next(x for x in ok["cells"] if x["model_name"] == "third")
        self.assertEqual(third["response"], "third-standin heard: works fine")
        # Prefer one and reject only one of the other two: one pair.
        base = next(x for x in ok["cells"] if x["model_name"] == "base")
        self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{ok['id']}/decision",
                 {"decision": "prefer", "preferred": third["id"], "rejected": [base["id"]]})
        # Preferring a failed answer is allowed (it is the user's call); pairs need answers.
        self.api("PUT", f"/api/v1/comparisons/{c['id']}/rows/{broken['id']}/decision",
                 {"decision": "prefer", "preferred": broken["cells"][0]["id"]})
        lines = self.download(f"/api/v1/comparisons/{c['id']}/preferences?format=openai")
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["preferred_output"][0]["content"], "third-standin heard: works fine")
        self.assertEqual(lines[0]["non_preferred_output"][0]["content"], "base-standin heard: works fine")

    def test_refusals(self):
        b, t = self.base["id"], self.tuned["id"]
        for body, status, msg in [
            ({"prompts": ["x"]}, 422, "'model_ids' must name 2 to 4 models"),
            ({"model_ids": [b], "prompts": ["x"]}, 422, "2 to 4"),
            ({"model_ids": [b, t, 3, 4, 5], "prompts": ["x"]}, 422, "2 to 4"),
            ({"model_ids": [b, b], "prompts": ["x"]}, 422, "twice"),
            ({"model_ids": [b, "2"], "prompts": ["x"]}, 422, "models' ids"),
            ({"model_ids": [b, 99999], "prompts": ["x"]}, 404, "model 99999"),
            ({"model_ids": [b, t]}, 422, "'prompts'"),
            ({"model_ids": [b, t], "prompts": []}, 422, "1 to 500"),
            ({"model_ids": [b, t], "prompts": ["x"] * 501}, 422, "1 to 500"),
            ({"model_ids": [b, t], "prompts": ["ok", "  \n"]}, 422, "prompt 2 is empty"),
            ({"model_ids": [b, t], "prompts": ["ok", 5]}, 422, "prompt 2 must be a string"),
            ({"model_ids": [b, t], "prompts": ["a\u0007b"]}, 422, "control characters"),
            ({"model_ids": [b, t], "prompts": ["x" * 40000]}, 413, "prompt 1 is over 32768 bytes"),
            ({"model_ids": [b, t], "prompts": ["x"], "blind": "yes"}, 422, "'blind'"),
            ({"model_ids": [b, t], "prompts": ["x"], "params": {"temperature": 9}}, 422, "temperature"),
            ({"model_ids": [b, t], "prompts": ["x"], "colour": 1}, 422, "unknown field 'colour'"),
        ]:
            self.error("POST", "/api/v1/comparisons", body, status, msg)
        self.error("POST", "/api/v1/comparisons", [1, 2], 400, "object")
        self.error("GET", "/api/v1/comparisons/999999", None, 404, "comparison 999999")
        self.error("GET", "/api/v1/comparisons/abc", None, 422, "comparison id")
        self.error("GET", "/api/v1/comparisons?limit=0", None, 422, "'limit'")
        self.error("GET", "/api/v1/comparisons?x=1", None, 422, "unknown query parameter 'x'")
        self.error("GET", "/api/v1/comparisons/leaderboard?comparison_id=999999", None, 404, "comparison 999999")
        self.error("GET", "/api/v1/comparisons/999999/preferences", None, 404, "comparison 999999")
        c = self.api("POST", "/api/v1/comparisons", {"model_ids": [b, t], "prompts": ["p #slow:400"]}, 201)
        self.error("GET", f"/api/v1/comparisons/{c['id']}/preferences?format=csv", None, 422, "trl, openai, table")
        row = self.api("GET", f"/api/v1/comparisons/{c['id']}")["items"][0]
        cells = [x["id"] for x in row["cells"]]
        url = f"/api/v1/comparisons/{c['id']}/rows/{row['id']}/decision"
        # Answers still coming: a decision waits for them, as a rating does.
        self.error("PUT", url, {"decision": "tie"}, 409, "wait for every answer")
        self.error("PUT", f"/api/v1/comparisons/{c['id']}/answers/{cells[0]}/ratings", {"overall": 3}, 409,
                   "not arrived")
        self.wait(c["id"])
        for body, msg in [({"decision": "best"}, "'decision'"), ({}, "'decision'"),
                          ({"decision": "prefer"}, "'preferred'"),
                          ({"decision": "prefer", "preferred": 999999}, "not an answer of this row"),
                          ({"decision": "prefer", "preferred": cells[0], "rejected": [cells[0]]}, "both"),
                          ({"decision": "prefer", "preferred": cells[0], "rejected": []}, "at least one"),
                          ({"decision": "prefer", "preferred": cells[0], "rejected": [cells[1], cells[1]]}, "twice"),
                          ({"decision": "tie", "preferred": cells[0]}, "go with \"prefer\" only"),
                          ({"decision": "tie", "why": 1}, "unknown field 'why'")]:
            self.error("PUT", url, body, 422, msg)
        other = self.api("POST", "/api/v1/comparisons", {"model_ids": [b, t], "prompts": ["other"]}, 201)
        self.error("PUT", f"/api/v1/comparisons/{other['id']}/rows/{row['id']}/decision", {"decision": "tie"}, 404,
                   "not in comparison")
        # Deleting keeps the predictions (counted once every answer is in).
        self.wait(other["id"])
        before = self.api("GET", "/api/v1/llm/predictions?source=comparison")["total"]
        self.api("DELETE", f"/api/v1/comparisons/{c['id']}")
        self.error("GET", f"/api/v1/comparisons/{c['id']}", None, 404, "not found")
        self.assertEqual(self.api("GET", "/api/v1/llm/predictions?source=comparison")["total"], before)

    def test_a_restart_in_the_middle_asks_again(self):
        data = LoupeServer()
        server = data.start()
        try:
            models = [self.model(n, server=server)["id"] for n in ("one", "two")]
            prompts = [f"slow prompt {i} #slow:150" for i in range(6)]
            c = self.api("POST", "/api/v1/comparisons", {"model_ids": models, "prompts": prompts}, 201, server=server)
            time.sleep(0.4)  # answers are being written (about 6 tokens of 150 ms each)
            mid = self.api("GET", f"/api/v1/comparisons/{c['id']}", server=server)
            self.assertGreater(mid["pending"], 0)
            server.stop()
            server.start()
            done = self.wait(c["id"], server=server)
            self.assertEqual(done["answered"], 12)
            for r in done["items"]:
                self.assertEqual(sorted(x["state"] for x in r["cells"]), ["ok", "ok"])
                clean = r["prompt"].replace(" #slow:150", "")
                self.assertEqual(sorted(x["response"] for x in r["cells"]),
                                 [f"one-standin heard: {clean}", f"two-standin heard: {clean}"])
            # The interrupted calls are kept as cancelled predictions, not as answers.
            preds = self.api("GET", "/api/v1/llm/predictions?source=comparison&limit=100", server=server)
            outcomes = [p["outcome"] for p in preds["predictions"]]
            self.assertEqual(outcomes.count("ok"), 12)
            # Every call was running when the server stopped (12 cells, 16 at once).
            self.assertEqual(outcomes.count("cancelled"), mid["pending"])
            self.assertEqual({p["error_type"] for p in preds["predictions"] if p["outcome"] == "cancelled"}, {"shutdown"})
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
