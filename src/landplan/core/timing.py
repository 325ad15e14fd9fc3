"""Stages of the pipeline: wall time recorded when asked (the benchmark), progress shown.

Library code marks its stages with :func:`stage`, giving the count a stage
reaches when it knows it.  Outside :func:`record_stages`, and without a
progress reporter (:func:`landplan.core.progress.configure`, which the
command line sets up), that costs a context-variable lookup.

Examples
--------
>>> with record_stages() as seconds:
...     with stage("work"):
...         _ = sum(range(1000))
>>> list(seconds)
['work']
>>> with stage("tiles", total=3, unit="tiles") as tiles:
...     for _ in range(3):
...         tiles.advance()
>>> tiles.done
3
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from landplan.core.progress import StageProgress, active_reporter

__all__ = ["WORKER_STAGE_PREFIX", "add_stages", "record_stages", "stage"]

#: Prefix of stage names measured inside worker processes (their times are summed).
WORKER_STAGE_PREFIX = "  in workers (summed): "

_RECORDER: ContextVar[dict[str, float] | None] = ContextVar("landplan_stages", default=None)


@contextmanager
def stage(name: str, *, total: int | None = None, unit: str = "") -> Iterator[StageProgress]:
    """Time the block as stage *name*, and show its progress if a reporter is active.

    Parameters
    ----------
    name
        Stage name; times of blocks with the same name add up.
    total
        The count the stage reaches when done (parcels, tiles, counties), if known.
    unit
        What it counts, for the progress line.

    Yields
    ------
    StageProgress
        The stage: call its ``advance(n)`` as work gets done.
    """
    reporter = active_reporter()
    recorder = _RECORDER.get()
    if reporter is None:
        progress = StageProgress(name, total, unit)
    else:
        progress = reporter.start(name, total=total, unit=unit)
    if recorder is None and reporter is None:
        yield progress
        return
    start = time.perf_counter()
    failed = True
    try:
        yield progress
        failed = False
    finally:
        if recorder is not None:
            recorder[name] = recorder.get(name, 0.0) + time.perf_counter() - start
        if reporter is not None:
            reporter.end(progress, failed=failed)


def add_stages(seconds: dict[str, float], *, prefix: str = "") -> None:
    """Add stage times measured elsewhere (a worker process) to the active recorder, if any.

    Parameters
    ----------
    seconds
        Seconds by stage name, as yielded by :func:`record_stages`.
    prefix
        Put before each stage name, e.g. :data:`WORKER_STAGE_PREFIX`.
    """
    recorder = _RECORDER.get()
    if recorder is not None:
        for name, value in seconds.items():
            recorder[prefix + name] = recorder.get(prefix + name, 0.0) + value


@contextmanager
def record_stages() -> Iterator[dict[str, float]]:
    """Collect stage wall times (seconds by stage name, in first-seen order).

    Yields
    ------
    dict
        Stage name → seconds, filled while the block runs; recording stops on leaving it.
    """
    recorder: dict[str, float] = {}
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)
