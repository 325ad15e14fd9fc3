"""Deterministic synthetic 三调-style data at any scale.

:func:`generate` writes a dataset that looks like the real thing: Hengyang's
12 counties (real codes and names) with parcels in the DLTB schema, a DEM
with hills steeper than 25°, a constraint layer for every role of RULES.md
§1 and a targets CSV scaled to the synthetic farmland.  Parcels are made and
written one county at a time, so memory stays bounded at millions of parcels.

Examples
--------
>>> import tempfile
>>> out = generate(tempfile.mkdtemp(), n_parcels=300, seed=1, dem_resolution_m=30)
>>> sorted(p.name for p in out.iterdir())
['constraints.gpkg', 'dem.tif', 'parcels.gpkg', 'targets.csv']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ..io import check_writable
from .dem import write_dem
from .landscape import SYNTHETIC_CRS, build_landscape, layout_counties, reference_table
from .layers import constraint_layers, pbf_layers
from .parcels import county_parcels

__all__ = ["SYNTHETIC_CRS", "generate"]

log = logging.getLogger(__name__)

#: 1 万亩 in m².
WANMU_M2 = 1e4 * 1e4 / 15


def generate(
    out_dir: str | Path,
    *,
    n_parcels: int = 10_000,
    seed: int = 2021,
    dem_resolution_m: float = 10.0,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a synthetic dataset into *out_dir* and return the directory.

    Files: ``parcels.gpkg`` (layer ``DLTB``), ``constraints.gpkg`` (one
    layer per role), ``dem.tif`` and ``targets.csv`` (the shape of
    ``hengyang_county_targets.csv``, scaled to the synthetic farmland).
    The same *seed* and *n_parcels* give the same data.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parcels_path = check_writable(out / "parcels.gpkg", overwrite=overwrite)
    constraints_path = check_writable(out / "constraints.gpkg", overwrite=overwrite)
    rng = np.random.default_rng(seed)
    counties = layout_counties(n_parcels)
    land = build_landscape(counties, rng)
    farmland_m2: dict[str, float] = {}
    pbf_parts: dict[str, list[gpd.GeoDataFrame]] = {"pbf_2017": [], "pbf_existing": []}
    first_id = 1
    for county in counties:
        if progress:
            progress(f"{county.code} {county.name}: {county.n_parcels} parcels")
        frame = county_parcels(county, land, rng, first_id=first_id)
        first_id += len(frame)
        farm = frame["DLBM"].str[:4].isin(["0101", "0102", "0103"])
        farmland_m2[county.code] = float(frame.loc[farm, "TBDLMJ"].sum())
        pyogrio.write_dataframe(
            frame,
            parcels_path,
            layer="DLTB",
            append=parcels_path.exists(),
            dataset_options=None if parcels_path.exists() else {"VERSION": "1.2"},
        )
        for name, layer in pbf_layers(frame, rng).items():
            pbf_parts[name].append(layer)
    layers = constraint_layers(land, rng)
    for name, parts in pbf_parts.items():
        layers[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=SYNTHETIC_CRS)
    for name, layer in layers.items():
        pyogrio.write_dataframe(
            layer,
            constraints_path,
            layer=name,
            dataset_options=None if constraints_path.exists() else {"VERSION": "1.2"},
        )
    if progress:
        progress("DEM")
    write_dem(
        land, check_writable(out / "dem.tif", overwrite=overwrite), resolution_m=dem_resolution_m
    )
    scaled_targets(farmland_m2).to_csv(
        check_writable(out / "targets.csv", overwrite=overwrite), index=False, encoding="utf-8-sig"
    )
    return out


def scaled_targets(farmland_m2: dict[str, float]) -> pd.DataFrame:
    """Hengyang's county targets scaled from the real to the synthetic farmland area."""
    real = reference_table("hengyang_county_targets")
    factor = (
        real["county_code"].map(farmland_m2).to_numpy(float)
        / WANMU_M2
        / real["farmland_2020_wanmu"].to_numpy(float)
    )
    out = real.copy()
    numeric = [c for c in real.columns if c.endswith("_wanmu")]
    for column in numeric:
        out[column] = real[column].to_numpy(float) * factor
    return out
