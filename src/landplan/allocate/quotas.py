"""Quotas: per county, the smallest prefix of the priority order that reaches the target.

Eligible parcels of a county are ranked (:mod:`landplan.allocate.priority`);
a quota is the smallest prefix of that order whose land-class area reaches
the county's target.  PBF targets come from the user's targets, else from the
table the profile names (003 附录5 for 衡阳), and for counties neither names
from a profile share of the protection target; reserve targets are the
targets' printed reserve or a share of the PBF target.

A target counts as reached when the prefix's area falls short of it by no
more than :data:`REACHED_M2`: a shortfall left after subtracting the kept
area from a target carries the rounding of both sums, and a parcel must not
be drawn for a millionth of a square metre.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from landplan.core.errors import Problem
from landplan.core.units import M2_PER_WANMU
from landplan.io.reference import reference_table
from landplan.io.targets import CountyTargets
from landplan.rules.model import Profile

__all__ = [
    "DEFAULT_SOURCE",
    "REACHED_M2",
    "county_targets",
    "default_targets",
    "fill_quota",
    "reserve_targets",
]

#: A target is reached by an area short of it by at most this (m²): far below the
#: 0.01 m² the survey reports areas to, far above the rounding of sums of parcel areas.
REACHED_M2 = 1e-6


def fill_quota(
    order: np.ndarray,
    eligible: np.ndarray,
    area_m2: np.ndarray,
    county: np.ndarray,
    target_m2: Mapping[str, float],
) -> np.ndarray:
    """Select, per county, the smallest prefix of *order* whose area reaches the target.

    Parameters
    ----------
    order
        Positions of the parcels from highest to lowest priority.
    eligible
        Boolean mask of the parcels that may be selected.
    area_m2
        Land-class area of every parcel, in m².
    county
        County code of every parcel.
    target_m2
        Target area per county code, in m²; counties without a positive target
        get nothing.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the selected parcels.  Where the eligible parcels'
        area falls short of the target (by more than :data:`REACHED_M2`),
        all of them are selected.

    Examples
    --------
    >>> order = np.array([2, 0, 1, 3])
    >>> fill_quota(order, np.array([True, True, True, False]), np.array([5., 5., 5., 5.]),
    ...            np.array(["a"] * 4), {"a": 7.0}).tolist()
    [True, False, True, False]
    """
    selected = np.zeros(len(eligible), dtype=bool)
    ordered = order[eligible[order]]
    for code in np.unique(county[ordered]):
        members = ordered[county[ordered] == code]
        target = target_m2.get(str(code), 0.0)
        if target <= 0:
            continue
        cumulative = np.cumsum(area_m2[members])
        k = int(np.searchsorted(cumulative, target - REACHED_M2, side="left")) + 1
        selected[members[:k]] = True
    return selected


def default_targets(profile: Profile) -> CountyTargets | None:
    """The targets a profile names for runs without a targets file, if any.

    Parameters
    ----------
    profile
        The rule profile; its ``default_targets`` parameter names a table
        shipped with landplan (e.g. ``hengyang_county_targets``, 003 附录5).

    Returns
    -------
    CountyTargets or None
        PBF targets (``pbf_2035_wanmu``) and reserves (``pbf_reserve_wanmu``)
        of the table's counties; None when the profile names no table.
    """
    name = str(profile.parameters.get("default_targets", ""))
    if not name:
        return None
    table = reference_table(name)
    codes = table["county_code"].astype(str)
    pbf = table["pbf_2035_wanmu"].to_numpy(float) * M2_PER_WANMU
    out = CountyTargets(dict(zip(codes, pbf, strict=True)), source=f"{name} (landplan)")
    if "pbf_reserve_wanmu" in table:
        reserve = table["pbf_reserve_wanmu"].to_numpy(float) * M2_PER_WANMU
        out = CountyTargets(out.pbf_m2, dict(zip(codes, reserve, strict=True)), out.source)
    return out


#: Quota source of a county whose PBF target is the profile's share of its protection target.
DEFAULT_SOURCE = "default"


def county_targets(
    targets: CountyTargets | None, protection_m2: pd.Series, share: float
) -> tuple[dict[str, float], dict[str, str], list[Problem]]:
    """PBF target per county: from the targets, else *share* of the protection target.

    Parameters
    ----------
    targets
        The county targets (a user's file or a profile's shipped table); None
        when there are none.
    protection_m2
        Protection-target area (m²) of every county, indexed by county code.
    share
        Share (0-1) of the protection target used for counties without a target.

    Returns
    -------
    dict
        PBF target in m² by county code, for every county of *protection_m2*.
    dict
        Where each county's target came from: the targets' source, or
        :data:`DEFAULT_SOURCE`.
    list of Problem
        One ``TARGET_MISSING`` warning listing the counties *targets* leaves
        out, or, without targets, one ``TARGET_DEFAULT`` note saying the share
        was used.

    Examples
    --------
    >>> protection = pd.Series({"430421": 100.0, "430422": 50.0})
    >>> pbf, source, problems = county_targets(
    ...     CountyTargets({"430421": 80.0}, source="t.csv"), protection, 0.9)
    >>> pbf, source
    ({'430421': 80.0, '430422': 45.0}, {'430421': 't.csv', '430422': 'default'})
    """
    given = dict(targets.pbf_m2) if targets is not None else {}
    out, source = {}, {}
    for code, protection in protection_m2.items():
        if str(code) in given:
            out[str(code)] = float(given[str(code)])
            source[str(code)] = targets.source if targets is not None else ""
        else:
            out[str(code)] = share * float(protection)
            source[str(code)] = DEFAULT_SOURCE
    missing = sorted(set(map(str, protection_m2.index)) - set(given))
    problems = []
    if targets is None and missing:
        problems.append(
            Problem(
                "TARGET_DEFAULT",
                f"no targets given and none shipped for the profile; the PBF target of these "
                f"counties is {share:.2%} of their protection target (profile parameter "
                "default_pbf_share_of_target); give --targets for the plan's own figures.",
                "targets",
                severity="info",
                counties=tuple(missing),
            )
        )
    if targets is not None and missing:
        problems.append(
            Problem(
                "TARGET_MISSING",
                f"no PBF target for these counties; their target is {share:.2%} of their "
                "protection target (profile parameter default_pbf_share_of_target) and their "
                "quota source says 'default'.",
                targets.source or "targets",
                severity="warning",
                counties=tuple(missing),
            )
        )
    return out, source, problems


def reserve_targets(
    targets: CountyTargets | None, pbf_target_m2: Mapping[str, float], share: float
) -> dict[str, float]:
    """Reserve target per county: the targets' reserve, else *share* of the PBF target.

    003 附录5 备注1: 储备区规模按永久基本农田保护面积的1%予以落实 — a share of the
    PBF *target* (protection area), not of the PBF selected.

    Parameters
    ----------
    targets
        The county targets; their ``reserve_m2`` wins where it names a county.
    pbf_target_m2
        PBF target per county code, in m².
    share
        Reserve as a share (0-1) of the PBF target.

    Returns
    -------
    dict
        Reserve target in m² by county code, for every county of *pbf_target_m2*.

    Examples
    --------
    >>> reserve_targets(CountyTargets({}, {"430406": 0.0}), {"430406": 50.0, "430421": 200.0}, 0.01)
    {'430406': 0.0, '430421': 2.0}
    """
    printed = dict(targets.reserve_m2) if targets is not None else {}
    return {
        code: float(printed[code]) if code in printed else share * float(target)
        for code, target in pbf_target_m2.items()
    }
