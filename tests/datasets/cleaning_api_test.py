"""Cleaning steps over HTTP against a live server: drop columns, drop rows with missing
values, fill (mean, median, mode, value), filter rows — applied in order to a copy whose
record says what each step did, checked against values worked by hand; the original
unchanged; types set by hand carried; every malformed step refused with the step named."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402

PEOPLE = ("name,age,city,member,joined\n"
          "Ada,36,London,yes,2024-01-02\n"
          "Alan,,London,no,2024-02-03T10:00:00.5Z\n"
          "Grace,85,,yes,\n"
          "Edsger,72,Austin,no,2024-04-05\n"
          "Linus,,Helsinki,yes,2024-05-06\n")


class CleaningApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-clean-")
        cls.server = LoupeServer(cwd=cls.dir, data_dir="./data").start()
        body, ctype = multipart({"name": "people"}, {"file": ("people.csv", PEOPLE.encode())})
        status, out, _ = cls.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
        assert status == 201, out
        cls.people = out["data"]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def clean(self, steps, dataset=None, expect=201, **extra):
        status, out, _ = self.server.request("POST", f"/api/v1/dataset/{dataset or self.people}/clean",
                                             {"steps": steps, **extra})
        self.assertEqual(status, expect, out)
        return out["data"] if expect == 201 else out["message"]

    def rows(self, dataset):
        status, out, _ = self.server.get(f"/api/v1/dataset/{dataset}/preview?limit=100")
        self.assertEqual(status, 200, out)
        return out["data"]["rows"]

    def test_steps_apply_in_order_and_are_recorded_with_what_they_did(self):
        steps = [{"op": "fill_missing", "column": "age", "with": "median"},
                 {"op": "filter_rows", "column": "age", "test": ">=", "value": 50},
                 {"op": "drop_missing", "columns": ["city"]},
                 {"op": "drop_columns", "columns": ["member"]}]
        d = self.clean(steps, name="older")
        self.assertEqual((d["name"], d["rows"], d["source"], d["format"]), ("older", 3, f"clean:{self.people}", "csv"))
        self.assertEqual([c["name"] for c in d["columns"]], ["name", "age", "city", "joined"])
        # Types are inferred again on the copy (three distinct cities in three rows read as
        # text, as they would in an upload); only types set by hand are carried.
        self.assertEqual({c["name"]: c["type"] for c in d["columns"]},
                         {"name": "text", "age": "numeric", "city": "text", "joined": "datetime"})
        # Median of 36, 85, 72 is 72: Alan's and Linus's ages. Ada (36) fails >= 50;
        # Grace has no city.
        self.assertEqual([r[:3] for r in self.rows(d["id"])],
                         [["Alan", "72", "London"], ["Edsger", "72", "Austin"], ["Linus", "72", "Helsinki"]])
        c = d["cleaning"]
        self.assertEqual(c["from"], {"id": self.people, "name": "people"})
        self.assertEqual((c["rows_before"], c["rows_after"]), (5, 3))
        self.assertEqual([s["result"] for s in c["steps"]],
                         [{"value_used": "72", "cells_filled": 2}, {"rows_removed": 1, "missing_removed": 0, "rows_left": 4},
                          {"rows_removed": 1}, {"columns_dropped": 1}])
        self.assertEqual(c["source_types_set_by_hand"], [])
        self.assertEqual([{k: v for k, v in s.items() if k != "result"} for s in c["steps"]], steps)
        # The original is untouched, and says nothing of cleaning.
        status, orig, _ = self.server.get(f"/api/v1/dataset/{self.people}")
        self.assertEqual((orig["data"]["rows"], orig["data"]["cleaning"]), (5, None))
        # Replaying the recorded steps on the original, as the page shows them (results
        # and all), gives the same table.
        again = self.clean(c["steps"])
        self.assertEqual(again["cleaning"]["steps"], c["steps"])
        self.assertEqual(self.rows(again["id"]), self.rows(d["id"]))
        # Default names: "<name>-cleaned", then -2, -3, ... while taken.
        self.assertRegex(again["name"], r"^people-cleaned(-\d+)?$")
        n = int(again["name"].rsplit("-", 1)[1]) if again["name"][-1].isdigit() else 1
        third = self.clean([{"op": "drop_missing"}])
        self.assertEqual(third["name"], f"people-cleaned-{n + 1}")
        # Datetimes keep their fraction of a second: Alan joined at 10:00:00.5.
        later = self.clean([{"op": "filter_rows", "column": "joined", "test": ">", "value": "2024-02-03T10:00:00.25Z"}],
                           dataset=d["id"])
        self.assertEqual([r[0] for r in self.rows(later["id"])], ["Alan", "Edsger", "Linus"])
        earlier = self.clean([{"op": "filter_rows", "column": "joined", "test": "<", "value": "2024-02-03T10:00:00.75Z"}],
                             dataset=d["id"])
        self.assertEqual([r[0] for r in self.rows(earlier["id"])], ["Alan"])
        # The copy's page lists the steps in words with their outcomes.
        status, page, _ = self.server.request("GET", f"/datasets/{d['id']}")
        page = page if isinstance(page, str) else page.decode()
        self.assertIn("fill missing age with the median (72) <span class=\"muted\">— 2 cells filled</span>", page)
        self.assertIn("keep rows where age &gt;= 50 <span class=\"muted\">— 1 row removed, 4 left</span>", page)
        self.assertIn("drop rows missing a value in city", page)
        self.assertIn(f'A cleaned copy of <a href="/datasets/{self.people}">people</a> (5 rows, 3 kept)', page)

    def test_fills_by_mean_mode_and_value(self):
        d = self.clean([{"op": "fill_missing", "column": "age", "with": "mean"},
                        {"op": "fill_missing", "column": "city", "with": "mode"},
                        {"op": "fill_missing", "column": "joined", "with": "value", "value": "2024-12-31"}])
        # (36 + 85 + 72) / 3 = 64.333..., written as the shortest text that reads back the
        # same double (Python's repr(193 / 3)); London is the most common city.
        self.assertEqual(d["cleaning"]["steps"][0]["result"], {"value_used": repr(193 / 3), "cells_filled": 2})
        self.assertEqual(d["cleaning"]["steps"][1]["result"], {"value_used": "London", "cells_filled": 1})
        self.assertEqual(d["cleaning"]["steps"][2]["result"]["value_used"], "2024-12-31T00:00:00.000000+00:00")
        rows = self.rows(d["id"])
        self.assertEqual([r[1] for r in rows], ["36", repr(193 / 3), "85", "72", repr(193 / 3)])
        self.assertEqual(rows[2][2], "London")
        self.assertEqual(rows[2][4], "2024-12-31T00:00:00Z")
        # A fill where nothing is missing fills nothing; boolean values by their spelling.
        d = self.clean([{"op": "fill_missing", "column": "name", "with": "value", "value": "x"},
                        {"op": "filter_rows", "column": "member", "test": "==", "value": "yes"}])
        self.assertEqual(d["cleaning"]["steps"][0]["result"], {"value_used": "x", "cells_filled": 0})
        self.assertEqual([r[0] for r in self.rows(d["id"])], ["Ada", "Grace", "Linus"])
        d = self.clean([{"op": "filter_rows", "column": "city", "test": "contains", "value": "on"},
                        {"op": "filter_rows", "column": "age", "test": "present"}])
        self.assertEqual([r[0] for r in self.rows(d["id"])], ["Ada"])  # London (Alan's age is missing)
        # A comparison drops rows whose value is missing, and says how many of them.
        d = self.clean([{"op": "filter_rows", "column": "age", "test": ">=", "value": 0}])
        self.assertEqual(d["cleaning"]["steps"][0]["result"], {"rows_removed": 2, "missing_removed": 2, "rows_left": 3})
        status, page, _ = self.server.request("GET", f"/datasets/{d['id']}")
        page = page if isinstance(page, str) else page.decode()
        self.assertIn("2 rows removed (2 of them missing a value), 3 left", page)

    def test_types_set_by_hand_are_carried(self):
        status, out, _ = self.server.request("PATCH", f"/api/v1/dataset/{self.people}/types", {"age": "categorical"})
        self.assertEqual(status, 200, out)
        try:
            d = self.clean([{"op": "drop_columns", "columns": ["joined"]}])
            age = next(c for c in d["columns"] if c["name"] == "age")
            self.assertEqual((age["type"], age["overridden"]), ("categorical", True))
            self.assertFalse(next(c for c in d["columns"] if c["name"] == "city")["overridden"])
            # The copy says what its source had been retyped to before the steps.
            self.assertEqual(d["cleaning"]["source_types_set_by_hand"], [{"column": "age", "type": "categorical", "coerced": 0}])
            status, page, _ = self.server.request("GET", f"/datasets/{d['id']}")
            page = page if isinstance(page, str) else page.decode()
            self.assertIn("On people before the steps: age set to categorical by hand;", page)
        finally:
            self.server.request("PATCH", f"/api/v1/dataset/{self.people}/types", {"age": "auto"})

    def test_times_outside_years_0000_to_9999_are_refused_not_rewritten(self):
        body, ctype = multipart({"name": "far"}, {"file": ("far.csv", b"k,v\n1,9999-12-31T23:30:00-01:00\n2,2020-01-01\n")})
        status, out, _ = self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
        self.assertEqual(status, 201, out)
        far = out["data"]["id"]
        self.assertEqual(self.clean([{"op": "drop_missing"}], dataset=far, expect=422),
                         "column v, row 1: a time outside the years 0000-9999 cannot be written to the copy; "
                         "filter that row out or drop the column")
        d = self.clean([{"op": "filter_rows", "column": "v", "test": "<", "value": "2021-01-01"}], dataset=far)
        self.assertEqual(d["rows"], 1)
        self.assertEqual(self.clean([{"op": "fill_missing", "column": "v", "with": "value", "value": "10000-01-01"}],
                                    dataset=far, expect=422).split(":")[0], "step 1")

    def test_bad_steps_are_refused_naming_the_step(self):
        cases = [
            ([{"op": "melt"}], 'step 1: unknown op "melt" (drop_columns, drop_missing, fill_missing or filter_rows)'),
            ([{"op": "fill_missing", "column": "city", "with": "mean"}],
             "step 1: the mean needs numbers: city is categorical (use mode or value)"),
            ([{"op": "filter_rows", "column": "city", "test": "<", "value": "M"}],
             'step 1: "<" compares numbers and dates: city is categorical'),
            ([{"op": "filter_rows", "column": "age", "test": ">", "value": "fifty"}],
             'step 1: "value" must be a number: age is numeric'),
            ([{"op": "drop_columns", "columns": ["nope"]}], 'step 1: no column "nope"'),
            ([{"op": "drop_columns", "columns": ["member"]}, {"op": "drop_missing", "columns": ["member"]}],
             'step 2: column "member" was dropped by an earlier step'),
            ([{"op": "drop_columns", "columns": ["name", "age", "city", "member", "joined"]}], "step 1: would drop every column"),
            ([{"op": "filter_rows", "column": "age", "test": ">", "value": 1000}], "the steps leave no rows"),
            ([{"op": "drop_missing", "colums": ["age"]}], 'step 1: unknown field "colums"'),
            ([{"op": "filter_rows", "column": "age", "test": "missing", "value": 1}], 'step 1: "missing" takes no "value"'),
            ([{"op": "fill_missing", "column": "member", "with": "value", "value": "maybe"}],
             'step 1: "value" must be no or yes: member is yes/no'),
            ([{"op": "fill_missing", "column": "city", "with": "value", "value": "NA"}],
             'step 1: "value" must be text that is not blank and does not read as missing'),
            ([], "steps must be a non-empty list"),
            ({"op": "drop_missing"}, "steps must be a non-empty list"),
            ([{"op": "drop_missing"}] * 51, "at most 50 steps"),
        ]
        for steps, message in cases:
            self.assertEqual(self.clean(steps, expect=422), message, steps)
        status, out, _ = self.server.request("POST", f"/api/v1/dataset/{self.people}/clean",
                                             {"steps": [{"op": "drop_missing"}], "nmae": "x"})
        self.assertEqual((status, out["message"]), (422, 'unknown field "nmae" (steps, name)'))
        status, out, _ = self.server.request("POST", f"/api/v1/dataset/{self.people}/clean", {})
        self.assertEqual((status, out["message"]), (422, "steps is required: a list of cleaning steps"))
        status, out, _ = self.server.request("POST", "/api/v1/dataset/999999/clean", {"steps": [{"op": "drop_missing"}]})
        self.assertEqual(status, 404, out)
        status, out, _ = self.server.request("POST", f"/api/v1/dataset/{self.people}/clean",
                                             {"steps": [{"op": "drop_missing"}], "name": "people"})
        self.assertEqual(status, 409, out)


if __name__ == "__main__":
    unittest.main()
