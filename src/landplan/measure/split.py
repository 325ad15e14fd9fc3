"""Split mode: cut parcels along constraint boundaries so each piece is judged on its own.

Each constraint layer cuts every parcel it partly overlaps into the part
inside and the part outside it.  Pieces keep all of their parcel's fields,
plus ``lp_parent`` (the parcel's index label) and ``lp_piece`` (1, 2, ...);
their areas add up to the parcel's area, and KCXS applies to each piece.

With a positional tolerance (the profile's ``position_tolerance_m``), layers
drawn along parcel edges and misregistered by decimetres cut no slivers: a
parcel is cut along the *opening* of its overlap with a layer (what is left
of it without its parts narrower than the tolerance, see
:mod:`landplan.measure.overlay`), and any piece, or polygon part of a piece,
still narrower than the tolerance joins the piece of the same parcel with
which it shares the longest edge.  Widths are judged in metres: in the
parcels' CRS when it is projected, else in the equal-area CRS.

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

from landplan.core.crs import EQUAL_AREA_CRS, align_crs, ellipsoidal_area, require_crs
from landplan.measure.geometry import polygonal_part, repair
from landplan.measure.overlay import check_tolerance, open_polygons, subdivide_polygons

__all__ = ["conserve_piece_areas", "parcel_areas_of", "split_parcels"]

log = logging.getLogger(__name__)


def _cut(
    pieces: np.ndarray, layer: np.ndarray, *, tolerance_m: float, crs: CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Cut each piece by the union of the layer's polygons; return new pieces and their origin.

    With a tolerance, a piece is cut along the opening of its overlap with the
    layer (:func:`~landplan.measure.overlay.open_polygons`), so the part
    inside holds nothing narrower than the tolerance; thin bits of the layer
    stay with the part outside.
    """
    inside = _inside(pieces, layer)
    cut = np.flatnonzero(inside != None)  # noqa: E711 - element-wise test on an object array
    whole = shapely.area(pieces[cut])
    covered = shapely.area(inside[cut].astype(object))
    partial = cut[covered < whole * (1 - 1e-9)]  # not covered, but for rounding
    if tolerance_m > 0 and len(partial):
        inside[partial] = _opened(inside[partial].astype(object), tolerance_m, crs)
        partial = partial[shapely.area(inside[partial].astype(object)) > 0]
    if not len(partial):
        return pieces, np.arange(len(pieces))
    outside = polygonal_part(shapely.difference(pieces[partial], inside[partial]))
    if tolerance_m > 0:  # all but a thin strip inside: the piece is in the layer, not cut
        wide = ~shapely.is_empty(
            shapely.buffer(_in_metres(outside, crs), -tolerance_m / 2, join_style="mitre")
        )
        partial, outside = partial[wide], outside[wide]
    new_inside = polygonal_part(inside[partial].astype(object))
    out = pieces.copy()
    out[partial] = new_inside
    keep = shapely.area(outside) > shapely.area(pieces[partial]) * 1e-9
    return (
        np.concatenate([out, outside[keep]]),
        np.concatenate([np.arange(len(pieces)), partial[keep]]),
    )


def _inside(pieces: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Per piece, its intersection with the layer (None where it has none)."""
    tree = shapely.STRtree(layer)
    pi, li = tree.query(pieces, predicate="intersects")
    inside = np.full(len(pieces), None, dtype=object)
    if len(pi):
        parts = polygonal_part(shapely.intersection(pieces[pi], layer[li]))
        keep = shapely.area(parts) > 0
        pi, parts = pi[keep], parts[keep]
        order = np.argsort(pi, kind="stable")
        pi, parts = pi[order], parts[order]
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]]) if len(pi) else np.array([], int)
        ends = np.r_[starts[1:], len(pi)]
        for s, e in zip(starts, ends, strict=True):
            inside[pi[s]] = parts[s] if e - s == 1 else shapely.union_all(parts[s:e])
    return inside


def _in_metres(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """The geometries in a projected CRS: their own, or the equal-area CRS for a geographic one."""
    if crs.is_projected:
        return geoms
    return gpd.GeoSeries(geoms, crs=crs).to_crs(EQUAL_AREA_CRS).to_numpy()


def _opened(geoms: np.ndarray, tolerance_m: float, crs: CRS) -> np.ndarray:
    """Opening of polygons by *tolerance_m* metres, in their CRS and within them."""
    opened = open_polygons(_in_metres(geoms, crs), tolerance_m)
    if not crs.is_projected:
        opened = gpd.GeoSeries(opened, crs=EQUAL_AREA_CRS).to_crs(crs).to_numpy()
    # mitre corners may stand out of the polygon by rounding: keep the pieces a partition
    return polygonal_part(shapely.intersection(opened, geoms))


def _absorb_thin(
    pieces: np.ndarray, origin: np.ndarray, *, tolerance_m: float, crs: CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Give every polygon part thinner than the tolerance to the neighbouring piece.

    *origin* must be sorted (pieces grouped by parcel).  A part is thin when an
    erosion by half the tolerance leaves nothing of it.  It goes to the piece
    of the same parcel with which it shares the longest edge (the nearest
    piece when it shares none), among the parts that are not thin; a parcel
    whose parts are all thin is made whole again.
    """
    counts = np.bincount(origin) if len(origin) else origin
    multi = np.flatnonzero(counts[origin] > 1)  # pieces of parcels that were cut
    if not len(multi):
        return pieces, origin
    parts, of = shapely.get_parts(pieces[multi], return_index=True)
    part_piece = multi[of]  # sorted, as pieces are grouped by parcel
    thin = shapely.is_empty(
        shapely.buffer(_in_metres(parts, crs), -tolerance_m / 2, join_style="mitre")
    )
    dest = _destinations(parts, part_piece, origin[part_piece], thin)
    moved = dest != part_piece
    if not moved.any():
        return pieces, origin
    changed = np.unique(np.r_[part_piece[moved], dest[moved]])
    into = np.flatnonzero(np.isin(dest, changed))  # every part of the pieces that change
    into = into[np.argsort(dest[into], kind="stable")]
    starts = np.flatnonzero(np.r_[True, dest[into][1:] != dest[into][:-1]])
    out = pieces.copy()
    out[changed] = None  # a piece all of whose parts moved away is dropped
    for s, e in zip(starts, np.r_[starts[1:], len(into)], strict=True):
        members = parts[into[s:e]]
        out[dest[into[s]]] = members[0] if e - s == 1 else shapely.union_all(members)
    keep = ~shapely.is_missing(out)
    log.debug("split: %d part(s) thinner than %g m joined a neighbour", moved.sum(), tolerance_m)
    return out[keep], origin[keep]


def _destinations(
    parts: np.ndarray, part_piece: np.ndarray, part_parcel: np.ndarray, thin: np.ndarray
) -> np.ndarray:
    """The piece each part belongs to once thin parts have joined their neighbour."""
    dest = part_piece.copy()
    ks = np.flatnonzero(thin)
    if not len(ks):
        return dest
    first = np.searchsorted(part_parcel, part_parcel[ks], side="left")
    size = np.searchsorted(part_parcel, part_parcel[ks], side="right") - first
    # every (thin part, other part of its parcel) pair
    k = np.repeat(ks, size)
    c = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size) + np.repeat(first, size)
    ok = ~thin[c] & (part_piece[c] != part_piece[k])
    k, c = k[ok], c[ok]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(parts[k]), shapely.boundary(parts[c]))
    )
    # the longest shared edge wins; with none, the nearest part
    gap = np.zeros(len(k))
    none = shared == 0
    gap[none] = shapely.distance(parts[k[none]], parts[c[none]])
    order = np.lexsort((gap, -shared, k))
    best = order[np.r_[True, k[order][1:] != k[order][:-1]]] if len(order) else order
    dest[k[best]] = part_piece[c[best]]
    # a parcel with no part wide enough is made whole again, in its first piece
    wide = np.bincount(part_parcel, weights=~thin, minlength=part_parcel.max() + 1)
    lone = wide[part_parcel[ks]] == 0
    dest[ks[lone]] = part_piece[first[lone]]
    return dest


def split_parcels(
    parcels: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries],
    *,
    tolerance_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Parcels cut into pieces along the boundaries of every constraint layer.

    Parameters
    ----------
    parcels
        Land parcels, in any CRS; invalid geometries are repaired before cutting.
    layers
        Constraint layers by role name, in any CRS (reprojected to the parcels').
    tolerance_m
        Positional tolerance in metres (the profile's ``position_tolerance_m``).
        A parcel is cut along the opening of its overlap with a layer, so no
        strip of a layer narrower than this is cut off, and any piece (or
        polygon part of one) narrower than this goes back to the piece of its
        parcel with which it shares the longest edge.  0 cuts along every
        boundary, however close.

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
    ValueError
        *tolerance_m* is negative or not finite.

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

    A boundary 0.4 m from the parcel's edge cuts off a sliver, unless a
    tolerance of 1 m says it is misregistration:

    >>> edge = gpd.GeoSeries([box(x + 99.6, y - 10, x + 200, y + 200)], crs=4546)
    >>> len(split_parcels(parcels, {"eco_redline": edge})), len(
    ...     split_parcels(parcels, {"eco_redline": edge}, tolerance_m=1.0))
    (2, 1)
    """
    check_tolerance(tolerance_m)
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
        geoms = subdivide_polygons(polygonal_part(geoms))  # small tiles: cheap to intersect
        if not len(geoms):
            continue
        missing = shapely.is_missing(pieces)
        pieces[missing] = shapely.Polygon()
        cut, source = _cut(pieces, geoms, tolerance_m=tolerance_m, crs=crs)
        pieces, origin = cut, origin[source]
    order = np.argsort(origin, kind="stable")
    pieces, origin = pieces[order], origin[order]
    if tolerance_m > 0:
        pieces, origin = _absorb_thin(pieces, origin, tolerance_m=tolerance_m, crs=crs)
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
        Measures of the pieces, with ``area_m2`` and ``dlmj_m2`` (m²), and
        ``parcel_dlmj_m2`` (the parcel's land-class area) when measured.
    parent
        For every piece, the index label of its parcel (``lp_parent``).
    parent_area_m2
        Ellipsoidal area of every parcel (m²), indexed by parcel label, as
        from :func:`parcel_areas_of`.

    Returns
    -------
    pandas.DataFrame
        A copy of *measures* with ``area_m2``, ``dlmj_m2`` and
        ``parcel_dlmj_m2`` scaled per parcel, so that the pieces' areas add up
        to *parent_area_m2* and ``parcel_dlmj_m2`` is the parcel's land-class
        area; pieces of a parcel whose pieces have no area are left unscaled.
    """
    out = measures.copy()
    total = out["area_m2"].groupby(parent).transform("sum").to_numpy()
    wanted = parent_area_m2.reindex(parent).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(total > 0, wanted / total, 1.0)
    for column in ("area_m2", "dlmj_m2", "parcel_dlmj_m2"):
        if column in out:
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
