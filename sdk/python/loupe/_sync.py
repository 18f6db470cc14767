"""Sends what earlier runs left in the spool (their server was down when they ended,
they ran in "offline" mode, or their process died). A spool folder whose process is
still alive is locked and left alone; a folder with nothing to send is removed without
contacting the server, so a finished run is never resumed by a replay; a dead process's
run that never finished is finished "crashed" after its records. Only folders holding a
run.json are spool folders: anything else under the root is never touched."""
from __future__ import annotations

import os
import sys
from typing import NamedTuple, Optional

from ._spool import Spool, SpoolBusy, default_root


class SyncReport(NamedTuple):
    sent: int     # runs whose every record reached the server
    left: int     # runs with records still spooled (the server was unreachable or failing)
    busy: int     # spool folders a live process still owns, left alone


SENT, LEFT, BUSY, NOTHING = "sent", "left", "busy", "nothing"


def run_folders(run_dir):
    """The spool folders of one run: <run_dir>/<client>/, and <run_dir> itself for older SDKs."""
    if os.path.isfile(os.path.join(run_dir, "run.json")):
        yield run_dir
    try:
        names = sorted(os.listdir(run_dir))
    except OSError:
        return
    for client in names:
        folder = os.path.join(run_dir, client)
        if os.path.isfile(os.path.join(folder, "run.json")):
            yield folder


def replay_folder(folder, host=None, timeout=60.0):
    """Sends one dead process's spool folder; SENT, LEFT, BUSY or NOTHING."""
    from .run import Run
    try:
        spool = Spool(folder, create=False)
    except SpoolBusy:
        return BUSY
    except FileNotFoundError:  # its owner finished and removed it meanwhile
        return NOTHING
    try:
        meta = spool.read_meta()
        if not meta or not spool.pending():
            spool.remove_if_empty()
            return NOTHING
        if not any(spool.read(name)[0].get("kind") == "finish" for name in spool.pending()):
            # The process that owned this spool is gone (its lock is free) and never
            # finished: its run ends crashed once the rest is sent, not revived.
            spool.put({"kind": "finish", "body": {"status": "crashed", "client": meta["create"].get("client"),
                                                  "time": _last_sign_of_life(spool)}})
        create = meta["create"]
        r = Run(project=create["project"], name=create["name"], run_id=create["run_id"],
                host=host or meta["host"], capture_console=False, system_metrics_interval=0,
                stop_behavior="flag", log_system_metadata=False, mode="online", _replay=spool)
        r.finished = True  # replay only: nothing new to log, no finish record of our own
        left = r._close(timeout)
        if r.deleted or not left:
            spool.remove_if_empty()
            return NOTHING if r.deleted else SENT
        return LEFT
    finally:
        spool.release()


def _last_sign_of_life(spool):
    """When the dead process last spooled something (seconds): its run ended then."""
    try:
        return max(os.path.getmtime(os.path.join(spool.dir, name)) for name in spool.pending())
    except (OSError, ValueError):
        return None


def sync_report(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> SyncReport:
    """Replays every spooled run that no live process owns. Always online, whatever
    $LOUPE_MODE says."""
    root = spool_dir or default_root()
    counts = {SENT: 0, LEFT: 0, BUSY: 0, NOTHING: 0}
    if not os.path.isdir(root):
        return SyncReport(0, 0, 0)
    for run_id in sorted(os.listdir(root)):
        for folder in list(run_folders(os.path.join(root, run_id))):
            try:
                counts[replay_folder(folder, host, timeout)] += 1
            except (OSError, ValueError, KeyError) as e:  # one broken folder must not stop the rest
                print(f"loupe: skipped {folder}: {type(e).__name__}: {e}", file=sys.stderr)
                counts[LEFT] += 1
    return SyncReport(counts[SENT], counts[LEFT], counts[BUSY])


def sync(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> int:
    """Replays every spooled run; returns the number of runs fully sent."""
    return sync_report(spool_dir, host, timeout).sent
