"""Per-parcel overlap with constraint layers, vectorised and exact.

A constraint layer is prepared once (:func:`prepare_constraint`): repaired,
projected to the parcels' measuring CRS (:func:`~landplan.core.crs.measuring_crs`;
the equal-area CRS unless told), split into parts, and parts with many
vertices cut into tiles so that each intersection stays cheap.  Overlaps are
then computed for all parcels at once (:func:`overlap_areas`): the parts are
looked up in an STRtree of the parcels (made once for every layer, and a
layer has far fewer parts than a county has parcels), which gives the
(parcel, part) pairs whose boxes meet; parcels covered by a part
take their own area without any intersection, pairs whose interiors do not
meet are dropped, and the rest are intersected pairwise.  Where a parcel meets
parts of *different* source polygons, which
may overlap each other, the pieces are unioned so nothing is counted twice.

**Positional tolerance** (RULES.md, "What 'in a layer' means").  Constraint
layers are drawn along survey parcel edges, and two vintages, datums or a
reprojection disagree by decimetres, so a parcel next to a layer meets it in
a sliver a few decimetres wide and many metres long: tens of m², above any
sensible area threshold.  With ``tolerance_m`` > 0 an overlap counts only
where it is at least that wide: the overlap of a parcel is the area of the
morphological *opening* of its intersection with the layer, erosion by
``tolerance_m / 2`` followed by dilation by the same distance (mitre joins,
so that rectangles stay rectangles).  Everything narrower than the tolerance
vanishes, whatever its length; a wide overlap keeps its area, less the thin
strips and sharp corners hanging off it.  The opening is taken of each
parcel's whole overlap (its pieces unioned first), so that tile boundaries of
a prepared layer never cut a real overlap into thin bits.  Two shortcuts keep
it cheap: a parcel that lies entirely inside the layer keeps its whole area
(a parcel inside a layer is in it, however narrow), and an overlap smaller
than a disc of diameter ``tolerance_m`` cannot hold one and is dropped without
buffering.  Only parcels that meet a layer's boundary reach the buffering,
and most of those meet it in a sliver that the erosion removes at once.

**Layers drawn from parcels** (existing PBF, the 2017 PBF, 2009 farmland) are
mostly exact copies of parcels.  Such a copy is found without any predicate:
a part whose bounding box equals a parcel's and whose coordinates are the
parcel's own (``equals_exact`` with no tolerance) covers that parcel, which
overlaps by its whole area, as the general test would say.  A copy of parcel
*j* then meets another parcel *i* exactly where the parcels *i* and *j* meet,
so that test is made once per pair of parcels (:class:`ParcelIndex` keeps the
answers) and reused by every layer that copies parcel *j*.  The parcels'
projection, bounding boxes and areas are also computed once for all layers
when a :class:`ParcelIndex` is passed to :func:`overlap_areas`.

Overlaps are measured in planar units of the measuring CRS and divided by
each parcel's areal scale (:func:`~landplan.core.crs.areal_scale`, 1 in the
equal-area CRS), which gives ellipsoidal m²; a parcel's share of overlap is
the planar ratio, which the scale does not change.  The parcel's scale, not
the overlap's own: 150 km from a zone's meridian the scale grows by 7.4e-9
per metre, so an overlap whose centroid lies 100 m from the parcel's is off
by 7.4e-7 of its area.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landplan.core.crs import EQUAL_AREA_CRS, areal_scale, require_crs
from landplan.core.threads import chunks
from landplan.measure.geometry import polygonal_part, repair

__all__ = [
    "MAX_PART_VERTICES",
    "ParcelIndex",
    "PreparedConstraint",
    "check_tolerance",
    "index_parcels",
    "open_polygons",
    "overlap_areas",
    "overlap_share",
    "prepare_constraint",
    "subdivide_polygons",
]

log = logging.getLogger(__name__)

#: Parts with more vertices than this are cut into tiles before overlaying.
MAX_PART_VERTICES = 256

#: Parts of a layer whose candidate pairs are found at once: bounds the pair arrays' memory.
QUERY_CHUNK = 10_000


@dataclass(frozen=True)
class PreparedConstraint:
    """A constraint layer ready for overlay, in the CRS the parcels are measured in.

    Attributes
    ----------
    name
        Name of the layer (its role), for messages.
    crs
        The CRS of the parts, which the parcels are overlaid in.
    parts
        Polygon parts of the repaired layer, prepared, none with more than
        :data:`MAX_PART_VERTICES` vertices.
    bounds
        Bounding boxes of the parts, shape ``(n, 4)``: minx, miny, maxx, maxy.
    source
        Position, in the input layer, of the feature each part comes from.
    n_features
        Number of features in the input layer.
    n_repaired
        Number of invalid features repaired.
    n_empty
        Number of missing or empty features (dropped).
    """

    name: str
    crs: CRS
    parts: np.ndarray  # polygon parts, prepared
    bounds: np.ndarray  # their bounding boxes, (n, 4)
    source: np.ndarray  # index of the input feature each part comes from
    n_features: int
    n_repaired: int
    n_empty: int

    @functools.cached_property
    def tree(self) -> shapely.STRtree:
        """STRtree of the parts, made when first asked for.

        Overlays look the parts up in the parcels' tree instead; cutting
        geometries by the layer (:mod:`landplan.audit.balance`) uses this one.

        Returns
        -------
        shapely.STRtree
            The tree of :attr:`parts`.
        """
        return shapely.STRtree(self.parts)


class ParcelIndex:
    """Parcels in their measuring CRS with what the overlay of every layer reuses.

    Made by :func:`index_parcels`; pass it to :func:`overlap_areas` for each
    layer so the projection, boxes and areas are computed once, and so that
    layers copied from parcels share the tests of which parcels meet.

    Parameters
    ----------
    geoms
        Parcel geometries in the measuring CRS, a 1-D object array.
    area
        Their planar areas there (NaN read as 0).
    scale
        Their areal scale (:func:`~landplan.core.crs.areal_scale`): planar
        area over ellipsoidal area; 1 for all when None.

    Attributes
    ----------
    geoms
        The parcel geometries, measuring CRS.
    area
        Their planar areas.
    scale
        Their areal scales.
    bounds
        Bounding boxes of the parcels, shape ``(n, 4)``.
    tree
        STRtree of the parcels (missing and empty ones are not in it), which
        each layer's parts are looked up in.
    """

    def __init__(
        self, geoms: np.ndarray, area: np.ndarray, scale: np.ndarray | None = None
    ) -> None:
        self.geoms = geoms
        self.area = np.nan_to_num(np.asarray(area, dtype=float))
        self.scale = np.ones(len(geoms)) if scale is None else np.asarray(scale, dtype=float)
        self.bounds = shapely.bounds(geoms).reshape(-1, 4)
        self.tree = shapely.STRtree(geoms)
        # answers kept: pair keys i * n + j (i < j, sorted) and whether they meet; one
        # tuple, read and replaced whole, so threads measuring layers at once see
        # keys and answers that belong together (a lost update is only asked again)
        self._known: tuple[np.ndarray, np.ndarray] = (
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=bool),
        )

    def interiors_meet(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether the interiors of parcels *i* and *j* meet, pair by pair (answers kept).

        Parameters
        ----------
        i, j
            Positions of parcels, two 1-D integer arrays of the same length.

        Returns
        -------
        numpy.ndarray
            Boolean, per pair: DE-9IM ``T********`` of the two parcels.
        """
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        keys, inverse = np.unique(lo * len(self.geoms) + hi, return_inverse=True)
        pairs, answers = self._known
        at = np.minimum(np.searchsorted(pairs, keys), max(len(pairs) - 1, 0))
        known = pairs[at] == keys if len(pairs) else np.zeros(len(keys), bool)
        meet = np.zeros(len(keys), dtype=bool)
        meet[known] = answers[at[known]]
        new = np.flatnonzero(~known)
        if len(new):
            a, b = np.divmod(keys[new], len(self.geoms))
            meet[new] = shapely.relate_pattern(self.geoms[a], self.geoms[b], "T********")
            pairs, answers = self._known  # as another thread may have left them
            merged, first = np.unique(np.r_[pairs, keys[new]], return_index=True)
            self._known = (merged, np.r_[answers, meet[new]][first])
        return meet[inverse.ravel()]


def index_parcels(
    parcels: gpd.GeoSeries, *, crs: CRS = EQUAL_AREA_CRS, scale: np.ndarray | None = None
) -> ParcelIndex:
    """Project and index parcels once for the overlays of several layers.

    Parameters
    ----------
    parcels
        Parcel geometries, valid, in any CRS (projected to *crs* here if they
        are not already).
    crs
        The CRS they are measured in: that of the layers prepared for them
        (:attr:`PreparedConstraint.crs`).
    scale
        Their :func:`~landplan.core.crs.areal_scale` in *crs*, if already computed.

    Returns
    -------
    ParcelIndex
        For :func:`overlap_areas` (``index=``), with these parcels.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> index = index_parcels(gpd.GeoSeries([box(0, 0, 10, 10), None], crs=4546))
    >>> len(index.tree)  # the parcel without a geometry is not in the tree
    1
    """
    geoms = parcels.to_numpy()
    if parcels.crs is None or not crs.equals(parcels.crs):
        # valid in their own CRS, a piece with a millimetre spike can cross itself once
        # projected, and GEOS then intersects it with a layer into nonsense without an error
        geoms, n_repaired = repair(parcels.to_crs(crs).to_numpy())
        if n_repaired:
            log.debug("repaired %d parcel geometries invalid once projected", n_repaired)
    if scale is None:
        scale = areal_scale(geoms, crs)
    return ParcelIndex(geoms, shapely.area(geoms), scale)


def _polygons(geoms: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons of *geoms* and the *source* of each: polygons as they are, multi-parts split.

    ``shapely.get_parts`` would copy every geometry; only multi-part ones need it.
    """
    multi = shapely.get_type_id(geoms) != shapely.GeometryType.POLYGON
    if not multi.any():
        return geoms, source
    parts, index = shapely.get_parts(geoms[multi], return_index=True)
    keep = np.r_[np.flatnonzero(~multi), np.flatnonzero(multi)[index]]
    order = np.argsort(keep, kind="stable")  # in the layer's order, as get_parts gives them
    return np.r_[geoms[~multi], parts][order], source[keep][order]


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


def subdivide_polygons(geoms: np.ndarray) -> np.ndarray:
    """Polygon parts of *geoms*, those with many vertices cut into tiles.

    Parameters
    ----------
    geoms
        Polygonal geometries, a 1-D object array, in any CRS.

    Returns
    -------
    numpy.ndarray
        Their polygon parts of positive area, parts with more than
        :data:`MAX_PART_VERTICES` vertices cut into quadrants until none has;
        together they cover what *geoms* cover.

    Examples
    --------
    >>> circle = shapely.Point(0, 0).buffer(100, quad_segs=256)  # 1,024 vertices
    >>> tiles = subdivide_polygons(np.array([circle]))
    >>> len(tiles) > 1, bool(np.isclose(shapely.area(tiles).sum(), circle.area))
    (True, True)
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[shapely.area(parts) > 0]
    tiles, _ = _subdivide(parts, np.arange(len(parts)))
    return tiles


def prepare_constraint(
    layer: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str, crs: CRS = EQUAL_AREA_CRS
) -> PreparedConstraint:
    """Repair, project and index a constraint layer for :func:`overlap_areas`.

    Parameters
    ----------
    layer
        Constraint layer (its geometry column is used), in any CRS.
    name
        Name of the layer (its role), for messages.
    crs
        The CRS the parcels are measured in
        (:func:`~landplan.core.crs.measuring_crs`): the layer is projected to it.

    Returns
    -------
    PreparedConstraint
        The layer's polygon parts in *crs*, tiled and indexed.

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
    projected = geoms.to_crs(crs).to_numpy()
    fixed, n_repaired = repair(projected)
    if n_repaired:
        log.warning("%s: repaired %d invalid geometries", name, n_repaired)
    empty = shapely.is_missing(fixed) | shapely.is_empty(fixed)
    parts, source = _polygons(polygonal_part(fixed[~empty]), np.flatnonzero(~empty))
    keep = shapely.area(parts) > 0
    parts, source = _subdivide(parts[keep], source[keep])
    if crs.equals(geoms.crs):  # not projected: the caller's geometries, not ours
        parts = shapely.get_parts(parts)  # to prepare (one part each: copies)
    shapely.prepare(parts)
    return PreparedConstraint(
        name=name,
        crs=crs,
        parts=parts,
        bounds=shapely.bounds(parts).reshape(-1, 4),
        source=source,
        n_features=len(geoms),
        n_repaired=n_repaired,
        n_empty=int(empty.sum()),
    )


def overlap_areas(
    parcels: gpd.GeoSeries,
    constraint: PreparedConstraint,
    *,
    tolerance_m: float = 0.0,
    index: ParcelIndex | None = None,
) -> pd.DataFrame:
    """Overlap of every parcel with a prepared constraint layer.

    Parameters
    ----------
    parcels
        Parcel geometries, valid, in any CRS (projected to the constraint's
        CRS here if they are not already).
    constraint
        From :func:`prepare_constraint`.
    tolerance_m
        Positional tolerance in metres: overlap narrower than this does not
        count (the opening of the overlap is measured; see the module notes).
        0, the default, measures the exact intersection.
    index
        The same *parcels* from :func:`index_parcels`, in the constraint's CRS,
        made once for several layers; made here when not given.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``parcels.index``: ``overlap_m2`` (ellipsoidal m²) and
        ``overlap_share`` (of the parcel's area, 0-1; 0 for empty parcels).

    Raises
    ------
    ValueError
        *tolerance_m* is negative or not finite.

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

    A layer misregistered by 0.3 m along the first parcel's edge overlaps it by
    a strip 0.3 m wide (30 m²), which a tolerance of 1 m does not count:

    >>> shifted = prepare_constraint(gpd.GeoSeries([box(x + 99.7, y, x + 300, y + 100)],
    ...                              crs=4546), name="eco")
    >>> overlap_areas(parcels, shifted)["overlap_m2"].round(1).tolist()
    [30.0, 10000.0]
    >>> overlap_areas(parcels, shifted, tolerance_m=1.0)["overlap_m2"].round(1).tolist()
    [0.0, 10000.0]
    """
    check_tolerance(tolerance_m)
    if index is None:
        index = index_parcels(parcels, crs=constraint.crs)
    geoms, area = index.geoms, index.area
    overlap = np.zeros(len(geoms))
    whole, pi, ci = _candidate_pairs(index, constraint)
    overlap[whole] = area[whole]
    pieces = shapely.intersection(geoms[pi], constraint.parts[ci])  # both valid
    piece_area = shapely.area(pieces)
    positive = piece_area > 0
    pi, ci, pieces, piece_area = pi[positive], ci[positive], pieces[positive], piece_area[positive]
    if tolerance_m > 0:
        _add_real_overlap(overlap, pi, pieces, area, tolerance_m)
    else:
        np.add.at(overlap, pi, piece_area)
        _union_mixed_sources(overlap, pi, constraint.source[ci], pieces)
    return pd.DataFrame(
        {"overlap_m2": overlap / index.scale, "overlap_share": overlap_share(overlap, area)},
        index=parcels.index,
    )


def overlap_share(overlap_m2: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Share (0-1) of each parcel's area that an overlap covers; 0 for parcels without area.

    Parameters
    ----------
    overlap_m2
        Overlap per parcel, m².
    area_m2
        Area per parcel, m² (NaN read as 0).

    Returns
    -------
    numpy.ndarray
        ``overlap_m2 / area_m2`` clipped to [0, 1], 0 where the area is not positive.

    Examples
    --------
    >>> overlap_share(np.array([50.0, 5.0, 1.0]), np.array([100.0, 0.0, np.nan])).tolist()
    [0.5, 0.0, 0.0]
    """
    area = np.nan_to_num(np.asarray(area_m2, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, np.asarray(overlap_m2, dtype=float) / area, 0.0)
    return np.clip(share, 0.0, 1.0)


def _candidate_pairs(
    index: ParcelIndex, constraint: PreparedConstraint
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parcels covered by one part, and the (parcel, part) pairs left to intersect.

    Returns the mask of covered parcels and the positions of the parcels and
    parts of every other pair whose interiors meet, sorted by parcel, then part.
    """
    whole = np.zeros(len(index.geoms), dtype=bool)
    n_parts = len(constraint.parts)
    found = [
        _pairs_meeting_boxes(index, constraint, at, whole)
        for at in chunks(n_parts, -(-n_parts // QUERY_CHUNK))
    ]
    pi = np.concatenate([np.empty(0, np.intp), *(p for p, _, _ in found)])
    ci = np.concatenate([np.empty(0, np.intp), *(c for _, c, _ in found)])
    copy_of = np.full(n_parts, -1, dtype=np.int64)
    for _, _, copies in found:
        copy_of[copies[:, 1]] = copies[:, 0]
    # a parcel covered by a part of a later chunk was not known to be whole yet
    keep = ~whole[pi]
    order = np.lexsort((ci[keep], pi[keep]))
    pi, ci = pi[keep][order], ci[keep][order]
    # only pairs whose interiors meet are intersected: not those that are disjoint or
    # share just an edge, as neighbouring parcels in a layer drawn from parcels do
    keep = np.zeros(len(pi), dtype=bool)
    copied = copy_of[ci] >= 0
    keep[copied] = index.interiors_meet(pi[copied], copy_of[ci[copied]])
    other = np.flatnonzero(~copied)
    keep[other] = shapely.relate_pattern(
        constraint.parts[ci[other]], index.geoms[pi[other]], "T********"
    )
    return whole, pi[keep], ci[keep]


def _pairs_meeting_boxes(
    index: ParcelIndex, constraint: PreparedConstraint, at: np.ndarray, whole: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (parcel, part) pairs of the parts *at* whose boxes overlap by some area.

    The parts are looked up in the parcels' tree: a layer has far fewer parts
    than a county has parcels.  Marks in *whole* the parcels a part covers, and
    leaves out their pairs; returns the other pairs' parcels and parts, and
    (parcel, part) of each part that is an exact copy of a parcel.
    """
    geoms = index.geoms
    ci, pi = index.tree.query(constraint.parts[at])  # pairs whose bounding boxes meet
    ci = at[ci]
    # a parcel covered by one part overlaps by its whole area; only a part whose box
    # holds the parcel's box can cover it, so the exact test runs on those pairs alone
    part_box, box = constraint.bounds[ci], index.bounds[pi]
    boxed = np.flatnonzero(
        (part_box[:, 0] <= box[:, 0])
        & (part_box[:, 1] <= box[:, 1])
        & (part_box[:, 2] >= box[:, 2])
        & (part_box[:, 3] >= box[:, 3])
    )
    copies = _copies(index, constraint, pi[boxed], ci[boxed])
    whole[copies[:, 0]] = True
    boxed = boxed[~whole[pi[boxed]]]
    whole[pi[boxed[shapely.covers(constraint.parts[ci[boxed]], geoms[pi[boxed]])]]] = True
    # a polygon's interior lies inside its box's: boxes that only touch hold no overlap
    keep = (
        ~whole[pi]
        & (np.minimum(part_box[:, 2], box[:, 2]) > np.maximum(part_box[:, 0], box[:, 0]))
        & (np.minimum(part_box[:, 3], box[:, 3]) > np.maximum(part_box[:, 1], box[:, 1]))
    )
    return pi[keep], ci[keep], copies


def _copies(
    index: ParcelIndex, constraint: PreparedConstraint, pi: np.ndarray, ci: np.ndarray
) -> np.ndarray:
    """(parcel, part) of each part that is an exact copy of a parcel, shape ``(k, 2)``.

    *pi*, *ci* are the (parcel, part) pairs in which the part's box holds the
    parcel's; a copy has the very same box and coordinates.
    """
    same = np.flatnonzero((constraint.bounds[ci] == index.bounds[pi]).all(axis=1))
    equal = shapely.equals_exact(constraint.parts[ci[same]], index.geoms[pi[same]], 0.0)
    return np.column_stack([pi[same[equal]], ci[same[equal]]]).astype(np.int64)


def check_tolerance(tolerance_m: float) -> None:
    """Refuse a positional tolerance that is not a finite number of metres >= 0.

    Parameters
    ----------
    tolerance_m
        The tolerance, in metres.

    Raises
    ------
    ValueError
        *tolerance_m* is negative, NaN or infinite; the message shows it.

    Examples
    --------
    >>> check_tolerance(1.0)
    >>> check_tolerance(-1)
    Traceback (most recent call last):
    ...
    ValueError: position tolerance must be a finite number of metres >= 0 ...
    """
    if not np.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(
            "position tolerance must be a finite number of metres >= 0 (the profile's "
            f"position_tolerance_m), got {tolerance_m!r}"
        )


def open_polygons(geoms: np.ndarray, width_m: float) -> np.ndarray:
    """Morphological opening: what is left of each polygon without its parts thinner than *width_m*.

    Erosion by ``width_m / 2`` then dilation by the same distance, with mitre
    joins so that right angles stay right angles: a rectangle at least
    *width_m* wide is returned unchanged, a strip narrower than that vanishes.

    Parameters
    ----------
    geoms
        Polygonal geometries in a projected CRS (metres), a 1-D object array.
    width_m
        Width in metres below which parts are removed; > 0.

    Returns
    -------
    numpy.ndarray
        The opened geometries, empty where nothing is that wide.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> opened = open_polygons(np.array([box(0, 0, 10, 5), box(0, 0, 10, 0.3)]), 1.0)
    >>> shapely.area(opened).round(6).tolist()
    [50.0, 0.0]
    """
    eroded = shapely.buffer(geoms, -width_m / 2, join_style="mitre")
    return shapely.buffer(eroded, width_m / 2, join_style="mitre")


def _add_real_overlap(
    overlap: np.ndarray, pi: np.ndarray, pieces: np.ndarray, area: np.ndarray, tolerance_m: float
) -> None:
    """Add to *overlap* the area of each parcel's overlap that is wider than the tolerance."""
    if not len(pi):
        return
    order = np.argsort(pi, kind="stable")
    pi, pieces = pi[order], pieces[order]
    start = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    end = np.r_[start[1:], len(pi)]
    parcel, merged = pi[start], pieces[start].copy()
    for g in np.flatnonzero(end - start > 1):  # pieces of tiles or of several features
        merged[g] = shapely.union_all(pieces[start[g] : end[g]])
    raw = shapely.area(merged)
    real = np.zeros(len(parcel))
    inside = raw >= area[parcel] * (1 - 1e-9)  # covered by several parts together
    real[inside] = area[parcel[inside]]
    # an overlap that cannot hold a disc of diameter tolerance_m has no part that wide
    todo = np.flatnonzero(~inside & (raw >= np.pi * tolerance_m**2 / 4))
    if len(todo):
        opened = shapely.area(open_polygons(merged[todo], tolerance_m))
        real[todo] = np.minimum(opened, raw[todo])
    overlap[parcel] += real


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
