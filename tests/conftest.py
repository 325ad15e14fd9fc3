"""Hand-checkable fixtures: planar DEMs, square parcels, small synthetic datasets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import box

from landplan.core.crs import CGCS2000_A, CGCS2000_RF

# scripts run by the system Python that has PyQGIS, not by pytest
collect_ignore = ["qgis"]

# CGCS2000 / 3-degree Gauss-Kruger CM 114E (zone 38), no zone prefix
GK38 = 4547


def square_parcels(
    n_cols: int = 3,
    n_rows: int = 3,
    *,
    size: float = 100.0,
    x0: float = 500_000.0,
    y0: float = 3_000_000.0,
    crs: int = GK38,
    **fields: object,
) -> gpd.GeoDataFrame:
    """A grid of size×size squares with minimal valid 三调 fields (flat paddy, county 430421)."""
    geoms = [
        box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size)
        for r in range(n_rows)
        for c in range(n_cols)
    ]
    n = len(geoms)
    data: dict[str, object] = {
        "DLBM": ["0101"] * n,
        "ZLDWDM": ["4304210010010000000"] * n,
        "KCXS": [0.0] * n,
        "GDPDJB": np.ones(n, dtype=np.int32),  # Integer, as 三调 stores it
        "BSM": [f"43042100{i:08d}" for i in range(n)],
    }
    data.update(fields)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def write_plane_dem(
    path: Path,
    slope_deg: float,
    *,
    crs: int = GK38,
    cell: float = 10.0,
    size: int = 60,
    x0: float = 500_000.0,
    y0: float = 3_000_600.0,
    direction: str = "east",
    nodata_block: tuple[slice, slice] | None = None,
) -> Path:
    """A DEM that is a plane rising at exactly *slope_deg* towards *direction*.

    In a projected CRS ``cell`` is metres; in EPSG:4490 it is degrees and the
    plane is built from ellipsoidal distances, so its true slope is exact.
    """
    rows, cols = np.mgrid[0:size, 0:size]
    tan = np.tan(np.radians(slope_deg))
    if crs == 4490:
        e2 = 1 - (1 - 1 / CGCS2000_RF) ** 2
        lat = np.radians(y0 - (rows + 0.5) * cell)
        w = 1 - e2 * np.sin(lat) ** 2
        n_radius = CGCS2000_A / np.sqrt(w)
        if direction == "east":
            dist = np.radians((cols + 0.5) * cell) * n_radius * np.cos(lat)
        else:  # north: meridian arc from the bottom row, integrated row by row
            m_radius = CGCS2000_A * (1 - e2) / w**1.5
            step = np.radians(cell) * m_radius[:, 0]
            dist = np.repeat(np.cumsum(step[::-1])[::-1][:, None], size, axis=1)
    else:
        dist = (cols + 0.5) * cell if direction == "east" else (size - rows - 0.5) * cell
    z = (100.0 + tan * dist).astype("float64")
    if nodata_block is not None:
        z[nodata_block] = -9999.0
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float64",
        "crs": rasterio.crs.CRS.from_epsg(crs),
        "nodata": -9999.0,
        "transform": rasterio.Affine(cell, 0.0, x0, 0.0, -cell, y0),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


@pytest.fixture
def plane_dem(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(slope_deg: float, **kwargs: object) -> Path:
        return write_plane_dem(tmp_path / f"plane_{next(counter)}.tif", slope_deg, **kwargs)

    return make


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from landplan.synthetic import generate

    return generate(tmp_path_factory.mktemp("synth"), n_parcels=1500, seed=7, dem_resolution_m=20.0)
