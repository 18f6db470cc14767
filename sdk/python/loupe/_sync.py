"""Sends what earlier runs left in the spool (their server was down when they ended,
or they ran in "offline" mode)."""
from __future__ import annotations

import os
from typing import Optional

from ._spool import Spool, default_root


def sync(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> int:
    """Replays every spooled run; returns the number of runs fully sent. Always online,
    whatever $LOUPE_MODE says."""
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
                system_metrics_interval=0, stop_behavior="flag", spool_dir=root, log_system_metadata=False,
                mode="online")
        r.finished = True  # replay only: nothing new to log, no finish record of our own
        if not r._close(timeout):
            r.spool.remove_if_empty()
            done += 1
    return done
