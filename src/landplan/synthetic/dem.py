"""Synthetic DEM written window by window from the analytic landscape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from .landscape import SYNTHETIC_CRS, Landscape

DEM_NODATA = -9999.0


def write_dem(
    land: Landscape,
    path: Path,
    *,
    resolution_m: float = 10.0,
    margin_m: float = 200.0,
    block: int = 1024,
) -> None:
    """Write the landscape's elevation as a tiled, compressed float32 GeoTIFF."""
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
    with rasterio.open(path, "w", **profile) as dst:
        # square windows: each sees only the few hills near it
        for row in range(0, height, block):
            for col in range(0, width, block):
                window = Window(col, row, min(block, width - col), min(block, height - row))
                xs = x0 + (np.arange(col, col + window.width) + 0.5) * resolution_m
                ys = y1 - (np.arange(row, row + window.height) + 0.5) * resolution_m
                gx, gy = np.meshgrid(xs, ys)
                z, _, _ = land.elevation(gx.ravel(), gy.ravel())
                dst.write(
                    z.reshape(window.height, window.width).astype(np.float32), 1, window=window
                )
