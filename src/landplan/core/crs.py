"""Coordinate reference systems and ellipsoidal areas on CGCS2000.

Notes
-----
Parcels keep the CRS they arrive in: output geometries are never
re-projected.  Everything that is *measured* in square metres (parcel areas,
overlaps with constraint layers) is computed in :data:`EQUAL_AREA_CRS`, an
Albers equal-area projection on the CGCS2000 ellipsoid.  An equal-area
projection maps every region to a region of exactly the same ellipsoidal
area, so planar area there *is* the ellipsoidal area the 三调 reports,
whatever the input CRS: a Gauss-Krüger zone (where planar areas are up to
~0.05 % too large 150 km from the central meridian), or geographic
CGCS2000 (EPSG:4490), which has no planar area at all.  The projection's
parameters are fixed (not fitted to the data) so that every partition of a
distributed run measures identically.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from landplan.core.errors import CRSError, Problem
from landplan.core.threads import chunks, map_threads

__all__ = [
    "CGCS2000",
    "CGCS2000_A",
    "CGCS2000_RF",
    "EQUAL_AREA_CRS",
    "align_crs",
    "ellipsoidal_area",
    "gauss_kruger_zone_crs",
    "require_crs",
    "to_equal_area",
]

log = logging.getLogger(__name__)

#: Fewest geometries reprojected on a thread of their own (fewer are not worth a thread).
_MIN_THREAD_CHUNK = 5_000

#: Semi-major axis of the CGCS2000 ellipsoid in metres (identical in shape to GRS 1980).
CGCS2000_A = 6378137.0
#: Inverse flattening of the CGCS2000 ellipsoid.
CGCS2000_RF = 298.257222101

#: Geographic CGCS2000.
CGCS2000 = CRS.from_epsg(4490)

#: Albers equal-area on the CGCS2000 ellipsoid, China's usual parameters.
EQUAL_AREA_CRS = CRS.from_proj4(
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 "
    f"+a={CGCS2000_A} +rf={CGCS2000_RF} +units=m +no_defs +type=crs"
)


def gauss_kruger_zone_crs(lon_deg: float) -> CRS:
    """CGCS2000 3-degree Gauss-Krüger CRS (no zone prefix) for a longitude.

    Parameters
    ----------
    lon_deg
        Longitude in degrees east.

    Returns
    -------
    pyproj.CRS
        The CRS of the zone whose central meridian is nearest (zones 25-45,
        EPSG:4534-4554).

    Raises
    ------
    CRSError
        When the longitude lies outside zones 25-45 (about 73.5°E-136.5°E).

    Examples
    --------
    >>> gauss_kruger_zone_crs(112.6).to_epsg()  # zone 38, central meridian 114°E
    4547
    >>> gauss_kruger_zone_crs(112.4).to_epsg()  # zone 37, central meridian 111°E
    4546
    """
    zone = int(np.floor(lon_deg / 3.0 + 0.5))
    if not 25 <= zone <= 45:
        raise CRSError(
            [
                Problem(
                    "CRS_OUT_OF_CHINA", f"longitude {lon_deg:.3f}° is outside CGCS2000 zones 25-45"
                )
            ]
        )
    return CRS.from_epsg(4534 + zone - 25)


def require_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, source: str) -> CRS:
    """Return the CRS of a layer, or raise with how to set it.

    Parameters
    ----------
    frame
        The layer.
    source
        Name of the layer (file, role) for the error message.

    Returns
    -------
    pyproj.CRS
        The layer's CRS.

    Raises
    ------
    CRSError
        When the layer has no CRS; the message says how to give one.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> require_crs(gpd.GeoSeries([Point(0, 0)]), "x.shp")
    Traceback (most recent call last):
    ...
    landplan.core.errors.CRSError: [CRS_MISSING] x.shp: layer has no coordinate reference ...
    """
    if frame.crs is None:
        raise CRSError(
            [
                Problem(
                    "CRS_MISSING",
                    "layer has no coordinate reference system. ... For a shapefile add its .prj, "
                    "or give the CRS when reading (read_parcels(path, crs='EPSG:4546'), CLI "
                    "--crs EPSG:4546); 三调 data use CGCS2000: EPSG:4490 geographic or a "
                    "Gauss-Krüger zone EPSG:4513-4554.",
                    source,
                )
            ]
        )
    return CRS.from_user_input(frame.crs)


def align_crs(layer: gpd.GeoDataFrame, target: CRS, *, source: str) -> gpd.GeoDataFrame:
    """Reproject *layer* to *target* if it is in another CRS (logged).

    Parameters
    ----------
    layer
        The layer.
    target
        The CRS wanted.
    source
        Name of the layer (file, role) for the log and error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        *layer* itself when already in *target*, else a reprojected copy.

    Raises
    ------
    CRSError
        When *layer* has no CRS.
    """
    crs = require_crs(layer, source)
    if crs.equals(target):
        return layer
    log.info("reprojecting %s from %s to %s", source, crs.name, target.name)
    return layer.to_crs(target)


def to_equal_area(geoms: gpd.GeoSeries, *, threads: int = 1) -> gpd.GeoSeries:
    """Geometries in :data:`EQUAL_AREA_CRS`, index kept.

    Parameters
    ----------
    geoms
        Geometries with a CRS.
    threads
        Threads to reproject on (PROJ releases the GIL): the geometries are cut
        into that many runs, each reprojected as it would be alone.

    Returns
    -------
    geopandas.GeoSeries
        The geometries in the equal-area CRS, same index.

    Raises
    ------
    CRSError
        When *geoms* have no CRS.
    """
    require_crs(geoms, "geometry")
    if threads <= 1 or len(geoms) < 2 * _MIN_THREAD_CHUNK:
        return geoms.to_crs(EQUAL_AREA_CRS)
    runs = chunks(len(geoms), min(threads, len(geoms) // _MIN_THREAD_CHUNK))
    parts = map_threads(lambda at: geoms.iloc[at].to_crs(EQUAL_AREA_CRS), runs, threads=threads)
    return gpd.GeoSeries(pd.concat(parts), crs=EQUAL_AREA_CRS)


def ellipsoidal_area(geoms: gpd.GeoSeries) -> pd.Series:
    """Area of each geometry on the CGCS2000 ellipsoid, in m².

    Vectorised: one projection of all vertices, then planar area in the
    equal-area CRS.  Empty or missing geometries have area 0.

    Parameters
    ----------
    geoms
        Geometries in any CRS (geographic or projected).

    Returns
    -------
    pandas.Series
        Float areas in m², named ``area_m2``, with the index of *geoms*.

    Raises
    ------
    CRSError
        When *geoms* has no CRS.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> gk = gpd.GeoSeries([box(500000, 3000000, 500100, 3000100)], crs=4547)
    >>> round(float(ellipsoidal_area(gk).iloc[0]), 2)  # a 100 m square on the central meridian
    10000.0
    """
    area = to_equal_area(geoms).area.fillna(0.0)
    return pd.Series(area.to_numpy(dtype=float), index=geoms.index, name="area_m2")
