"""The LLM judge over HTTP against a real `loupe serve` and the stand-in provider in its
judge mode (tests/llm/standin_provider.py, a test server): the judge sees the conversation,
the answer, the context and the reference; the verdict becomes judgments (source llm) per
criterion; a malformed reply is asked again once, then recorded as a judge error with the
raw text; custom rubrics; refusals; and the judge's agreement with people's ratings
(Spearman's rho from scipy, quadratic-weighted kappa from scikit-learn)."""
import json
import time
import unittest
import urllib.request

from eval_case import EvalApiCase

BUILT_IN = ["helpfulness", "accuracy", "clarity", "safety", "completeness"]


class JudgeApiTest(EvalApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = cls.model("base")
        cls.tuned = cls.model("tuned")
        cls.judge = cls.model("judge", api="anthropic")
        prompts = ["What is overfitting?", "safety check #score:7", "retry me #judgebad:1", "never valid #judgebad",
                   "off the scale #score:11", "custom #score:3", "agree 1 #score:2", "agree 2 #score:4",
                   "agree 3 #score:7", "agree 4 #score:10", "agree 5 #score:6"]
        c = cls.api("POST", "/api/v1/comparisons", {"model_ids": [cls.base["id"], cls.tuned["id"]],
                                                    "prompts": prompts, "blind": False}, 201)
        deadline = time.time() + 60
        while True:
            cls.comparison = cls.api("GET", f"/api/v1/comparisons/{c['id']}")
            if cls.comparison["pending"] == 0 or time.time() > deadline:
                break
            time.sleep(0.1)
        # The base model's answer to each prompt: (cell, prediction id).
        cls.answer = {}
        for r in cls.comparison["items"]:
            cell = next(x for x in r["cells"] if x["model_name"] == "base")
            cls.answer[r["prompt"]] = (cell["id"], cell["prediction_id"])

    def judge_of(self, prompt, **extra):
        pid = self.answer[prompt][1]
        return pid, self.api("POST", f"/api/v1/llm/predictions/{pid}/judge", {"judge_model_id": self.judge["id"], **extra})

    def llm_judgments(self, pid):
        return [j for j in self.api("GET", f"/api/v1/llm/predictions/{pid}")["judgments"] if j["source"] == "llm"]

    def test_the_built_in_rubric(self):
        pid, v = self.judge_of("What is overfitting?")
        self.assertEqual([c["name"] for c in v["criteria"]], BUILT_IN)
        for c in v["criteria"]:
            self.assertEqual((c["score"], c["passed"], c["min"], c["max"]), (8, True, 1, 10))
            self.assertEqual(c["reasoning"], f"{c['name']} scored 8 by the stand-in.")
        self.assertEqual(next(c["pass_at"] for c in v["criteria"] if c["name"] == "safety"), 8)
        self.assertTrue(v["passed"])
        self.assertAlmostEqual(v["overall_share"], 7 / 9)
        self.assertAlmostEqual(v["overall"], 8.0)
        self.assertEqual(v["attempts"], 1)
        self.assertEqual(v["judge"]["model_name"], "judge")
        judgments = self.llm_judgments(pid)
        self.assertEqual(sorted(j["criterion"] for j in judgments), sorted(BUILT_IN + ["overall"]))
        self.assertEqual(len(v["judgment_ids"]), 6)
        acc = next(j for j in judgments if j["criterion"] == "accuracy")
        self.assertEqual((acc["score"], acc["passed"], acc["model_name"]), (8, True, "base"))  # the judged model
        # The judge's own call is a prediction of source "judge".
        judge_call = self.api("GET", f"/api/v1/llm/predictions/{v['judge']['prediction_id']}")
        self.assertEqual((judge_call["source"], judge_call["model_name"]), ("judge", "judge"))
        self.assertEqual(judge_call["params"], {"temperature": 0})

    def test_the_judge_sees_the_conversation_context_and_reference(self):
        pid, v = self.judge_of("What is overfitting?", context="Overfitting: fitting noise in the training data.",
                               reference="A model that memorises its training set.")
        # Context given: groundedness joins the built-in criteria.
        self.assertEqual([c["name"] for c in v["criteria"]], BUILT_IN + ["groundedness"])
        with urllib.request.urlopen(self.standin.url + "/_standin/requests") as resp:
            calls = json.loads(resp.read())
        body = calls[-1]["body"]
        body = json.loads(body) if isinstance(body, str) else body
        self.assertTrue(body["system"].startswith("You are an impartial judge"))
        self.assertIn("- groundedness (1 to 10):", body["system"])
        user = body["messages"][-1]["content"]
        self.assertIn('[{"content":"What is overfitting?","role":"user"}]', user)
        self.assertIn("<context>\nOverfitting: fitting noise in the training data.\n</context>", user)
        self.assertIn("<reference>\nA model that memorises its training set.\n</reference>", user)
        self.assertIn("<answer>\nbase-standin heard: What is overfitting?\n</answer>", user)

    def test_a_failed_criterion_fails_the_verdict(self):
        _, v = self.judge_of("safety check #score:7")
        passed = {c["name"]: c["passed"] for c in v["criteria"]}
        self.assertEqual(passed, {"helpfulness": True, "accuracy": True, "clarity": True, "safety": False,
                                  "completeness": True})  # safety passes at 8
        self.assertFalse(v["passed"])
        self.assertAlmostEqual(v["overall"], 7.0)

    def test_a_malformed_reply_is_asked_again_once(self):
        pid, v = self.judge_of("retry me #judgebad:1")
        self.assertEqual(v["attempts"], 2)
        self.assertTrue(v["passed"])
        pid, v = self.judge_of("never valid #judgebad")
        self.assertEqual(v["attempts"], 2)
        self.assertIsNone(v["passed"])
        self.assertIn("not one JSON object", v["error"])
        self.assertEqual(v["raw"], "I would rate this answer highly overall, about eight out of ten.")
        judgments = self.llm_judgments(pid)
        self.assertEqual([j["criterion"] for j in judgments], ["judge_error"])  # never scored by guesswork
        self.assertIsNone(judgments[0]["score"])
        self.assertEqual(judgments[0]["evidence"]["raw"], v["raw"])
        _, v = self.judge_of("off the scale #score:11")
        self.assertIn("outside 1 to 10", v["error"])

    def test_a_custom_rubric(self):
        rubric = {"name": "tone", "criteria": [
            {"name": "politeness", "description": "Is the answer polite?", "min": 1, "max": 5, "pass_at": 4},
            {"name": "brevity", "description": "Is it short?", "min": 1, "max": 5, "pass_at": 3}]}
        _, v = self.judge_of("custom #score:3", rubric=rubric)
        self.assertEqual([(c["name"], c["score"], c["passed"]) for c in v["criteria"]],
                         [("politeness", 3, False), ("brevity", 3, True)])
        self.assertFalse(v["passed"])
        self.assertAlmostEqual(v["overall"], 1 + 9 * 0.5)
        self.assertEqual(v["judge"]["rubric"], "tone")

    def test_refusals(self):
        pid = self.answer["What is overfitting?"][1]
        url = f"/api/v1/llm/predictions/{pid}/judge"
        for body, status, msg in [
            ({}, 422, "'judge_model_id'"),
            ({"judge_model_id": "3"}, 422, "'judge_model_id'"),
            ({"judge_model_id": 99999}, 404, "model 99999"),
            ({"judge_model_id": self.judge["id"], "groundedness": True}, 422, "give 'context'"),
            ({"judge_model_id": self.judge["id"], "rubric": {"criteria": []}}, 422, "criteri"),
            ({"judge_model_id": self.judge["id"], "rubric": {"criteria": [{"name": "x", "min": 5, "max": 1}]}}, 422, ""),
            ({"judge_model_id": self.judge["id"], "rubric": {"criteria": [{"name": "x", "colour": 1}]}}, 422, "colour"),
            ({"judge_model_id": self.judge["id"], "context": 5}, 422, "'context'"),
            ({"judge_model_id": self.judge["id"], "rubric": {"criteria": [{"name": "overall", "description": "d"}]}}, 422,
             "call the criterion otherwise"),
            ({"judge_model_id": self.judge["id"], "rubric": {"criteria": [{"name": "x", "description": "d", "max": 1e300}]}},
             422, "within"),
            ({"judge_model_id": self.judge["id"], "mood": 1}, 422, "unknown field 'mood'"),
            # Each within its own bound, together over what a judge is shown.
            ({"judge_model_id": self.judge["id"], "context": "c" * 262144, "reference": "r" * 262144}, 413,
             "at most 524288"),
        ]:
            code, payload, _ = self.server.request("POST", url, body)
            self.assertEqual(code, status, (body, payload))
            self.assertIn(msg, payload["message"])
        code, payload, _ = self.server.request("POST", "/api/v1/llm/predictions/999999/judge",
                                               {"judge_model_id": self.judge["id"]})
        self.assertEqual(code, 404, payload)

    def test_agreement_with_people(self):
        # A person rates accuracy 1..5 on five answers the judge scores 2, 4, 7, 10, 6.
        people = {"agree 1 #score:2": 1, "agree 2 #score:4": 2, "agree 3 #score:7": 4, "agree 4 #score:10": 5,
                  "agree 5 #score:6": 4}
        cid = self.comparison["id"]
        for prompt, rating in people.items():
            cell, _ = self.answer[prompt]
            self.api("PUT", f"/api/v1/comparisons/{cid}/answers/{cell}/ratings", {"accuracy": rating})
            self.judge_of(prompt)
        out = self.api("GET", f"/api/v1/llm/judges/agreement?judge_model_id={self.judge['id']}")
        acc = next(c for c in out["criteria"] if c["criterion"] == "accuracy")
        self.assertEqual(acc["n"], 5)
        from scipy.stats import spearmanr
        from sklearn.metrics import cohen_kappa_score
        human = list(people.values())
        judge = [2, 4, 7, 10, 6]
        self.assertAlmostEqual(acc["spearman"], spearmanr(human, judge).correlation, places=12)
        judge5 = [1 + round((s - 1) / 9 * 4) for s in judge]  # 2->1, 4->2, 7->4, 10->5, 6->3
        self.assertEqual(judge5, [1, 2, 4, 5, 3])
        self.assertAlmostEqual(acc["weighted_kappa"], cohen_kappa_score(human, judge5, weights="quadratic", labels=[1, 2, 3, 4, 5]), places=12)
        self.assertAlmostEqual(acc["exact_agreement"], 4 / 5)
        code, payload, _ = self.server.request("GET", "/api/v1/llm/judges/agreement?judge=1")
        self.assertEqual(code, 422)


if __name__ == "__main__":
    unittest.main()
