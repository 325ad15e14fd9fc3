"""Wall time per pipeline stage, recorded only when someone asks (the benchmark).

Library code marks its stages with :func:`stage`; outside
:func:`record_stages` that costs one context-variable lookup.

Examples
--------
>>> with record_stages() as seconds:
...     with stage("work"):
...         _ = sum(range(1000))
>>> list(seconds)
['work']
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["WORKER_STAGE_PREFIX", "add_stages", "record_stages", "stage"]

#: Prefix of stage names measured inside worker processes (their times are summed).
WORKER_STAGE_PREFIX = "  in workers (summed): "

_RECORDER: ContextVar[dict[str, float] | None] = ContextVar("landplan_stages", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the wall time of the block to stage *name* of the active recorder, if any.

    Parameters
    ----------
    name
        Stage name; times of blocks with the same name add up.

    Yields
    ------
    None
        Control to the timed block.
    """
    recorder = _RECORDER.get()
    if recorder is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        recorder[name] = recorder.get(name, 0.0) + time.perf_counter() - start


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
