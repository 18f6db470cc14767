"""A training script's noisy output, for the fd-level console capture test: a logging
handler set up before loupe.init(), warnings, a C-level write, a child process, ANSI
colours and a carriage-return progress bar. Prints the run id last."""
import logging
import os
import subprocess
import sys
import warnings

import loupe

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s:%(name)s:%(message)s")
log = logging.getLogger("early")

run = loupe.init(project="console", name="noisy", host=sys.argv[1], system_metrics_interval=0)
log.info("from a handler made before init")
warnings.warn("learning rate looks high")
os.write(1, b"written to fd 1 directly\n")
subprocess.run(["echo", "from a child process"], check=True)
print("\x1b[1;32mgreen and bold\x1b[0m plain")
for i in range(0, 101, 10):
    sys.stderr.write(f"\r{i:3d}%|{'#' * (i // 10):<10}|")
    sys.stderr.flush()
sys.stderr.write("\n")
print("unicode: héllo ✓ 中文")
run.log({"loss": 1.0})
print(f"isatty={sys.stdout.isatty()}")
loupe.finish()
print(f"RUN_ID={run.id}")
