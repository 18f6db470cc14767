"""Wide datasets over HTTP (issue 9, item 6): an upload over the cell limit is refused
with 413 while it is read, and the preview API, the statistics API and the dataset
page serve a page of columns at a time (col_offset, col_limit), validated and bounded,
with links to the previous and next columns on the page."""
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402

COLUMNS = 120


def wide_csv(rows=4, columns=COLUMNS):
    lines = [",".join(f"c{c}" for c in range(columns))]
    for r in range(rows):
        lines.append(",".join(str(r * 1000 + c) for c in range(columns)))
    return ("\n".join(lines) + "\n").encode()


class WideDatasetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-wide-")
        cls.server = LoupeServer(data_dir=os.path.join(cls.dir, "data")).start()
        status, out, _ = cls.upload("wide.csv", wide_csv())
        assert status == 201, out
        cls.id = out["data"]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def upload(cls, filename, data):
        body, ctype = multipart({}, {"file": (filename, data)})
        return cls.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})

    def get(self, path, expect=200):
        status, out, _ = self.server.get(path)
        self.assertEqual(status, expect, out)
        return out

    def test_an_upload_over_the_cell_limit_is_refused_while_it_is_read(self):
        # 10,000 empty columns: 2,000 rows are the 20,000,000-cell limit; the 2,001st row
        # is refused, and the broken quote after it is never reached.
        row = "," * 9_999 + "\n"
        data = (",".join(f"k{c}" for c in range(10_000)) + "\n" + row * 2_001 + '"unterminated').encode()
        status, out, _ = self.upload("too_wide.csv", data)
        self.assertEqual(status, 413, out)
        self.assertEqual(out["message"], "line 2002: the file has more than 20,000,000 cells (rows x columns: "
                                         "10,000 columns reach it at row 2,001); the limit is 20,000,000 cells: "
                                         "upload fewer rows or columns")
        names = [d["name"] for d in self.get("/api/v1/dataset/")["data"]]
        self.assertNotIn("too_wide", names)

    def test_preview_pages_columns(self):
        first = self.get(f"/api/v1/dataset/{self.id}/preview?limit=2")["data"]
        self.assertEqual((first["column_count"], first["col_offset"], first["total"]), (COLUMNS, 0, 4))
        self.assertEqual([c["name"] for c in first["columns"]], [f"c{c}" for c in range(100)])  # 100 by default
        self.assertEqual(len(first["rows"][0]), 100)
        page = self.get(f"/api/v1/dataset/{self.id}/preview?offset=1&limit=2&col_offset=110&col_limit=50")["data"]
        self.assertEqual([c["name"] for c in page["columns"]], [f"c{c}" for c in range(110, 120)])
        self.assertEqual(page["rows"][0], [str(1000 + c) for c in range(110, 120)])
        past = self.get(f"/api/v1/dataset/{self.id}/preview?col_offset=500")["data"]
        self.assertEqual((past["columns"], past["column_count"]), ([], COLUMNS))

    def test_statistics_page_columns(self):
        stats = self.get(f"/api/v1/dataset/{self.id}/stats?col_offset=5&col_limit=3")["data"]
        self.assertEqual([c["name"] for c in stats["columns"]], ["c5", "c6", "c7"])
        self.assertEqual((stats["rows"], stats["column_count"], stats["col_offset"]), (4, COLUMNS, 5))
        self.assertEqual(stats["columns"][0]["min"], 5)

    def test_column_pages_are_validated_and_bounded(self):
        for query, message in (("col_limit=0", "col_limit must be between 1 and 500"),
                               ("col_limit=501", "col_limit must be between 1 and 500"),
                               ("col_offset=-1", "col_offset must not be negative"),
                               ("col_offset=x", "col_offset must be an integer")):
            for kind in ("preview", "stats"):
                out = self.get(f"/api/v1/dataset/{self.id}/{kind}?{query}", expect=422)
                self.assertEqual(out["message"], message, (kind, query))

    def test_the_page_shows_fifty_columns_with_links_to_the_others(self):
        status, html = self.server.html(f"/datasets/{self.id}")
        self.assertEqual(status, 200)
        self.assertIn(f"{COLUMNS} columns", html)
        self.assertIn("Columns 1–50 of 120", html)
        self.assertIn("<code>c49</code>", html)
        self.assertNotIn("<code>c50</code>", html)
        self.assertNotIn("<th>c50</th>", html)
        nxt = re.search(r'data-col-page="next" href="([^"]+)"', html)
        self.assertIsNotNone(nxt, html[:2000])
        self.assertIn("col_offset=50", nxt.group(1))
        status, html = self.server.html(f"/datasets/{self.id}?col_offset=100")
        self.assertIn("Columns 101–120 of 120", html)
        self.assertIn("<th>c119</th>", html)
        self.assertNotIn("<th>c99</th>", html)
        self.assertIn('data-col-page="prev" href="/datasets/%d?col_limit=50&amp;col_offset=50"' % self.id, html)
        self.assertNotIn('data-col-page="next" href', html)
        # The explorer form still lists every column.
        self.assertIn("c119", re.search(r'data-columns="([^"]*)"', html).group(1))
        # Out of range and unparsable values are clamped, as page numbers are.
        status, html = self.server.html(f"/datasets/{self.id}?col_offset=9999&col_limit=x")
        self.assertEqual(status, 200)
        self.assertIn("Columns 101–120 of 120", html)

    def test_a_narrow_dataset_shows_every_column_without_column_links(self):
        status, out, _ = self.upload("narrow.csv", wide_csv(rows=3, columns=5))
        self.assertEqual(status, 201, out)
        status, html = self.server.html(f"/datasets/{out['data']['id']}")
        self.assertEqual(status, 200)
        self.assertIn("<code>c4</code>", html)
        self.assertNotIn("column-pager", html)


if __name__ == "__main__":
    unittest.main()
