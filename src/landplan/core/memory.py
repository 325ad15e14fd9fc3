"""Give memory freed by a finished stage back to the operating system.

GEOS geometries and pandas blocks are many small allocations; when a stage
frees them, glibc's allocator keeps the pages for reuse, so the process's
resident size stays at the stage's peak and the next stage's peak adds to
it.  ``malloc_trim`` returns free pages at the top and in the middle of the
heap (as ``dask.distributed`` does for its workers).  Elsewhere than glibc
it does nothing.  Its effect is measured by ``benchmarks/bench.py`` (peak
RSS per stage), not asserted by a test: how much comes back depends on the
allocator's state.

Python's cyclic garbage collector runs whenever 700 more container objects
have been made than freed, and a shapely geometry is one: reading a million
parcels, or unpickling a county's, sets off thousands of collections, and
the less frequent older-generation ones walk every geometry made so far.  A
run frees its tables and geometries by reference counting; the collections
find nothing worth their time (about 4 % of a city's run, measured by
``benchmarks/bench.py``).  :func:`collector_paused` stops them for a run
and starts them again, as it found them, afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import sys
from collections.abc import Iterator

__all__ = ["collector_paused", "release_freed_memory"]


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> bool:
    """Return the heap's free pages to the operating system, where glibc allows it.

    Returns
    -------
    bool
        Whether memory was released (glibc's ``malloc_trim`` returned 1).
    """
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Stop automatic garbage collection for a run; as it was afterwards, even on an error.

    Usable as a decorator too.  Each use restores what it found, so nested
    uses leave the collector as the outermost found it.

    Yields
    ------
    None
        While the run goes on, without automatic collections.

    Examples
    --------
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
