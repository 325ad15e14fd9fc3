"""Threads inside one county: the measurement's GEOS, PROJ and GDAL work on every core.

Shapely's vectorised functions, PROJ's transformations, GDAL's reads and
NumPy's array loops release the GIL, so independent pieces of one county's
measurement (the constraint layers, the DEM's tiles, chunks of parcels) run
in parallel on threads without copying the parcels to other processes.  Each
piece computes what it would compute alone, and the results are put together
in the pieces' order, so the answers do not depend on the number of threads.

Examples
--------
>>> map_threads(lambda x: x * x, [1, 2, 3], threads=2)
[1, 4, 9]
>>> [len(c) for c in chunks(10, 3)]
[4, 3, 3]
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

__all__ = ["available_cores", "chunks", "imap_threads", "map_threads"]

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """Cores this process may run on: what "all cores" means for workers and threads.

    On Linux a batch scheduler, a container or ``taskset`` may give a process
    fewer cores than the machine has; ``os.cpu_count()`` counts the machine's,
    so a run would start more workers than it has cores, each as slow as the
    pool is oversubscribed.  The CPU affinity counts the cores it was given.

    Returns
    -------
    int
        Cores in the process's CPU affinity where the platform has one, else
        the machine's; at least 1.

    Examples
    --------
    >>> 1 <= available_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def map_threads(fn: Callable[[T], R], items: Iterable[T], *, threads: int = 1) -> list[R]:
    """``[fn(item) for item in items]``, on up to *threads* threads.

    Parameters
    ----------
    fn
        Called once per item; must not depend on the order calls run in.
    items
        The pieces of work.
    threads
        Threads to use; 1 (or fewer items than 2) runs in the calling thread.

    Returns
    -------
    list
        The results, in the order of *items*.  The first exception raised by
        a call is raised here.
    """
    work = list(items)
    if threads <= 1 or len(work) < 2:
        return [fn(item) for item in work]
    with ThreadPoolExecutor(max_workers=min(threads, len(work))) as pool:
        return list(pool.map(fn, work))


def imap_threads(fn: Callable[[T], R], items: Iterable[T], *, threads: int = 1) -> Iterator[R]:
    """``(fn(item) for item in items)``, on up to *threads* threads, results in order.

    Unlike :func:`map_threads`, each result is handed over as soon as it and
    those before it are done, so that a caller folding them into a total holds
    at most a few at once rather than all of them.  Only ``2 * threads`` calls
    are started ahead of the one awaited, so one long call holds the others
    back: for pieces of like size (a DEM's tiles), not for a mix of long and
    short tasks, which :func:`map_threads` starts all at once.

    Parameters
    ----------
    fn
        Called once per item; must not depend on the order calls run in.
    items
        The pieces of work.
    threads
        Threads to use; 1 runs each call in the calling thread as it is asked for.

    Yields
    ------
    object
        The results, in the order of *items*.  The first exception raised by
        a call is raised here.

    Examples
    --------
    >>> list(imap_threads(lambda x: x * x, range(5), threads=2))
    [0, 1, 4, 9, 16]
    """
    if threads <= 1:
        yield from (fn(item) for item in items)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * threads:  # a few ahead, no more
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def chunks(n: int, parts: int) -> list[np.ndarray]:
    """Positions ``0 … n-1`` cut into *parts* consecutive runs of near-equal length.

    Parameters
    ----------
    n
        Number of positions.
    parts
        Number of runs wanted (at least 1; fewer when *n* is smaller).

    Returns
    -------
    list of numpy.ndarray
        Integer position arrays, in order, together covering every position once.
    """
    return [a for a in np.array_split(np.arange(n), max(1, min(parts, n))) if len(a) or n == 0]
