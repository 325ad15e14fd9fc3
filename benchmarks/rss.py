"""Peak memory of a benchmark: this process and its whole process tree.

``resource.getrusage`` gives the peak RSS of this process and of its largest
*finished* child only; the workers of a process pool or a Dask cluster run
at the same time, so their peaks add up.  :func:`sampled_peaks` samples, every
*interval_s*, the RSS of this process and of all its descendants (psutil, a
dependency of ``dask.distributed``) and keeps the largest sums.  A peak
shorter than the interval can be missed; this process's own exact peak is
:func:`own_peak_bytes`.  RSS counts pages shared between processes
(libraries) once per process, as ``ps`` does.
"""

from __future__ import annotations

import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]  # a dependency of dask.distributed


@dataclass
class Peaks:
    """Largest sampled RSS in bytes: this process (``driver``) and its tree (``tree``)."""

    driver: int = 0
    tree: int = 0


def own_peak_bytes() -> int:
    """Peak RSS of this process so far (exact, from the kernel; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def tree_rss_bytes(process: psutil.Process) -> tuple[int, int]:
    """RSS of *process* and the sum over it and all its descendants, now."""
    own = process.memory_info().rss
    tree = own
    for child in process.children(recursive=True):
        with suppress(psutil.Error):  # a process that just ended
            tree += child.memory_info().rss
    return own, tree


@contextmanager
def sampled_peaks(interval_s: float = 0.05) -> Iterator[Peaks]:
    """Sample this process's tree while the block runs; the peaks are final on exit."""
    me = psutil.Process()
    peaks = Peaks()
    stop = threading.Event()

    def sample() -> None:
        while True:
            own, tree = tree_rss_bytes(me)
            peaks.driver = max(peaks.driver, own)
            peaks.tree = max(peaks.tree, tree)
            if stop.wait(interval_s):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()
