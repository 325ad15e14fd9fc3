"""Coordinate reference systems and ellipsoidal areas on CGCS2000.

Notes
-----
Parcels keep the CRS they arrive in: output geometries are never
re-projected.  Everything that is *measured* in square metres (parcel areas,
overlaps with constraint layers) is the area on the CGCS2000 ellipsoid that
the 三调 reports.  It is computed in the parcels' **measuring CRS**
(:func:`measuring_crs`):

- a Transverse Mercator CRS in metres (the Gauss-Krüger zones 三调 data come
  in, EPSG:4513-4554, or UTM) is measured in as it is, without projecting a
  vertex.  The projection is conformal, so planar area differs from
  ellipsoidal area by the areal scale factor *k²*, up to ~0.05 % 150 km from
  the central meridian; each geometry's planar area is divided by *k²* at its
  centroid (:func:`areal_scale`, PROJ's own factors), which leaves an error
  of order (size / earth radius)², below 1e-7 for any parcel;
- any other CRS (geographic CGCS2000, EPSG:4490, which has no planar area at
  all) is projected to :data:`EQUAL_AREA_CRS`, an Albers equal-area
  projection on the CGCS2000 ellipsoid, where planar area *is* ellipsoidal
  area (*k²* = 1).

Which CRS is used depends on the parcels' CRS alone, never on the data, so
that every partition of a distributed run measures identically.  Distances
(the positional tolerance, the block gap) are metres of the measuring CRS,
within 0.1 % of ground metres inside a zone.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Proj, Transformer

from landplan.core.errors import CRSError, Problem
from landplan.core.threads import chunks, map_threads

__all__ = [
    "CGCS2000",
    "CGCS2000_A",
    "CGCS2000_RF",
    "EQUAL_AREA_CRS",
    "align_crs",
    "areal_scale",
    "ellipsoidal_area",
    "gauss_kruger_zone_crs",
    "measuring_crs",
    "require_crs",
    "to_equal_area",
    "to_measuring_crs",
]

log = logging.getLogger(__name__)

#: Fewest geometries projected or measured on a thread of their own (fewer are not worth one).
_MIN_THREAD_CHUNK = 5_000


def _thread_runs(n: int, threads: int) -> list[np.ndarray]:
    """Positions of *n* geometries in runs for *threads*, none under :data:`_MIN_THREAD_CHUNK`.

    One run (the caller's thread) for a single thread or too few geometries.
    """
    return chunks(n, max(1, min(threads, n // _MIN_THREAD_CHUNK)))


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
    runs = _thread_runs(len(geoms), threads)
    if len(runs) == 1:
        return geoms.to_crs(EQUAL_AREA_CRS)
    parts = map_threads(lambda at: geoms.iloc[at].to_crs(EQUAL_AREA_CRS), runs, threads=threads)
    return gpd.GeoSeries(pd.concat(parts), crs=EQUAL_AREA_CRS)


def ellipsoidal_area(geoms: gpd.GeoSeries) -> pd.Series:
    """Area of each geometry on the CGCS2000 ellipsoid, in m².

    Planar area in the measuring CRS over its areal scale (see the module
    notes).  Empty or missing geometries have area 0.

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
    planar, scale = to_measuring_crs(geoms)
    area = np.nan_to_num(shapely.area(planar.to_numpy())) / scale
    return pd.Series(area, index=geoms.index, name="area_m2")


#: EPSG code of the Transverse Mercator method (Gauss-Krüger, UTM).
_TRANSVERSE_MERCATOR = "9807"


def measuring_crs(crs: CRS | str | int) -> CRS:
    """The CRS geometries in *crs* are measured in: *crs* if Transverse Mercator, else Albers.

    Parameters
    ----------
    crs
        The geometries' CRS.

    Returns
    -------
    pyproj.CRS
        *crs* when it is a Transverse Mercator CRS in metres (Gauss-Krüger,
        UTM), measured in with :func:`areal_scale`; otherwise
        :data:`EQUAL_AREA_CRS`.

    Examples
    --------
    >>> measuring_crs(4546).to_epsg()  # CGCS2000 3-degree Gauss-Krüger zone 37
    4546
    >>> measuring_crs(4490) == EQUAL_AREA_CRS  # geographic CGCS2000
    True
    """
    crs = CRS.from_user_input(crs)
    operation = crs.coordinate_operation
    metres = all(axis.unit_name == "metre" for axis in crs.axis_info)
    mercator = operation is not None and operation.method_code == _TRANSVERSE_MERCATOR
    return crs if crs.is_projected and metres and mercator else EQUAL_AREA_CRS


def areal_scale(geoms: np.ndarray, crs: CRS, *, threads: int = 1) -> np.ndarray:
    """Areal scale factor of *crs* at each geometry's centroid: planar area / ellipsoidal area.

    Parameters
    ----------
    geoms
        Geometries in *crs*, a 1-D object array.
    crs
        A projected CRS; 1 everywhere for :data:`EQUAL_AREA_CRS`.
    threads
        Threads the centroids are found on (GEOS releases the GIL).

    Returns
    -------
    numpy.ndarray
        The factor per geometry (PROJ's ``areal_scale``); 1 for missing or
        empty geometries.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> x = 500_000 + 150_000  # 150 km east of the central meridian
    >>> scale = areal_scale(np.array([box(x, 3e6, x + 100, 3e6 + 100)]), CRS.from_epsg(4546))
    >>> k2 = 1 + 150_050**2 / 6_371_000**2  # k² ≈ 1 + x² / R² for Transverse Mercator
    >>> bool(abs(scale[0] - k2) < 5e-6)
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    if crs.equals(EQUAL_AREA_CRS) or not len(geoms):
        return np.ones(len(geoms))
    runs = _thread_runs(len(geoms), threads)
    centroids = np.concatenate(
        map_threads(lambda at: shapely.centroid(geoms[at]), runs, threads=threads)
    )
    present = ~(shapely.is_missing(centroids) | shapely.is_empty(centroids))
    scale = np.ones(len(geoms))
    if present.any():
        x, y = shapely.get_x(centroids[present]), shapely.get_y(centroids[present])
        lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(x, y)
        found = np.asarray(Proj(crs).get_factors(lon, lat).areal_scale, dtype=float)
        scale[present] = np.where(np.isfinite(found) & (found > 0), found, 1.0)
    return scale


def to_measuring_crs(geoms: gpd.GeoSeries, *, threads: int = 1) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Geometries in their :func:`measuring_crs`, and each one's :func:`areal_scale`.

    Ellipsoidal area is planar area there divided by the scale.

    Parameters
    ----------
    geoms
        Geometries with a CRS.
    threads
        Threads to reproject (when needed) and find centroids on.

    Returns
    -------
    tuple of (geopandas.GeoSeries, numpy.ndarray)
        The geometries (*geoms* itself when already in their measuring CRS),
        same index, and the scale of each.

    Raises
    ------
    CRSError
        When *geoms* have no CRS.
    """
    crs = require_crs(geoms, "geometry")
    target = measuring_crs(crs)
    planar = geoms if target.equals(crs) else to_equal_area(geoms, threads=threads)
    return planar, areal_scale(planar.to_numpy(), target, threads=threads)
