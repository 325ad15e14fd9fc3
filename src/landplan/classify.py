"""Classes from the evidence: protection target, PBF and reserve quotas, recovery candidates.

Every decision is derived from the evidence of :func:`~landplan.rules.evaluate_rules`:

- farmland (DLBM 01xx) for which a T rule fired is ``NON_TARGET``;
- the rest of the farmland is the protection target; its parcels for which
  no P rule fired are PBF-eligible, and PBF is the smallest prefix of their
  priority order (专栏 4-1) whose farmland area reaches the county target;
- target parcels that are not PBF and for which no R rule fired are
  reserve-eligible; the reserve fills ``reserve_share_of_pbf`` of the
  county's PBF area in the 专栏 4-2 order;
- the other target parcels are ``GENERAL``;
- parcels of the recovery pool for which no C rule fired are ``RECOVERY``,
  ranked by 专栏 8-1; everything else is ``OTHER``.

``lp_prio`` is the parcel's 1-based rank, within its county, in the order of
the pool that decided its class: the PBF order for PBF-eligible parcels
(PBF and the GENERAL parcels that were eligible), the reserve order for
RESERVE, the recovery order for RECOVERY; 0 for parcels in no pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .aggregate import M2_PER_WANMU, county_names
from .errors import Problem
from .rules.evaluate import Evidence, recovery_pool
from .rules.kinds import Context
from .rules.model import Profile
from .select import SelectContext, fill_quota, priority_order, rank_within


@dataclass(frozen=True)
class Assignment:
    """Class and priority rank of every parcel, and the per-county quota report."""

    lp_class: np.ndarray
    lp_prio: np.ndarray
    quotas: pd.DataFrame
    problems: tuple[Problem, ...]


def _stable_id(index: pd.Index) -> np.ndarray:
    """Position of each parcel in the sorted order of its id: the final tie-breaker."""
    return np.argsort(np.argsort(index.to_numpy(), kind="stable"), kind="stable")


def county_targets(
    target_m2: Mapping[str, float] | None, protection_m2: pd.Series, share: float
) -> tuple[dict[str, float], list[Problem]]:
    """PBF target per county: from the targets table, else *share* of the protection target."""
    problems = []
    out = {}
    for code, protection in protection_m2.items():
        if target_m2 is not None and str(code) in target_m2:
            out[str(code)] = float(target_m2[str(code)])
        else:
            out[str(code)] = share * float(protection)
    if target_m2 is not None:
        missing = sorted(set(map(str, protection_m2.index)) - set(target_m2))
        if missing:
            problems.append(
                Problem(
                    "TARGET_MISSING",
                    f"no PBF target for counties {missing}; using "
                    f"{share:.0%} of their protection target (profile parameter "
                    "default_pbf_share_of_target).",
                    "targets",
                    severity="warning",
                )
            )
    return out, problems


def assign_classes(
    evidence: Evidence,
    ctx: Context,
    profile: Profile,
    geometry: gpd.GeoSeries,
    target_m2: Mapping[str, float] | None = None,
) -> Assignment:
    """Classes, priority ranks and the quota report (see the module docs)."""
    attrs = ctx.attributes
    n = len(attrs)
    county = attrs["COUNTY"].to_numpy(dtype=object)
    area = np.nan_to_num(ctx.measures["dlmj_m2"].to_numpy(dtype=float))
    farmland = attrs["IS_FARMLAND"].to_numpy(dtype=bool)
    target = farmland & ~evidence.stage_hit("T")
    stable = _stable_id(attrs.index)
    lp_class = np.full(n, "OTHER", dtype=object)
    lp_class[farmland] = "NON_TARGET"
    lp_class[target] = "GENERAL"
    prio = np.zeros(n, dtype=np.int64)

    protection = pd.Series(area[target]).groupby(county[target]).sum()
    pbf_target, problems = county_targets(
        target_m2, protection, float(profile.parameters["default_pbf_share_of_target"])
    )
    select_ctx = SelectContext(ctx, adjacent_to=_adjacency(geometry, lp_class, county))

    pbf_eligible = target & ~evidence.stage_hit("P")
    order = priority_order(select_ctx, profile.priorities["pbf"], stable)
    pbf = fill_quota(order, pbf_eligible, area, county, pbf_target)
    lp_class[pbf] = "PBF"
    prio[pbf_eligible] = rank_within(order, pbf_eligible, county)[pbf_eligible]

    pbf_area = pd.Series(area[pbf]).groupby(county[pbf]).sum()
    share = float(profile.parameters["reserve_share_of_pbf"])
    reserve_target = {str(c): share * float(a) for c, a in pbf_area.items()}
    reserve_eligible = target & ~pbf & ~evidence.stage_hit("R")
    order = priority_order(select_ctx, profile.priorities["reserve"], stable)
    reserve = fill_quota(order, reserve_eligible, area, county, reserve_target)
    lp_class[reserve] = "RESERVE"
    prio[reserve] = rank_within(order, reserve_eligible, county)[reserve]

    recovery = recovery_pool(ctx, profile) & ~evidence.stage_hit("C")
    lp_class[recovery] = "RECOVERY"
    order = priority_order(select_ctx, profile.priorities["recovery"], stable)
    prio[recovery] = rank_within(order, recovery, county)[recovery]

    quotas = _quota_table(
        county,
        area,
        farmland,
        target,
        pbf_eligible,
        pbf,
        reserve_eligible,
        reserve,
        recovery,
        ctx.measures["area_m2"].to_numpy(float),
        pbf_target,
        reserve_target,
        target_m2,
    )
    return Assignment(lp_class, prio, quotas, tuple(problems))


def _adjacency(geometry: gpd.GeoSeries, lp_class: np.ndarray, county: np.ndarray):  # type: ignore[no-untyped-def]
    """A function telling which parcels touch a parcel of a class, as classes stand then.

    Only parcels of the same county count: quotas are per county, and a county's
    classification then never depends on its neighbours'.
    """
    geoms = geometry.to_numpy()

    def adjacent_to(code: str) -> np.ndarray:
        members = np.flatnonzero(lp_class == code)
        out = np.zeros(len(geoms), dtype=bool)
        if not len(members):
            return out
        tree = shapely.STRtree(geoms[members])
        present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
        hits, member = tree.query(geoms[present], predicate="intersects")
        same = county[present[hits]] == county[members[member]]
        out[present[np.unique(hits[same])]] = True
        out[members] = False
        return out

    return adjacent_to


def _quota_table(
    county: np.ndarray,
    area: np.ndarray,
    farmland: np.ndarray,
    target: np.ndarray,
    pbf_eligible: np.ndarray,
    pbf: np.ndarray,
    reserve_eligible: np.ndarray,
    reserve: np.ndarray,
    recovery: np.ndarray,
    full_area: np.ndarray,
    pbf_target: Mapping[str, float],
    reserve_target: Mapping[str, float],
    target_m2: Mapping[str, float] | None,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "county_code": county.astype(str),
            "farmland_m2": np.where(farmland, area, 0.0),
            "protection_target_m2": np.where(target, area, 0.0),
            "pbf_eligible_m2": np.where(pbf_eligible, area, 0.0),
            "pbf_selected_m2": np.where(pbf, area, 0.0),
            "reserve_eligible_m2": np.where(reserve_eligible, area, 0.0),
            "reserve_selected_m2": np.where(reserve, area, 0.0),
            "recovery_m2": np.where(recovery, full_area, 0.0),
        }
    )
    table = frame.groupby("county_code", sort=True).sum()
    table.insert(2, "pbf_target_m2", [pbf_target.get(c, 0.0) for c in table.index])
    table.insert(
        3,
        "pbf_target_source",
        ["targets" if target_m2 and c in target_m2 else "profile default" for c in table.index],
    )
    table["pbf_balance_m2"] = table["pbf_selected_m2"] - table["pbf_target_m2"]
    table["reserve_target_m2"] = [reserve_target.get(c, 0.0) for c in table.index]
    table["reserve_balance_m2"] = table["reserve_selected_m2"] - table["reserve_target_m2"]
    table = table.reset_index()
    table.insert(1, "county_name", table["county_code"].map(county_names()).fillna(""))
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table[column.replace("_m2", "_wanmu")] = table[column] / M2_PER_WANMU
    return table
