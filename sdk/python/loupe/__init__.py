"""Loupe's Python SDK: log a training run to a Loupe server in three lines.

    import loupe
    run = loupe.init(project="mnist", config={"lr": 0.01})
    run.log({"train/loss": 0.42}, step=1)

Standard library only. Nothing is lost while the server is down: records wait in
an on-disk spool and are sent when it is back (or by `python3 -m loupe sync`).
"""
from .run import Run, new_run_id
from ._sync import sync

__version__ = "0.1.0"
__all__ = ["init", "log", "log_image", "finish", "run", "Run", "sync"]

run = None


def init(project="default", name=None, config=None, host=None, **kwargs):
    """Starts (or, with the run_id of an earlier run, resumes) a run and makes it current."""
    global run
    if run is not None and not run.finished:
        run.finish()
    run = Run(project=project, name=name, config=config, host=host, **kwargs)
    return run


def _current():
    if run is None:
        raise RuntimeError("call loupe.init() first")
    return run


def log(data, step=None):
    _current().log(data, step=step)


def log_image(key, image, step=None):
    _current().log_image(key, image, step=step)


def finish(status="finished"):
    return _current().finish(status)
