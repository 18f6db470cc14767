"""Uploading pictures: N random 28x28 grey PNGs in 10 class folders, zipped (stored), sent
to POST /api/v1/dataset/ and timed end to end (archive read, decode, scale, the CSV and its
parse, type inference, the column file), against uploading the same pixels as the CSV the
server would write. Fashion-MNIST's shape: 784 pixels, 10 classes.

Usage: python3 bench/picture_upload_bench.py BUILD_DIR/loupe [N=10000]"""
import io
import os
import random
import struct
import sys
import time
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402


def png(pixels, side):
    raw = b"".join(b"\x00" + bytes(pixels[r * side:(r + 1) * side]) for r in range(side))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(0)
    out = io.BytesIO()
    csv = ["file," + ",".join(f"pixel_{i}" for i in range(784)) + ",label"]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for k in range(n):
            pixels = [rng.randrange(256) for _ in range(784)]
            name = f"c{k % 10}/{k:05d}.png"
            z.writestr(name, png(pixels, 28))
            csv.append(name + "," + ",".join(map(str, pixels)) + f",c{k % 10}")
    data, text = out.getvalue(), ("\n".join(csv) + "\n").encode()
    server = LoupeServer().start()
    try:
        for label, filename, payload in (("zip of PNGs", "pics.zip", data), ("same pixels as CSV", "pixels.csv", text)):
            body, ctype = multipart({}, {"file": (filename, payload)})
            t = time.perf_counter()
            status, reply, _ = server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
            secs = time.perf_counter() - t
            assert status == 201, reply
            print(f"{label}: {n} pictures, {len(payload) / 1e6:.1f} MB sent, {secs:.2f} s, "
                  f"{n / secs:.0f} pictures/s, rows {reply['data']['rows']}, columns {len(reply['data']['columns'])}")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
