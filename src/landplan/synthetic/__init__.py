"""Deterministic synthetic 三调-style data at any scale (``landplan synth``).

A generator of test and benchmark data, not part of an analysis: imported only
by the CLI and tests, never by ``import landplan``.  May import the layers
below it (``core``, ``survey``, ``io``, ``measure``).

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

from landplan.core.units import M2_PER_WANMU
from landplan.io.files import ensure_directory, write_csv
from landplan.io.layers import check_writable, write_layer
from landplan.io.reference import reference_table
from landplan.survey.schema import FARMLAND_CODES
from landplan.synthetic.dem import write_dem
from landplan.synthetic.landscape import SYNTHETIC_CRS, build_landscape, layout_counties
from landplan.synthetic.layers import abandoned_ponds, constraint_layers, pbf_layers
from landplan.synthetic.parcels import county_parcels

__all__ = ["SYNTHETIC_CRS", "generate"]

log = logging.getLogger(__name__)


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

    Parameters
    ----------
    out_dir
        Folder to write into; created if needed.
    n_parcels
        Number of parcels in all, shared among the counties by their real area.
    seed
        Seed of the random generator.
    dem_resolution_m
        Cell size of the DEM in metres.
    overwrite
        Replace files of a previous dataset in *out_dir*.
    progress
        Called with a short message before each county and before the DEM.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    OutputExistsError
        One of the files exists and *overwrite* is False.
    """
    out = ensure_directory(out_dir)
    parcels_path = check_writable(out / "parcels.gpkg", overwrite=overwrite)
    constraints_path = check_writable(out / "constraints.gpkg", overwrite=overwrite)
    rng = np.random.default_rng(seed)
    counties = layout_counties(n_parcels)
    land = build_landscape(counties, rng)
    farmland_m2: dict[str, float] = {}
    parcel_parts: dict[str, list[gpd.GeoDataFrame]] = {
        "pbf_2017": [],
        "pbf_existing": [],
        "farmland_2009": [],
        "abandoned_land": [],
    }
    first_id = 1
    for county in counties:
        if progress:
            progress(f"{county.code} {county.name}: {county.n_parcels} parcels")
        frame = county_parcels(county, land, rng, first_id=first_id)
        first_id += len(frame)
        farm = frame["DLBM"].str[:4].isin(FARMLAND_CODES)
        farmland_m2[county.code] = float(frame.loc[farm, "TBDLMJ"].sum())
        write_layer(frame, parcels_path, layer="DLTB", append=parcels_path.exists())
        for name, layer in pbf_layers(frame, rng).items():
            parcel_parts[name].append(layer)
        parcel_parts["abandoned_land"].append(abandoned_ponds(frame))
    layers = constraint_layers(land, rng)
    for name, parts in parcel_parts.items():
        drawn = [layers[name]] if name in layers else []  # abandoned mining land, then ponds
        layers[name] = gpd.GeoDataFrame(
            pd.concat([*drawn, *parts], ignore_index=True), crs=SYNTHETIC_CRS
        )
    for name, layer in layers.items():
        write_layer(layer, constraints_path, layer=name)
    if progress:
        progress("DEM")
    write_dem(
        land, check_writable(out / "dem.tif", overwrite=overwrite), resolution_m=dem_resolution_m
    )
    write_csv(
        _scaled_targets(farmland_m2),
        check_writable(out / "targets.csv", overwrite=overwrite),
        float_format=None,
    )
    return out


def _scaled_targets(farmland_m2: dict[str, float]) -> pd.DataFrame:
    """Hengyang's county targets scaled from the real to the synthetic farmland area."""
    real = reference_table("hengyang_county_targets")
    factor = (
        real["county_code"].map(farmland_m2).to_numpy(float)
        / M2_PER_WANMU
        / real["farmland_2020_wanmu"].to_numpy(float)
    )
    out = real.copy()
    numeric = [c for c in real.columns if c.endswith("_wanmu")]
    for column in numeric:
        out[column] = real[column].to_numpy(float) * factor
    return out
