"""Give memory freed by a finished stage back to the operating system.

GEOS geometries and pandas blocks are many small allocations; when a stage
frees them, glibc's allocator keeps the pages for reuse, so the process's
resident size stays at the stage's peak and the next stage's peak adds to
it.  ``malloc_trim`` returns free pages at the top and in the middle of the
heap (as ``dask.distributed`` does for its workers).  Elsewhere than glibc
it does nothing.  Its effect is measured by ``benchmarks/bench.py`` (peak
RSS per stage), not asserted by a test: how much comes back depends on the
allocator's state.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

__all__ = ["release_freed_memory"]


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
