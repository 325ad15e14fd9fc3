"""Engines: classify on one process, on several, or on a Dask cluster.

The county is the unit of work.  Quotas, priority ranks and adjacency ("next
to PBF") are all per county, so a county's parcels plus the constraint
features near them are everything its classification needs, and no step
across partitions can break the plans' rules.  Every engine runs
:func:`~landplan.pipeline.classify_frame` on each county and merges the
results in the input order, so all engines give the same classes, reasons
and totals.

- ``"single"``: all parcels at once in this process.
- ``"processes"``: one task per county on a local process pool.
- ``"dask"``: one task per county on a ``dask.distributed`` cluster (a
  ``LocalCluster`` of *workers* processes, or the scheduler at *scheduler*).
  Parcels travel as partitioned GeoParquet (``lp_county=CODE/part.parquet``)
  in *scratch*, a folder every worker can read and write (shared storage on
  a real cluster); each task reads its county, classifies it and writes
  landplan's columns for it beside it, which the driver reads back.

Counties ship back only the columns landplan adds (and the evidence); the
driver puts them in input order and joins them to the input once, so the
parcels are never copied back and forth whole.
"""

from __future__ import annotations

import logging
import multiprocessing
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from .errors import InputError, Problem
from .measure import Measurement
from .pipeline import ClassifyJob, classify_frame, join_output
from .result import Result
from .rules.evaluate import Evidence
from .schema import county_of, resolve_fields
from .timing import add_stages, record_stages, stage

log = logging.getLogger(__name__)

Engine: TypeAlias = Literal["single", "processes", "dask"]
ENGINES: tuple[str, ...] = ("single", "processes", "dask")
Layers: TypeAlias = Mapping[str, "gpd.GeoDataFrame | gpd.GeoSeries"]


@dataclass(frozen=True)
class Partition:
    """One county's parcels and the constraint features near them."""

    county: str
    frame: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame | gpd.GeoSeries]


@dataclass(frozen=True)
class CountyPlan:
    """Which input rows (positions) make up a county."""

    county: str
    positions: np.ndarray


def county_codes(frame: gpd.GeoDataFrame, fields: Mapping[str, str] | None = None) -> np.ndarray:
    """``ZLDWDM[:6]`` of every parcel ('' where missing)."""
    column = resolve_fields(frame.columns, fields).get("ZLDWDM")
    if column is None or column not in frame.columns:
        raise InputError(
            [
                Problem(
                    "FIELD_MISSING",
                    "ZLDWDM is needed to partition parcels by county; map it with "
                    "fields={'ZLDWDM': '<column>'} (CLI: --field ZLDWDM=<column>).",
                    "parcels",
                )
            ]
        )
    return np.asarray(county_of(frame[column]).to_numpy(), dtype=object)


def layers_near(
    layers: Layers, frame: gpd.GeoDataFrame, *, margin_m: float = 100.0
) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries]:
    """The features of each layer whose bounding box meets the parcels' bounds.

    Whole features are kept, never clipped, so every overlap with a parcel of
    *frame* is the same as with the whole layer.  The bounds are carried into
    each layer's CRS with densified edges and widened by *margin_m*.
    """
    out: dict[str, gpd.GeoDataFrame | gpd.GeoSeries] = {}
    bounds = frame.total_bounds
    parcels_crs = CRS.from_user_input(frame.crs)
    for role, layer in layers.items():
        if not len(layer) or not np.isfinite(bounds).all():
            out[role] = layer.iloc[:0]
            continue
        crs = CRS.from_user_input(layer.crs)
        box = bounds
        if not crs.equals(parcels_crs):
            box = Transformer.from_crs(parcels_crs, crs, always_xy=True).transform_bounds(
                bounds[0], bounds[1], bounds[2], bounds[3], densify_pts=21
            )
        pad = margin_m / 111_000 if crs.is_geographic else margin_m
        minx, miny, maxx, maxy = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
        hits = layer.sindex.query(shapely.box(minx, miny, maxx, maxy), predicate="intersects")
        out[role] = layer.iloc[np.sort(hits)]
    return out


def plan_counties(
    frame: gpd.GeoDataFrame, fields: Mapping[str, str] | None = None
) -> list[CountyPlan]:
    """The input rows of each county, largest county first (so a pool finishes evenly)."""
    county = county_codes(frame, fields)
    codes, inverse = np.unique(county.astype(str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(codes)))
    ends = np.r_[starts[1:], len(order)]
    plans = [
        CountyPlan(str(code), order[start:end])
        for code, start, end in zip(codes, starts, ends, strict=True)
    ]
    return sorted(plans, key=lambda p: -len(p.positions))


def county_partition(frame: gpd.GeoDataFrame, plan: CountyPlan, layers: Layers) -> Partition:
    """A county's parcels (a copy) and the layer features near them."""
    part = frame.iloc[plan.positions]
    return Partition(plan.county, part, layers_near(layers, part))


def run(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    job: ClassifyJob,
    *,
    engine: Engine = "single",
    workers: int | None = None,
    scheduler: str | None = None,
    scratch: str | Path | None = None,
) -> Result:
    """Classify *frame* with the chosen engine (see the module docs)."""
    if engine not in ENGINES:
        raise InputError(
            [Problem("ENGINE_UNKNOWN", f"engine {engine!r} is not one of {ENGINES}.", "engine")]
        )
    if engine == "single":
        return classify_frame(frame, layers, job)
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
    with stage("partition"):
        plans = plan_counties(frame, job.fields)
    log.info("classifying %d parcels in %d county partitions", len(frame), len(plans))
    with stage(f"counties on {engine}"):
        if engine == "processes":
            results = _run_processes(frame, layers, plans, job, workers)
        else:
            results = _run_dask(
                frame, layers, plans, job, workers=workers, scheduler=scheduler, scratch=scratch
            )
    with stage("merge"):
        return merge_results(results, plans, frame, split=job.split)


WORKER_STAGE_PREFIX = "  in workers (summed): "


def _classify_partition(part: Partition, job: ClassifyJob) -> tuple[Result, dict[str, float]]:
    """A county task: its result (landplan's columns only) and its stage times."""
    with record_stages() as seconds:
        result = classify_frame(part.frame, part.layers, job, join=False)
    return result, seconds


def _run_processes(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    plans: Sequence[CountyPlan],
    job: ClassifyJob,
    workers: int | None,
) -> list[Result]:
    """One task per county on a process pool, partitions built as workers free up.

    At most one partition waits beside those being computed, so the parcels are
    not all copied at once.
    """
    n = max(1, min(workers or multiprocessing.cpu_count(), len(plans)))
    results: list[Result | None] = [None] * len(plans)
    todo = iter(range(len(plans)))
    with ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        pending: dict[Future[tuple[Result, dict[str, float]]], int] = {}

        def submit_next() -> None:
            i = next(todo, None)
            if i is not None:
                part = county_partition(frame, plans[i], layers)
                pending[pool.submit(_classify_partition, part, job)] = i

        for _ in range(n + 1):
            submit_next()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result, seconds = future.result()
                add_stages(seconds, prefix=WORKER_STAGE_PREFIX)
                results[pending.pop(future)] = result
                submit_next()
    missing = [plans[i].county for i, r in enumerate(results) if r is None]
    if missing:  # every submitted county either returned or raised: a bug if not
        raise RuntimeError(f"counties {missing} returned no result")
    return [r for r in results if r is not None]


def _classify_parquet(
    source: str, target: str, layers: dict[str, gpd.GeoDataFrame], job: ClassifyJob
) -> tuple[Result, dict[str, float]]:
    """A Dask task: read a county's GeoParquet, classify it, write the classified county."""
    with record_stages() as seconds:
        frame = gpd.read_parquet(source)
        result = classify_frame(frame, layers, job, join=False)
        result.parcels.to_parquet(target)
    return replace(result, parcels=result.parcels.iloc[:0]), seconds


def _run_dask(
    frame: gpd.GeoDataFrame,
    layers: Layers,
    plans: Sequence[CountyPlan],
    job: ClassifyJob,
    *,
    workers: int | None,
    scheduler: str | None,
    scratch: str | Path | None,
) -> list[Result]:
    try:
        from dask.distributed import Client, LocalCluster
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
            folder.mkdir()
            part.frame.to_parquet(folder / "part.parquet")
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
                dashboard_address=None,
            )
            client = Client(cluster)
        try:
            futures = client.map(
                _classify_parquet, sources, targets, near, [job] * len(plans), pure=False
            )
            gathered = client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        read = gpd.read_parquet if job.split else pd.read_parquet
        results = []
        for (result, seconds), target in zip(gathered, targets, strict=True):
            add_stages(seconds, prefix=WORKER_STAGE_PREFIX)
            results.append(replace(result, parcels=read(target)))
        return results


def merge_results(
    results: list[Result],
    plans: Sequence[CountyPlan],
    frame: gpd.GeoDataFrame,
    *,
    split: bool = False,
) -> Result:
    """One result from per-county results, in the input's parcel order.

    Without split, each county's result holds only landplan's columns; they are
    put back in input order and joined to the input columns.  Pieces of split
    parcels are ordered by their parcel's input position and piece number, and
    numbered afresh, as a single run numbers them.  *results* is emptied, so
    that each county's tables are freed as soon as they are merged.
    """
    first = results[0]
    missing: dict[str, str] = {}
    for r in results:
        missing.update(r.evidence.missing)
    quotas = (
        pd.concat([r.quotas for r in results]).sort_values("county_code").reset_index(drop=True)
    )
    problems = tuple(p for r in results for p in r.problems)
    measure_problems = tuple(p for r in results for p in r.measurement.problems)
    tables = {
        "parcels": [r.parcels for r in results],
        "hits": [r.evidence.hits for r in results],
        "values": [r.evidence.values for r in results],
        "measures": [r.measurement.table for r in results],
    }
    results.clear()
    merged = {name: pd.concat(tables.pop(name)) for name in list(tables)}
    if split:
        parent_position = frame.index.get_indexer(merged["parcels"]["lp_parent"])
        order = np.lexsort((merged["parcels"]["lp_piece"].to_numpy(), parent_position))
        index: pd.Index = pd.RangeIndex(len(order))
    else:
        concatenated = np.concatenate([p.positions for p in plans])
        order = np.empty(len(concatenated), dtype=np.int64)
        order[concatenated] = np.arange(len(concatenated))
        index = frame.index
    for name in merged:
        merged[name] = merged[name].iloc[order].set_axis(index)
    parcels = merged.pop("parcels")
    return Result(
        gpd.GeoDataFrame(
            parcels if split else join_output(frame, parcels),
            geometry=frame.geometry.name,
            crs=frame.crs,
        ),
        Evidence(merged["hits"], merged["values"], first.evidence.units, missing),
        Measurement(merged["measures"], problems=measure_problems),
        first.profile,
        quotas,
        problems,
    )
