"""Time landplan's stages on synthetic data: ``make bench`` (BENCH_N=...).

Generates N synthetic parcels once (cached in ``.bench-cache/``), then times
reading, ellipsoidal areas, slope statistics, overlaps with every constraint
layer and writing, printing parcels/s per stage and the peak RSS; figures are
also written as JSON so runs can be compared.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from landplan.crs import EQUAL_AREA_CRS
from landplan.io import list_layers, read_layer, read_parcels, write_layer
from landplan.measure import parcel_areas
from landplan.overlay import overlap_areas, prepare_constraint
from landplan.schema import survey_attributes
from landplan.synthetic import generate
from landplan.terrain import slope_statistics


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(stages: list[dict[str, Any]], name: str, n: int, func: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    stages.append(
        {
            "stage": name,
            "seconds": round(seconds, 3),
            "parcels_per_s": round(n / seconds) if seconds else None,
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )
    print(
        f"{name:<22} {seconds:8.2f} s {n / seconds:12,.0f} parcels/s "
        f"peak RSS {peak_rss_mib():8.0f} MiB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    data = args.cache / f"n{args.parcels}_s{args.seed}"
    if not (data / "targets.csv").exists():
        print(f"generating {args.parcels:,} parcels in {data} ...", flush=True)
        start = time.perf_counter()
        generate(data, n_parcels=args.parcels, seed=args.seed, overwrite=True)
        print(f"generated in {time.perf_counter() - start:.1f} s", flush=True)
    n = args.parcels
    stages: list[dict[str, Any]] = []
    parcels = timed(stages, "read", n, lambda: read_parcels(data / "parcels.gpkg"))
    attrs = timed(stages, "attributes", n, lambda: survey_attributes(parcels))
    ea = timed(stages, "project equal-area", n, lambda: parcels.geometry.to_crs(EQUAL_AREA_CRS))
    areas, _ = timed(stages, "areas", n, lambda: parcel_areas(ea, attrs))
    timed(stages, "slope statistics", n, lambda: slope_statistics(parcels, str(data / "dem.tif")))
    constraints = data / "constraints.gpkg"
    layers = {name: read_layer(constraints, layer=name) for name in list_layers(constraints)}

    def overlaps() -> None:
        for name, layer in layers.items():
            overlap_areas(ea, prepare_constraint(layer, name=name), parcel_area_m2=areas["area_m2"])

    timed(stages, f"overlaps ({len(layers)} layers)", n, overlaps)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.gpkg"
        frame = gpd.GeoDataFrame(parcels.join(areas), crs=parcels.crs)
        timed(stages, "write", n, lambda: write_layer(frame, out, layer="parcels"))
    report = {
        "parcels": n,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "stages": stages,
        "peak_rss_mib": round(peak_rss_mib()),
    }
    path = args.json or data / "bench.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
