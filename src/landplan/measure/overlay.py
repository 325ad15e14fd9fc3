"""Per-parcel overlap with constraint layers, vectorised and exact.

A constraint layer is prepared once (:func:`prepare_constraint`): repaired,
projected to the equal-area CRS, split into parts, and parts with many
vertices cut into tiles so that each intersection stays cheap.  Overlaps are
then computed for all parcels at once (:func:`overlap_areas`): an STRtree
query finds (parcel, part) pairs whose boxes meet; parcels covered by a part
take their own area without any intersection, pairs whose interiors do not
meet are dropped, and the rest are intersected pairwise.  Where a parcel meets
parts of *different* source polygons, which
may overlap each other, the pieces are unioned so nothing is counted twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landplan.core.crs import EQUAL_AREA_CRS, require_crs
from landplan.measure.geometry import polygonal_part, repair

__all__ = ["MAX_PART_VERTICES", "PreparedConstraint", "overlap_areas", "prepare_constraint"]

log = logging.getLogger(__name__)

#: Parts with more vertices than this are cut into tiles before overlaying.
MAX_PART_VERTICES = 256


@dataclass(frozen=True)
class PreparedConstraint:
    """A constraint layer ready for overlay, in :data:`~landplan.core.crs.EQUAL_AREA_CRS`.

    Attributes
    ----------
    name
        Name of the layer (its role), for messages.
    parts
        Polygon parts of the repaired layer, prepared, none with more than
        :data:`MAX_PART_VERTICES` vertices.
    bounds
        Bounding boxes of the parts, shape ``(n, 4)``: minx, miny, maxx, maxy.
    source
        Position, in the input layer, of the feature each part comes from.
    tree
        STRtree of the parts.
    n_features
        Number of features in the input layer.
    n_repaired
        Number of invalid features repaired.
    n_empty
        Number of missing or empty features (dropped).
    """

    name: str
    parts: np.ndarray  # polygon parts, prepared
    bounds: np.ndarray  # their bounding boxes, (n, 4)
    source: np.ndarray  # index of the input feature each part comes from
    tree: shapely.STRtree
    n_features: int
    n_repaired: int
    n_empty: int


def _subdivide(parts: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut parts with many vertices into quadrants until each is small."""
    done_parts, done_source = [parts[:0]], [source[:0]]
    while len(parts):
        big = shapely.get_num_coordinates(parts) > MAX_PART_VERTICES
        done_parts.append(parts[~big])
        done_source.append(source[~big])
        parts, source = parts[big], source[big]
        if not len(parts):
            break
        x0, y0, x1, y1 = shapely.bounds(parts).T
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        quads = [(x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, xm, y1), (xm, ym, x1, y1)]
        pieces = [shapely.intersection(parts, shapely.box(*q)) for q in quads]
        cut = polygonal_part(np.concatenate(pieces))
        cut_source = np.tile(source, 4)
        cut, index = shapely.get_parts(cut, return_index=True)
        keep = ~shapely.is_empty(cut) & (shapely.area(cut) > 0)
        parts, source = cut[keep], cut_source[index][keep]
    return np.concatenate(done_parts), np.concatenate(done_source)


def prepare_constraint(layer: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str) -> PreparedConstraint:
    """Repair, project and index a constraint layer for :func:`overlap_areas`.

    Parameters
    ----------
    layer
        Constraint layer (its geometry column is used), in any CRS.
    name
        Name of the layer (its role), for messages.

    Returns
    -------
    PreparedConstraint
        The layer's polygon parts in the equal-area CRS, tiled and indexed.

    Raises
    ------
    CRSError
        The layer has no CRS.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> layer = gpd.GeoSeries([box(0, 0, 100, 100)], crs=4546)
    >>> prepared = prepare_constraint(layer, name="eco_redline")
    >>> prepared.n_features, prepared.n_repaired, len(prepared.parts)
    (1, 0, 1)
    """
    geoms = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    require_crs(geoms, name)
    projected = geoms.to_crs(EQUAL_AREA_CRS).to_numpy()
    fixed, n_repaired = repair(projected)
    if n_repaired:
        log.warning("%s: repaired %d invalid geometries", name, n_repaired)
    empty = shapely.is_missing(fixed) | shapely.is_empty(fixed)
    fixed = polygonal_part(fixed[~empty])
    parts, index = shapely.get_parts(fixed, return_index=True)
    source = np.flatnonzero(~empty)[index]
    keep = shapely.area(parts) > 0
    parts, source = _subdivide(parts[keep], source[keep])
    shapely.prepare(parts)
    return PreparedConstraint(
        name=name,
        parts=parts,
        bounds=shapely.bounds(parts).reshape(-1, 4),
        source=source,
        tree=shapely.STRtree(parts),
        n_features=len(geoms),
        n_repaired=n_repaired,
        n_empty=int(empty.sum()),
    )


def overlap_areas(
    parcels: gpd.GeoSeries,
    constraint: PreparedConstraint,
    *,
    parcel_area_m2: pd.Series | None = None,
) -> pd.DataFrame:
    """Overlap of every parcel with a prepared constraint layer.

    Parameters
    ----------
    parcels
        Parcel geometries, valid, in any CRS (projected to the equal-area CRS
        here if they are not already).
    constraint
        From :func:`prepare_constraint`.
    parcel_area_m2
        Ellipsoidal parcel areas, if already computed.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``parcels.index``: ``overlap_m2`` (ellipsoidal m²) and
        ``overlap_share`` (of the parcel's area, 0-1; 0 for empty parcels).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> x, y = 500_000, 3_000_000  # on the central meridian of EPSG:4546
    >>> parcels = gpd.GeoSeries([box(x, y, x + 100, y + 100), box(x + 200, y, x + 300, y + 100)],
    ...                         crs=4546)
    >>> eco = prepare_constraint(gpd.GeoSeries([box(x + 50, y, x + 250, y + 100)], crs=4546),
    ...                          name="eco")
    >>> overlap_areas(parcels, eco)["overlap_share"].round(6).tolist()
    [0.5, 0.5]
    """
    ea = (
        parcels
        if parcels.crs is not None and EQUAL_AREA_CRS.equals(parcels.crs)
        else (parcels.to_crs(EQUAL_AREA_CRS))
    )
    geoms = ea.to_numpy()
    area = shapely.area(geoms) if parcel_area_m2 is None else parcel_area_m2.to_numpy(float)
    area = np.nan_to_num(np.asarray(area, dtype=float))
    overlap = np.zeros(len(geoms))
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ids = np.flatnonzero(present)
    pi, ci = constraint.tree.query(geoms[ids])  # pairs whose bounding boxes meet
    pi = ids[pi]
    # a parcel covered by one part overlaps by its whole area; only a part whose box
    # holds the parcel's box can cover it, so the exact test runs on those pairs alone
    part_box, box = constraint.bounds[ci], shapely.bounds(geoms)[pi]
    boxed = np.flatnonzero(
        (part_box[:, 0] <= box[:, 0])
        & (part_box[:, 1] <= box[:, 1])
        & (part_box[:, 2] >= box[:, 2])
        & (part_box[:, 3] >= box[:, 3])
    )
    whole = np.zeros(len(geoms), dtype=bool)
    whole[pi[boxed[shapely.covers(constraint.parts[ci[boxed]], geoms[pi[boxed]])]]] = True
    overlap[whole] = area[whole]
    keep = ~whole[pi]
    pi, ci = pi[keep], ci[keep]
    # only pairs whose interiors meet are intersected: not those that are disjoint or
    # share just an edge, as neighbouring parcels in a layer drawn from parcels do
    keep = shapely.relate_pattern(constraint.parts[ci], geoms[pi], "T********")
    pi, ci = pi[keep], ci[keep]
    pieces = _intersection(geoms[pi], constraint.parts[ci])
    piece_area = shapely.area(pieces)
    positive = piece_area > 0
    pi, ci, pieces, piece_area = pi[positive], ci[positive], pieces[positive], piece_area[positive]
    np.add.at(overlap, pi, piece_area)
    _union_mixed_sources(overlap, pi, constraint.source[ci], pieces)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, overlap / area, 0.0)
    return pd.DataFrame(
        {"overlap_m2": overlap, "overlap_share": np.clip(share, 0.0, 1.0)}, index=parcels.index
    )


def _intersection(parcels: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Pairwise intersection; parcels that reprojection left invalid are repaired first.

    Parcels are valid in their own CRS, but a piece cut with a sliver can become
    invalid after projection to the equal-area CRS; GEOS then refuses the whole
    batch.  Checking validity only on that rare path keeps the common one fast.
    """
    try:
        return shapely.intersection(parcels, parts)
    except shapely.errors.GEOSException:
        fixed, n = repair(parcels)
        log.debug("repaired %d parcel geometries invalid in the equal-area CRS", n)
        return shapely.intersection(fixed, parts)


def _union_mixed_sources(
    overlap: np.ndarray, pi: np.ndarray, source: np.ndarray, pieces: np.ndarray
) -> None:
    """Recompute overlap as a union where a parcel meets several source features."""
    if not len(pi):
        return
    order = np.lexsort((source, pi))
    pi_s, src_s = pi[order], source[order]
    first = np.r_[True, pi_s[1:] != pi_s[:-1]]
    new_source = first | np.r_[True, src_s[1:] != src_s[:-1]]
    start = np.flatnonzero(first)
    end = np.r_[start[1:], len(order)]
    n_sources = np.add.reduceat(new_source.astype(np.int64), start)
    for g in np.flatnonzero(n_sources > 1):
        members = order[start[g] : end[g]]
        overlap[pi[members[0]]] = shapely.area(shapely.union_all(pieces[members]))
