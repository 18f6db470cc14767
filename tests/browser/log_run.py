"""Logs a real run through the SDK for the browser tests: `finished` logs 2,000 steps
and exits; `live` keeps logging for --seconds and adds a new key half-way."""
import argparse
import math
import time

import loupe

p = argparse.ArgumentParser()
p.add_argument("--host", required=True)
p.add_argument("--mode", choices=["finished", "live"], required=True)
p.add_argument("--name", default=None)
p.add_argument("--seconds", type=float, default=30)
p.add_argument("--lr", type=float, default=0.01)
args = p.parse_args()

run = loupe.init(project="browser-demo", name=args.name, host=args.host,
                 config={"lr": args.lr, "batch_size": 64, "model": {"layers": 3, "act": "relu"}})
if args.mode == "finished":
    for step in range(2000):
        run.log({"train/loss": 2.0 * math.exp(-step / 400) + 0.05 * math.sin(step / 7),
                 "train/lr": args.lr * 0.999 ** step,
                 "val/acc": 1 - math.exp(-step / 500)}, step=step)
        if step % 100 == 0:
            print(f"step {step}: loss {2.0 * math.exp(-step / 400):.4f}")
    print("WARNING: finished with a warning line")
    run.finish()
else:
    start = time.time()
    step = 0
    while time.time() - start < args.seconds:
        data = {"train/loss": 1.0 / (step + 1)}
        if time.time() - start > args.seconds / 3:
            data["live/late_key"] = step * 0.5
        run.log(data, step=step)
        print(f"live step {step}", flush=True)
        step += 1
        time.sleep(0.1)
    run.finish()
