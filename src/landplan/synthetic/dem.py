"""Synthetic DEM written window by window from the analytic landscape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from landplan.io.raster import write_raster
from landplan.synthetic.landscape import SYNTHETIC_CRS, Landscape

__all__ = ["DEM_NODATA", "write_dem"]

#: Nodata value of the synthetic DEM.
DEM_NODATA = -9999.0


def write_dem(
    land: Landscape,
    path: Path,
    *,
    resolution_m: float = 10.0,
    margin_m: float = 200.0,
    block: int = 1024,
) -> None:
    """Write the landscape's elevation as a tiled, compressed float32 GeoTIFF.

    Parameters
    ----------
    land
        The landscape.
    path
        The GeoTIFF to write, in :data:`~landplan.synthetic.landscape.SYNTHETIC_CRS`.
    resolution_m
        Cell size in metres.
    margin_m
        Margin around the landscape's bounds, in metres.
    block
        Side in cells of the square windows computed and written at a time.
    """
    x0, y0, x1, y1 = land.bounds
    x0, y0, x1, y1 = x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m
    width = int(np.ceil((x1 - x0) / resolution_m))
    height = int(np.ceil((y1 - y0) / resolution_m))
    transform = rasterio.Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": SYNTHETIC_CRS,
        "transform": transform,
        "nodata": DEM_NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "IF_SAFER",
    }

    def _windows() -> Iterator[tuple[Window, np.ndarray]]:
        # square windows: each sees only the few hills near it
        for row in range(0, height, block):
            for col in range(0, width, block):
                window = Window(col, row, min(block, width - col), min(block, height - row))
                xs = x0 + (np.arange(col, col + window.width) + 0.5) * resolution_m
                ys = y1 - (np.arange(row, row + window.height) + 0.5) * resolution_m
                gx, gy = np.meshgrid(xs, ys)
                z, _, _ = land.elevation(gx.ravel(), gy.ravel())
                yield window, z.reshape(window.height, window.width).astype(np.float32)

    write_raster(path, profile, _windows())
