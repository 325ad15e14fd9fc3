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
  the classified county back beside it.
"""

from __future__ import annotations

import logging
import multiprocessing
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
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
from .pipeline import ClassifyJob, classify_frame
from .result import Result
from .rules.evaluate import Evidence
from .schema import county_of, resolve_fields
from .timing import stage

log = logging.getLogger(__name__)

Engine: TypeAlias = Literal["single", "processes", "dask"]
ENGINES: tuple[str, ...] = ("single", "processes", "dask")
Layers: TypeAlias = Mapping[str, "gpd.GeoDataFrame | gpd.GeoSeries"]


@dataclass(frozen=True)
class Partition:
    """One county's parcels: their positions in the input and the layers near them."""

    county: str
    positions: np.ndarray
    frame: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame | gpd.GeoSeries]


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


def partition_by_county(
    frame: gpd.GeoDataFrame, layers: Layers, fields: Mapping[str, str] | None = None
) -> list[Partition]:
    """One partition per county, largest first (so a pool finishes evenly)."""
    county = county_codes(frame, fields)
    codes, inverse = np.unique(county.astype(str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(codes)))
    ends = np.r_[starts[1:], len(order)]
    parts = []
    for code, start, end in zip(codes, starts, ends, strict=True):
        positions = order[start:end]
        part = frame.iloc[positions]
        parts.append(Partition(str(code), positions, part, layers_near(layers, part)))
    return sorted(parts, key=lambda p: -len(p.positions))


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
    if engine == "single" and scheduler is None:
        return classify_frame(frame, layers, job)
    with stage("partition"):
        parts = partition_by_county(frame, layers, job.fields)
    log.info("classifying %d parcels in %d county partitions", len(frame), len(parts))
    with stage(f"counties on {engine}"):
        if engine == "processes":
            results = _run_processes(parts, job, workers)
        else:
            results = _run_dask(parts, job, workers=workers, scheduler=scheduler, scratch=scratch)
    with stage("merge"):
        return merge_results(results, [p.positions for p in parts], frame.index, split=job.split)


def _classify_partition(part: Partition, job: ClassifyJob) -> Result:
    return classify_frame(part.frame, part.layers, job)


def _run_processes(
    parts: Sequence[Partition], job: ClassifyJob, workers: int | None
) -> list[Result]:
    n = max(1, min(workers or multiprocessing.cpu_count(), len(parts)))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        return list(pool.map(_classify_partition, parts, [job] * len(parts)))


def _classify_parquet(
    source: str, target: str, layers: dict[str, gpd.GeoDataFrame], job: ClassifyJob
) -> Result:
    """A Dask task: read a county's GeoParquet, classify it, write the classified county."""
    frame = gpd.read_parquet(source)
    result = classify_frame(frame, layers, job)
    result.parcels.to_parquet(target)
    return replace(result, parcels=result.parcels.iloc[:0])


def _run_dask(
    parts: Sequence[Partition],
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
        sources, targets = [], []
        for part in parts:
            folder = Path(tmp) / f"lp_county={part.county}"
            folder.mkdir()
            part.frame.to_parquet(folder / "part.parquet")
            sources.append(str(folder / "part.parquet"))
            targets.append(str(folder / "classified.parquet"))
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
                _classify_parquet,
                sources,
                targets,
                [p.layers for p in parts],
                [job] * len(parts),
                pure=False,
            )
            results = client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return [
            replace(result, parcels=gpd.read_parquet(target))
            for result, target in zip(results, targets, strict=True)
        ]


def merge_results(
    results: Sequence[Result],
    positions: Sequence[np.ndarray],
    index: pd.Index,
    *,
    split: bool = False,
) -> Result:
    """One result from per-county results, in the input's parcel order.

    Pieces of split parcels are ordered by their parcel's input position and
    piece number, and numbered afresh, as a single run numbers them.
    """
    parcels = pd.concat([r.parcels for r in results])
    hits = pd.concat([r.evidence.hits for r in results])
    values = pd.concat([r.evidence.values for r in results])
    measures = pd.concat([r.measurement.table for r in results])
    if split:
        parent_position = index.get_indexer(parcels["lp_parent"])
        order = np.lexsort((parcels["lp_piece"].to_numpy(), parent_position))
        new_index = pd.RangeIndex(len(order))
    else:
        order = np.argsort(np.concatenate(positions), kind="stable")
        new_index = parcels.index[order]
    parcels, hits, values, measures = (t.iloc[order] for t in (parcels, hits, values, measures))
    parcels.index = hits.index = values.index = measures.index = new_index
    first = results[0]
    missing: dict[str, str] = {}
    for r in results:
        missing.update(r.evidence.missing)
    evidence = Evidence(hits, values, first.evidence.units, missing)
    quotas = (
        pd.concat([r.quotas for r in results]).sort_values("county_code").reset_index(drop=True)
    )
    problems = tuple(p for r in results for p in r.problems)
    return Result(
        gpd.GeoDataFrame(parcels, geometry=first.parcels.geometry.name, crs=first.parcels.crs),
        evidence,
        Measurement(measures, problems=tuple(p for r in results for p in r.measurement.problems)),
        first.profile,
        quotas,
        problems,
    )
