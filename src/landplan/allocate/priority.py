"""Priority order: parcels ranked by a profile's criteria, ties broken by the parcel id."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from landplan.rules.criteria import CRITERIA, SelectContext
from landplan.rules.model import Priority

__all__ = ["priority_order", "rank_within"]


def priority_order(
    ctx: SelectContext, priorities: Sequence[Priority], stable_id: np.ndarray
) -> np.ndarray:
    """Positions of all parcels from highest to lowest priority.

    Parameters
    ----------
    ctx
        What the priority criteria look at.
    priorities
        The criteria, most important first.
    stable_id
        Final tie-breaker per parcel, lower first (a parcel's position in the
        sorted order of the parcel ids).

    Returns
    -------
    numpy.ndarray
        Positions of the parcels, sorted by every criterion's key (lower first)
        and then by *stable_id*.
    """
    keys = [CRITERIA[p.criterion].func(ctx, **p.params) for p in priorities]
    # np.lexsort sorts by the last key first
    return np.lexsort([stable_id, *reversed(keys)])


def rank_within(order: np.ndarray, pool: np.ndarray, county: np.ndarray) -> np.ndarray:
    """1-based rank of each pool parcel within its county, following *order*; 0 outside.

    Parameters
    ----------
    order
        Positions of the parcels from highest to lowest priority
        (:func:`priority_order`).
    pool
        Boolean mask of the parcels to rank.
    county
        County code of every parcel.

    Returns
    -------
    numpy.ndarray
        Rank per parcel, int64: 1 for the pool's first parcel in each county,
        0 for parcels outside the pool.

    Examples
    --------
    >>> rank_within(np.array([3, 1, 0, 2]), np.array([True, True, False, True]),
    ...             np.array(["a", "b", "a", "a"])).tolist()
    [2, 1, 0, 1]
    """
    rank = np.zeros(len(pool), dtype=np.int64)
    ordered = order[pool[order]]
    by_county = np.argsort(county[ordered], kind="stable")  # keeps priority order inside
    counties = county[ordered][by_county]
    new_group = np.r_[True, counties[1:] != counties[:-1]] if len(counties) else np.array([], bool)
    starts = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    rank[ordered[by_county]] = np.arange(len(counties)) - starts[group] + 1
    return rank
