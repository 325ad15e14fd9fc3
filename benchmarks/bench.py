"""City-scale benchmark of issue 15: ``make bench`` (``BENCH_SIZES=200000,1000000,2000000``).

For each size N, synthetic data with every constraint role and a 10 m DEM is
generated once (cached in ``.bench-cache/``).  Then, each in a fresh process
so that its time and peak memory are its own:

- the **I/O floor**: read the parcel layer, write the same parcels to
  GeoPackage with pyogrio;
- the complete ``classify`` (quotas, tables, styled GeoPackage) in **DEM
  mode** and in **attribute mode** (slope from GDPDJB), ``--engine`` on
  ``--workers`` (all cores by default), with wall seconds per stage, with the
  issue's 8 constraint roles (:data:`ISSUE_ROLES`; ``--roles all`` for every
  layer);
- a **tuned exactextract pass**, the fastest known zonal statistics of the one
  raster DEM mode needs: one core, the slope raster as a NumPy array in memory
  (``NumPyRasterSource``), the parcels as WKB (read beforehand), mean and count
  only; only the ``exact_extract`` call is timed;
- for reference, the **plain exactextract** call: the slope GeoTIFF by name and
  the parcels through GDAL's Python bindings when installed (read inside the
  call), else as a GeoDataFrame read beforehand;
- the **overlap stage** alone (every constraint role, ``overlap_areas``) with
  the positional tolerance off (0) and at the default 1 m, on the layers as
  generated and shifted by 0.3 m diagonally: the cost of the tolerance.

Once, at ``--county-size`` (default: the smallest N), the city copied as **one
county** (every ``ZLDWDM`` given the largest county's code, targets summed;
made once and cached) is classified in DEM mode on the ``processes`` engine
with 1 and with 2 workers, and the two answers (``lp_class``, ``lp_reasons``)
compared.  Once, at ``--province-size`` (default: the largest N), the
**province** run of ``benchmarks/province.py``: ``partition_parcels``, then
``classify_partitioned`` on a local Dask cluster of 2 workers, attribute mode,
its answers compared with attribute mode's ``classify`` at that N.  At
``--dask-size`` (default: the smallest N) the Dask engine classifies in DEM
mode with 1 and 2 workers.  On the bundled sample, the **misregistration
check** of issue 11: layers drawn along parcel edges (redline = union of
forest parcels, development boundary = union of construction parcels,
existing PBF = copies of parcels) shifted 0.3 m in eight directions; the share
of farmland parcels whose class changes (target < 0.1 %), and in split mode
the change of class areas.

With ``--repeat K`` every measurement and its reference are made K times, in
turn (floor, classify, tuned pass, classify, ... then again), so that each
ratio is taken against a reference measured minutes apart, not a quarter of
an hour: on a shared or throttled machine the same run can differ by 10-30 %
across that time.  A last table gives, for each ratio with a target, the
median of the K paired ratios, their range, and whether the median meets it.

Memory is the peak RSS of the whole process tree of each measurement (its
process and every worker, summed, sampled every 0.05 s: ``benchmarks/rss.py``).
Everything ends in one table (measurement × N: seconds, parcels/s, peak tree
RSS, the ratio to its reference, the target and whether it is met or by how
much it is missed) and is written as JSON (``.bench-cache/bench.json``, or
``--json``) so runs can be compared.  ``--only`` runs some kinds: io, attr,
dem, exactextract-tuned, exactextract, overlaps, county, province, dask, shift
(``attr`` brings the I/O floor and ``dem`` the tuned pass, their references).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

GIB = 2**30
KINDS = (  # in the table's order
    "shift", "io", "attr", "exactextract-tuned", "exactextract", "dem", "overlaps", "county",
    "province", "dask",
)  # fmt: skip
TARGET_IO_RATIO = 4.0  # 1: attribute mode ≤ 4 × the I/O floor
TARGET_DEM_VS_TUNED = 1.0  # 2: DEM mode no slower than the tuned exactextract pass
TARGET_COUNTY_SPEEDUP = 1.6  # 3: one county, 2 workers over 1
TARGET_TREE_GIB = 8.0  # 4: DEM mode at 2 M, whole process tree
TARGET_COUNTY_GIB = 1.0  # 4: one county of 200 k, whole process tree
TARGET_DRIVER_GIB = 1.0  # 5: the province driver
TARGET_DEM_2M_S = 120.0  # issue 4
TARGET_LINEARITY = 0.25
TARGET_SHIFT_SHARE = 0.001
BIG_N = 2_000_000  # where the 8 GiB and 120 s targets apply
SHIFT_M = 0.3
COUNTY_FIELD = "ZLDWDM"  # county = its first six characters (landplan.survey.schema)
COUNTY_WORKERS = (1, 2)
PROVINCE_WORKERS = 2
#: The 8 constraint roles of the issue's measurements ("a synthetic city of 200 k parcels
#: (8 constraint roles, 10 m DEM)"), which every round of it has been measured with: the
#: default of ``--roles``.  ``--roles all`` uses every layer of the data (32 from ``synth``).
ISSUE_ROLES = (
    "eco_redline", "dev_boundary", "pbf_existing", "nature_core", "water_source_l1",
    "town_village", "river_lake", "public_forest",
)  # fmt: skip
#: Constraint roles the classify runs use (``--roles``); () for every layer of the data.
ROLES: tuple[str, ...] = ISSUE_ROLES


# ------------------------------------------------- measurements (child process)


@dataclass(frozen=True)
class Job:
    """What a child process measures on: the data folder, engine, workers, a scratch folder."""

    data: Path
    engine: str = "single"
    workers: int = 1
    scratch: Path = Path()
    roles: tuple[str, ...] = ()  # the constraint layers used; () for all


def measure_io(job: Job) -> dict[str, Any]:
    from landplan.io.layers import read_parcels, write_layer

    start = time.perf_counter()
    parcels = read_parcels(job.data / "parcels.gpkg")
    read_s = time.perf_counter() - start
    write_layer(parcels, job.scratch / "copy.gpkg", layer="parcels")
    total = time.perf_counter() - start
    return {"seconds": total, "stages": {"read": read_s, "write": total - read_s}}


def measure_classify(job: Job, *, dem: bool) -> dict[str, Any]:
    """The complete classify, written as a styled GeoPackage; its answers kept."""
    from province import classify_options

    import landplan
    from landplan.core.timing import record_stages

    options = classify_options(job.data, dem=dem, roles=job.roles or None)
    with record_stages() as stages:
        start = time.perf_counter()
        result = landplan.classify(
            job.data / "parcels.gpkg",
            engine=job.engine,  # type: ignore[arg-type]
            workers=job.workers,
            output=job.scratch / "out.gpkg",  # as `landplan classify -o` writes it
            **options,  # type: ignore[arg-type]
        )
        total = time.perf_counter() - start
    answers = result.parcels[["lp_class", "lp_reasons"]].copy()
    return {
        "seconds": total,
        "stages": dict(stages),
        "roles": len(options["layers"]),  # type: ignore[arg-type]
        "answers": answers,
    }


def slope_raster(data: Path) -> Path:
    """The DEM's Horn slope as a GeoTIFF (made once, not timed)."""
    import numpy as np
    import rasterio
    from pyproj import CRS

    from landplan.measure.terrain import cell_size_m, horn_slope

    path = data / "slope.tif"
    if path.exists():
        return path
    with rasterio.open(data / "dem.tif") as src:
        z = src.read(1, masked=True).astype("float64").filled(float("nan"))
        dx, dy = cell_size_m(src.transform, CRS(src.crs.to_wkt()), np.arange(src.height))
        profile = {**src.profile, "dtype": "float32", "nodata": float("nan"), "compress": None}
    slope = horn_slope(z, dx, dy).astype("float32")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(slope, 1)
    return path


def measure_exactextract(job: Job) -> dict[str, Any]:
    """Plain exactextract: mean and count of slope per parcel, the raster file as given.

    exactextract reads the parcels through GDAL's Python bindings when they
    are installed; otherwise it is given them as a GeoDataFrame (read first,
    not timed).
    """
    from exactextract import exact_extract  # type: ignore[import-untyped]

    raster = slope_raster(job.data)
    try:
        import osgeo  # type: ignore[import-not-found]  # noqa: F401

        vector: Any = str(job.data / "parcels.gpkg")
        sources = "gdal"
    except ImportError:
        from landplan.io.layers import read_parcels

        vector = read_parcels(job.data / "parcels.gpkg")
        sources = "python (no GDAL bindings): GeoDataFrame"
    start = time.perf_counter()
    exact_extract(str(raster), vector, ["mean", "count"], output="pandas")
    return {"seconds": time.perf_counter() - start, "stages": {}, "sources": sources}


def wkb_features(wkbs: Any, srs_wkt: str) -> Any:
    """An exactextract ``FeatureSource`` of WKB geometries without attributes.

    exactextract parses a feature's geometry with GEOS straight from WKB when
    ``geometry()`` returns bytes (its GeoPandas and JSON sources go through
    GeoJSON text instead).
    """
    from exactextract.feature import Feature, FeatureSource  # type: ignore[import-untyped]

    class WkbFeature(Feature):  # type: ignore[misc]
        def __init__(self, wkb: bytes) -> None:
            Feature.__init__(self)
            self.wkb = wkb

        def geometry(self) -> bytes:
            return self.wkb

        def fields(self) -> list[str]:
            return []

        def get(self, name: str) -> Any:
            raise KeyError(name)

        def set(self, name: str, value: Any) -> None:
            raise KeyError(name)

    class WkbSource(FeatureSource):  # type: ignore[misc]
        def count(self) -> int:
            return len(wkbs)

        def __iter__(self) -> Any:
            return (WkbFeature(wkb) for wkb in wkbs)

        def srs_wkt(self) -> str:
            return srs_wkt

    return WkbSource()


def measure_exactextract_tuned(job: Job) -> dict[str, Any]:
    """Tuned exactextract: slope in memory, parcels as WKB, one core; only the call timed."""
    import rasterio
    import shapely
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource  # type: ignore[import-untyped]

    from landplan.io.layers import read_parcels

    with rasterio.open(slope_raster(job.data)) as src:
        left, bottom, right, top = src.bounds
        raster = NumPyRasterSource(
            src.read(1),  # float32, NaN where there is no slope
            left, bottom, right, top,
            nodata=src.nodata, srs_wkt=src.crs.to_wkt(), name="slope",
        )  # fmt: skip
    parcels = read_parcels(job.data / "parcels.gpkg")
    features = wkb_features(shapely.to_wkb(parcels.geometry.to_numpy()), parcels.crs.to_wkt())
    del parcels
    start = time.perf_counter()
    stats = exact_extract(raster, features, ["mean", "count"], output="pandas")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "stages": {}, "features": len(stats)}


def measure_overlaps(job: Job) -> dict[str, Any]:
    """The overlap stage alone, every role, tolerance 0 and 1 m, layers as given and shifted."""
    from landplan.core.crs import EQUAL_AREA_CRS
    from landplan.io.layers import list_layers, read_layer, read_parcels
    from landplan.measure.overlay import overlap_areas, prepare_constraint

    parcels = read_parcels(job.data / "parcels.gpkg")
    ea = parcels.geometry.to_crs(EQUAL_AREA_CRS)
    area = ea.area
    constraints = job.data / "constraints.gpkg"
    layers = {name: read_layer(constraints, layer=name) for name in list_layers(constraints)}
    step = SHIFT_M / 2**0.5
    stages: dict[str, float] = {}
    counted: dict[str, int] = {}
    for shift in (0.0, step):
        prepared = [
            prepare_constraint(layer.geometry.translate(shift, shift), name=name)
            for name, layer in layers.items()
        ]  # prepared once, not timed: only the overlap itself differs
        for tol in (0.0, 1.0):
            label = f"tolerance {tol:g} m, layers shifted {shift * 2**0.5:.1f} m"
            start = time.perf_counter()
            hits = 0
            for layer in prepared:
                ov = overlap_areas(ea, layer, parcel_area_m2=area, tolerance_m=tol)
                hits += int((ov["overlap_m2"] > 1.0).sum())
            stages[label] = time.perf_counter() - start
            counted[label] = hits
    total = sum(stages.values())
    return {"seconds": total, "stages": stages, "parcel_layer_pairs_over_1m2": counted}


def _edge_layers(parcels: Any, pbf: Any) -> dict[str, Any]:
    import geopandas as gpd
    import shapely

    code = parcels["DLBM"].str[:2]

    def dissolved(mask: Any) -> Any:
        return gpd.GeoSeries(
            [shapely.union_all(parcels.geometry[mask].to_numpy())], crs=parcels.crs
        )

    return {
        "eco_redline": dissolved(code == "03"),
        "dev_boundary": dissolved(code.isin(["05", "06", "07", "08", "09"])),
        "pbf_existing": pbf.geometry,
    }


def measure_shift(job: Job) -> dict[str, Any]:
    """Issue 11's misregistration check on the bundled sample (*job* unused)."""
    import math

    import landplan
    from landplan.io.sample import load_sample

    del job
    sample = load_sample()
    parcels = sample.parcels
    layers = _edge_layers(parcels, sample.layers["pbf_existing"])

    def run(dx: float, dy: float, split: bool) -> Any:
        moved = {role: g.translate(dx, dy) for role, g in layers.items()}
        return landplan.classify(parcels, layers=moved, split=split, engine="single").parcels

    start = time.perf_counter()
    base = run(0.0, 0.0, False)
    farm = base["DLBM"].str[:2].eq("01").to_numpy()
    shares = {}
    for k in range(8):
        a = k * math.pi / 4
        dx, dy = SHIFT_M * math.cos(a), SHIFT_M * math.sin(a)
        out = run(dx, dy, False)
        changed = (out["lp_class"].to_numpy() != base["lp_class"].to_numpy()) & farm
        shares[f"{dx:+.2f},{dy:+.2f}"] = float(changed.sum() / farm.sum())

    def class_areas(out: Any) -> Any:
        return out[out["DLBM"].str[:2].eq("01")].groupby("lp_class")["lp_area_ha"].sum()

    base_split = class_areas(run(0.0, 0.0, True))
    step = SHIFT_M / 2**0.5
    moved_split = class_areas(run(step, -step, True))
    area_change = float(moved_split.sub(base_split, fill_value=0.0).abs().max() / base_split.sum())
    return {
        "seconds": time.perf_counter() - start,
        "stages": {},
        "farmland_parcels": int(farm.sum()),
        "changed_share": shares,
        "split_class_area_change": area_change,
    }


def measure_province(job: Job) -> dict[str, Any]:
    """``benchmarks/province.py``'s run: partition, then classify on Dask (attribute mode)."""
    import province

    p = province.run(job.data, job.scratch, workers=job.workers, dem=False, roles=job.roles or None)
    return {
        "seconds": p.partition_s + p.classify_s,
        "stages": {"partition": p.partition_s, "classify on dask": p.classify_s},
        "counties": p.counties,
        "driver_after_partition": p.driver_after_partition,
        "driver_classifying": p.driver_classifying,
        "summed_task_s": float(p.county_figures["seconds"].sum()),
        "largest_county_worker_peak": float(p.county_figures["worker_peak_mib"].max() * 2**20),
        "answers": partial(province.read_answers, job.scratch / "out"),
    }


MEASURES: dict[str, Callable[[Job], dict[str, Any]]] = {
    "io": measure_io,
    "attr": partial(measure_classify, dem=False),
    "dem": partial(measure_classify, dem=True),
    "exactextract-tuned": measure_exactextract_tuned,
    "exactextract": measure_exactextract,
    "overlaps": measure_overlaps,
    "shift": measure_shift,
    "province": measure_province,
}


def run_one(kind: str, job: Job, answers: Path | None) -> None:
    """Child-process entry: one measurement, printed as JSON on the last line.

    The process tree is sampled while it measures; a measurement's
    ``answers`` (``lp_class`` and ``lp_reasons``, or a function reading them)
    are written to *answers* afterwards, outside the figures.
    """
    import resource

    from rss import own_peak_bytes, sampled_peaks

    with tempfile.TemporaryDirectory(prefix="landplan-bench-") as tmp:
        with sampled_peaks() as peaks:
            out = MEASURES[kind](replace(job, scratch=Path(tmp)))
        driver = own_peak_bytes()
        kept = out.pop("answers", None)
        if answers is not None and kept is not None:
            (kept() if callable(kept) else kept).to_parquet(answers)
    out["peak_rss"] = {
        "tree": max(peaks.tree, driver),  # the tree holds the driver
        "driver": driver,
        "largest_finished_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }
    print(json.dumps(out))


# ---------------------------------------------------------------- the driver


def ensure_data(cache: Path, n: int, seed: int) -> Path:
    data = cache / f"n{n}"
    if not (data / "targets.csv").exists():
        print(f"generating {n:,} parcels in {data} ...", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from landplan.cli import main; main()", "synth", str(data),
             "--count", str(n), "--seed", str(seed), "--overwrite"],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"  generated in {time.perf_counter() - start:.0f} s", flush=True)
    return data


def ensure_county(cache: Path, n: int, seed: int) -> Path:
    """The N-parcel city as one county (made once): every county code set to the largest's.

    The first six characters of ``ZLDWDM`` become the code of the county with
    most parcels; the targets become that county's row with every figure
    summed over the city.  Layers and DEM are links to the city's.
    """
    import pandas as pd
    import pyogrio

    county = cache / f"county{n}"
    if (county / "targets.csv").exists():
        return county
    data = ensure_data(cache, n, seed)
    print(f"making a single-county copy of {data} in {county} ...", flush=True)
    county.mkdir(parents=True, exist_ok=True)
    layer = pyogrio.list_layers(data / "parcels.gpkg")[0][0]
    parcels = pyogrio.read_dataframe(data / "parcels.gpkg", layer=layer)
    code = parcels[COUNTY_FIELD].str[:6].mode()[0]
    parcels[COUNTY_FIELD] = code + parcels[COUNTY_FIELD].str[6:]
    pyogrio.write_dataframe(parcels, county / "parcels.gpkg", layer=layer)
    for name in ("constraints.gpkg", "dem.tif"):
        (county / name).unlink(missing_ok=True)
        (county / name).symlink_to((data / name).resolve())
    targets = pd.read_csv(data / "targets.csv", dtype={"county_code": str}, encoding="utf-8-sig")
    row = targets[targets["county_code"] == code].copy()
    figures = targets.select_dtypes("number").columns
    row[figures] = targets[figures].sum().to_numpy()
    row.to_csv(county / "targets.csv", index=False, encoding="utf-8-sig")
    return county


def label_of(kind: str, engine: str, workers: int) -> str:
    """How a run is named in the progress lines and the table."""
    fixed = {
        "io": "I/O floor (read, write GPKG)",
        "exactextract-tuned": "exactextract tuned (1 core)",
        "exactextract": "exactextract plain (1 core)",
        "overlaps": "overlap stage alone",
        "shift": f"{SHIFT_M} m shift check (sample)",
        "province": f"province: partition+dask×{workers}",
    }
    if kind in fixed:
        return fixed[kind]
    what = {"attr": "attribute classify", "dem": "DEM classify", "county": "1 county, DEM"}
    roles = f", {len(ROLES)} roles" if ROLES else ", every role"
    return f"{what.get(kind, 'DEM classify')}, {engine}×{workers}{roles}"


def measure(
    kind: str,
    data: Path,
    n: int,
    *,
    engine: str = "single",
    workers: int = 1,
    answers: Path | None = None,
    runs_as: str | None = None,
) -> dict[str, Any]:
    """One measurement in a fresh process; *runs_as* names a run of another kind's code."""
    cmd = [sys.executable, __file__, "--one", runs_as or kind, "--data", str(data)]
    cmd += ["--engine", engine, "--workers", str(workers), "--roles", ",".join(ROLES) or "all"]
    if answers is not None:
        cmd += ["--answers", str(answers)]
    label = label_of(kind, engine, workers)
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"  {label:<40} FAILED: {error}", flush=True)
        failed = {"kind": kind, "label": label, "parcels": n, "engine": engine, "workers": workers}
        return {**failed, "error": done.stderr[-4000:]}
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out.update(kind=kind, label=label, parcels=n, engine=engine, workers=workers)
    out["parcels_per_s"] = n / out["seconds"]
    if answers is not None:
        out["answers_file"] = str(answers)
    rss = out["peak_rss"]
    print(
        f"  {label:<40} {out['seconds']:8.1f} s {out['parcels_per_s']:10,.0f} parcels/s   "
        f"peak RSS tree {rss['tree'] / GIB:5.2f} GiB, driver {rss['driver'] / GIB:5.2f} GiB",
        flush=True,
    )
    for name, seconds in out["stages"].items():
        print(f"      {name:<46} {seconds:8.2f} s {n / seconds:12,.0f} parcels/s", flush=True)
    return out


def same_answers(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool | None:
    """Whether two runs gave the same ``lp_class`` and ``lp_reasons`` (None: not compared)."""
    import pandas as pd

    if not a or not b or "answers_file" not in a or "answers_file" not in b:
        return None
    x, y = pd.read_parquet(a["answers_file"]), pd.read_parquet(b["answers_file"])
    return bool(
        x.index.equals(y.index)
        and x["lp_class"].equals(y["lp_class"])
        and x["lp_reasons"].equals(y["lp_reasons"])
    )


def find(
    runs: list[dict[str, Any]],
    kind: str,
    n: int,
    workers: int | None = None,
    repeat: int | None = None,
) -> Any:
    """The successful run of *kind* at *n* (with *workers*, when given), else None.

    With *repeat*, the run made in that round of ``--repeat``, where there is
    one: a ratio's figure and reference are then measured minutes apart.
    """
    wanted = [r for r in runs if r["kind"] == kind and r["parcels"] == n and "error" not in r]
    wanted = [r for r in wanted if workers is None or r["workers"] == workers]
    same = [r for r in wanted if r.get("repeat", 0) == repeat]
    return next(iter(same or wanted), None)


# ---------------------------------------------------------------- the table

Check = tuple[str, str, str]  # figure against its reference, target, met / MISSED by how much


def upto(figure: str, value: float, limit: float, unit: str = "×") -> Check:
    """A ceiling: met, or MISSED by how far *value* is above *limit*."""
    result = "met" if value <= limit else f"MISSED by {value / limit - 1:.0%}"
    return figure, f"≤ {limit:g}{unit}", result


def atleast(figure: str, value: float, limit: float, unit: str = "×") -> Check:
    """A floor: met, or MISSED by how far *value* must grow to reach *limit*."""
    result = "met" if value >= limit else f"MISSED by {limit / value - 1:.0%}"
    return figure, f"≥ {limit:g}{unit}", result


def identical(run: dict[str, Any], other: str) -> Check:
    same = run.get("identical")
    if same is None:
        return f"not compared with {other}", "identical", "—"
    text = "same answers as" if same else "answers DIFFER from"
    return f"{text} {other}", "identical", "met" if same else "MISSED"


def tree_gib(run: dict[str, Any]) -> float:
    return float(run["peak_rss"]["tree"]) / GIB


def linearity(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    """Time per parcel at the largest N against the smallest, on the largest N's row."""
    same = [r for r in runs if r["kind"] == run["kind"] and "error" not in r]
    paired = [r for r in same if r.get("repeat", 0) == run.get("repeat", 0)]
    lo = min(paired or same, key=lambda r: r["parcels"])
    if run["parcels"] != max(r["parcels"] for r in same) or lo["parcels"] == run["parcels"]:
        return []
    growth = (run["seconds"] / run["parcels"]) / (lo["seconds"] / lo["parcels"])
    figure = f"s/parcel {growth:.2f}× that at {lo['parcels']:,}"
    return [upto(figure, growth, 1 + TARGET_LINEARITY)]


def attr_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    out: list[Check] = []
    io = find(runs, "io", run["parcels"], repeat=run.get("repeat"))
    if io:
        ratio = run["seconds"] / io["seconds"]
        out.append(upto(f"{ratio:.2f}× I/O floor", ratio, TARGET_IO_RATIO))
    return out + linearity(run, runs)


def dem_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    n, seconds = run["parcels"], run["seconds"]
    out: list[Check] = []
    tuned = find(runs, "exactextract-tuned", n, repeat=run.get("repeat"))
    if tuned:
        ratio = seconds / tuned["seconds"]
        out.append(upto(f"{ratio:.2f}× tuned exactextract", ratio, TARGET_DEM_VS_TUNED))
    plain = find(runs, "exactextract", n, repeat=run.get("repeat"))
    if plain:
        out.append((f"{seconds / plain['seconds']:.2f}× plain exactextract", "", ""))
    if n >= BIG_N:
        gib = tree_gib(run)
        out.append(upto(f"tree RSS {gib:.2f} GiB", gib, TARGET_TREE_GIB, " GiB"))
        out.append(upto(f"{seconds:.0f} s", seconds, TARGET_DEM_2M_S, " s"))
    return out + linearity(run, runs)


def plain_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    tuned = find(runs, "exactextract-tuned", run["parcels"], repeat=run.get("repeat"))
    if not tuned:
        return []
    return [(f"{run['seconds'] / tuned['seconds']:.2f}× tuned exactextract", "", "")]


def county_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    out: list[Check] = []
    one = find(runs, "county", run["parcels"], workers=1, repeat=run.get("repeat"))
    if run["workers"] > 1 and one:
        speedup = one["seconds"] / run["seconds"]
        out.append(atleast(f"{speedup:.2f}× faster than ×1", speedup, TARGET_COUNTY_SPEEDUP))
        out.append(identical(run, "×1"))
    gib = tree_gib(run)
    return [*out, upto(f"tree RSS {gib:.2f} GiB", gib, TARGET_COUNTY_GIB, " GiB")]


def province_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    gib = run["peak_rss"]["driver"] / GIB
    driver = upto(f"driver RSS {gib:.2f} GiB", gib, TARGET_DRIVER_GIB, " GiB")
    return [driver, identical(run, "attr classify")]


def dask_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    one = find(runs, "dask", run["parcels"], workers=1)
    if run["workers"] == 1 or not one:
        return []
    return [(f"{one['seconds'] / run['seconds']:.2f}× faster than ×1", "", "")]


def overlap_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    out: list[Check] = []
    for shifted in ("0.0", f"{SHIFT_M:.1f}"):
        off = run["stages"][f"tolerance 0 m, layers shifted {shifted} m"]
        on = run["stages"][f"tolerance 1 m, layers shifted {shifted} m"]
        out.append((f"1 m tolerance {on / off - 1:+.0%}, shift {shifted} m", "", ""))
    return out


def shift_checks(run: dict[str, Any], runs: list[dict[str, Any]]) -> list[Check]:
    worst = max(run["changed_share"].values()) * 100
    area = run["split_class_area_change"] * 100
    limit = TARGET_SHIFT_SHARE * 100
    return [
        upto(f"{worst:.3f} % of farmland changes", worst, limit, " %"),
        upto(f"split: class areas {area:.3f} %", area, limit, " %"),
    ]


CHECKS: dict[str, Callable[[dict[str, Any], list[dict[str, Any]]], list[Check]]] = {
    "attr": attr_checks,
    "dem": dem_checks,
    "exactextract": plain_checks,
    "county": county_checks,
    "province": province_checks,
    "dask": dask_checks,
    "overlaps": overlap_checks,
    "shift": shift_checks,
}


@dataclass
class Row:
    """A line of the table: a measurement at N, or a further check of the line above."""

    measurement: str = ""
    parcels: int | None = None
    seconds: float | None = None
    tree_rss_gib: float | None = None
    ratio: str = ""
    target: str = ""
    result: str = ""


def table(runs: list[dict[str, Any]]) -> list[Row]:
    """The rows of every run, by N, then in the order of ``KINDS``."""

    def order(run: dict[str, Any]) -> tuple[bool, int, int, int, int]:
        kind = KINDS.index(run["kind"])
        return run["kind"] != "shift", run["parcels"], kind, run["workers"], run.get("repeat", 0)

    rows: list[Row] = []
    for run in sorted(runs, key=order):
        row = Row(run["label"], run["parcels"])
        if "error" in run:
            error = run["error"].strip().splitlines() or ["no output"]
            rows.append(replace(row, ratio=error[-1][:34], result="FAILED (see JSON)"))
            continue
        row.seconds, row.tree_rss_gib = run["seconds"], tree_gib(run)
        checks = CHECKS[run["kind"]](run, runs) if run["kind"] in CHECKS else []
        checks = checks or [("", "", "")]
        rows.append(replace(row, ratio=checks[0][0], target=checks[0][1], result=checks[0][2]))
        rows += [Row(ratio=r, target=t, result=m) for r, t, m in checks[1:]]
    return rows


#: The ratios with a target, summarised over ``--repeat``: (kind, its reference, what the
#: ratio is called, target, whether the target is a ceiling).  The county's reference is
#: itself on one worker, and its ratio the speed-up (reference / figure).
PAIRED: tuple[tuple[str, str, str, float, bool], ...] = (
    ("attr", "io", "attribute classify / I/O floor", TARGET_IO_RATIO, True),
    ("dem", "exactextract-tuned", "DEM classify / tuned exactextract", TARGET_DEM_VS_TUNED, True),
    ("county", "county", "1 county: ×1 / ×2 workers", TARGET_COUNTY_SPEEDUP, False),
)


@dataclass
class Paired:
    """A targeted ratio over the rounds of ``--repeat``, each against its round's reference."""

    ratio: str
    parcels: int
    values: list[float]
    median: float
    target: str
    result: str


def paired_ratios(runs: list[dict[str, Any]]) -> list[Paired]:
    """Each targeted ratio at each N: its value in every round, their median against the target."""
    import statistics

    out: list[Paired] = []
    for kind, reference, name, limit, ceiling in PAIRED:
        for n in sorted({r["parcels"] for r in runs if r["kind"] == kind}):
            values = []
            for run in runs:
                if run["kind"] != kind or run["parcels"] != n or "error" in run:
                    continue
                if kind == "county":  # the ×2 run against ×1 of its round
                    one = find(runs, "county", n, workers=1, repeat=run.get("repeat"))
                    if run["workers"] > 1 and one:
                        values.append(one["seconds"] / run["seconds"])
                    continue
                ref = find(runs, reference, n, repeat=run.get("repeat"))
                if ref:
                    values.append(run["seconds"] / ref["seconds"])
            if not values:
                continue
            median = statistics.median(values)
            check = upto if ceiling else atleast
            _, target, result = check("", median, limit)
            out.append(Paired(name, n, values, median, target, result))
    return out


def print_paired(paired: list[Paired], rounds: int) -> None:
    print(f"\nThe targeted ratios over {rounds} rounds, each against its own round's reference:")
    head = f"{'ratio':<36} {'N':>9}  {'median':>7}  {'each round':<26} {'target':<8} result"
    print(head)
    print("-" * len(head))
    for p in paired:
        each = ", ".join(f"{v:.2f}" for v in p.values)
        median = f"{p.median:>6.2f}×"
        print(f"{p.ratio:<36} {p.parcels:>9,}  {median}  {each:<26} {p.target:<8} {p.result}")


TABLE_NOTES = f"""\
Issue 15 targets, one row per measurement and N (rows marked · are further checks of the row
above).  s: wall seconds, each measurement in a fresh process.  RSS: peak of the summed RSS of
that process and all its descendants (the workers), sampled every 0.05 s, GiB.  ratio: the
figure against its reference.  MISSED by x %: how far past the target (value / target - 1; for
a floor such as the speed-up, target / value - 1).  province: benchmarks/province.py's run
(partition_parcels, then classify_partitioned on a local Dask cluster of {PROVINCE_WORKERS} workers,
attribute mode); its memory target is the driver's own peak."""


def print_table(rows: list[Row]) -> None:
    width = max([31, *(len(r.measurement or "") for r in rows)])
    line = f"{{:<{width}}} {{:>9}} {{:>7}} {{:>9}} {{:>5}}  {{:<34}} {{:<9}} {{}}"
    print(TABLE_NOTES)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    head = line.format("measurement", "N", "s", "parcels/s", "RSS", "ratio", "target", "result")
    print(head)
    print("-" * len(head))
    for r in rows:
        n = f"{r.parcels:,}" if r.parcels else ""
        s = f"{r.seconds:.1f}" if r.seconds is not None else ""
        rate = f"{r.parcels / r.seconds:,.0f}" if r.parcels and r.seconds else ""
        rss = f"{r.tree_rss_gib:.2f}" if r.tree_rss_gib is not None else ""
        name = r.measurement or "  ·"
        print(line.format(name, n, s, rate, rss, r.ratio, r.target, r.result).rstrip())


# ---------------------------------------------------------------- the runs


def rounds(
    args: argparse.Namespace, measure_once: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """*measure_once* ``--repeat`` times in turn, each run marked with its round."""
    runs: list[dict[str, Any]] = []
    for k in range(args.repeat):
        if args.repeat > 1:
            print(f" round {k + 1}/{args.repeat}", flush=True)
        for run in measure_once():
            run["repeat"] = k
            if args.repeat > 1:
                run["label"] += f" #{k + 1}"
            runs.append(run)
    return runs


def measure_size(args: argparse.Namespace, n: int, wanted: Any) -> list[dict[str, Any]]:
    """Every city-wide measurement *wanted* at one size, ``--repeat`` times in turn."""
    data = ensure_data(args.cache, n, args.seed)
    print(f"N = {n:,}", flush=True)
    return rounds(args, lambda: measure_size_once(args, data, n, wanted))


def measure_size_once(
    args: argparse.Namespace, data: Path, n: int, wanted: Any
) -> list[dict[str, Any]]:
    """One round of the city-wide measurements at one size: each reference, then its figure."""
    runs: list[dict[str, Any]] = []
    classify = partial(measure, data=data, n=n, engine=args.engine, workers=args.workers)
    if wanted("io") or wanted("attr"):
        runs.append(measure("io", data, n))
    if wanted("attr"):
        keep = n == args.province_size and wanted("province")
        runs.append(
            classify("attr", answers=args.cache / f"answers-attr-{n}.parquet" if keep else None)
        )
    if wanted("exactextract-tuned") or wanted("dem"):
        runs.append(measure("exactextract-tuned", data, n))
    if wanted("exactextract") and not args.no_exactextract:
        runs.append(measure("exactextract", data, n))
    if wanted("dem"):
        runs.append(classify("dem"))
    if wanted("overlaps"):
        runs.append(measure("overlaps", data, n))
    return runs


def measure_county(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One county in DEM mode with 1 and 2 workers, the answers compared."""
    n = args.county_size
    data = ensure_county(args.cache, n, args.seed)
    print(f"one county of {n:,} parcels (DEM mode)", flush=True)

    def once() -> list[dict[str, Any]]:
        runs = []
        for w in COUNTY_WORKERS:
            answers = args.cache / f"answers-county-{n}-{w}.parquet"
            run = measure(
                "county", data, n, engine="processes", workers=w, answers=answers, runs_as="dem"
            )
            runs.append(run)
        runs[-1]["identical"] = same_answers(runs[0], runs[-1])
        return runs

    return rounds(args, once)


def measure_province_run(args: argparse.Namespace, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """benchmarks/province.py's run, its answers compared with attribute mode's classify."""
    n = args.province_size
    data = ensure_data(args.cache, n, args.seed)
    print(f"province run (benchmarks/province.py), N = {n:,}", flush=True)
    answers = args.cache / f"answers-province-{n}.parquet"
    run = measure("province", data, n, workers=PROVINCE_WORKERS, answers=answers)
    run["identical"] = same_answers(find(runs, "attr", n), run)
    return run


def measure_dask(args: argparse.Namespace) -> list[dict[str, Any]]:
    n = args.dask_size
    data = ensure_data(args.cache, n, args.seed)
    print(f"Dask engine, N = {n:,}", flush=True)
    return [measure("dask", data, n, engine="dask", workers=w, runs_as="dem") for w in (1, 2)]


def measure_all(args: argparse.Namespace, sizes: list[int], wanted: Any) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    if wanted("shift"):
        print("misregistration check on the bundled sample", flush=True)
        runs.append(measure("shift", args.cache, 12_000))
    for n in sizes:
        runs += measure_size(args, n, wanted)
    if args.county_size and wanted("county"):
        runs += measure_county(args)
    if args.province_size and wanted("province"):
        runs.append(measure_province_run(args, runs))
    if args.dask_size and wanted("dask"):
        runs += measure_dask(args)
    return runs


def parse_args() -> argparse.Namespace:
    from landplan.core.threads import available_cores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "200000,1000000,2000000"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(".bench-cache"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--engine", default="processes", choices=["single", "processes", "dask"])
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of each measurement and its reference, in turn; ratios summarised by median",
    )
    size = "parcels; default the {} of --sizes; 0 to skip"
    parser.add_argument("--county-size", type=int, help=size.format("smallest"))
    parser.add_argument("--province-size", type=int, help=size.format("largest"))
    parser.add_argument("--dask-size", type=int, help=size.format("smallest"))
    parser.add_argument(
        "--no-exactextract", action="store_true", help="skip the plain exactextract pass"
    )
    parser.add_argument("--only", default="", help=f"comma-separated kinds: {', '.join(KINDS)}")
    parser.add_argument(
        "--roles",
        default=",".join(ISSUE_ROLES),
        help="comma-separated constraint roles the classify runs use, or 'all' for every "
        "layer of the data (default: the issue's 8)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    unknown = set(filter(None, args.only.split(","))) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds in --only: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    global ROLES
    args = parse_args()
    ROLES = () if args.roles == "all" else tuple(filter(None, args.roles.split(",")))
    if args.one:
        run_one(args.one, Job(args.data, args.engine, args.workers, roles=ROLES), args.answers)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    defaults = {"county_size": sizes[0], "province_size": sizes[-1], "dask_size": sizes[0]}
    for name, default in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    only = set(filter(None, args.only.split(",")))

    def wanted(kind: str) -> bool:
        return not only or kind in only

    args.cache.mkdir(parents=True, exist_ok=True)
    runs = measure_all(args, sizes, wanted)
    rows = table(runs)
    print()
    print_table(rows)
    paired = paired_ratios(runs) if args.repeat > 1 else []
    if paired:
        print_paired(paired, args.repeat)
    report = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "runs": runs,
        "table": [asdict(row) for row in rows],
        "paired": [asdict(p) for p in paired],
    }
    path = args.json or args.cache / "bench.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
