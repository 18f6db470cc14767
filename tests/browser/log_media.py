"""Logs a run with media through the SDK for the browser tests: two images per step
with captions at steps 0, 5 and 10 (tiny PNGs made here), generated text per step, and
a histogram of known values per step. Prints the run id."""
import argparse
import struct
import zlib

import loupe


def png(r, g, b, size=8):
    """A solid-colour PNG, made with the standard library."""
    raw = b"".join(b"\x00" + bytes([r, g, b]) * size for _ in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


p = argparse.ArgumentParser()
p.add_argument("--host", required=True)
args = p.parse_args()
run = loupe.init(project="media-demo", name="with-media", host=args.host, system_metrics_interval=0)
for step in (0, 5, 10):
    run.log({"loss": 1.0 / (step + 1)}, step=step)
    run.log_image("samples/digits", png(step * 20, 0, 0), step=step, caption=f"red {step}")
    run.log_image("samples/digits", png(0, step * 20, 0), step=step, caption=f"green {step}")
    run.log_text("samples/generated", f"step {step}: the model says <b>hello</b>", step=step)
    # values step .. step+9, one each: a known histogram
    run.log_histogram("weights/layer1", [float(step + i) for i in range(10)], step=step, bins=5)
run.finish()
print(run.id)
