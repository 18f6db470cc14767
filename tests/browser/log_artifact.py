"""Logs a folder artifact from one run and uses it from another, for the browser tests:
`ckpt` (type model, alias best) of weights.bin (1536 bytes) and notes.txt (512 bytes),
produced by run "producer" and used by run "consumer" of project "artifact-demo"."""
import argparse
import os
import tempfile

import loupe

parser = argparse.ArgumentParser()
parser.add_argument("--host", required=True)
args = parser.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    os.makedirs(os.path.join(tmp, "ckpt"))
    with open(os.path.join(tmp, "ckpt", "weights.bin"), "wb") as f:
        f.write(bytes(range(256)) * 6)
    with open(os.path.join(tmp, "ckpt", "notes.txt"), "wb") as f:
        f.write(b"n" * 511 + b"\n")
    producer = loupe.init(project="artifact-demo", name="producer", host=args.host, capture_console=False,
                          system_metrics_interval=0)
    producer.log({"loss": 0.5}, step=0)
    producer.log_artifact(os.path.join(tmp, "ckpt"), name="ckpt", type="model", aliases=["best"],
                          metadata={"val_acc": 0.875})
    producer.finish()
    consumer = loupe.init(project="artifact-demo", name="consumer", host=args.host, capture_console=False,
                          system_metrics_interval=0)
    consumer.use_artifact("ckpt:best")
    consumer.finish()
