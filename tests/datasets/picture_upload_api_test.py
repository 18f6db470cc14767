"""Image datasets from picture files over HTTP against a live server: a zip of PNGs in
one folder per class, a tar.gz with a labels.csv, a folder under the import root; the
greys (ITU-R 601 luma, transparency over black) and scaling checked pixel by pixel
against values worked by hand; unreadable pictures named, skipped and downloadable;
the limits and errors. PNGs are written here with zlib (stdlib), so every byte is known."""
import io
import os
import shutil
import struct
import sys
import tarfile
import tempfile
import time
import unittest
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402


def png(rows, mode="RGB"):
    """A PNG of `rows` (lists of pixels: (r, g, b), (r, g, b, a) or grey ints)."""
    color = {"L": 0, "RGB": 2, "RGBA": 6}[mode]
    h, w = len(rows), len(rows[0])
    raw = b""
    for row in rows:
        raw += b"\x00"
        for p in row:
            raw += bytes([p]) if mode == "L" else bytes(p)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def solid(v, side=4):
    return png([[v] * side for _ in range(side)], "L")


# 4x4 RGB: known lumas. round(0.299*255)=76, round(0.587*255)=150, round(0.114*255)=29.
COLOURS = [[(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]] * 4
COLOUR_GREYS = [76, 150, 29, 255] * 4
# 4x4 RGBA: white at alpha 128 over black is 128; alpha 0 is black whatever the colour.
ALPHA = [[(255, 255, 255, 128), (255, 255, 255, 0), (10, 20, 30, 255), (0, 0, 0, 255)]] * 4
ALPHA_GREYS = [128, 0, 18, 0] * 4  # 0.299*10 + 0.587*20 + 0.114*30 = 18.15


def zip_of(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def tgz_of(files):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


class PictureUploadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-pics-")
        pics = os.path.join(cls.dir, "data", "imports", "pics")
        for label, v in (("dark", 10), ("light", 240)):
            os.makedirs(os.path.join(pics, label))
            for i in range(2):
                with open(os.path.join(pics, label, f"{i}.png"), "wb") as f:
                    f.write(solid(v + i))
        cls.server = LoupeServer(cwd=cls.dir, data_dir="./data").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def upload(self, filename, data, **fields):
        body, ctype = multipart(fields, {"file": (filename, data)})
        return self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})

    def rows(self, dataset_id, n):
        status, body, _ = self.server.get(f"/api/v1/dataset/{dataset_id}/preview?limit={n}&col_limit=500")
        self.assertEqual(status, 200, body)
        return body["data"]

    def test_folders_name_the_classes_and_greys_are_the_browsers(self):
        data = zip_of({
            "pets/cats/a.png": png(COLOURS), "pets/cats/b.png": png(ALPHA, "RGBA"), "pets/dogs/c.png": solid(7),
            "pets/README.txt": b"not a picture", "__MACOSX/pets/cats/._a.png": b"metadata",
            "pets/.hidden/x.png": b"junk"})
        status, body, _ = self.upload("pets.zip", data)
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertEqual((d["name"], d["rows"], d["format"], d["source"]), ("pets", 3, "csv", "upload:pets.zip"))
        names = [c["name"] for c in d["columns"]]
        self.assertEqual(names, ["file"] + [f"pixel_{i}" for i in range(16)] + ["label"])
        self.assertIsNone(body["data"]["bad_rows"])
        p = self.rows(d["id"], 3)
        self.assertEqual([r[0] for r in p["rows"]], ["pets/cats/a.png", "pets/cats/b.png", "pets/dogs/c.png"])
        self.assertEqual([int(v) for v in p["rows"][0][1:17]], COLOUR_GREYS)
        self.assertEqual([int(v) for v in p["rows"][1][1:17]], ALPHA_GREYS)
        self.assertEqual([int(v) for v in p["rows"][2][1:17]], [7] * 16)
        self.assertEqual([r[17] for r in p["rows"]], ["cats", "cats", "dogs"])
        # The catalogue sees an image dataset: the grid, and a guess that leaves the file out.
        status, imgs, _ = self.server.get(f"/api/v1/dataset/{d['id']}/images?limit=3")
        self.assertEqual(status, 200, imgs)
        self.assertEqual(imgs["data"]["side"], 4)
        self.assertEqual([i["label"] for i in imgs["data"]["images"]], ["cats", "cats", "dogs"])
        status, g, _ = self.server.get(f"/api/v1/dataset/{d['id']}/session-guess")
        self.assertEqual(status, 200, g)
        self.assertEqual((g["data"]["task"], g["data"]["output"]), ("ImageClassification", "label"))
        self.assertEqual(len(g["data"]["inputs"]), 16)
        self.assertIn("file", [x["column"] for x in g["data"]["left_out"]])
        status, page, _ = self.server.request("GET", f"/datasets/{d['id']}")
        page = page if isinstance(page, str) else page.decode()
        self.assertIn("3 rows · 18 columns · 4×4 grey pictures · csv", page)

    def test_labels_csv_in_a_tar_gz(self):
        data = tgz_of({"set/labels.csv": b"file,label\nimg1.png,yes\nimgs/img2.png,no\n",
                       "set/img1.png": solid(1), "set/imgs/img2.png": solid(2)})
        status, body, _ = self.upload("set.tar.gz", data, name="labelled")
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertEqual((d["name"], d["rows"], d["source"]), ("labelled", 2, "upload:set.tar.gz"))
        p = self.rows(d["id"], 2)
        self.assertEqual([(r[0], r[1], r[17]) for r in p["rows"]], [("set/img1.png", "1", "yes"), ("set/imgs/img2.png", "2", "no")])
        # A picture the file does not list, and a listed one that is missing, are named.
        data = tgz_of({"labels.csv": b"file,label\na.png,x\nghost.png,y\n", "a.png": solid(1), "b.png": solid(2)})
        status, body, _ = self.upload("set.tgz", data)
        self.assertEqual(status, 422, body)
        self.assertIn("2 pictures cannot be used: b.png: not listed in labels.csv; ghost.png: listed in labels.csv "
                      "but not among the pictures", body["message"])

    def test_unreadable_pictures_are_named_then_skipped_and_kept_for_download(self):
        files = {"cats/good.png": solid(3), "cats/broken.png": b"\x89PNG\r\n\x1a\nbroken", "loose.png": solid(4),
                 "dogs/huge.png": png([[0]], "L")[:16] + struct.pack(">II", 100000, 100000) + png([[0]], "L")[24:],
                 "dogs/fine.png": solid(5)}
        status, body, _ = self.upload("mixed.zip", zip_of(files))
        self.assertEqual(status, 422, body)
        self.assertTrue(body["message"].startswith("3 pictures cannot be used: cats/broken.png: "), body["message"])
        self.assertIn("dogs/huge.png: it is 100000x100000 pixels; at most 16777216 are read", body["message"])
        self.assertIn("loose.png: not in a folder", body["message"])
        self.assertIn("upload again with skip_bad_rows", body["message"])
        status, body, _ = self.upload("mixed.zip", zip_of(files), skip_bad_rows="true")
        self.assertEqual(status, 201, body)
        self.assertEqual(body["data"]["rows"], 2)
        bad = body["data"]["bad_rows"]
        self.assertEqual(bad["count"], 3)
        self.assertEqual([b["reason"].split(":")[0] for b in bad["first"]], ["cats/broken.png", "dogs/huge.png", "loose.png"])
        self.assertEqual([b["line"] for b in bad["first"]], [0, 0, 0])
        self.assertIn("dogs/huge.png: it is 100000x100000 pixels", bad["first"][1]["reason"])
        status, raw, headers = self.server.request("GET", bad["file"])
        self.assertEqual(status, 200)
        text = raw.decode() if isinstance(raw, bytes) else raw
        lines = text.splitlines()
        self.assertEqual(lines[0], "file,reason")
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[1].startswith("cats/broken.png,"), lines[1])
        # The dataset page says pictures, not rows.
        status, page, _ = self.server.request("GET", f"/datasets/{body['data']['id']}")
        self.assertIn("3 picture(s) left out", page if isinstance(page, str) else page.decode())

    def test_sides_scale_by_area_and_are_bounded(self):
        # 8x8 in 2x2 blocks of 0 and 255 (a checkerboard inside each block): each 4x4
        # output pixel is its block's mean, 127.5, rounded half away from zero: 128.
        checker = [[255 if (x + y) % 2 else 0 for x in range(8)] for y in range(8)]
        data = zip_of({"a/x.png": png(checker, "L"), "b/y.png": solid(200, 8)})
        status, body, _ = self.upload("big.zip", data, image_side="4")
        self.assertEqual(status, 201, body)
        p = self.rows(body["data"]["id"], 2)
        self.assertEqual([int(v) for v in p["rows"][0][1:17]], [128] * 16)
        self.assertEqual([int(v) for v in p["rows"][1][1:17]], [200] * 16)
        # Pictures of different sizes and no side asked for: 32x32.
        status, body, _ = self.upload("mixed-sizes.zip", zip_of({"a/x.png": solid(9, 4), "b/y.png": solid(9, 6)}))
        self.assertEqual(status, 201, body)
        self.assertEqual(len(body["data"]["columns"]), 32 * 32 + 2)
        for side in ("3", "65", "x", "4.5"):
            status, body, _ = self.upload("big.zip", data, image_side=side)
            self.assertEqual(status, 422, (side, body))
            self.assertIn("image_side must be a whole number from 4 to 64", body["message"])
        status, body, _ = self.upload("t.csv", b"a\n1\n", image_side="8")
        self.assertEqual((status, body["message"]), (422, "image_side is for archives of pictures (.zip, .tar, .tar.gz)"))

    def test_not_an_archive_and_no_pictures(self):
        status, body, _ = self.upload("fake.zip", b"this is not a zip at all")
        self.assertEqual(status, 422, body)
        self.assertTrue(body["message"].startswith("not a zip or tar archive"), body["message"])
        status, body, _ = self.upload("empty.zip", zip_of({"notes/readme.txt": b"hello"}))
        self.assertEqual(status, 422, body)
        self.assertEqual(body["message"], "no PNG or JPEG pictures found: put each class's pictures in a folder named after it")
        status, body, _ = self.upload("na.zip", zip_of({"NA/a.png": solid(1), "ok/b.png": solid(2)}))
        self.assertEqual(status, 422, body)
        self.assertIn('NA/a.png: its label "NA" reads as a missing value', body["message"])

    def test_a_convnet_learns_the_uploaded_classes_and_knows_their_background(self):
        # 8x8 pictures on a white background: a dark vertical or horizontal bar at a
        # varying place. The border is white except where a bar meets it (2 of 28 border
        # pixels of every picture), so the training border mean is exactly 26/28 white.
        files = {}
        for k in range(24):
            at = 2 + k % 4
            vertical = [[0 if x == at else 255 for x in range(8)] for _ in range(8)]
            horizontal = [[0 if y == at else 255 for _ in range(8)] for y in range(8)]
            files[f"vertical/{k:02d}.png"] = png(vertical, "L")
            files[f"horizontal/{k:02d}.png"] = png(horizontal, "L")
        status, body, _ = self.upload("bars.zip", zip_of(files))
        self.assertEqual(status, 201, body)
        dataset = body["data"]["id"]
        status, g, _ = self.server.get(f"/api/v1/dataset/{dataset}/session-guess")
        g = g["data"]
        status, s, _ = self.server.request("POST", "/api/v1/model-session/", {
            "dataset_id": dataset, "task_name": g["task"], "input_columns": g["inputs"], "output_columns": [g["output"]],
            "validation_metrics": ["Accuracy"], "test_metrics": ["Accuracy"], "seed": 1})
        self.assertEqual(status, 201, s)
        status, run, _ = self.server.request("POST", "/api/v1/run/", {
            "model_session_id": s["data"]["id"], "model_name": "ConvNetClassifier", "parameters": {"epochs": 30}})
        self.assertEqual(status, 201, run)
        run_id = run["data"]["id"]
        status, job, _ = self.server.request("POST", "/api/v1/job/", {"job_type": "ModelJob", "kwargs": {"run_id": run_id}})
        self.assertEqual(status, 201, job)
        deadline = time.time() + 180
        while time.time() < deadline:
            _, r, _ = self.server.get(f"/api/v1/run/{run_id}")
            if r["data"]["status"] in ("FINISHED", "ERROR", "CANCELLED"):
                break
            time.sleep(0.2)
        r = r["data"]
        self.assertEqual(r["status"], "FINISHED", r.get("error"))
        self.assertAlmostEqual(r["result"]["pixel_background"], 26 / 28, places=12)
        self.assertEqual(r["result"]["pixel_max"], 255)
        self.assertGreaterEqual(r["metrics"]["test"]["Accuracy"], 0.85, r["metrics"])
        # The run page hands the background to the predict form (which inverts a picture
        # whose background is the other way round).
        status, page, _ = self.server.request("GET", f"/runs/{run_id}")
        page = page if isinstance(page, str) else page.decode()
        self.assertIn(f'data-pixel-background="{26 / 28!r}"', page)

    def test_labels_stay_as_written_and_odd_archives_are_reported(self):
        # "01", "1" and "1.0" are three classes, and a date-like folder is a name, not a time.
        data = zip_of({"01/a.png": solid(1), "1/b.png": solid(2), "1.0/c.png": solid(3), "2024-01-01/d.png": solid(4)})
        status, body, _ = self.upload("names.zip", data)
        self.assertEqual(status, 201, body)
        label = next(c for c in body["data"]["columns"] if c["name"] == "label")
        self.assertEqual(label["type"], "categorical")
        self.assertEqual([r[17] for r in self.rows(body["data"]["id"], 4)["rows"]], ["01", "1.0", "1", "2024-01-01"])  # by path: "1.0/" before "1/"
        # A path twice, and a path with a ".." part: named, not silently merged or dropped.
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("cats/a.png", solid(1))
            z.writestr("cats/a.png", solid(2))
            z.writestr("../evil/b.png", solid(3))
            z.writestr("dogs/c.png", solid(4))
        status, body, _ = self.upload("odd.zip", out.getvalue())
        self.assertEqual(status, 422, body)
        self.assertIn("../evil/b.png: its path has an empty, . or .. part, so its folder is unclear", body["message"])
        self.assertIn("cats/a.png: appears more than once (the first is used)", body["message"])
        status, body, _ = self.upload("odd.zip", out.getvalue(), skip_bad_rows="true")
        self.assertEqual(status, 201, body)
        self.assertEqual([r[1] for r in self.rows(body["data"]["id"], 2)["rows"]], ["1", "4"])  # the first cats/a.png
        # Files that are not pictures are passed over unread: a large one costs nothing.
        status, body, _ = self.upload("notes.zip", zip_of({"notes/big.txt": b"0" * (8 << 20), "a/x.png": solid(5)}))
        self.assertEqual((status, body["data"]["rows"] if status == 201 else body), (201, 1))
        # bzip2 and xz tars are archives by name too.
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w:bz2") as t:
            info = tarfile.TarInfo("k/x.png")
            pic = solid(6)
            info.size = len(pic)
            t.addfile(info, io.BytesIO(pic))
        status, body, _ = self.upload("set.tar.bz2", raw.getvalue())
        self.assertEqual((status, body["data"]["rows"] if status == 201 else body), (201, 1))

    def test_a_folder_under_the_import_root(self):
        status, body, _ = self.server.request("POST", "/api/v1/dataset/", {"path": "./data/imports/pics"})
        self.assertEqual(status, 201, body)
        d = body["data"]
        self.assertEqual((d["name"], d["rows"], d["source"]), ("pics", 4, "path:./data/imports/pics"))
        p = self.rows(d["id"], 4)
        self.assertEqual([(r[0], r[1], r[17]) for r in p["rows"]],
                         [("dark/0.png", "10", "dark"), ("dark/1.png", "11", "dark"),
                          ("light/0.png", "240", "light"), ("light/1.png", "241", "light")])
        status, body, _ = self.server.request("POST", "/api/v1/dataset/", {"path": "./data/imports/pics", "format": "csv"})
        self.assertEqual((status, body["message"]), (422, "a folder is read as pictures; leave format out"))
        status, body, _ = self.server.request("POST", "/api/v1/dataset/", {"path": "./data"})
        self.assertEqual(status, 400, body)


if __name__ == "__main__":
    unittest.main()
