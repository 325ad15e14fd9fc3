"""The ``dask`` engine: one task per county on a ``dask.distributed`` cluster.

Parcels travel as partitioned GeoParquet (``lp_county=CODE/part.parquet``) in
a scratch folder every worker can read and write (shared storage on a real
cluster); each task reads its county, classifies it and writes landplan's
columns for it beside it, which the driver reads back.

:func:`run_dask_partitions` starts from parcels already partitioned by county
(:func:`~landplan.io.partitions.partition_layer`): the driver never reads a
parcel.  Each task reads its county's file, screens and classifies it and
writes the classified county (every input column and landplan's) to the
output folder; only the county's tables (quotas, summaries) come back, and
the driver merges them.  Constraint layers given as files travel as their
paths and each task reads the features near its county, so the driver's
memory is that of the tables (and of any layer given in memory), whatever
the number of parcels or constraint features.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landplan.core.errors import InputError, InvalidParcelsError, Problem
from landplan.core.memory import collector_paused
from landplan.core.threads import available_cores
from landplan.core.timing import WORKER_STAGE_PREFIX, add_stages, record_stages
from landplan.engines.partition import (
    CountyPlan,
    CountyTables,
    Layers,
    county_partition,
    county_tables,
    merge_county_problems,
    merge_county_tables,
    read_layers_near,
)
from landplan.engines.pipeline import ClassifyJob, classify_frame
from landplan.engines.screen import invalid_problems, screen_parcels, set_aside
from landplan.io.layers import LayerSource
from landplan.io.partitions import CountyFile, read_partition, write_partition
from landplan.outputs.result import Result
from landplan.rules.evaluate import Gaps
from landplan.rules.model import Profile
from landplan.survey.schema import survey_attributes

__all__ = ["PartitionedResult", "run_dask", "run_dask_partitions"]


def _classify_parquet(
    source: str, target: str, layers: dict[str, gpd.GeoDataFrame], job: ClassifyJob
) -> tuple[Result, dict[str, float]]:
    """A Dask task: read a county's GeoParquet, classify it, write the classified county."""
    with collector_paused(), record_stages() as seconds:
        frame = read_partition(source, geometry=True)
        result = classify_frame(frame, layers, job, join=False)
        write_partition(result.parcels, target)
    return replace(result, parcels=result.parcels.iloc[:0]), seconds


def run_dask(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    plans: Sequence[CountyPlan],
    job: ClassifyJob,
    *,
    workers: int | None,
    scheduler: str | None,
    scratch: str | Path | None,
    done: Callable[[int], None] | None = None,
) -> list[Result]:
    """One task per county on a ``dask.distributed`` cluster, through GeoParquet.

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
        Number of worker processes of the local cluster (all
        :func:`~landplan.core.threads.available_cores` when None);
        unused with *scheduler*.
    scheduler
        Address of a running scheduler; None starts a ``LocalCluster``.
    scratch
        Folder in which the temporary partition folder is made (the system's
        temporary folder when None); it must be shared with every worker.
    done
        Called with the position in *plans* of each county as it is done.

    Returns
    -------
    list of Result
        One result per plan, in the order of *plans*; their ``parcels`` hold
        only landplan's columns (with the geometry in split mode).

    Raises
    ------
    InputError
        ``dask.distributed`` is not installed.
    """
    as_completed = _distributed().as_completed
    with tempfile.TemporaryDirectory(prefix="landplan-", dir=scratch) as tmp:
        sources, targets, near = [], [], []
        for plan in plans:
            part = county_partition(frame, plan, layers)
            folder = Path(tmp) / f"lp_county={plan.county}"
            write_partition(part.frame, folder / "part.parquet")
            sources.append(str(folder / "part.parquet"))
            targets.append(str(folder / "classified.parquet"))
            near.append(part.layers)
        with _client(workers, scheduler) as client:
            # the job and the layers travel once each as data, not inside the task graph
            job_ref = client.scatter(job, broadcast=True, hash=False)
            near_refs = client.scatter(near, hash=False)
            futures = client.map(
                _classify_parquet, sources, targets, near_refs, [job_ref] * len(plans), pure=False
            )
            position = {future.key: i for i, future in enumerate(futures)}
            gathered: list[tuple[Result, dict[str, float]] | None] = [None] * len(plans)
            for future, value in as_completed(futures, with_results=True):
                i = position[future.key]
                gathered[i] = value
                if done is not None:
                    done(i)
        results = []
        for value, target in zip(gathered, targets, strict=True):
            if value is None:  # as_completed yields every future or raises
                raise RuntimeError(f"a county returned no result ({target})")
            result, seconds = value
            add_stages(seconds, prefix=WORKER_STAGE_PREFIX)
            results.append(replace(result, parcels=read_partition(target, geometry=job.split)))
        return results


def _distributed() -> Any:
    """The ``dask.distributed`` module, or a clear error naming the install command."""
    try:
        import dask.distributed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InputError(
            [
                Problem(
                    "DASK_MISSING",
                    "engine='dask' needs dask.distributed; install it with "
                    "pip install 'landplan[dask]'.",
                    "engine",
                )
            ]
        ) from exc
    return dask.distributed


@contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at *scheduler*, or of a new ``LocalCluster`` of *workers*."""
    distributed = _distributed()
    cluster = None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler)
        except OSError as exc:  # refused, timed out, unknown host
            raise InputError(
                [
                    Problem(
                        "SCHEDULER_UNREACHABLE",
                        f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the "
                        "address and that the scheduler runs (dask scheduler), or drop the "
                        "scheduler to classify on a local cluster.",
                        "scheduler",
                    )
                ]
            ) from exc
    else:
        cluster = distributed.LocalCluster(
            n_workers=workers or available_cores(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clashes with another cluster
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@dataclass(frozen=True)
class CountyRun:
    """One county task's answer: its tables (None when it stopped on invalid parcels)."""

    county: str
    parcels: int
    tables: CountyTables | None
    invalid: pd.DataFrame
    seconds: dict[str, float]
    wall_s: float
    #: Peak resident memory of the worker process while it ran the county (MiB, sampled).
    worker_peak_mib: float
    worker: str


def _classify_county_file(
    county: CountyFile,
    target: str,
    layers: dict[str, gpd.GeoDataFrame | gpd.GeoSeries | LayerSource],
    job: ClassifyJob,
    skip_invalid: bool,
) -> CountyRun:
    """A Dask task: read a county's file, screen and classify it, write the classified county."""
    start = time.perf_counter()
    with collector_paused(), record_stages() as seconds, _peak_rss() as peak:
        frame = read_partition(county.path, geometry=True)
        attrs = survey_attributes(frame, fields=job.fields, source=job.source)
        invalid = screen_parcels(frame, attrs, has_dem=job.dem is not None)
        tables = None
        if skip_invalid or not len(invalid):
            if len(invalid):
                job = set_aside(job, invalid)
            near = read_layers_near(layers, frame)  # files: only the features near the county
            result = classify_frame(frame, near, job, attributes=attrs)
            write_partition(result.parcels, target)
            tables = county_tables(result, county.county, invalid)
    return CountyRun(
        county.county,
        county.parcels,
        tables,
        invalid,
        seconds,
        time.perf_counter() - start,
        peak[0] / 2**20,
        _worker_name(),
    )


@contextmanager
def _peak_rss(interval_s: float = 0.05) -> Iterator[list[int]]:
    """The process's peak resident memory while the block runs (bytes, sampled), in ``[0]``."""
    import psutil  # type: ignore[import-untyped]  # a dependency of dask.distributed

    process = psutil.Process()
    peak = [process.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval_s):
            peak[0] = max(peak[0], process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], process.memory_info().rss)


def _worker_name() -> str:
    try:
        return str(_distributed().get_worker().address)
    except ValueError:  # not on a worker (a direct call)
        return ""


@dataclass(frozen=True)
class PartitionedResult:
    """A run on county partitions: the classified counties on disk, the merged tables here.

    Attributes
    ----------
    folder
        The classified counties, ``county=CODE/part.parquet`` (every input
        column, landplan's columns and the geometry; indexed by feature id).
    tables
        Every table by its name in the output GeoPackage
        (:meth:`~landplan.outputs.result.Result.tables` but ``rule_hits``).
    counties
        One row per county: ``county_code``, ``parcels``, ``seconds`` (the
        task's wall time), ``worker_peak_mib`` (peak resident memory of its
        worker process while it ran the county, sampled every 50 ms) and ``worker``.
    problems
        Problems of the run, merged over the counties.
    profile
        The profile used.
    manifest
        The run's manifest (set by the API).
    """

    folder: Path
    tables: dict[str, pd.DataFrame]
    counties: pd.DataFrame
    problems: tuple[Problem, ...]
    profile: Profile
    manifest: dict[str, Any]

    @property
    def quotas(self) -> pd.DataFrame:
        """Per-county quotas (``county_quotas``).

        Returns
        -------
        pandas.DataFrame
            As :attr:`landplan.outputs.result.Result.quotas`.
        """
        return self.tables["county_quotas"]

    @property
    def summary(self) -> pd.DataFrame:
        """County × class with city rows (``county_summary``).

        Returns
        -------
        pandas.DataFrame
            As :attr:`landplan.outputs.result.Result.summary`.
        """
        return self.tables["county_summary"]


def run_dask_partitions(
    counties: Sequence[CountyFile],
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries | LayerSource],
    job: ClassifyJob,
    output: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    skip_invalid: bool = False,
    done: Callable[[CountyRun], None] | None = None,
) -> PartitionedResult:
    """Classify county files on a Dask cluster, each worker reading and writing its counties.

    Parameters
    ----------
    counties
        The county files (:func:`~landplan.io.partitions.county_partitions`),
        largest first so that the workers finish evenly.
    layers
        Constraint layers by role, in memory or as files
        (:func:`~landplan.io.layers.layer_sources`); sent once to every
        worker, which takes the features near its county
        (:func:`~landplan.engines.partition.read_layers_near`): a file layer
        is read there, by bounding box, so the driver never holds it.
    job
        Profile, DEM, targets and options of the classification (not split).
    output
        Folder for the classified counties (``county=CODE/part.parquet``);
        on a real cluster, shared storage that every worker can write.
    workers
        Number of worker processes of the local cluster (all
        :func:`~landplan.core.threads.available_cores` when None);
        unused with *scheduler*.
    scheduler
        Address of a running scheduler; None starts a ``LocalCluster``.
    skip_invalid
        Set parcels with error-severity problems aside instead of stopping.
    done
        Called with each county's run as it is done.

    Returns
    -------
    PartitionedResult
        The output folder, the merged tables and the per-county figures.

    Raises
    ------
    InvalidParcelsError
        Parcels with error-severity problems, unless *skip_invalid*; the
        counties without any were classified and written.
    InputError
        ``dask.distributed`` is not installed.
    """
    out = Path(output)
    targets = [str(out / c.path.parent.name / c.path.name) for c in counties]
    runs: list[CountyRun] = []
    with _client(workers, scheduler) as client:
        # the job and the layers (or their paths) travel once to each worker, not in every task
        job_ref = client.scatter(job, broadcast=True, hash=False)
        # (a dict is scattered value by value: none to scatter without layers)
        layers_ref = client.scatter(dict(layers), broadcast=True, hash=False) if layers else {}
        futures = client.map(
            _classify_county_file,
            list(counties),
            targets,
            [layers_ref] * len(counties),
            [job_ref] * len(counties),
            [skip_invalid] * len(counties),
            pure=False,
        )
        for _, run in _distributed().as_completed(futures, with_results=True):
            runs.append(run)
            add_stages(run.seconds, prefix=WORKER_STAGE_PREFIX)
            if done is not None:
                done(run)
    runs.sort(key=lambda r: r.county)
    stopped = [r.invalid for r in runs if r.tables is None]
    if stopped:
        raise InvalidParcelsError(
            invalid_problems(pd.concat(stopped, ignore_index=True), source=job.source)
        )
    parts = [r.tables for r in runs if r.tables is not None]
    gaps = Gaps.merge([p.gaps for p in parts])
    problems = merge_county_problems([*(p.problems for p in parts), gaps.problems()], pd.Index([]))
    return PartitionedResult(
        out,
        merge_county_tables(parts, job.profile),
        _county_figures(runs),
        tuple(problems),
        job.profile,
        {},
    )


def _county_figures(runs: Sequence[CountyRun]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_code": [r.county for r in runs],
            "parcels": [r.parcels for r in runs],
            "seconds": [r.wall_s for r in runs],
            "worker_peak_mib": [r.worker_peak_mib for r in runs],
            "worker": [r.worker for r in runs],
        }
    )
