"""Split mode: cut parcels along constraint boundaries so each piece is judged on its own.

Each constraint layer cuts every parcel it partly overlaps into the part
inside and the part outside it.  Pieces keep all of their parcel's fields,
plus ``lp_parent`` (the parcel's index label) and ``lp_piece`` (1, 2, ...);
their areas add up to the parcel's area, and KCXS applies to each piece.

Cut lines are straight in the parcels' CRS and so very slightly curved on
the ellipsoid: measured piece areas add up to their parcel's within about
1e-7.  :func:`conserve_piece_areas` distributes that remainder over the
pieces so their areas add up to the parcel's ellipsoidal area exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landplan.core.crs import align_crs, ellipsoidal_area, require_crs
from landplan.measure.geometry import polygonal_part, repair

__all__ = ["conserve_piece_areas", "parcel_areas_of", "split_parcels"]

log = logging.getLogger(__name__)


def _cut(pieces: np.ndarray, layer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut each piece by the union of the layer's polygons; return new pieces and their origin."""
    tree = shapely.STRtree(layer)
    pi, li = tree.query(pieces, predicate="intersects")
    inside = np.full(len(pieces), None, dtype=object)
    if len(pi):
        parts = shapely.intersection(pieces[pi], layer[li])
        keep = shapely.area(parts) > 0
        pi, parts = pi[keep], parts[keep]
        order = np.argsort(pi, kind="stable")
        pi, parts = pi[order], parts[order]
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]]) if len(pi) else np.array([], int)
        ends = np.r_[starts[1:], len(pi)]
        for s, e in zip(starts, ends, strict=True):
            inside[pi[s]] = parts[s] if e - s == 1 else shapely.union_all(parts[s:e])
    cut = np.flatnonzero(inside != None)  # noqa: E711 - element-wise test on an object array
    whole = shapely.area(pieces[cut])
    covered = shapely.area(inside[cut].astype(object))
    partial = cut[covered < whole * (1 - 1e-12)]
    if not len(partial):
        return pieces, np.arange(len(pieces))
    outside = polygonal_part(shapely.difference(pieces[partial], inside[partial]))
    new_inside = polygonal_part(inside[partial])
    out = pieces.copy()
    out[partial] = new_inside
    keep = shapely.area(outside) > 0
    return (
        np.concatenate([out, outside[keep]]),
        np.concatenate([np.arange(len(pieces)), partial[keep]]),
    )


def split_parcels(
    parcels: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries]
) -> gpd.GeoDataFrame:
    """Parcels cut into pieces along the boundaries of every constraint layer.

    Parameters
    ----------
    parcels
        Land parcels, in any CRS; invalid geometries are repaired before cutting.
    layers
        Constraint layers by role name, in any CRS (reprojected to the parcels').

    Returns
    -------
    geopandas.GeoDataFrame
        The pieces, in the parcels' CRS with a new ``RangeIndex``, grouped by
        parcel in input order: every field of their parcel, plus ``lp_parent``
        (the parcel's index label) and ``lp_piece`` (1, 2, ...).
        Parcels no layer cuts stay whole, as one piece.

    Raises
    ------
    CRSError
        The parcels or a layer have no CRS.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> x, y = 500_000, 3_000_000
    >>> parcels = gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[box(x, y, x + 100, y + 100)],
    ...                            crs=4546)
    >>> eco = gpd.GeoSeries([box(x + 60, y - 10, x + 200, y + 200)], crs=4546)
    >>> pieces = split_parcels(parcels, {"eco_redline": eco})  # the part inside comes first
    >>> pieces[["lp_parent", "lp_piece"]].values.tolist(), pieces.area.round(3).tolist()
    ([[0, 1], [0, 2]], [4000.0, 6000.0])
    """
    crs = CRS.from_user_input(require_crs(parcels, "parcels"))
    pieces, _ = repair(parcels.geometry.to_numpy())
    origin = np.arange(len(pieces))
    for name, layer in layers.items():
        aligned = align_crs(
            gpd.GeoDataFrame(
                geometry=layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
            ),
            crs,
            source=name,
        )
        geoms, _ = repair(aligned.geometry.to_numpy())
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if not len(geoms):
            continue
        missing = shapely.is_missing(pieces)
        pieces[missing] = shapely.Polygon()
        cut, source = _cut(pieces, geoms)
        pieces, origin = cut, origin[source]
    order = np.argsort(origin, kind="stable")
    pieces, origin = pieces[order], origin[order]
    out = parcels.iloc[origin].copy()
    out["lp_parent"] = parcels.index.to_numpy()[origin]
    counts = pd.Series(origin).groupby(origin).cumcount().to_numpy() + 1
    out["lp_piece"] = counts
    out = out.set_geometry(gpd.GeoSeries(pieces, crs=parcels.crs, index=out.index))
    out.index = pd.RangeIndex(len(out))
    log.info("split %d parcels into %d pieces", len(parcels), len(out))
    return out


def conserve_piece_areas(
    measures: pd.DataFrame, parent: np.ndarray, parent_area_m2: pd.Series
) -> pd.DataFrame:
    """Scale the pieces' areas (and land-class areas) so each parcel's pieces add up to it.

    Parameters
    ----------
    measures
        Measures of the pieces, with ``area_m2`` and ``dlmj_m2`` (m²).
    parent
        For every piece, the index label of its parcel (``lp_parent``).
    parent_area_m2
        Ellipsoidal area of every parcel (m²), indexed by parcel label, as
        from :func:`parcel_areas_of`.

    Returns
    -------
    pandas.DataFrame
        A copy of *measures* with ``area_m2`` and ``dlmj_m2`` scaled per parcel;
        pieces of a parcel whose pieces have no area are left unscaled.
    """
    out = measures.copy()
    total = out["area_m2"].groupby(parent).transform("sum").to_numpy()
    wanted = parent_area_m2.reindex(parent).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(total > 0, wanted / total, 1.0)
    for column in ("area_m2", "dlmj_m2"):
        out[column] = out[column].to_numpy() * factor
    return out


def parcel_areas_of(parcels: gpd.GeoDataFrame) -> pd.Series:
    """Ellipsoidal areas of (repaired) parcels, indexed like them.

    Parameters
    ----------
    parcels
        Land parcels, in any CRS.

    Returns
    -------
    pandas.Series
        Area of each parcel on the CGCS2000 ellipsoid in m² (0 for empty
        geometries), named ``area_m2``.

    Raises
    ------
    CRSError
        The parcels have no CRS.
    """
    fixed, _ = repair(parcels.geometry.to_numpy())
    return ellipsoidal_area(gpd.GeoSeries(fixed, index=parcels.index, crs=parcels.crs))
