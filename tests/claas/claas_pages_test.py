"""/v1/dashboard and /v1/eval against a live server and CLaaS folders on disk."""
import html
import json
import os
import re
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer  # noqa: E402
import claas_fixtures as fx  # noqa: E402


class PageCase(unittest.TestCase):
    def assertIn(self, member, container, msg=None):  # noqa: N802 -- keep failures short, pages are large
        if member not in container:
            self.fail(msg or f"{member[:300]!r} not found in the page ({len(container)} chars)")

    def assertNotIn(self, member, container, msg=None):  # noqa: N802
        if member in container:
            i = container.index(member)
            self.fail(msg or f"{member[:300]!r} unexpectedly found: ...{container[max(0, i - 200):i + 200]}...")


def rows(page, cls):
    return re.findall(r'<tr class="%s"' % cls, page)


class FeedbackDashboardTest(PageCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="loupe-claas-")
        fb = os.path.join(cls.root, "data", "feedback")
        for i in range(20):
            fx.write_feedback(fb, i, fx.feedback_log(fx.request_id(i), fx.timestamp(i), mode="local", step=i + 1))
        for i in range(20, 24):
            fx.write_feedback(fb, i, fx.feedback_log(fx.request_id(i), fx.timestamp(i), lora="user/tinker-lora",
                                                     mode="tinker", step=i))
        nasty = [{"prompt": "<script>alert('x')</script> héllo — 日本語 🙂", "response": "</pre><b>bold</b>",
                  "feedback": "& more"},
                 {"prompt": "P" * 1_000_000, "response": "long", "feedback": "ok"}]
        fx.write_feedback(fb, 24, fx.feedback_log(fx.request_id(24), fx.timestamp(24), samples=nasty))
        fx.write_feedback(fb, 25, fx.feedback_log(fx.request_id(25), fx.timestamp(25), mode=None, status="error",
                                                  phase="distill", error="CUDA out of memory <oops>"))
        with open(os.path.join(fb, "20260224T235958-" + "e" * 32 + ".json"), "w") as f:
            f.write('{"request_id": "broken", "status": ')  # truncated
        with open(os.path.join(fb, "20260224T235959-" + "f" * 32 + ".json"), "w") as f:
            json.dump({"request_id": "x", "timing_ms": "slow"}, f)
        with open(os.path.join(fb, "20260224T235957-" + "d" * 32 + ".json"), "w") as f:
            json.dump([1, 2, 3], f)
        with open(os.path.join(fb, "notes.txt"), "w") as f:
            f.write("not a log")
        cls.server = LoupeServer(cwd=cls.root, data_dir="./data").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_first_page_lists_newest_first_with_bad_files_reported(self):
        status, page = self.server.html("/v1/dashboard")
        self.assertEqual(status, 200)
        self.assertIn("Page 1 of 2 (29 total)", page)
        # 20 per page, 3 of them broken files: 17 rows, the broken ones listed with reasons.
        self.assertEqual(len(rows(page, "batch")), 17)
        self.assertIn("3 file(s) skipped", page)
        # The total (29 files) is said to count them: 26 batches and these 3.
        self.assertIn("They are not batches, but the total below counts files, so it counts them.", page)
        self.assertIn("20260224T235959-" + "f" * 32 + ".json</code>: timing_ms: expected an object", page)
        self.assertIn("20260224T235958-" + "e" * 32 + ".json</code>: not valid JSON", page)
        self.assertIn("expected a JSON object at the top level", page)
        ids = re.findall(r'<code title="([0-9a-f]{32})"', page)
        self.assertEqual(ids[0], fx.request_id(25))
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_named_metric_columns_for_both_modes(self):
        _, page = self.server.html("/v1/dashboard?per_page=200")
        for title in ("Loss", "KL reg", "IS ratio", "Clip frac", "adv_mean", "kl_mean", "Eff. KL coef"):
            self.assertIn(f">{title}</th>", page)
        # Local row step 20: loss 0.41/20 = 0.0205; Tinker step 23: adv_mean 0.12/23.
        self.assertIn('<td class="num">0.0205</td>', page)
        self.assertIn('<td class="num">%s</td>' % format(0.12 / 23, ".4g"), page)
        self.assertIn("<dt>future_key</dt><dd class=\"mono\">kept</dd>", page)  # unknown keys kept
        self.assertIn("Teacher Scored Text", page)
        self.assertIn("1 sample(s)", page)
        self.assertIn('<td class="num">11020</td>', page)

    def test_text_is_escaped_and_unicode_kept(self):
        _, page = self.server.html("/v1/dashboard?per_page=200")
        self.assertNotIn("<script>alert", page)
        self.assertIn("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; héllo — 日本語 🙂", page)
        self.assertNotIn("</pre><b>bold</b>", page)
        self.assertIn("CUDA out of memory &lt;oops&gt;", page)
        self.assertIn("P" * 1_000_000, page)  # huge prompts are shown whole in the detail row
        self.assertIn("Sample 2/2 — " + "P" * 80 + "…", page)

    def test_pagination_clamps_and_keeps_params(self):
        _, page = self.server.html("/v1/dashboard?page=99&per_page=10")
        self.assertIn("Page 3 of 3 (29 total)", page)
        self.assertIn('href="/v1/dashboard?page=2&amp;per_page=10"', page)
        self.assertIn('<span class="btn disabled">Next &rarr;</span>', page)
        _, page = self.server.html("/v1/dashboard?page=-4&per_page=0")
        self.assertIn("Page 1 of 29 (29 total)", page)
        _, page = self.server.html("/v1/dashboard?per_page=5000")
        self.assertIn("Page 1 of 1 (29 total)", page)
        _, page = self.server.html("/v1/dashboard?page=abc")
        self.assertIn("Page 1 of 2 (29 total)", page)

    def test_missing_and_empty_folders(self):
        empty = tempfile.mkdtemp(prefix="loupe-empty-")
        for folder, text in ((os.path.join(empty, "nope"), "does not exist yet"), (empty, "No feedback batches")):
            srv = LoupeServer(extra_args=["--feedback-log-dir", folder]).start()
            try:
                status, page = srv.html("/v1/dashboard")
                self.assertEqual(status, 200)
                self.assertIn(text, page)
                self.assertNotIn("Page 1 of", page)
            finally:
                srv.cleanup()
        shutil.rmtree(empty)

    def test_env_variable_selects_the_folder(self):
        other = tempfile.mkdtemp(prefix="loupe-fb-")
        fx.write_feedback(other, 0, fx.feedback_log("a" * 32, fx.timestamp(1), lora="env/lora"))
        os.environ["FEEDBACK_LOG_DIR"] = other
        try:
            srv = LoupeServer().start()
        finally:
            del os.environ["FEEDBACK_LOG_DIR"]
        try:
            _, page = srv.html("/v1/dashboard")
            self.assertIn("env/lora", page)
            self.assertIn("(1 total)", page)
        finally:
            srv.cleanup()
            shutil.rmtree(other)

class NonFiniteNumbersTest(PageCase):
    """Python's json writes NaN, Infinity and -Infinity as bare tokens in CLaaS's files; one
    must not lose a log, a steps line or the summary table (issue 17)."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="loupe-nan-")
        fb = os.path.join(cls.root, "data", "feedback")
        log = fx.feedback_log(fx.request_id(1), fx.timestamp(1))
        log["batch_samples"][0]["response_logprobs"] = [float("nan"), float("-inf"), -0.5]
        fx.write_feedback(fb, 1, log)
        # The oldest shape: one request object, no batch_samples.
        fx.write_feedback(fb, 0, {"request_id": fx.request_id(0), "timestamp_utc": fx.timestamp(0), "status": "ok",
                                  "lora_id": "user/old", "request": {"prompt": "An old question", "response": "An old answer",
                                                                     "feedback": "older"}})
        evals = os.path.join(cls.root, "data", "evals")
        run = fx.write_eval_run(evals, "20260301-000000Z", preferences=("concise",), steps=2)
        with open(os.path.join(run, "summary.json"), "w") as f:
            json.dump({"concise": {"preference": "concise", "lora_id": "eval/concise",
                                   "logprob_margin_delta": float("nan"), "final_compliance": float("inf"),
                                   "capability_ratio": -0.0001}}, f)
        steps = os.path.join(run, "concise", "steps.jsonl")
        with open(steps) as f:
            lines = [json.loads(line) for line in f]
        lines[0]["eval"]["logprob_margin"]["margin"] = 1e300  # 301 digits, as Python's format writes it
        lines[0]["sdpo_metrics"]["kl_reg"] = 0.0005
        lines[0]["sdpo_metrics"]["mean_is_ratio"] = 1e-05
        lines[1]["eval"]["preference_compliance"] = float("nan")
        lines[1]["timing_s"] = float("inf")
        lines[1]["sdpo_metrics"]["distill_loss"] = float("-inf")
        with open(steps, "w") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")
        with open(os.path.join(run, "concise", "baseline.json"), "w") as f:
            json.dump(dict(fx.eval_metrics(0.5, 0.2, general=float("-inf")), preference_compliance=float("nan")), f)
        with open(os.path.join(run, "concise", "metadata.json"), "w") as f:
            json.dump({"config": {"steps": 2, "lr": float("nan")}, "lora_id": "eval/concise", "preference": "concise"}, f)
        # An eval with no summary and no new file for over an hour: stalled, not in progress.
        stale = fx.write_eval_run(evals, "20260227-000000Z", preferences=("p",), steps=1, finished=False)
        for folder, _, files in os.walk(stale):
            for name in files:
                os.utime(os.path.join(folder, name), (1_700_000_000, 1_700_000_000))
        # A run folder inside the run, named as it: two runs called the same, with their own anchors.
        fx.write_eval_run(run, "20260301-000000Z", preferences=("inner",), steps=1)
        # Preferences in config order zeta, alpha: CLaaS keeps that order, not the alphabet's.
        fx.write_eval_run(evals, "20260228-000000Z", preferences=("zeta", "alpha"), steps=1)
        for path in (steps, os.path.join(run, "summary.json")):
            with open(path) as f:
                assert "NaN" in f.read()  # the bare tokens this test is about
        cls.server = LoupeServer(cwd=cls.root, data_dir="./data").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_summary_rows_and_sections_follow_the_summary_order(self):
        _, page = self.server.html("/v1/eval?results_dir=" + urllib.parse.quote("./data/evals", safe=""))
        run = page[page.index('id="run-20260228-000000Z"'):]
        self.assertLess(run.index("<td>zeta</td>"), run.index("<td>alpha</td>"))
        sections = re.findall(r'id="pref-20260228-000000Z-(zeta|alpha)"', page)
        self.assertEqual(sections[:2], ["zeta", "alpha"])

    def test_a_silent_run_without_summary_is_stalled(self):
        _, page = self.server.html("/v1/eval?results_dir=" + urllib.parse.quote("./data/evals", safe=""))
        self.assertIn('20260227-000000Z <span class="badge stalled"', page)
        self.assertIn('<span class="muted">last file 2023-11-14 22:13:20 UTC</span>', page)

    def test_the_feedback_logs_are_read(self):
        _, page = self.server.html("/v1/dashboard")
        self.assertEqual(len(rows(page, "batch")), 2)
        self.assertNotIn("skipped", page)
        self.assertIn("An old question", page)  # the oldest shape's sample, not an empty row
        self.assertIn("An old answer", page)

    def test_a_results_dir_that_is_a_run_is_named_by_its_folder(self):
        _, page = self.server.html("/v1/eval?results_dir=" + urllib.parse.quote("./data/evals/20260301-000000Z", safe=""))
        self.assertIn('id="run-20260301-000000Z"', page)
        self.assertIn('id="run-20260301-000000Z-2"', page)  # the run folder of the same name inside it
        self.assertNotIn('id="run-."', page)
        self.assertIn("Page 1 of 1 (2 total)", page)
        self.assertEqual(len(re.findall(r'id="(pref-[^"]+)"', page)), len(set(re.findall(r'id="(pref-[^"]+)"', page))))

    def test_nan_and_inf_show_as_claas_shows_them(self):
        _, page = self.server.html("/v1/eval?results_dir=" + urllib.parse.quote("./data/evals", safe=""))
        self.assertNotIn("skipped", page)
        # The summary row: nan, inf, and -0.000 as Python's format writes -0.0001.
        self.assertIn('<td class="num">nan</td><td class="num">inf</td><td class="num">-0.000</td>', page)
        self.assertEqual(len(rows(page, "step")), 2 + 2 + 1)  # the line holding NaN is not lost (+ the others')
        self.assertIn('title="distill_loss">-inf</td>', page)
        self.assertIn('<td class="num">inf</td>', page)  # timing_s
        self.assertIn('<dt>preference_compliance</dt><dd class="mono">nan</dd>', page)  # baseline and step details
        self.assertIn('<td class="num">%s</td>' % format(1e300, ".3f"), page)
        self.assertIn('<dt>kl_reg</dt><dd class="mono">0.0005</dd>', page)  # in full, as Python's repr
        self.assertIn('<dt>mean_is_ratio</dt><dd class="mono">1e-05</dd>', page)
        self.assertIn("&quot;general_score&quot;: -Infinity", page)  # nested, as json.dumps writes it, not null


class EvalDashboardTest(PageCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="loupe-evals-")
        cls.evals = os.path.join(cls.root, "data", "evals")
        fx.write_eval_run(cls.evals, "20260224-101500Z", mtime=1_700_000_000)
        fx.write_eval_run(cls.evals, "20260225-090000Z", mode="tinker", mtime=1_700_100_000)
        fx.write_eval_run(cls.evals, "20260226-120000Z", finished=False, preferences=("identity",),
                          mtime=1_700_200_000)
        broken = fx.write_eval_run(cls.evals, "20260223-000000Z", mtime=1_600_000_000)
        with open(os.path.join(broken, "concise", "steps.jsonl"), "a") as f:
            f.write('{"step": 9, "eval": \n')
        with open(os.path.join(broken, "plots", "fake.png"), "w") as f:
            f.write("not a png")
        with open(os.path.join(broken, "no_emoji", "baseline.json"), "w") as f:
            f.write("[1,")
        os.makedirs(os.path.join(cls.evals, "empty-dir"))
        os.makedirs(os.path.join(cls.root, "data", "evals2", "x"))
        fx.write_eval_run(os.path.join(cls.root, "data", "evals2"), "outside")
        os.makedirs(os.path.join(cls.root, "secret"))
        fx.write_eval_run(os.path.join(cls.root, "secret"), "leak")
        os.symlink(os.path.join(cls.root, "secret"), os.path.join(cls.evals, "link-out"))
        os.symlink(os.path.join(cls.root, "secret", "leak"), os.path.join(cls.evals, "link-run"))
        os.symlink("/etc/hostname", os.path.join(cls.evals, "20260224-101500Z", "plots", "zz_link.png"))
        os.symlink(os.path.join(cls.evals, "20260224-101500Z"), os.path.join(cls.root, "data", "link-in"))
        cls.server = LoupeServer(cwd=cls.root, data_dir="./data").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.root, ignore_errors=True)

    def get(self, results_dir=None, extra=""):
        q = "" if results_dir is None else "results_dir=" + urllib.parse.quote(results_dir, safe="")
        return self.server.html("/v1/eval?" + q + extra)

    def test_runs_newest_first_with_in_progress_marked(self):
        status, page = self.get("./data/evals")
        self.assertEqual(status, 200)
        ids = re.findall(r'<details class="run-section card" id="run-([^"]+)"', page)
        self.assertEqual(ids, ["20260226-120000Z", "20260225-090000Z", "20260224-101500Z", "20260223-000000Z"])
        self.assertIn('20260226-120000Z <span class="badge in-progress">in progress</span>', page)
        self.assertIn("Page 1 of 1 (4 total)", page)

    def test_summary_plots_steps_and_rollouts(self):
        _, page = self.get()
        self.assertIn("<td>concise</td><td><code>eval/concise</code></td>", page)
        # Three decimals, as CLaaS's own page formats them (issue 17).
        self.assertIn('<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
                      % (format(0.8, ".3f"), format(0.7, ".3f"), format(0.97, ".3f")), page)
        self.assertEqual(page.count("data:image/png;base64,iVBORw0KGgo"), 8)  # 4 runs x 2 plots
        self.assertIn("learning_curves.png", page)
        self.assertIn("Baseline metrics", page)
        self.assertEqual(len(rows(page, "step")), 3 * 2 * 3 + 3)  # 3 finished runs x 2 prefs x 3 steps + the running one
        self.assertIn('title="adv_mean">0.100</td>', page)      # Tinker loss column
        self.assertIn('title="distill_loss">0.500</td>', page)  # local loss column
        self.assertIn("Rollout 1: compliance", page)
        self.assertIn("Baseline rollout 1: compliance", page)  # the whole baseline, as upstream
        self.assertIn("Sure! Here is the answer.", page)

    def test_symlinks_out_of_the_root_are_not_followed(self):
        _, page = self.get()
        self.assertNotIn("link-run", page)
        self.assertNotIn("zz_link.png", page)

    def test_bad_files_are_skipped_not_fatal(self):
        _, page = self.get()
        self.assertIn("<code>concise/steps.jsonl line 4</code>: not valid JSON", page)
        self.assertIn("<code>plots/fake.png</code>: not a PNG file", page)
        self.assertIn("<code>no_emoji/baseline.json</code>: not valid JSON", page)

    def test_paths_outside_the_root_are_refused(self):
        for bad in ("./data/evals/../feedback", "../", "/etc", "/", "./data/evals2", "data/evals2/outside",
                    "./data/evals/link-out", "./data/evals/link-out/leak", "./data", "", "./data/evals/../evals2"):
            status, page = self.get(bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("results_dir", page)
            self.assertNotIn("leak", page.replace(html.escape(bad), ""))
            self.assertNotIn("run-section", page)

    def test_paths_inside_the_root_are_served(self):
        for good, runs in (("./data/evals/", 4), ("data/evals/./", 4), ("./data/evals/x/../", 4),
                           ("./data/evals/20260224-101500Z", 1), (os.path.join(self.root, "data/evals"), 4),
                           ("./data/link-in", 1)):
            status, page = self.get(good)
            self.assertEqual(status, 200, good)
            self.assertIn(f"({runs} total)", page, good)

    def test_pagination(self):
        _, page = self.get("./data/evals", "&per_page=1&page=2")
        self.assertIn("Page 2 of 4 (4 total)", page)
        self.assertIn('href="/v1/eval?page=1&amp;per_page=1&amp;results_dir=./data/evals"', page)
        ids = re.findall(r'<details class="run-section card" id="run-([^"]+)"', page)
        self.assertEqual(ids, ["20260225-090000Z"])

    def test_missing_folder_inside_root(self):
        status, page = self.get("./data/evals/not-there")
        self.assertEqual(status, 200)
        self.assertIn("does not exist yet", page)


if __name__ == "__main__":
    unittest.main()
