"""Sends what earlier runs left in the spool (their server was down when they ended,
they ran in "offline" mode, or their process died). A spool folder whose process is
still alive is locked and left alone; a folder with nothing to send is removed without
contacting the server, so a finished run is never resumed by a replay; a dead process's
run that never finished is finished "crashed" after its records."""
from __future__ import annotations

import os
from typing import NamedTuple, Optional

from ._spool import Spool, SpoolBusy, default_root


class SyncReport(NamedTuple):
    sent: int     # runs whose every record reached the server
    left: int     # runs with records still spooled (the server was unreachable or failing)
    busy: int     # spool folders a live process still owns, left alone


def _spool_folders(root):
    """<root>/<run_id>/<client>/ folders, and the <root>/<run_id>/ folders of older SDKs."""
    for run_id in sorted(os.listdir(root)):
        run_dir = os.path.join(root, run_id)
        if not os.path.isdir(run_dir):
            continue
        if os.path.exists(os.path.join(run_dir, "run.json")):
            yield run_dir
        for client in sorted(os.listdir(run_dir)):
            folder = os.path.join(run_dir, client)
            if os.path.isdir(folder):
                yield folder


def sync_report(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> SyncReport:
    """Replays every spooled run that no live process owns. Always online, whatever
    $LOUPE_MODE says."""
    from .run import Run
    root = spool_dir or default_root()
    sent = left = busy = 0
    if not os.path.isdir(root):
        return SyncReport(0, 0, 0)
    for folder in list(_spool_folders(root)):
        try:
            spool = Spool(folder, create=False)
        except SpoolBusy:
            busy += 1
            continue
        except FileNotFoundError:  # its owner finished and removed it meanwhile
            continue
        meta = spool.read_meta()
        if not meta or not spool.pending():
            spool.remove_if_empty()
            spool.release()
            continue
        if not any(spool.read(name)[0].get("kind") == "finish" for name in spool.pending()):
            # The process that owned this spool is gone (its lock is free) and never
            # finished: its run ends crashed once the rest is sent, not revived.
            spool.put({"kind": "finish", "body": {"status": "crashed"}})
        create = meta["create"]
        r = Run(project=create["project"], name=create["name"], run_id=create["run_id"],
                host=host or meta["host"], capture_console=False, system_metrics_interval=0,
                stop_behavior="flag", log_system_metadata=False, mode="online", _replay=spool)
        r.finished = True  # replay only: nothing new to log, no finish record of our own
        if not r._close(timeout) and not r.deleted:
            spool.remove_if_empty()
            sent += 1
        elif not r.deleted:
            left += 1
        else:
            spool.remove_if_empty()
        spool.release()
    return SyncReport(sent, left, busy)


def sync(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> int:
    """Replays every spooled run; returns the number of runs fully sent."""
    return sync_report(spool_dir, host, timeout).sent
