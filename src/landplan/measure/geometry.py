"""Geometry repair shared by parcels and constraint layers."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["polygonal_part", "repair"]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry; lines and points from repair dropped.

    Parameters
    ----------
    geoms
        Geometries, a 1-D object array.  Only geometry collections are changed.

    Returns
    -------
    numpy.ndarray
        A copy of *geoms* in which each collection is replaced by the
        multipolygon of its polygonal parts, or an empty polygon if it has none.

    Examples
    --------
    >>> from shapely.geometry import GeometryCollection, LineString, box
    >>> g = GeometryCollection([box(0, 0, 1, 1), LineString([(0, 0), (2, 2)])])
    >>> polygonal_part(np.array([g]))[0].geom_type
    'MultiPolygon'
    """
    out = geoms.copy()
    types = shapely.get_type_id(out)
    mixed = np.flatnonzero(types == shapely.GeometryType.GEOMETRYCOLLECTION)
    for i in mixed:  # only geometries that repair turned into collections
        parts = shapely.get_parts(out[i])
        keep = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
        out[i] = shapely.multipolygons(shapely.get_parts(keep)) if len(keep) else shapely.Polygon()
    return out


def repair(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Repair invalid polygons with ``make_valid``; return them and how many were repaired.

    Missing geometries stay missing; the result is polygonal.

    Parameters
    ----------
    geoms
        Geometries, a 1-D array (or sequence) of shapely geometries or None.

    Returns
    -------
    numpy.ndarray
        A copy of *geoms* with every invalid geometry replaced by its repaired
        polygonal part.
    int
        How many geometries were invalid and repaired.

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed, n = repair(np.array([bowtie]))
    >>> n, fixed[0].is_valid, fixed[0].area
    (1, True, 2.0)
    """
    out = np.asarray(geoms, dtype=object).copy()
    present = ~shapely.is_missing(out)
    invalid = present & ~shapely.is_valid(out)
    n = int(invalid.sum())
    if n:
        out[invalid] = polygonal_part(shapely.make_valid(out[invalid]))
    return out, n
