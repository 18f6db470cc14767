"""Loupe's Python SDK: log a training run to a Loupe server in three lines.

    import loupe
    run = loupe.init(project="mnist", config={"lr": 0.01})
    run.log({"train/loss": 0.42}, step=1)

Standard library only. init() never waits for the server, and nothing is lost while
the server is down: records wait in an on-disk spool and are sent when it is back (or
by `python3 -m loupe sync`). mode="offline" only spools; mode="disabled" does nothing.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from . import _artifacts
from ._artifacts import Artifact, ArtifactError, ModelVersion
from .run import Run, new_run_id, resolve_mode
from ._sync import sync

__version__ = "0.1.0"
__all__ = ["init", "log", "log_image", "log_text", "log_histogram", "finish", "run", "Run", "sync",
           "log_artifact", "use_artifact", "register_model", "use_model", "Artifact", "ArtifactError", "ModelVersion"]

run: Optional[Run] = None


def init(project: Optional[str] = None, name: Optional[str] = None, config: Optional[Mapping[str, Any]] = None,
         host: Optional[str] = None, mode: Optional[str] = None, tags: Optional[Sequence[str]] = None,
         **kwargs: Any) -> Run:
    """Starts (or, with the run_id of an earlier run, resumes) a run and makes it current.
    Returns at once, whether or not the server is reachable. `mode` is "online" (the
    default), "offline" or "disabled"; without it, $LOUPE_MODE decides. `tags`: strings
    to find the run by (tag:NAME in the runs table); a resumed run keeps its own too. Once
    the server has the run, its page's address is printed to stderr (not with
    $LOUPE_QUIET set). Other keyword
    arguments go to Run: run_id (resume that run; log() without step= then continues
    after its last step), description, capture_console, system_metrics_interval,
    heartbeat_interval, flush_interval, max_buffered_points, stop_behavior ("interrupt"
    or "flag"), spool_dir, log_system_metadata, api_key (else $LOUPE_API_KEY, or for a
    server on this machine its local token, found without being told).

    In a job Loupe launched ($LOUPE_JOB_ID set), the job's run is the default: project,
    run_id and config come from $LOUPE_PROJECT, $LOUPE_RUN_ID and $LOUPE_CONFIG, so
    init() with no arguments logs into it, and console capture is off by default (Loupe
    records the job's output itself). Elsewhere $LOUPE_PROJECT and $LOUPE_CONFIG are the
    defaults too (a job's package sets them in run.sh)."""
    global run
    mode = resolve_mode(mode)
    if os.environ.get("LOUPE_JOB_ID"):
        kwargs.setdefault("run_id", os.environ.get("LOUPE_RUN_ID") or None)
        kwargs.setdefault("capture_console", False)
    # Also outside Loupe: a job's package (run.sh) sets them to run it again elsewhere.
    if project is None:
        project = os.environ.get("LOUPE_PROJECT") or "default"
    if config is None and os.environ.get("LOUPE_CONFIG"):
        config = json.loads(os.environ["LOUPE_CONFIG"])
    elif config is None and os.environ.get("LOUPE_CONFIG_FILE"):  # a config too large for the environment
        with open(os.environ["LOUPE_CONFIG_FILE"], encoding="utf-8") as f:
            config = json.load(f)  # a bad mode leaves the current run alone
    if run is not None and not run.finished:
        # Never wait on an unreachable server here: what the previous run could not send
        # in a moment stays in its spool for `python3 -m loupe sync`.
        run.finish(timeout=2.0)
    run = Run(project=project, name=name, config=config, host=host, mode=mode, tags=tags, **kwargs)
    return run


def _current() -> Run:
    if run is None:
        raise RuntimeError("call loupe.init() first")
    return run


def log(data: Dict[str, Any], step: Optional[int] = None) -> None:
    _current().log(data, step=step)


def log_image(key: str, image: Union[str, "os.PathLike[str]", bytes, bytearray], step: Optional[int] = None,
              caption: Optional[str] = None) -> None:
    _current().log_image(key, image, step=step, caption=caption)


def log_text(key: str, text: str, step: Optional[int] = None, caption: Optional[str] = None) -> None:
    _current().log_text(key, text, step=step, caption=caption)


def log_histogram(key: str, values: Any = None, step: Optional[int] = None, bins: int = 64,
                  counts: Optional[Sequence[float]] = None, edges: Optional[Sequence[float]] = None) -> None:
    _current().log_histogram(key, values, step=step, bins=bins, counts=counts, edges=edges)


def finish(status: str = "finished") -> bool:
    return _current().finish(status)


def _host(host: Optional[str]) -> str:
    h = (host or (run.host if run is not None else None) or os.environ.get("LOUPE_URL") or "http://127.0.0.1:8080")
    h = h.rstrip("/")
    return h if "://" in h else "http://" + h


def log_artifact(path: Union[str, "os.PathLike[str]"], name: Optional[str] = None, type: str = "unspecified",
                 aliases: Optional[Sequence[str]] = None, **kwargs: Any) -> Artifact:
    """Run.log_artifact on the current run."""
    return _current().log_artifact(path, name=name, type=type, aliases=aliases, **kwargs)


def use_artifact(ref: str, host: Optional[str] = None) -> Artifact:
    """The artifact version `ref` names; with a current run, recorded as used by it."""
    if run is not None and not run.finished and run.mode == "online" and host is None:
        return run.use_artifact(ref)
    return _artifacts.resolve(_host(host), ref)


def register_model(artifact: Union[str, Artifact], model: str, aliases: Sequence[str] = (), description: str = "",
                   host: Optional[str] = None) -> ModelVersion:
    """Registers an artifact version ("name:v3", "name:best" or an Artifact) as the next
    version of `model` in the registry, moving `aliases` (e.g. "staging") to it."""
    return _artifacts.register(_host(host), artifact, model, aliases, description)


def use_model(ref: str, host: Optional[str] = None) -> ModelVersion:
    """The registered model version `ref` names ("name:production", "name:v2",
    "name:latest"); .download() fetches its files."""
    return _artifacts.model_version(_host(host), ref)
