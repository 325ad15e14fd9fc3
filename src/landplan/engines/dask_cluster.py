"""The ``dask`` engine: one task per county on a ``dask.distributed`` cluster.

Parcels travel as partitioned GeoParquet (``lp_county=CODE/part.parquet``) in
a scratch folder every worker can read and write (shared storage on a real
cluster); each task reads its county, classifies it and writes landplan's
columns for it beside it, which the driver reads back.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import geopandas as gpd

from landplan.core.errors import InputError, Problem
from landplan.core.timing import WORKER_STAGE_PREFIX, add_stages, record_stages
from landplan.engines.partition import CountyPlan, Layers, county_partition
from landplan.engines.pipeline import ClassifyJob, classify_frame
from landplan.io.partitions import read_partition, write_partition
from landplan.outputs.result import Result

__all__ = ["run_dask"]


def _classify_parquet(
    source: str, target: str, layers: dict[str, gpd.GeoDataFrame], job: ClassifyJob
) -> tuple[Result, dict[str, float]]:
    """A Dask task: read a county's GeoParquet, classify it, write the classified county."""
    with record_stages() as seconds:
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
        Number of worker processes of the local cluster (all cores when None);
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
    try:
        from dask.distributed import Client, LocalCluster, as_completed
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
    with tempfile.TemporaryDirectory(prefix="landplan-", dir=scratch) as tmp:
        sources, targets, near = [], [], []
        for plan in plans:
            part = county_partition(frame, plan, layers)
            folder = Path(tmp) / f"lp_county={plan.county}"
            write_partition(part.frame, folder / "part.parquet")
            sources.append(str(folder / "part.parquet"))
            targets.append(str(folder / "classified.parquet"))
            near.append(part.layers)
        if scheduler is not None:
            client = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=workers or multiprocessing.cpu_count(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never clashes with another cluster
            )
            client = Client(cluster)
        try:
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
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        results = []
        for value, target in zip(gathered, targets, strict=True):
            if value is None:  # as_completed yields every future or raises
                raise RuntimeError(f"a county returned no result ({target})")
            result, seconds = value
            add_stages(seconds, prefix=WORKER_STAGE_PREFIX)
            results.append(replace(result, parcels=read_partition(target, geometry=job.split)))
        return results
