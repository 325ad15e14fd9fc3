"""Rasters (the DEM): opened here for reading in windows, or written window by window."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import rasterio
from rasterio.io import DatasetReader
from rasterio.windows import Window

from landplan.core.errors import ReadError

__all__ = ["RasterSource", "open_raster", "write_raster"]

#: A raster given as a path or as a dataset already open for reading.
RasterSource: TypeAlias = "str | Path | DatasetReader"


@contextmanager
def open_raster(source: RasterSource) -> Iterator[DatasetReader]:
    """Open a raster for reading; an open dataset is passed through (and left open).

    Parameters
    ----------
    source
        A path, or a ``rasterio`` dataset open for reading.

    Yields
    ------
    rasterio.io.DatasetReader
        The dataset, closed on leaving the block if it was opened here.

    Raises
    ------
    ReadError
        The file does not exist or is not a raster GDAL can read.
    """
    if isinstance(source, DatasetReader):
        yield source
        return
    if not Path(source).exists():
        raise ReadError(f"{source}: no such file", code="FILE_MISSING", source=str(source))
    try:
        dataset = rasterio.open(source)
    except rasterio.errors.RasterioIOError as exc:
        raise ReadError(
            f"{source}: not a raster GDAL can read ({exc})", code="RASTER_UNREADABLE"
        ) from exc
    with dataset:
        yield dataset


def write_raster(
    path: str | Path, profile: Mapping[str, Any], windows: Iterable[tuple[Window, np.ndarray]]
) -> Path:
    """Write a one-band raster window by window, so it is never held whole.

    Parameters
    ----------
    path
        The file.
    profile
        Creation options for ``rasterio.open(path, "w", ...)`` (driver, size,
        dtype, CRS, transform, nodata, tiling ...).
    windows
        Each window and the band's values in it.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    with rasterio.open(path, "w", **profile) as dst:
        for window, values in windows:
            dst.write(values, 1, window=window)
    return Path(path)
