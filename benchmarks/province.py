"""A province on Dask without a big driver (issue 15 item 5).

Partitions a synthetic parcel layer by county (``partition_parcels``, streamed
in batches), then classifies the folder on a ``LocalCluster`` of *workers*
processes (``classify_partitioned``): each worker reads its county's file and
writes its classified county; the driver merges the county tables.  Prints
the wall times, the driver's peak RSS (``resource.getrusage`` in this
process over the whole run, and sampled every 0.1 s while it classifies: the
workers are separate processes), the peak RSS of the whole process tree
(driver, nanny and workers, summed at each sample), every county's worker peak
RSS and the per-parcel cost.  With ``--compare`` the single engine classifies the
same file and the classes, reasons and quotas are compared (use a small size).

    landplan synth DATA --count 1000000
    python benchmarks/province.py DATA --workers 2 [--dem] [--compare]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rss import own_peak_bytes, sampled_peaks

import landplan
from landplan.io.layers import list_layers
from landplan.io.partitions import read_partition

MIB = 2**20


@dataclass
class Province:
    """Figures of one run: seconds, peak RSS in bytes, the county figures and quotas."""

    parcels: int
    counties: int
    partition_s: float
    classify_s: float
    driver_after_partition: int
    driver_classifying: int
    tree_classifying: int
    county_figures: pd.DataFrame
    quotas: pd.DataFrame


def classify_options(
    data: Path, *, dem: bool, roles: Sequence[str] | None = None
) -> dict[str, object]:
    """Layers, targets and DEM of a folder written by ``landplan synth``.

    *roles*, when given, are the only layers used (each must be in the folder's
    ``constraints.gpkg``); by default every layer there is.
    """
    constraints = data / "constraints.gpkg"
    names = list_layers(constraints)
    missing = sorted(set(roles or ()) - set(names))
    if missing:
        raise SystemExit(f"{constraints} has no layer {', '.join(missing)}; it has {names}")
    layers = {name: f"{constraints}|layername={name}" for name in (roles or names)}
    return {
        "layers": layers,
        "targets": str(data / "targets.csv"),
        "dem": str(data / "dem.tif") if dem else None,
    }


def run(
    data: Path, work: Path, *, workers: int, dem: bool, roles: Sequence[str] | None = None
) -> Province:
    """Partition *data*'s parcels into *work*/parts, classify them into *work*/out on Dask."""
    options = classify_options(data, dem=dem, roles=roles)
    start = time.perf_counter()
    counties = landplan.partition_parcels(data / "parcels.gpkg", work / "parts")
    partition_s = time.perf_counter() - start
    after_partition = own_peak_bytes()
    start = time.perf_counter()
    with sampled_peaks(interval_s=0.1) as peaks:
        result = landplan.classify_partitioned(
            work / "parts",
            work / "out",
            workers=workers,
            **options,  # type: ignore[arg-type]
        )
    classify_s = time.perf_counter() - start
    return Province(
        parcels=sum(c.parcels for c in counties),
        counties=len(counties),
        partition_s=partition_s,
        classify_s=classify_s,
        driver_after_partition=after_partition,
        driver_classifying=peaks.driver,
        tree_classifying=peaks.tree,
        county_figures=result.counties,
        quotas=result.quotas,
    )


def read_answers(out: Path) -> pd.DataFrame:
    """The classified counties' ``lp_class`` and ``lp_reasons``, in input order."""
    files = sorted(out.glob("county=*/part.parquet"))
    frame = pd.concat([read_partition(f, geometry=False) for f in files]).sort_index()
    return frame[["lp_class", "lp_reasons"]]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder written by `landplan synth`")
    parser.add_argument("--workers", type=int, default=2, help="local Dask workers")
    parser.add_argument("--dem", action="store_true", help="DEM mode (slope from the DEM)")
    parser.add_argument("--compare", action="store_true", help="also run the single engine")
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the outputs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="landplan-province-", dir=args.scratch) as tmp:
        p = run(args.data, Path(tmp), workers=args.workers, dem=args.dem)
        n = p.parcels
        print(f"parcels {n:,} in {p.counties} counties, {args.workers} workers")
        print(f"partition: {p.partition_s:.1f} s ({n / p.partition_s:,.0f} parcels/s)")
        print(f"classify on dask: {p.classify_s:.1f} s")
        print(
            f"driver peak RSS: {p.driver_after_partition / MIB:.0f} MiB after partition, "
            f"{own_peak_bytes() / MIB:.0f} MiB"
        )
        print(
            f"while classifying (sampled): driver {p.driver_classifying / MIB:.0f} MiB, "
            f"process tree {p.tree_classifying / MIB:.0f} MiB"
        )
        figures = p.county_figures.sort_values("parcels", ascending=False)
        figures["s_per_1k"] = figures["seconds"] / figures["parcels"] * 1000
        print(figures.drop(columns="worker").round(2).to_string(index=False))
        busy = figures["seconds"].sum()
        print(f"summed task time {busy:.1f} s = {busy / n * 1e6:.0f} µs per parcel (one core)")
        if args.compare:
            _compare(args.data, Path(tmp) / "out", p.quotas, dem=args.dem)


def _compare(data: Path, out: Path, quotas: pd.DataFrame, *, dem: bool) -> None:
    options = classify_options(data, dem=dem)
    single = landplan.classify(data / "parcels.gpkg", **options)  # type: ignore[arg-type]
    dask = read_answers(out)
    same = (
        dask.index.equals(single.parcels.index)
        and dask["lp_class"].tolist() == single.parcels["lp_class"].tolist()
        and dask["lp_reasons"].tolist() == single.parcels["lp_reasons"].tolist()
        and quotas.equals(single.quotas)
    )
    print(f"identical to the single engine (lp_class, lp_reasons, quotas): {same}")


if __name__ == "__main__":
    main()
