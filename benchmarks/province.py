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
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd
import psutil  # type: ignore[import-untyped]  # a dependency of dask.distributed

import landplan
from landplan.io.layers import list_layers
from landplan.io.partitions import read_partition


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _sampled_peaks(interval_s: float = 0.1) -> Iterator[dict[str, float]]:
    """Peak RSS (MiB) of this process (``driver``) and of its whole tree (``tree``)."""
    me = psutil.Process()
    peaks = {"driver": 0.0, "tree": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while True:
            driver = me.memory_info().rss
            tree = driver
            for child in me.children(recursive=True):
                with suppress(psutil.Error):  # a process that just ended
                    tree += child.memory_info().rss
            peaks["driver"] = max(peaks["driver"], driver / 2**20)
            peaks["tree"] = max(peaks["tree"], tree / 2**20)
            if stop.wait(interval_s):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder written by `landplan synth`")
    parser.add_argument("--workers", type=int, default=2, help="local Dask workers")
    parser.add_argument("--dem", action="store_true", help="DEM mode (slope from the DEM)")
    parser.add_argument("--compare", action="store_true", help="also run the single engine")
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the outputs")
    args = parser.parse_args()
    parcels = args.data / "parcels.gpkg"
    constraints = args.data / "constraints.gpkg"
    layers = {name: f"{constraints}|layername={name}" for name in list_layers(constraints)}
    options = {
        "layers": layers,
        "targets": str(args.data / "targets.csv"),
        "dem": str(args.data / "dem.tif") if args.dem else None,
    }
    with tempfile.TemporaryDirectory(prefix="landplan-province-", dir=args.scratch) as tmp:
        start = time.perf_counter()
        counties = landplan.partition_parcels(parcels, Path(tmp) / "parts")
        partition_s = time.perf_counter() - start
        n = sum(c.parcels for c in counties)
        after_partition = _peak_mib()
        start = time.perf_counter()
        with _sampled_peaks() as peaks:
            result = landplan.classify_partitioned(
                Path(tmp) / "parts", Path(tmp) / "out", workers=args.workers, **options
            )
        classify_s = time.perf_counter() - start
        print(f"parcels {n:,} in {len(counties)} counties, {args.workers} workers")
        print(f"partition: {partition_s:.1f} s ({n / partition_s:,.0f} parcels/s)")
        print(f"classify on dask: {classify_s:.1f} s")
        print(f"driver peak RSS: {after_partition:.0f} MiB after partition, {_peak_mib():.0f} MiB")
        print(
            f"while classifying (sampled): driver {peaks['driver']:.0f} MiB, "
            f"process tree {peaks['tree']:.0f} MiB"
        )
        figures = result.counties.sort_values("parcels", ascending=False)
        figures["s_per_1k"] = figures["seconds"] / figures["parcels"] * 1000
        print(figures.drop(columns="worker").round(2).to_string(index=False))
        busy = figures["seconds"].sum()
        print(f"summed task time {busy:.1f} s = {busy / n * 1e6:.0f} µs per parcel (one core)")
        if args.compare:
            _compare(parcels, Path(tmp) / "out", result, options)


def _compare(parcels: Path, out: Path, result: object, options: dict[str, object]) -> None:
    single = landplan.classify(parcels, **options)  # type: ignore[arg-type]
    files = sorted(out.glob("county=*/part.parquet"))
    dask = pd.concat([read_partition(f, geometry=False) for f in files]).sort_index()
    same = (
        dask.index.equals(single.parcels.index)
        and dask["lp_class"].tolist() == single.parcels["lp_class"].tolist()
        and dask["lp_reasons"].tolist() == single.parcels["lp_reasons"].tolist()
        and result.quotas.equals(single.quotas)  # type: ignore[attr-defined]
    )
    print(f"identical to the single engine (lp_class, lp_reasons, quotas): {same}")


if __name__ == "__main__":
    main()
