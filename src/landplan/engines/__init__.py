"""Engines: the pipeline on one process, on local processes, or on a Dask cluster.

Holds the in-memory pipeline (:mod:`~landplan.engines.pipeline`: measure →
rules → quotas and classes → result), the county partitioning and merging
(:mod:`~landplan.engines.partition`) and the engines that run it.  May import
every layer below it (``core`` to ``outputs``); only :mod:`landplan.audit.pbf`,
:mod:`landplan.api` and :mod:`landplan.cli` import it.

The county is the unit of work.  Every engine runs
:func:`~landplan.engines.pipeline.classify_frame` on each county and merges the
results in the input order, so all engines give the same classes, reasons
and totals.

- ``"single"``: all parcels at once in this process.
- ``"processes"``: one task per county on a local process pool of *workers*.
- ``"dask"``: one task per county on a ``dask.distributed`` cluster (a
  ``LocalCluster`` of *workers* processes, or the scheduler at *scheduler*).

Workers a county cannot use as processes become threads inside it
(``ClassifyJob.threads``, :mod:`landplan.core.threads`): the single engine
with *workers* measures on that many threads, and the processes engine gives
each county ``workers // counties`` of them — one county with two workers
runs in this process on two threads, not in a pool where one process idles.

Counties ship back only the columns landplan adds (and the evidence); the
driver puts them in input order and joins them to the input once, so the
parcels are never copied back and forth whole.  Given an output, the
``processes`` engine writes the parcel layer county by county as the counties
finish (:mod:`~landplan.engines.output`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from numbers import Integral
from pathlib import Path
from typing import Literal, TypeAlias, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from landplan.core.errors import InputError, InvalidParcelsError, Problem
from landplan.core.memory import release_freed_memory
from landplan.core.progress import StageProgress
from landplan.core.threads import available_cores
from landplan.core.timing import stage
from landplan.engines.dask_cluster import run_dask
from landplan.engines.output import CountyWriter, consecutive, with_shares
from landplan.engines.partition import (
    CountyPlan,
    Layers,
    county_codes,
    merge_county_problems,
    merge_results,
    plan_counties,
)
from landplan.engines.pipeline import ClassifyJob, classify_frame
from landplan.engines.processes import run_processes, start_workers
from landplan.engines.screen import (
    CountyDataError,
    duplicate_bsm,
    invalid_problems,
    screen_parcels,
    set_aside,
)
from landplan.io.layers import LayerTarget, write_layer
from landplan.outputs.result import Result
from landplan.survey.schema import check_fields, survey_attributes

__all__ = ["ENGINES", "Engine", "cores", "resolve_engine", "run"]

log = logging.getLogger(__name__)

Engine: TypeAlias = Literal["single", "processes", "dask"]
#: Engine names, the default first.
ENGINES: tuple[str, ...] = get_args(Engine)


def resolve_engine(
    engine: str | None, workers: int | None = None, scheduler: str | None = None
) -> Engine:
    """The engine a run uses: the one named, else the one its other options imply.

    Parameters
    ----------
    engine
        One of :data:`ENGINES`, or None to choose from *workers* and *scheduler*.
    workers
        Number of worker processes; given alone, it means the ``processes`` engine.
    scheduler
        Address of a ``dask.distributed`` scheduler; it means the ``dask`` engine.

    Returns
    -------
    str
        The engine name.

    Raises
    ------
    InputError
        An unknown engine, fewer than one worker, or a scheduler with an
        engine other than ``dask``.

    Notes
    -----
    The API's ``workers=`` and the command line's ``--workers`` both go
    through this function, so they mean the same: a number of worker
    processes (at least one), which alone chooses the ``processes`` engine.

    Examples
    --------
    >>> resolve_engine(None), resolve_engine(None, workers=2), resolve_engine(None, workers=1)
    ('single', 'processes', 'processes')
    >>> resolve_engine(None, scheduler="tcp://10.0.0.5:8786")
    'dask'
    """
    whole = isinstance(workers, Integral) and not isinstance(workers, bool)
    if workers is not None and (not whole or workers < 1):
        raise InputError(
            Problem(
                "ENGINE_WORKERS",
                f"workers must be a whole number of processes, at least 1; found {workers!r}.",
                "workers",
            )
        )
    if engine is None:
        engine = "dask" if scheduler is not None else "processes" if workers else "single"
    if engine not in ENGINES:
        raise InputError(
            Problem("ENGINE_UNKNOWN", f"engine {engine!r} is not one of {ENGINES}.", "engine")
        )
    if scheduler is not None and engine != "dask":
        raise InputError(
            Problem(
                "ENGINE_SCHEDULER",
                f"a scheduler address needs the dask engine, not {engine!r}; "
                "drop the engine option or choose dask.",
                "engine",
            )
        )
    return engine  # type: ignore[return-value]


def run(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    job: ClassifyJob,
    *,
    engine: Engine | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scratch: str | Path | None = None,
    skip_invalid: bool = False,
    output: LayerTarget | None = None,
) -> Result:
    """Classify *frame* with the chosen engine (see the module docs).

    Parameters
    ----------
    frame
        The parcels.
    layers
        Constraint layers by role.
    job
        Profile, DEM, targets and options of the classification.
    engine, workers, scheduler
        As :func:`resolve_engine` takes them.
    scratch
        Folder for the Dask engine's partitions.
    skip_invalid
        Set parcels with error-severity problems aside (class ``OTHER``, their
        ``V_*`` codes as reasons, in no quota or total, listed in
        ``Result.invalid``) instead of stopping.
    output
        Write the classified parcels to this new layer (its file must not
        exist).  The ``processes`` engine writes a GeoPackage county by county
        as the counties finish (:mod:`~landplan.engines.output`).

    Returns
    -------
    Result
        The classified parcels, in input order, without a manifest.

    Raises
    ------
    InvalidParcelsError
        Parcels with error-severity problems, unless *skip_invalid*; before
        anything is classified.
    InputError
        An unknown engine, targets that name none of the parcels' counties
        (``TARGETS_NO_COUNTY``), or a parcel index with duplicate labels.
    """
    engine = resolve_engine(engine, workers, scheduler)
    codes = _county_codes(frame, job) if engine != "single" else None
    pool = _started_workers(codes, engine, workers)
    try:
        return _run(
            frame,
            layers,
            job,
            engine=engine,
            workers=workers,
            scheduler=scheduler,
            scratch=scratch,
            skip_invalid=skip_invalid,
            pool=pool,
            output=output,
            codes=codes,
        )
    finally:
        if pool is not None:  # a run that stopped, or turned out to be one county
            pool.shutdown(cancel_futures=True)


def _county_codes(frame: gpd.GeoDataFrame, job: ClassifyJob) -> np.ndarray | None:
    """Each parcel's county code, found once for the whole run; None without ``ZLDWDM``."""
    try:
        return county_codes(frame, job.fields)
    except InputError:  # reported with the other fields when they are checked
        return None


def _started_workers(
    codes: np.ndarray | None, engine: Engine, workers: int | None
) -> ProcessPoolExecutor | None:
    """The ``processes`` engine's workers, started before the parcels are screened.

    Only for parcels of several counties (by their *codes*): one county runs on
    threads in this process, which workers starting beside it would slow down.
    """
    if engine != "processes" or codes is None:
        return None
    counties = len(pd.unique(codes))
    return start_workers(min(cores(engine, workers), counties)) if counties > 1 else None


def _run(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    job: ClassifyJob,
    *,
    engine: Engine,
    workers: int | None,
    scheduler: str | None,
    scratch: str | Path | None,
    skip_invalid: bool,
    pool: ProcessPoolExecutor | None,
    output: LayerTarget | None,
    codes: np.ndarray | None,
) -> Result:
    """:func:`run` once the engine is known and, for ``processes``, its workers started.

    *codes* are the parcels' county codes when already found (None: found when needed).
    """
    if pool is not None and not skip_invalid and codes is not None:
        try:
            return _run_screened_by_counties(
                frame, layers, job, workers=workers, pool=pool, output=output, codes=codes
            )
        except CountyDataError:  # screened here, as the single engine screens: it raises
            log.info("the parcels have problems; screening every parcel")
            pool = None  # shut down if the counties had started; a new one if ever needed
    with stage("attributes", total=len(frame), unit="parcels"):
        attrs = survey_attributes(frame, fields=job.fields, source=job.source)
    if job.targets is not None:  # the county codes of all parcels are known from here on
        job.targets.check_counties(c for c in attrs["COUNTY"].unique() if c)
    with stage("screen", total=len(frame), unit="parcels"):
        invalid = screen_parcels(frame, attrs, has_dem=job.dem is not None)
    if len(invalid):
        if not skip_invalid:
            raise InvalidParcelsError(invalid_problems(invalid, source=job.source))
        job = set_aside(job, invalid)
        log.warning(
            "%d parcel(s) with invalid data set aside (class OTHER, in no quota or total)",
            len(job.invalid),
        )
    counties = attrs["COUNTY"].nunique(dropna=False)
    n_cores = cores(engine, workers)
    if engine == "processes" and counties == 1:
        engine = "single"  # one county: its workers are threads in this process
    job = dataclasses.replace(job, threads=_threads_per_county(engine, n_cores, counties))
    if engine == "single":  # the attributes just parsed serve the whole run
        result = classify_frame(frame, layers, job, attributes=attrs)
        result = dataclasses.replace(  # listed as the county engines list them
            result,
            problems=tuple(merge_county_problems([result.problems], result.parcels.index)),
            measurement=dataclasses.replace(
                result.measurement,
                problems=tuple(
                    merge_county_problems([result.measurement.problems], result.parcels.index)
                ),
            ),
        )
        if output is not None:
            _write_parcels(result, output)
    else:
        del attrs  # each county parses its own: not held while the counties run
        result = _run_counties(
            frame,
            layers,
            job,
            engine=engine,
            workers=workers,
            scheduler=scheduler,
            scratch=scratch,
            pool=pool,
            output=output,
            codes=codes,
        )
    return dataclasses.replace(result, invalid=invalid)


def _run_screened_by_counties(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    job: ClassifyJob,
    *,
    workers: int | None,
    pool: ProcessPoolExecutor,
    output: LayerTarget | None,
    codes: np.ndarray,
) -> Result:
    """The processes engine's run where each county screens its own parcels.

    The workers parse each county's attributes anyway, so nothing is parsed
    here but the county codes; only duplicate BSM, which cross counties, are
    looked for here.  Any problem found, here or by a county, raises
    :class:`~landplan.engines.screen.CountyDataError`, and :func:`_run` then
    screens every parcel as the single engine does, so the error names every
    parcel and the field problems come in the same order.
    """
    problems = check_fields(frame.columns, job.fields, job.source)
    if problems or duplicate_bsm(frame, job.fields):
        raise CountyDataError("the parcels' fields or BSM have problems")
    distinct = pd.unique(codes)
    if job.targets is not None:
        try:
            job.targets.check_counties(c for c in distinct if c)
        except InputError as error:
            raise CountyDataError(str(error)) from None
    threads = _threads_per_county("processes", cores("processes", workers), len(distinct))
    job = dataclasses.replace(job, threads=threads, screen=True)
    result = _run_counties(
        frame,
        layers,
        job,
        engine="processes",
        workers=workers,
        scheduler=None,
        scratch=None,
        pool=pool,
        output=output,
        codes=codes,
    )
    nothing = frame.iloc[:0]  # no finding, in the table screening makes
    invalid = screen_parcels(nothing, survey_attributes(nothing, fields=job.fields), has_dem=False)
    return dataclasses.replace(result, invalid=invalid)


def _write_parcels(result: Result, output: LayerTarget) -> None:
    with stage("write parcels"):
        write_layer(result.parcels, output.path, layer=output.layer)


def cores(engine: Engine, workers: int | None) -> int:
    """Cores a run uses: *workers* when given, else every core for ``processes``, else one.

    Every core is :func:`~landplan.core.threads.available_cores`: those the
    process may run on.

    Parameters
    ----------
    engine
        The engine (:func:`resolve_engine`).
    workers
        The workers asked for, or None.

    Returns
    -------
    int
        Processes of the ``processes`` engine, or threads of one county's run.

    Examples
    --------
    >>> cores("single", None), cores("single", 3), cores("processes", 2)
    (1, 3, 2)
    """
    return workers or (available_cores() if engine == "processes" else 1)


def _threads_per_county(engine: Engine, workers: int | None, counties: int) -> int:
    """Threads measuring each county: the workers a run has beyond one per county.

    Examples
    --------
    >>> _threads_per_county("single", 2, 1), _threads_per_county("processes", 4, 12)
    (2, 1)
    >>> _threads_per_county("processes", 8, 3), _threads_per_county("dask", 4, 1)
    (2, 1)
    """
    if engine == "dask" or not workers:  # Dask workers run their own thread pools
        return 1
    if engine == "single":
        return workers
    return max(1, workers // max(counties, 1))


def _run_counties(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    job: ClassifyJob,
    *,
    engine: Engine,
    workers: int | None,
    scheduler: str | None,
    scratch: str | Path | None,
    pool: ProcessPoolExecutor | None,
    output: LayerTarget | None,
    codes: np.ndarray | None,
) -> Result:
    if not frame.index.is_unique:
        raise InputError(
            [
                Problem(
                    "INDEX_DUPLICATE",
                    "the parcels' index has duplicate labels; the county engines put results "
                    "back by label. Reset it (frame.reset_index(drop=True)).",
                    "parcels",
                )
            ]
        )
    with stage("partition", total=len(frame), unit="parcels"):
        plans = plan_counties(frame, job.fields, codes=codes)
    log.info("classifying %d parcels in %d county partitions", len(frame), len(plans))
    writer = _county_writer(frame, plans, job, engine, output)
    if writer is not None:  # counties in input order: the layer is written from the first on
        plans = writer.plans
    results: list[Result | None] = [None] * len(plans)
    with stage(f"counties on {engine}", total=len(plans), unit="counties") as progress:
        done = _county_done(plans, progress)
        try:
            if engine == "processes":
                for i, result in run_processes(
                    frame, layers, plans, job, cores(engine, workers), pool=pool
                ):
                    if writer is not None:
                        result = with_shares(result)  # once, for the layer and the merge
                        writer.add(i, result)
                    results[i] = result
                    done(i)
            else:
                county_results = run_dask(
                    frame,
                    layers,
                    plans,
                    job,
                    workers=workers,
                    scheduler=scheduler,
                    scratch=scratch,
                    done=done,
                )
                results = list(county_results)
        except BaseException:
            if writer is not None:
                writer.abandon()
            raise
    if writer is not None and writer.complete:
        with stage("write parcels"):  # what is left to write once the last county is done
            writer.close()
    missing = [plans[i].county for i, r in enumerate(results) if r is None]
    if missing:  # every county either returned or raised: a bug if not
        raise RuntimeError(f"counties {missing} returned no result")
    with stage("merge", total=len(frame), unit="parcels"):
        merged = merge_results([r for r in results if r is not None], plans, frame, split=job.split)
    release_freed_memory()  # the county tables, merged: before the output is written
    if output is not None and (writer is None or not writer.complete):
        _write_parcels(merged, output)
    return merged


def _county_writer(
    frame: gpd.GeoDataFrame,
    plans: list[CountyPlan],
    job: ClassifyJob,
    engine: Engine,
    output: LayerTarget | None,
) -> CountyWriter | None:
    """A writer of the parcel layer as counties finish, when the run allows one.

    The ``processes`` engine, whole parcels (not split), a new GeoPackage,
    and counties whose parcels are consecutive in the input.
    """
    if output is None or engine != "processes" or job.split:
        return None
    if output.path.suffix.lower() != ".gpkg" or output.path.exists():
        return None
    ordered = consecutive(plans, len(frame))
    return None if ordered is None else CountyWriter(frame, ordered, output)


def _county_done(plans: list[CountyPlan], progress: StageProgress) -> Callable[[int], None]:
    """What to call when the county of plan *i* is done: count it, log ``county k/N done``."""

    def done(i: int) -> None:
        progress.advance()
        log.info(
            "county %d/%d done: %s (%d parcels)",
            progress.done,
            len(plans),
            plans[i].county or "(no county code)",
            len(plans[i].positions),
        )

    return done
