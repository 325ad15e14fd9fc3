"""The ``processes`` engine: one task per county on a local process pool."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import geopandas as gpd

from landplan.core.memory import collector_paused
from landplan.core.progress import configure_worker, settings
from landplan.core.timing import WORKER_STAGE_PREFIX, add_stages, record_stages
from landplan.engines.partition import CountyPlan, Layers, Partition, county_partition
from landplan.engines.pipeline import ClassifyJob, classify_frame
from landplan.engines.screen import screen_county
from landplan.io.layers import read_parcel_field
from landplan.outputs.result import Result
from landplan.survey.schema import county_of

__all__ = ["classify_partition", "prepare_workers", "run_processes", "start_workers"]


def _ready() -> None:
    """A first task: returns once the worker has started and imported landplan."""


def start_workers(workers: int) -> ProcessPoolExecutor:
    """A pool of *workers* processes that start now, while the driver works.

    A worker takes about a second to start Python and import the libraries
    (once for all workers where they fork from a server, :func:`_worker_context`);
    started before the parcels are screened and partitioned, that second is
    spent while the driver is busy rather than while it waits.

    Parameters
    ----------
    workers
        Number of worker processes.

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
        The pool, for :func:`run_processes` (which shuts it down when the
        counties are done); the caller shuts it down if it is never used.
    """
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_worker_context(),
        initializer=configure_worker,  # workers log as the driver does (quiet, verbose)
        initargs=(settings(),),
    )
    # a task per worker, so that all of them start; submitted from a thread, as starting
    # a worker waits for the fork server to have imported landplan the first time
    threading.Thread(target=_start, args=(pool, workers), daemon=True).start()
    return pool


def _start(pool: ProcessPoolExecutor, workers: int) -> None:
    for _ in range(workers):
        pool.submit(_ready)


def prepare_workers(
    path: str | Path, *, fields: Mapping[str, str] | None = None, encoding: str | None = None
) -> threading.Thread:
    """Start the fork server while the parcels are read, if their file holds several counties.

    Workers fork from a server that takes about a second to import landplan
    (:func:`_worker_context`).  Started once the parcels are read, a city of
    200 k parcels waits for it; started now, it imports while they are read.
    The county codes alone (``ZLDWDM``, no geometry) are read on a thread to
    decide: one county runs on threads in this process and needs no server.

    Parameters
    ----------
    path
        The parcel file.
    fields
        Canonical 三调 field name → column, for non-standard schemas.
    encoding
        Text encoding of a shapefile, when it cannot be decided from the file.

    Returns
    -------
    threading.Thread
        The thread looking at the county codes (a daemon; nothing waits for it).
    """

    def look() -> None:
        """Start the server if the parcels' county codes show more than one county."""
        try:
            codes = read_parcel_field(path, "ZLDWDM", fields=fields, encoding=encoding)
        except Exception:  # only a hint: the parcels' read reports what is wrong
            return
        if codes is not None and county_of(codes).nunique() > 1:
            _start_server()

    thread = threading.Thread(target=look, daemon=True)
    thread.start()
    return thread


def _start_server() -> None:
    """Start the workers' fork server, where workers fork from one."""
    if _worker_context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()


def _worker_context() -> multiprocessing.context.BaseContext:
    """How workers start: forked from a server that imported landplan once, where there is one.

    A spawned worker imports Python's libraries and landplan itself, a second
    of CPU each, while the driver reads the parcels on the same cores.  A
    fork server (Linux, macOS) imports them once, and each worker is a fork of
    it: the server is a fresh, single-threaded process, so forking it is safe,
    unlike forking the driver, which may run threads.  Elsewhere, spawn.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # before the server starts; kept after
    return context


def classify_partition(part: Partition, job: ClassifyJob) -> tuple[Result, dict[str, float]]:
    """A county task: its result (landplan's columns only) and its stage times.

    Parameters
    ----------
    part
        The county's parcels and the constraint features near them.
    job
        Profile, DEM, targets and options of the classification.

    Returns
    -------
    tuple of (Result, dict of str to float)
        The county's result, whose ``parcels`` hold only landplan's columns,
        and the seconds spent in each stage.

    Raises
    ------
    CountyDataError
        With ``job.screen``: the county's parcels have problems.
    """
    with collector_paused(), record_stages() as seconds:
        attrs = screen_county(part.frame, job) if job.screen else None
        result = classify_frame(part.frame, part.layers, job, join=False, attributes=attrs)
    return result, seconds


def run_processes(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    plans: Sequence[CountyPlan],
    job: ClassifyJob,
    workers: int,
    *,
    pool: ProcessPoolExecutor | None = None,
) -> Iterator[tuple[int, Result]]:
    """One task per county on a process pool, partitions built as workers free up.

    At most one partition waits beside those being computed, so the parcels are
    not all copied at once.  Counties are submitted in the order of *plans*.

    Parameters
    ----------
    frame
        The parcels.
    layers
        Constraint layers by role.
    plans
        The input rows of each county (:func:`~landplan.engines.partition.plan_counties`).
    job
        Profile, DEM, targets and options of the classification.
    workers
        Number of worker processes (never more than counties).
    pool
        Workers already started (:func:`start_workers`); made here when not
        given.  Shut down, either way, once the last county is done, so that
        idle workers hold no memory while the results are merged.

    Yields
    ------
    tuple of (int, Result)
        The position in *plans* of each county and its result (whose
        ``parcels`` hold only landplan's columns), as each is done.
    """
    n = max(1, min(workers, len(plans)))
    todo = iter(range(len(plans)))
    with pool or start_workers(n) as pool:
        pending: dict[Future[tuple[Result, dict[str, float]]], int] = {}

        def submit_next() -> None:
            i = next(todo, None)
            if i is not None:
                part = county_partition(frame, plans[i], layers)
                pending[pool.submit(classify_partition, part, job)] = i

        for _ in range(n + 1):
            submit_next()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                result, seconds = future.result()
                add_stages(seconds, prefix=WORKER_STAGE_PREFIX)
                submit_next()  # before the county is handed on: a worker is free
                yield pending.pop(future), result
