"""County partitions as GeoParquet files in a scratch folder (the Dask engine's exchange)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

__all__ = ["read_partition", "write_partition"]


def write_partition(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write one partition (a GeoDataFrame, or landplan's columns only) as Parquet.

    Parameters
    ----------
    frame
        The partition's rows.
    path
        The file; its folder is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def read_partition(path: str | Path, *, geometry: bool) -> pd.DataFrame:
    """Read a partition written by :func:`write_partition`.

    Parameters
    ----------
    path
        The file.
    geometry
        Whether it holds a geometry column (read as a GeoDataFrame).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The partition's rows with their index.
    """
    return gpd.read_parquet(path) if geometry else pd.read_parquet(path)
