"""Quotas: per county, the smallest prefix of the priority order that reaches the target.

Eligible parcels of a county are ranked (:mod:`landplan.allocate.priority`);
a quota is the smallest prefix of that order whose land-class area reaches
the county's target.  Targets come from the user's table or, for counties
it does not name, from a profile share of the protection target.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from landplan.core.errors import Problem

__all__ = ["county_targets", "fill_quota"]


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
        area falls short of the target, all of them are selected.

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
        k = int(np.searchsorted(cumulative, target, side="left")) + 1
        selected[members[:k]] = True
    return selected


def county_targets(
    target_m2: Mapping[str, float] | None, protection_m2: pd.Series, share: float
) -> tuple[dict[str, float], list[Problem]]:
    """PBF target per county: from the targets table, else *share* of the protection target.

    Parameters
    ----------
    target_m2
        PBF target per county code, in m², from the user's targets table; None
        when there is none.
    protection_m2
        Protection-target area (m²) of every county, indexed by county code.
    share
        Share (0-1) of the protection target used for counties without a target.

    Returns
    -------
    dict
        PBF target in m² by county code, for every county of *protection_m2*.
    list of Problem
        A ``TARGET_MISSING`` warning when *target_m2* leaves counties out.
    """
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
