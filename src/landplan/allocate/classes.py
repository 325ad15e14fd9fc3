"""Classes from the evidence: protection target, PBF and reserve quotas, recovery candidates.

Every decision is derived from the evidence of :func:`~landplan.rules.evaluate_rules`:

- farmland (DLBM 01xx) for which a T rule fired is ``NON_TARGET``;
- the rest of the farmland is the protection target; its parcels for which
  no P rule fired are PBF-eligible;
- with an existing-PBF layer (003 ch.4 §1: 原永久基本农田范围内的可以长期稳定利用耕地
  布局保持总体稳定), its target parcels that break no P rule whose
  ``existing_pbf`` is ``exit`` stay PBF even above the county target (the
  target is a floor); the shortfall is topped up (补划) from the other
  eligible parcels in the 专栏 4-1 order; ``pbf_change`` records KEPT,
  REMOVED and ADDED.  Without the layer, PBF is the smallest prefix of the
  eligible parcels' priority order whose farmland area reaches the target;
- target parcels that are not PBF and for which no R rule fired are
  reserve-eligible; the reserve fills the county's reserve target (附录5 备注1:
  1 % of the PBF target) in the 专栏 4-2 order;
- the other target parcels are ``GENERAL``;
- parcels of the recovery pool for which no C rule fired are ``RECOVERY``,
  ranked by 专栏 8-1; everything else is ``OTHER``.

``lp_prio`` is the parcel's 1-based rank, within its county, in the order of
the pool that decided its class: the PBF order (kept existing PBF first) for
PBF-eligible and kept parcels, the reserve order for RESERVE, the recovery
order for RECOVERY; 0 for parcels in no pool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landplan.allocate.priority import priority_order, rank_within
from landplan.allocate.quotas import (
    county_targets,
    default_targets,
    fill_quota,
    reserve_targets,
)
from landplan.core.errors import Problem
from landplan.core.threads import chunks, map_threads
from landplan.io.targets import CountyTargets
from landplan.measure.parcels import layer_share
from landplan.rules.criteria import SelectContext
from landplan.rules.evaluate import Evidence, class_pool, recovery_pool
from landplan.rules.kinds import Context
from landplan.rules.model import Profile

__all__ = ["Assignment", "assign_classes", "pbf_mode"]


@dataclass(frozen=True)
class Assignment:
    """Class and priority rank of every parcel, the pools behind them and the targets.

    Attributes
    ----------
    lp_class, lp_prio
        Class code and 1-based priority rank of every parcel.
    pools
        Boolean mask per pool: ``stage_b`` / ``stage_d`` (the land classes
        耕地后备资源 and 旱改水 start from) and their ``_candidate`` parcels (no B
        or D rule fired), then in the order classes are decided: ``farmland``,
        ``target`` (protection target), ``pbf_eligible``, ``pbf`` (with its
        ``pbf_paddy`` and ``pbf_slope_le15`` parts: paddy, GDPDJB ≤ 3),
        ``high_standard`` (farmland at least half covered by the
        ``high_standard_farmland`` layer),
        ``reserve_eligible``, ``reserve``, ``recovery``.
    pbf_target_m2, reserve_target_m2
        The county targets the quotas were filled to.
    target_source
        Per county, where its PBF target came from.
    problems
        What went wrong on the way (missing targets ...).
    pbf_change
        Per parcel, what happened to the existing PBF: ``KEPT``, ``REMOVED``
        (it breaks a P rule that makes it leave, or is no longer protection
        target), ``ADDED`` (补划 to reach the target), or empty (was and stays
        outside PBF, or no existing PBF was given).
    """

    lp_class: np.ndarray
    lp_prio: np.ndarray
    pools: Mapping[str, np.ndarray]
    pbf_target_m2: Mapping[str, float]
    reserve_target_m2: Mapping[str, float]
    target_source: Mapping[str, str]
    problems: tuple[Problem, ...]
    pbf_change: np.ndarray


def pbf_mode(roles: Collection[str]) -> str:
    """How PBF is delineated with these constraint roles, for manifests.

    Parameters
    ----------
    roles
        The roles of the constraint layers given.

    Returns
    -------
    str
        ``"existing PBF first"`` with a ``pbf_existing`` layer, else ``"from scratch"``.

    Examples
    --------
    >>> pbf_mode(["eco_redline", "pbf_existing"]), pbf_mode([])
    ('existing PBF first', 'from scratch')
    """
    return "existing PBF first" if "pbf_existing" in roles else "from scratch"


def _stable_id(index: pd.Index) -> np.ndarray:
    """Position of each parcel in the sorted order of its id: the final tie-breaker."""
    return np.argsort(np.argsort(index.to_numpy(), kind="stable"), kind="stable")


def assign_classes(
    evidence: Evidence,
    ctx: Context,
    profile: Profile,
    geometry: gpd.GeoSeries,
    targets: CountyTargets | None = None,
    *,
    excluded: np.ndarray | None = None,
    threads: int = 1,
) -> Assignment:
    """Classes, priority ranks and the quota report (see the module docs).

    Parameters
    ----------
    evidence
        The rules' evidence (:func:`~landplan.rules.evaluate_rules`).
    ctx
        What the rules were evaluated on; ``COUNTY``, ``IS_FARMLAND``,
        ``dlmj_m2`` (land-class area, m²) and the ``pbf_existing`` share are used.
    profile
        The rule profile: its priorities per pool and its parameters.
    geometry
        Parcel geometries, aligned to the parcels, for the adjacency criterion.
    targets
        PBF (and reserve) targets per county; None for the table the profile
        names (``default_targets``); counties neither names get the profile's
        share of their protection target.
    excluded
        Parcels set aside as invalid: ``OTHER``, in no pool, counted in no
        farmland total.
    threads
        Threads finding the parcels next to a class (the answers do not
        depend on it).

    Returns
    -------
    Assignment
        Class and rank of every parcel, the pools, the targets used and problems.
    """
    attrs = ctx.attributes
    n = len(attrs)
    county = attrs["COUNTY"].to_numpy(dtype=object)
    area = np.nan_to_num(ctx.measures["dlmj_m2"].to_numpy(dtype=float))
    usable = np.ones(n, dtype=bool) if excluded is None else ~excluded
    farmland = attrs["IS_FARMLAND"].to_numpy(dtype=bool) & usable
    target = farmland & ~evidence.stage_hit("T")
    stable = _stable_id(attrs.index)
    lp_class = np.full(n, "OTHER", dtype=object)
    lp_class[farmland] = "NON_TARGET"
    lp_class[target] = "GENERAL"
    prio = np.zeros(n, dtype=np.int64)

    if targets is None:
        targets = default_targets(profile)
    protection = pd.Series(area[target]).groupby(county[target]).sum()
    pbf_target, source, problems = county_targets(
        targets, protection, float(profile.parameters["default_pbf_share_of_target"])
    )
    select_ctx = SelectContext(
        ctx, adjacent_to=_adjacency(geometry, lp_class, county, threads=threads)
    )

    existing = _existing_pbf(ctx, profile)
    pbf_eligible = target & ~evidence.stage_hit("P")
    order = priority_order(select_ctx, profile.priorities["pbf"], stable)
    change = np.full(n, "", dtype=object)
    if existing is None:
        pbf = fill_quota(order, pbf_eligible, area, county, pbf_target)
        ranked = pbf_eligible
    else:
        must_exit = [r.id for r in profile.stage_rules("P") if r.existing_pbf == "exit"]
        kept = existing & target & ~evidence.stage_hit("P", must_exit)
        kept_m2 = pd.Series(area[kept]).groupby(county[kept]).sum()
        shortfall = {c: max(0.0, t - float(kept_m2.get(c, 0.0))) for c, t in pbf_target.items()}
        added = fill_quota(order, pbf_eligible & ~kept, area, county, shortfall)
        pbf = kept | added
        order = np.r_[order[kept[order]], order[~kept[order]]]  # the kept PBF ranks first
        ranked = pbf_eligible | kept
        change[kept], change[added] = "KEPT", "ADDED"
        change[existing & usable & ~pbf] = "REMOVED"
    lp_class[pbf] = "PBF"
    prio[ranked] = rank_within(order, ranked, county)[ranked]

    share = float(profile.parameters["reserve_share_of_pbf"])
    reserve_target = reserve_targets(targets, pbf_target, share)
    reserve_eligible = target & ~pbf & ~evidence.stage_hit("R")
    order = priority_order(select_ctx, profile.priorities["reserve"], stable)
    reserve = fill_quota(order, reserve_eligible, area, county, reserve_target)
    lp_class[reserve] = "RESERVE"
    prio[reserve] = rank_within(order, reserve_eligible, county)[reserve]

    recovery = recovery_pool(ctx, profile) & ~evidence.stage_hit("C") & usable
    lp_class[recovery] = "RECOVERY"
    order = priority_order(select_ctx, profile.priorities["recovery"], stable)
    prio[recovery] = rank_within(order, recovery, county)[recovery]

    pools = {
        **_stage_pools(evidence, ctx, profile, usable),
        "farmland": farmland,
        "target": target,
        "pbf_eligible": pbf_eligible,
        "pbf": pbf,
        "pbf_paddy": pbf & (attrs["DLBM_BASE"].to_numpy(dtype=object) == "0101"),
        "pbf_slope_le15": pbf & (attrs["GDPDJB"].to_numpy(dtype=float, na_value=np.nan) <= 3),
        "high_standard": farmland & _covered(ctx, "high_standard_farmland"),
        "reserve_eligible": reserve_eligible,
        "reserve": reserve,
        "recovery": recovery,
    }
    return Assignment(
        lp_class,
        prio,
        pools,
        pbf_target,
        reserve_target,
        source,
        tuple(problems),
        change,
    )


def _stage_pools(
    evidence: Evidence, ctx: Context, profile: Profile, usable: np.ndarray
) -> dict[str, np.ndarray]:
    """Pools of the class-defined stages B (耕地后备资源) and D (旱改水) and their candidates."""
    pools = {}
    for stage, name in (("B", "stage_b"), ("D", "stage_d")):
        pool = class_pool(ctx, profile, stage) & usable
        pools[name] = pool
        pools[f"{name}_candidate"] = pool & ~evidence.stage_hit(stage)
    return pools


def _covered(ctx: Context, role: str, min_share: float = 0.5) -> np.ndarray:
    """Parcels a role's layer covers at least half of (all False without the layer)."""
    share = layer_share(ctx.measures, role)
    return np.zeros(len(ctx.measures), dtype=bool) if share is None else share >= min_share


def _existing_pbf(ctx: Context, profile: Profile) -> np.ndarray | None:
    """Parcels the ``pbf_existing`` layer covers enough of; None without the layer."""
    share = layer_share(ctx.measures, "pbf_existing")
    return None if share is None else share >= float(profile.parameters["pbf_existing_min_share"])


def _adjacency(
    geometry: gpd.GeoSeries, lp_class: np.ndarray, county: np.ndarray, *, threads: int = 1
) -> Callable[[str], np.ndarray]:
    """A function telling which parcels touch a parcel of a class, as classes stand then.

    Only parcels of the same county count: quotas are per county, and a county's
    classification then never depends on its neighbours'.  The class's parcels
    are looked up in one tree of all parcels (made at the first question); of
    the pairs whose boxes meet, each other parcel is tested against one member
    at a time until one touches it, the tests a chunk per thread.
    """
    geoms = geometry.to_numpy()
    tree = functools.cache(lambda: shapely.STRtree(geoms))  # missing, empty parcels left out

    def meet(pairs: np.ndarray) -> np.ndarray:
        """``shapely.intersects`` of (member, parcel) pairs, a chunk per thread."""
        runs = chunks(pairs.shape[1], threads)
        tests = map_threads(
            lambda at: shapely.intersects(geoms[pairs[0, at]], geoms[pairs[1, at]]),
            runs,
            threads=threads,
        )
        return np.concatenate([np.empty(0, dtype=bool), *tests])

    def adjacent_to(code: str) -> np.ndarray:
        members = np.flatnonzero(lp_class == code)
        out = np.zeros(len(geoms), dtype=bool)
        if not len(members):
            return out
        member, parcel = tree().query(geoms[members])  # pairs whose boxes meet
        member = members[member]
        keep = (county[member] == county[parcel]) & (lp_class[parcel] != code)
        pairs = np.stack([member[keep], parcel[keep]])
        # neighbours' boxes nearly always mean the parcels touch: each parcel is tested
        # against one member at a time, and only those not found yet go on to the next
        while pairs.shape[1]:
            _, first = np.unique(pairs[1], return_index=True)
            found = first[meet(pairs[:, first])]
            out[pairs[1, found]] = True
            rest = np.ones(pairs.shape[1], dtype=bool)
            rest[first] = False
            pairs = pairs[:, rest & ~out[pairs[1]]]
        return out

    return adjacent_to
