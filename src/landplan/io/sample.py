"""The bundled sample: ``data/sample_parcels`` of the source tree.

The sample is synthetic (see its README): Hengyang's 12 counties with
parcels in the 三调 DLTB schema, a DEM, a constraint layer per role and
scaled county targets.  Set ``LANDPLAN_SAMPLE_DIR`` to use a copy elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd

from landplan.core.errors import ReadError
from landplan.io.layers import list_layers, read_layer, read_parcels

__all__ = ["Sample", "SampleFile", "load_sample", "sample_dir", "sample_path"]

#: Names of the sample's files.
SampleFile = Literal["parcels", "constraints", "dem", "targets"]
_FILES = {
    "parcels": "parcels.gpkg",
    "constraints": "constraints.gpkg",
    "dem": "dem.tif",
    "targets": "targets.csv",
}


def sample_dir() -> Path:
    """Directory of the bundled sample data.

    Returns
    -------
    pathlib.Path
        ``LANDPLAN_SAMPLE_DIR`` if set and holding the sample, else
        ``data/sample_parcels`` of the source tree.

    Raises
    ------
    ReadError
        Neither holds the sample's parcels.
    """
    env = os.environ.get("LANDPLAN_SAMPLE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "data" / "sample_parcels")
    for candidate in candidates:
        if (candidate / _FILES["parcels"]).exists():
            return candidate
    raise ReadError(
        "sample data not found (looked in "
        + ", ".join(map(str, candidates))
        + "); set LANDPLAN_SAMPLE_DIR, or generate a dataset with `landplan synth DIR`."
    )


def sample_path(name: SampleFile) -> str:
    """Path of one file of the sample.

    Parameters
    ----------
    name
        Which file: ``"parcels"``, ``"constraints"``, ``"dem"`` or ``"targets"``.

    Returns
    -------
    str
        The path.

    Raises
    ------
    ReadError
        The sample data cannot be found.

    Examples
    --------
    >>> Path(sample_path("dem")).name
    'dem.tif'
    """
    return str(sample_dir() / _FILES[name])


@dataclass(frozen=True)
class Sample:
    """The sample loaded: parcels, constraint layers by role, DEM and targets paths.

    Attributes
    ----------
    parcels
        The parcel layer.
    layers
        Constraint layers by role.
    dem
        Path of the DEM.
    targets
        Path of the county targets CSV.
    """

    parcels: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]
    dem: str
    targets: str


def load_sample() -> Sample:
    """Load the bundled sample.

    Returns
    -------
    Sample
        The parcels and constraint layers read, the DEM and targets as paths.

    Raises
    ------
    ReadError
        The sample data cannot be found or read.

    Examples
    --------
    >>> s = load_sample()
    >>> len(s.parcels) > 1000, "eco_redline" in s.layers
    (True, True)
    """
    constraints = sample_path("constraints")
    layers = {name: read_layer(constraints, layer=name) for name in list_layers(constraints)}
    return Sample(
        read_parcels(sample_path("parcels")), layers, sample_path("dem"), sample_path("targets")
    )
