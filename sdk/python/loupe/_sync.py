"""Sends what earlier runs left in the spool (their server was down when they ended)."""
import os
import sys

from ._spool import Spool, default_root


def sync(spool_dir=None, host=None, timeout=60.0):
    """Replays every spooled run; returns the number of runs fully sent."""
    from .run import Run
    root = spool_dir or default_root()
    done = 0
    if not os.path.isdir(root):
        return 0
    for run_id in sorted(os.listdir(root)):
        meta = Spool(os.path.join(root, run_id)).read_meta()
        if not meta:
            continue
        create = meta["create"]
        r = Run(project=create["project"], name=create["name"], run_id=run_id, config=create.get("config"),
                host=host or meta["host"], description=create.get("description", ""), capture_console=False,
                system_metrics_interval=0, stop_behavior="flag", spool_dir=root, log_system_metadata=False)
        r.finished = True  # replay only: nothing new to log, no finish record of our own
        r._closing.set()
        r._wake.set()
        r._thread.join(timeout)
        sys.excepthook = r._prev_excepthook
        if not r.spool.pending():
            r.spool.remove_if_empty()
            done += 1
    return done
