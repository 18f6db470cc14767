"""Managing runs and projects through the native API (rename, notes, tags, stop, delete)
and finding them again in the runs table: tag, numeric and metric filters."""
import re
import unittest
import urllib.parse

from api_test import ApiTestBase


class RunManagementTest(ApiTestBase):
    def test_patch_renames_describes_and_tags_a_run(self):
        a = self.new_run("manage", name="a", tags=["baseline", " lr-sweep ", "baseline"])
        self.assertEqual(a["tags"], ["baseline", "lr-sweep"])
        self.new_run("manage", name="b")
        e = self.call("PATCH", f"/api/v1/experiments/{a['id']}",
                      {"name": "a-renamed", "description": "first try\nwith warmup", "tags": ["best", "resnet"]})
        self.assertEqual((e["name"], e["description"], e["tags"]), ("a-renamed", "first try\nwith warmup", ["best", "resnet"]))
        # Fields left out keep their value.
        e = self.call("PATCH", f"/api/v1/experiments/{a['id']}", {"tags": []})
        self.assertEqual((e["name"], e["description"], e["tags"]), ("a-renamed", "first try\nwith warmup", []))
        self.call("PATCH", f"/api/v1/experiments/{a['id']}", {"name": "b"}, status=409, code=3409)
        for bad in ({"tags": "best"}, {"tags": [1]}, {"tags": ["a,b"]}, {"tags": ['say "hi"']}, {"tags": [""]}, {"tags": ["x" * 65]},
                    {"tags": [f"t{i}" for i in range(33)]}, {"name": ""}, {"name": 3}, {"status": "finished"}):
            self.call("PATCH", f"/api/v1/experiments/{a['id']}", bad, status=422, code=3422)
        self.call("PATCH", "/api/v1/experiments/99999", {"name": "x"}, status=404, code=3404)
        self.assertEqual(self.call("GET", f"/api/v1/experiments/{a['id']}")["tags"], [])

    def test_a_resumed_run_adds_its_tags_to_the_ones_it_has(self):
        run = self.new_run("manage-resume", run_id="resume-tags", tags=["a", "b"])
        again = self.call("POST", "/api/v1/experiments", {"project": "manage-resume", "run_id": "resume-tags",
                                                          "tags": ["b", "c"]})
        self.assertEqual((again["id"], again["tags"]), (run["id"], ["a", "b", "c"]))
        # Resumes never take a run past 32 tags (its page could no longer save it).
        full = self.new_run("manage-resume", run_id="many-tags", tags=[f"t{i}" for i in range(32)])
        again = self.call("POST", "/api/v1/experiments", {"project": "manage-resume", "run_id": "many-tags",
                                                          "tags": [f"u{i}" for i in range(32)]})
        self.assertEqual(again["tags"], [f"t{i}" for i in range(32)])
        self.call("PATCH", f"/api/v1/experiments/{full['id']}", {"name": "renamed", "tags": again["tags"]})

    def test_stop_ends_a_running_run_once(self):
        run = self.new_run("manage", name="to-stop")
        e = self.call("POST", f"/api/v1/experiments/{run['id']}/stop")
        self.assertEqual(e["status"], "stopped")
        self.assertIsNotNone(e["finish_time"])
        # The client learns it from its next write's answer.
        self.assertEqual(self.log(run["id"], [{"step": 0, "values": {"x": 1}}])["status"], "stopped")
        self.call("POST", f"/api/v1/experiments/{run['id']}/stop", status=409, code=3409)
        self.call("POST", "/api/v1/experiments/99999/stop", status=404, code=3404)

    def test_delete_run_and_project(self):
        run = self.new_run("manage-delete", name="gone")
        keep = self.new_run("manage-delete", name="kept")
        self.call("DELETE", f"/api/v1/experiments/{run['id']}")
        self.call("GET", f"/api/v1/experiments/{run['id']}", status=404, code=3404)
        self.call("DELETE", f"/api/v1/experiments/{run['id']}", status=404, code=3404)
        self.assertEqual(self.call("GET", f"/api/v1/experiments/{keep['id']}")["name"], "kept")
        pid = keep["project_id"]
        p = self.call("PATCH", f"/api/v1/projects/{pid}", {"description": "old runs"})
        self.assertEqual((p["name"], p["description"]), ("manage-delete", "old runs"))
        p = self.call("PATCH", f"/api/v1/projects/{pid}", {"name": "manage-deleted"})
        self.assertEqual((p["name"], p["description"]), ("manage-deleted", "old runs"))
        self.new_run("manage-other")
        self.call("PATCH", f"/api/v1/projects/{pid}", {"name": "manage-other"}, status=409, code=3409)
        self.call("PATCH", f"/api/v1/projects/{pid}", {"owner": "me"}, status=422, code=3422)
        self.call("PATCH", f"/api/v1/projects/{pid}", {"name": ""}, status=422, code=3422)
        self.call("PATCH", "/api/v1/projects/99999", {"name": "x"}, status=404, code=3404)
        self.call("DELETE", f"/api/v1/projects/{pid}", status=409, code=3409)  # a run is still running
        self.call("POST", f"/api/v1/experiments/{keep['id']}/finish", {"status": "finished"})
        self.call("DELETE", f"/api/v1/projects/{pid}")
        self.call("GET", f"/api/v1/experiments/{keep['id']}", status=404, code=3404)
        self.call("DELETE", f"/api/v1/projects/{pid}", status=404, code=3404)
        self.call("DELETE", "/api/v1/projects/abc", status=422, code=3422)


class SavedItemsTest(ApiTestBase):
    def test_views_are_saved_replaced_listed_and_deleted(self):
        pid = self.new_run("views")["project_id"]
        url = f"/api/v1/projects/{pid}/views"
        self.assertEqual(self.call("GET", url)["views"], [])
        self.call("PUT", url, {"name": "best lr", "query": "q=lr%3E0.01&sort=metric%3Aloss"})
        got = self.call("PUT", url, {"name": "adam", "query": "q=optimizer%3Dadam"})["views"]
        self.assertEqual([v["name"] for v in got], ["best lr", "adam"])
        got = self.call("PUT", url, {"name": "best lr", "query": "q=lr%3E0.1"})["views"]  # replaced in place
        self.assertEqual(got[0], {"name": "best lr", "query": "q=lr%3E0.1"})
        for bad in ({"name": "", "query": "x"}, {"name": "x" * 101, "query": "x"}, {"name": "a\nb", "query": "x"},
                    {"name": "x", "query": "q" * 4097}, {"name": "x"}, {"query": "x"}, {"name": 1, "query": "x"}):
            self.call("PUT", url, bad, status=422, code=3422)
        self.call("DELETE", url + "?name=adam")
        self.assertEqual([v["name"] for v in self.call("GET", url)["views"]], ["best lr"])
        self.call("DELETE", url + "?name=adam", status=404, code=3404)
        self.call("DELETE", url, status=422, code=3422)
        self.call("GET", "/api/v1/projects/99999/views", status=404, code=3404)
        for i in range(49):
            self.call("PUT", url, {"name": f"v{i}", "query": ""})
        self.call("PUT", url, {"name": "one too many", "query": ""}, status=422, code=3422)
        # The table page lists them.
        status, html, _ = self.server.request("GET", f"/projects/{pid}")
        html = html if isinstance(html, str) else html.decode()
        self.assertIn('href="/projects/%d?q=lr%%3E0.1">best lr</a>' % pid, html)

    def test_panels_name_valid_metric_keys(self):
        pid = self.new_run("panels")["project_id"]
        url = f"/api/v1/projects/{pid}/panels"
        got = self.call("PUT", url, {"name": "losses", "keys": ["train/loss", "val/loss"]})["panels"]
        self.assertEqual(got, [{"name": "losses", "keys": ["train/loss", "val/loss"]}])
        for bad in ({"name": "x", "keys": []}, {"name": "x", "keys": ["a//b"]}, {"name": "x", "keys": "a"},
                    {"name": "x", "keys": [1]}, {"name": "x", "keys": [f"k{i}" for i in range(11)]},
                    {"name": "x", "keys": ["a,b"]}):
            self.call("PUT", url, bad, status=422, code=3422)
        self.call("DELETE", url + "?name=losses")
        self.assertEqual(self.call("GET", url)["panels"], [])


def table_names(server, pid, q, status=200):
    got, body, _ = server.request("GET", f"/projects/{pid}?per_page=200&q=" + urllib.parse.quote(q))
    text = body if isinstance(body, str) else body.decode()
    assert got == status, (got, text[:500])
    if status != 200:
        return text
    return sorted(re.findall(r'<td><a href="/experiments/\d+">([^<]+)</a>', text))


class RunFilterTest(ApiTestBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        self = cls()
        self.server = cls.server
        runs = [("lr-001", 0.001, "adam", 0.9, ["sweep"]), ("lr-01", 0.1 * 0.1, "adam", 0.5, ["sweep", "best"]),
                ("lr-1", 0.1, "sgd", 2.0, ["sweep"]), ("plain", None, "sgd", None, [])]
        for name, lr, opt, loss, tags in runs:
            config = {"optimizer": opt, "model": {"depth": 18}}
            if lr is not None:
                config["lr"] = lr
            r = self.new_run("filters", name=name, config=config, tags=tags)
            cls.pid = r["project_id"]
            if loss is not None:
                self.log(r["id"], [{"step": 0, "values": {"val/loss": loss * 3}}, {"step": 1, "values": {"val/loss": loss}}])

    def names(self, q, status=200):
        return table_names(self.server, self.pid, q, status)

    def test_numbers_compare_as_numbers(self):
        self.assertEqual(self.names("lr>0.005"), ["lr-01", "lr-1"])
        self.assertEqual(self.names("lr>=0.01"), ["lr-01", "lr-1"])
        self.assertEqual(self.names("lr<0.01"), ["lr-001"])
        self.assertEqual(self.names("lr=1e-2"), ["lr-01"])  # 0.1 * 0.1 is 0.010000000000000002: equal to 9 digits
        self.assertEqual(self.names("lr==0.010"), ["lr-01"])
        self.assertEqual(self.names("lr!=0.01"), ["lr-001", "lr-1"])  # a run without lr has nothing to compare
        self.assertEqual(self.names("model.depth=18"), ["lr-001", "lr-01", "lr-1", "plain"])

    def test_orderings_agree_with_equality_and_tags_with_spaces_are_found(self):
        r = self.new_run("filters-2", name="almost", config={"lr": 0.1 + 0.2}, tags=["two words"])
        self.new_run("filters-2", name="other", tags=["two"])
        pid = r["project_id"]
        for q, want in (("lr=0.3", ["almost"]), ("lr<=0.3", ["almost"]), ("lr>=0.3", ["almost"]), ("lr>0.3", []),
                        ("lr<0.3", []), ('tag:"two words"', ["almost"]), ("tag:two", ["other"])):
            self.assertEqual(table_names(self.server, pid, q), want, q)

    def test_spaces_around_an_operator_make_one_comparison(self):
        for q in ("lr > 0.005", "lr >0.005", "lr> 0.005", "lr >= 0.005 tag:sweep"):
            self.assertEqual(self.names(q), ["lr-01", "lr-1"], q)
        self.assertIn("needs a key before the operator", self.names("> 0.005", status=422))
        self.assertIn("compares numbers", self.names("lr >", status=422))

    def test_text_tags_metrics_and_several_terms(self):
        self.assertEqual(self.names("optimizer=adam"), ["lr-001", "lr-01"])
        self.assertEqual(self.names("tag:best"), ["lr-01"])
        self.assertEqual(self.names("tag:sweep optimizer=sgd"), ["lr-1"])
        self.assertEqual(self.names("tag:nope"), [])
        self.assertEqual(self.names("val/loss<0.7"), ["lr-01"])  # the metric's last value (0.5), not its first (1.5)
        self.assertEqual(self.names("val/loss>=0.9"), ["lr-001", "lr-1"])
        self.assertEqual(self.names("LR-0"), ["lr-001", "lr-01"])
        self.assertEqual(self.names('"lr-0" sgd'), [])
        self.assertEqual(self.names("best"), ["lr-01"])  # text matches tags too

    def test_bad_filters_say_what_is_wrong(self):
        page = self.names("lr>abc", status=422)
        self.assertIn("compares numbers", page)
        self.assertIn("compares numbers", self.names("lr>", status=422))
        self.assertIn("needs a tag name", self.names("tag:", status=422))
        self.assertIn("more than 20 terms", self.names(" ".join(["x"] * 21), status=422))

    def test_sweep_data_reads_each_runs_last_min_or_max(self):
        # val/loss is 3 * loss at step 0, then loss: min loss, max 3 * loss; plain logs none.
        want = {"lr-001": 0.9, "lr-01": 0.5, "lr-1": 2.0, "plain": None}
        for value, factor in (("last", 1), ("min", 1), ("max", 3), ("", 1)):
            status, body, _ = self.server.request(
                "GET", f"/api/v1/projects/{self.pid}/sweep?metric=val/loss&value={value}&ccols=lr")
            self.assertEqual(status, 200, body)
            data = body["data"]
            self.assertEqual((data["metric"], data["value"]), ("val/loss", value or "last"))
            got = {r["name"]: r["metric"] for r in data["runs"]}
            self.assertEqual(got, {k: (None if v is None else v * factor) for k, v in want.items()}, value)
        status, body, _ = self.server.request("GET", f"/api/v1/projects/{self.pid}/sweep?metric=val/loss&value=best")
        self.assertEqual(status, 422)
        self.assertEqual(body["message"], "value must be last, min or max")


if __name__ == "__main__":
    unittest.main()
