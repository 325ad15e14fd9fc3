"""Contiguous farmland blocks (集中连片) and the farmland area in blocks by size.

The plans report how much farmland lies in contiguous blocks of at least 3, 5,
15 or 20 亩 (003 ch.3 §4: "5 亩以上 / 20 亩以上集中连片"; 004 ch.1 §1: "3亩以上集中
连片耕地占比94.57%, 5亩以上…90.48%, 15亩以上…74.14%"), and the layout priorities
that say 集中连片 or 大面积 mean the block, not the single parcel.

**What a block is.**  Two member parcels (farmland) of the same county are
*neighbours* when the distance between their geometries is at most ``gap_m``
metres: they touch along an edge or at a corner (distance 0), or a strip no
wider than ``gap_m`` lies between them.  A block is a connected component of
that relation: parcels linked by a chain of neighbours.  Parcels of different
counties never join, however close.  A member without a geometry (missing or
empty) is a block of its own.  The area of a block is the sum of the areas the
caller gives for its members, normally the land-class area after the 田坎
deduction (``TBDLMJ``, KCXS).

**The gap** (:data:`DEFAULT_GAP_M`, 8 m; the profile parameter
``block_gap_m``).  In the 三调 the land between two farmland parcels is itself
mapped as a parcel: 农村道路 (1006) are, by the classification (GB/T
21010-2017, adopted by the 三调's 工作分类), roads serving farm traffic "南方宽度
≥1.0 m、≤8 m" (north ≥2.0 m, ≤8 m), and 沟渠 (1107) are ditches and canals of
at least 1.0 m (south) or 2.0 m (north).  Narrower roads, ditches and ridges
are part of the farmland parcel itself, and 田坎 (1203) are not mapped as
parcels at all: their area is deducted through KCXS.  So the strips that
separate farmland which farms as one piece are at most 8 m wide, and a road
wider than that is mapped as 公路用地 (1003) or 城镇村道路用地 (1004) and cuts
a block.  8 m is therefore the widest field road the survey knows.  What it
does not settle: 沟渠 have no upper width, so a canal wider than 8 m separates
blocks; and any other parcel narrower than 8 m (a row of houses, a narrow
pond) is bridged as well.  A smaller value (3-5 m, a typical 机耕道) gives smaller
blocks; the shares the plans print do not say which gap they used.

**Method.**  The member geometries go into a shapely STRtree; a bounding-box
query with each box widened by ``gap_m`` gives the candidate pairs, those of
different counties are dropped, each pair is kept once, and
:func:`shapely.dwithin` decides it exactly.  The components come from
:func:`scipy.sparse.csgraph.connected_components`.  A run forms blocks of
several sets of parcels (farmland, the 旱改水 candidates among it, farmland
with the 耕地后备资源 candidates): :class:`Neighbours` keeps the pairs found
for one set and looks up only the members a later set adds.  Everything is vectorised:
about 5 s for 2 million synthetic parcels of which a quarter are farmland
(``benchmarks/blocks.py``); the exact distance test takes most of it and grows
with the number of vertices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.sparse import coo_array  # type: ignore[import-untyped]
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

from landplan.core.crs import gauss_kruger_zone_crs
from landplan.core.errors import CRSError, InputError
from landplan.core.groups import groups_of
from landplan.core.units import M2_PER_MU

__all__ = [
    "DEFAULT_GAP_M",
    "DEFAULT_THRESHOLDS_MU",
    "Blocks",
    "Neighbours",
    "area_in_blocks",
    "contiguous_blocks",
]

#: Default widest gap (m) bridged within a block: the widest 农村道路 of the 三调 (≤ 8 m).
DEFAULT_GAP_M = 8.0
#: Block sizes (亩) the plans report: 3, 5, 15 and 20 亩 (004 ch.1 §1, 003 ch.3 §4).
DEFAULT_THRESHOLDS_MU = (3.0, 5.0, 15.0, 20.0)
#: Relative tolerance of the size thresholds, so that a block of exactly 3 亩 counts.
_THRESHOLD_RTOL = 1e-9


@dataclass(frozen=True)
class Blocks:
    """Contiguous blocks of parcels, as :func:`contiguous_blocks` returns them.

    Attributes
    ----------
    block_id
        Per parcel (int64): the block's id, the smallest position (0-based,
        in the input order) of any of its parcels; -1 for parcels that are not
        members.
    block_area_m2
        Per parcel (float64): the block's area in m², the sum of the members'
        ``area_m2``; NaN for parcels that are not members.
    table
        One row per block, indexed by ``block_id`` (ascending): ``county``
        (the county value of its parcels), ``n_parcels`` and ``area_m2``.
    gap_m
        The gap the blocks were formed with, in metres.
    """

    block_id: np.ndarray
    block_area_m2: np.ndarray
    table: pd.DataFrame
    gap_m: float


def _metric_geometries(geometry: np.ndarray | gpd.GeoSeries) -> np.ndarray:
    """Geometries as an object array in metres; geographic layers are projected."""
    if isinstance(geometry, gpd.GeoDataFrame):
        geometry = geometry.geometry
    if not isinstance(geometry, gpd.GeoSeries) or geometry.crs is None:
        return np.asarray(geometry, dtype=object)
    crs = CRS.from_user_input(geometry.crs)
    if crs.is_geographic:
        finite = geometry[~(geometry.is_empty | geometry.isna())]
        lon = 112.5 if finite.empty else float(finite.total_bounds[[0, 2]].mean())
        geometry = geometry.to_crs(gauss_kruger_zone_crs(lon))
    elif crs.axis_info and crs.axis_info[0].unit_conversion_factor != 1.0:
        raise CRSError(
            f"the parcels' CRS has units of {crs.axis_info[0].unit_name}; blocks need metres: "
            "project the parcels to a CGCS2000 Gauss-Krüger zone first",
            code="CRS_NOT_METRES",
            source="parcels",
        )
    return np.asarray(geometry.to_numpy(), dtype=object)


def _check_inputs(n: int, county: np.ndarray, member: np.ndarray, area: np.ndarray) -> None:
    """Raise InputError unless the per-parcel inputs agree in length and areas are usable."""
    lengths = {"county": len(county), "member": len(member), "area_m2": len(area)}
    wrong = {name: k for name, k in lengths.items() if k != n}
    if wrong:
        raise InputError(
            f"{n} geometries but " + ", ".join(f"{k} values of {m}" for m, k in wrong.items()),
            code="BLOCKS_LENGTH",
        )
    if not np.isfinite(area[member]).all():
        raise InputError(
            f"{int((~np.isfinite(area[member])).sum())} member parcels without a finite area",
            code="BLOCKS_AREA",
            source="area_m2",
        )


def _neighbour_pairs(
    geoms: np.ndarray, codes: np.ndarray, gap_m: float, new: np.ndarray | None = None
) -> np.ndarray:
    """Pairs (i, j), i < j, of geometries of the same county within *gap_m* of each other.

    With *new* (a mask), only the pairs with at least one new geometry.
    """
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    tree_at = np.flatnonzero(present)
    ask_at = tree_at if new is None else np.flatnonzero(present & new)
    tree = shapely.STRtree(geoms[tree_at])
    x0, y0, x1, y1 = shapely.bounds(geoms[ask_at]).reshape(-1, 4).T
    # boxes widened by the gap: every pair within gap_m has overlapping widened boxes
    q, t = tree.query(shapely.box(x0 - gap_m, y0 - gap_m, x1 + gap_m, y1 + gap_m))
    i, j = ask_at[q], tree_at[t]
    # each pair once: asked from its first geometry, or from its only new one
    keep = (codes[i] == codes[j]) & ((i < j) | (False if new is None else ~new[j]))
    i, j = i[keep], j[keep]
    near = shapely.dwithin(geoms[i], geoms[j], gap_m)
    return np.stack([np.minimum(i, j)[near], np.maximum(i, j)[near]])


class Neighbours:
    """Parcels within a gap of each other, found once for several sets of members.

    The pipeline forms blocks of farmland, of the 旱改水 candidates (some of
    the farmland) and of farmland with the 耕地后备资源 candidates.  Pairs found
    for one set are kept; a later set asks the tree only for its members not
    seen before, and the pairs of a set are those whose parcels are both in it
    (the relation of two parcels does not depend on the others).

    Parameters
    ----------
    geometry
        Parcel geometries, as :func:`contiguous_blocks` takes them.
    county
        Per parcel, its county; parcels of different counties are never neighbours.
    gap_m
        Widest gap (m) bridged, >= 0.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> geoms = np.array([box(0, 0, 20, 20), box(20, 0, 40, 20), box(43, 0, 63, 20)])
    >>> near = Neighbours(geoms, np.array(["a", "a", "a"]), gap_m=5.0)
    >>> near.among(np.array([True, True, False])).tolist()
    [[0], [1]]
    >>> near.among(np.array([True, True, True])).tolist()  # only parcel 2 is looked up
    [[0, 1], [1, 2]]
    """

    def __init__(
        self,
        geometry: np.ndarray | gpd.GeoSeries,
        county: np.ndarray | Sequence[object] | pd.Series,
        *,
        gap_m: float,
    ) -> None:
        if not np.isfinite(gap_m) or gap_m < 0:
            raise InputError(
                f"gap_m must be a finite distance >= 0, not {gap_m}", code="BLOCKS_GAP"
            )
        self.geoms = _metric_geometries(geometry)
        self.codes = pd.factorize(np.asarray(county, dtype=object), use_na_sentinel=False)[0]
        self.gap_m = float(gap_m)
        self._seen = np.zeros(len(self.geoms), dtype=bool)
        self._pairs = np.empty((2, 0), dtype=np.intp)

    def among(self, member: np.ndarray) -> np.ndarray:
        """Pairs (i, j), i < j, of members within the gap of each other, shape ``(2, k)``.

        Parameters
        ----------
        member
            Per parcel, True for the members.

        Returns
        -------
        numpy.ndarray
            Positions of the parcels of each pair, the smaller first.
        """
        member = np.asarray(member, dtype=bool)
        new = member & ~self._seen
        if new.any():
            self._seen |= member
            at = np.flatnonzero(self._seen)
            found = _neighbour_pairs(self.geoms[at], self.codes[at], self.gap_m, new[at])
            self._pairs = np.concatenate([self._pairs, at[found]], axis=1)
        return self._pairs[:, member[self._pairs[0]] & member[self._pairs[1]]]


def contiguous_blocks(
    geometry: np.ndarray | gpd.GeoSeries,
    county: np.ndarray | Sequence[object] | pd.Series,
    member: np.ndarray | pd.Series,
    area_m2: np.ndarray | pd.Series,
    *,
    gap_m: float,
    neighbours: Neighbours | None = None,
) -> Blocks:
    """Contiguous blocks (集中连片) of the member parcels, county by county.

    Two members of the same county are neighbours when their geometries are at
    most *gap_m* metres apart (touching along an edge or at a corner is 0 m);
    a block is a set of members linked by a chain of neighbours.  Members of
    different counties never join.  A member without a geometry is a block of
    its own.

    Parameters
    ----------
    geometry
        Parcel geometries, in a projected CRS in metres (an array of shapely
        geometries is taken to be in metres).  A GeoSeries in a geographic CRS
        is projected to the CGCS2000 Gauss-Krüger zone of its centre.
    county
        Per parcel, its county (any hashable value, e.g. the 6-digit code;
        missing values form one county of their own).
    member
        Per parcel, True for the parcels that form blocks (farmland).
    area_m2
        Per parcel, the area counted for the block in m², normally the
        land-class area after the 田坎 deduction (``TBDLMJ``); must be finite
        for members, ignored for the others.
    gap_m
        Widest gap (m) bridged between two members, >= 0; the profile's
        ``block_gap_m``, by default :data:`DEFAULT_GAP_M` (8 m, the widest
        农村道路 of the 三调).
    neighbours
        The neighbours of the same *geometry*, *county* and *gap_m*, kept for
        several sets of members; found here when not given.

    Returns
    -------
    Blocks
        Per parcel the block id (the smallest parcel position in the block,
        -1 for non-members) and the block's area (NaN for non-members), and a
        table of the blocks.

    Raises
    ------
    InputError
        The inputs differ in length, *gap_m* is negative or not finite, or a
        member has no finite area.
    CRSError
        A GeoSeries in a projected CRS whose unit is not the metre.

    Examples
    --------
    Three 20 m squares in a row, the third 3 m beyond the second (a field
    road), and a square of another county touching the first:

    >>> from shapely.geometry import box
    >>> geoms = np.array([box(0, 0, 20, 20), box(20, 0, 40, 20), box(43, 0, 63, 20),
    ...                   box(0, 20, 20, 40)])
    >>> county = np.array(["430421", "430421", "430421", "430422"])
    >>> member, area = np.ones(4, bool), np.full(4, 400.0)
    >>> b = contiguous_blocks(geoms, county, member, area, gap_m=5.0)
    >>> b.block_id.tolist(), b.block_area_m2.tolist()
    ([0, 0, 0, 3], [1200.0, 1200.0, 1200.0, 400.0])
    >>> contiguous_blocks(geoms, county, member, area, gap_m=2.0).block_id.tolist()
    [0, 0, 2, 3]
    """
    if neighbours is None:
        neighbours = Neighbours(geometry, county, gap_m=gap_m)
    elif neighbours.gap_m != gap_m:
        raise InputError(
            f"neighbours found within {neighbours.gap_m} m asked for blocks of {gap_m} m",
            code="BLOCKS_GAP",
        )
    n = len(neighbours.geoms)
    counties = np.asarray(county, dtype=object)
    is_member = np.asarray(member, dtype=bool)
    area = np.asarray(area_m2, dtype=np.float64)
    _check_inputs(n, counties, is_member, area)

    pos = np.flatnonzero(is_member)  # ascending, so a component's first member is its smallest
    m = len(pos)
    pairs = np.searchsorted(pos, neighbours.among(is_member))  # as positions among members
    graph = coo_array((np.ones(pairs.shape[1], dtype=np.int8), (pairs[0], pairs[1])), (m, m))
    n_blocks, label = connected_components(graph.tocsr(), directed=False) if m else (0, pos)
    _, first = np.unique(label, return_index=True)  # first member of each component, by label
    ids = pos[first].astype(np.int64)
    block_area = np.bincount(label, weights=area[pos], minlength=n_blocks)

    block_id = np.full(n, -1, dtype=np.int64)
    block_id[pos] = ids[label]
    per_parcel_area = np.full(n, np.nan)
    per_parcel_area[pos] = block_area[label]
    table = pd.DataFrame(
        {
            "county": counties[ids],
            "n_parcels": np.bincount(label, minlength=n_blocks).astype(np.int64),
            "area_m2": block_area.astype(np.float64),
        },
        index=pd.Index(ids, name="block_id"),
    ).sort_index()
    return Blocks(block_id, per_parcel_area, table, float(gap_m))


def area_in_blocks(
    county: np.ndarray | Sequence[object] | pd.Series,
    block_area_m2: np.ndarray | pd.Series,
    area_m2: np.ndarray | pd.Series,
    *,
    thresholds_mu: Sequence[float] = DEFAULT_THRESHOLDS_MU,
    total: str | None = None,
) -> pd.DataFrame:
    """Per county, the area lying in blocks of at least each size, and its share.

    Only parcels in a block (finite *block_area_m2*) count.  Give the
    farmland area as *area_m2* for the farmland figures (003 ch.3 §4, 004
    ch.1 §1), or the PBF area of each parcel (0 where none) for the PBF ones:
    the block is always the farmland block.

    Parameters
    ----------
    county
        Per parcel, its county; parcels without one are left out.
    block_area_m2
        Per parcel, the area of its block in m² (:attr:`Blocks.block_area_m2`);
        NaN for parcels in no block.
    area_m2
        Per parcel, the area to count in m².
    thresholds_mu
        Block sizes in 亩; a block counts when its area is at least the size
        (relative tolerance 1e-9, so a block of exactly 3 亩 is "3 亩以上").
    total
        Label of a last row summing every county (shares from its sums);
        no such row when None.

    Returns
    -------
    pandas.DataFrame
        Indexed by county (ascending, as text): ``area_m2``, the area counted; then per
        size *t* ``ge{t}mu_m2``, the part in blocks of at least *t* 亩, and
        ``ge{t}mu_share``, that part over ``area_m2`` (NaN where that is 0).

    Raises
    ------
    InputError
        The inputs differ in length, or a size is negative or not finite.

    Examples
    --------
    One county with a 2 亩 block and a 4 亩 block of two parcels:

    >>> mu = 10_000 / 15
    >>> table = area_in_blocks(["430421"] * 3, np.array([2, 4, 4]) * mu,
    ...                        np.array([2, 1, 3]) * mu, thresholds_mu=(3, 5))
    >>> table.round(4).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'area_m2': 4000.0, 'ge3mu_m2': 2666.6667, 'ge3mu_share': 0.6667,
     'ge5mu_m2': 0.0, 'ge5mu_share': 0.0}
    """
    size = np.asarray(block_area_m2, dtype=np.float64)
    area = np.asarray(area_m2, dtype=np.float64)
    if not len(county) == len(size) == len(area):
        raise InputError(
            f"county, block_area_m2 and area_m2 differ in length "
            f"({len(county)}, {len(size)}, {len(area)})",
            code="BLOCKS_LENGTH",
        )
    sizes = np.asarray(thresholds_mu, dtype=np.float64)
    if not (np.isfinite(sizes).all() and (sizes >= 0).all()):
        raise InputError(f"block sizes must be finite and >= 0, not {list(thresholds_mu)}")
    groups = groups_of(county)
    inside = np.isfinite(size)
    sums = {"area_m2": groups.sum(np.where(inside, area, 0.0))}
    for t in sizes:
        least = t * M2_PER_MU * (1 - _THRESHOLD_RTOL)
        sums[f"ge{t:g}mu_m2"] = groups.sum(np.where(inside & (size >= least), area, 0.0))
    keys, counted = list(groups.keys), groups.sum(inside) > 0  # counties with a block
    if total is not None:
        sums = {name: np.r_[values, values.sum()] for name, values in sums.items()}
        keys, counted = [*keys, total], np.r_[counted, True]
    whole = sums["area_m2"]
    out = pd.DataFrame({"area_m2": whole}, index=pd.Index(keys, name="county"))
    for t in sizes:
        part = sums[f"ge{t:g}mu_m2"]
        out[f"ge{t:g}mu_m2"] = part
        out[f"ge{t:g}mu_share"] = np.divide(
            part, whole, out=np.full(len(whole), np.nan), where=whole > 0
        )
    return out[counted]
