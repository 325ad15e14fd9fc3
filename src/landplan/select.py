"""Quotas filled in the plans' priority order (专栏 4-1, 4-2, 8-1).

Eligible parcels of a county are ranked by the profile's priority criteria
(each a small registered function giving a sort key, lower first), ties
broken by the stable parcel id; a quota is the smallest prefix of that
order whose land-class area reaches the county's target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate import M2_PER_WANMU
from .errors import InputError, Problem
from .roles import get_role
from .rules.kinds import Context, Param
from .rules.model import Priority


@dataclass(frozen=True)
class SelectContext:
    """What priority criteria can look at."""

    rules: Context
    adjacent_to: Callable[[str], np.ndarray] = field(default=lambda cls: np.array([]))


@dataclass(frozen=True)
class Criterion:
    """A registered priority criterion."""

    name: str
    func: Callable[..., np.ndarray]
    params: Mapping[str, Param]


CRITERIA: dict[str, Criterion] = {}


def criterion(
    name: str, **params: Param
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register a priority criterion: a function returning a sort key per parcel (lower first)."""

    def wrap(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        CRITERIA[name] = Criterion(name, func, params)
        return func

    return wrap


@criterion("in_layer", role=Param(str), min_share=Param((int, float), False, 0.5))
def in_layer(ctx: SelectContext, *, role: str, min_share: float = 0.5) -> np.ndarray:
    """Parcels covered by a constraint layer (share ≥ min_share) first."""
    column = get_role(role).share_column
    measures = ctx.rules.measures
    if column not in measures:
        return np.zeros(len(measures))
    return (measures[column].to_numpy(dtype=float) < min_share).astype(float)


@criterion("attribute_in", fields=Param(list), values=Param(list))
def attribute_in(ctx: SelectContext, *, fields: list[str], values: list[str]) -> np.ndarray:
    """Parcels whose fields hold one of the values first."""
    key = np.ones(len(ctx.rules.attributes))
    for name in fields:
        column = ctx.rules.field(name)
        if column is not None:
            key[column.isin([str(v) for v in values]).fillna(False).to_numpy(dtype=bool)] = 0.0
    return key


@criterion("attribute_ascending", field=Param(str))
def attribute_ascending(ctx: SelectContext, *, field: str) -> np.ndarray:
    """Smaller values of a numeric field first (e.g. GDDB: better grade first); missing last."""
    column = ctx.rules.field(field)
    if column is None:
        return np.zeros(len(ctx.rules.attributes))
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), np.inf, values)


@criterion("slope_grade_ascending")
def slope_grade_ascending(ctx: SelectContext) -> np.ndarray:
    """Lower slope grade first: the DEM's grade when a DEM is given, else GDPDJB."""
    grade = ctx.rules.attributes["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    if ctx.rules.has_dem and "slope_grade" in ctx.rules.measures:
        dem = ctx.rules.measures["slope_grade"].to_numpy(dtype=float, na_value=np.nan)
        grade = np.where(np.isnan(dem), grade, dem)
    return np.where(np.isnan(grade), np.inf, grade)


@criterion("area_descending")
def area_descending(ctx: SelectContext) -> np.ndarray:
    """Larger parcels first (large contiguous blocks)."""
    return -ctx.rules.measures["dlmj_m2"].to_numpy(dtype=float)


@criterion("adjacent_to_class", lp_class=Param(str))
def adjacent_to_class(ctx: SelectContext, *, lp_class: str) -> np.ndarray:
    """Parcels touching a parcel already given the class first (e.g. next to PBF)."""
    touching = ctx.adjacent_to(lp_class)
    if not len(touching):
        return np.zeros(len(ctx.rules.attributes))
    return (~touching).astype(float)


def priority_order(
    ctx: SelectContext, priorities: Sequence[Priority], stable_id: np.ndarray
) -> np.ndarray:
    """Positions of all parcels from highest to lowest priority."""
    keys = [CRITERIA[p.criterion].func(ctx, **p.params) for p in priorities]
    # np.lexsort sorts by the last key first
    return np.lexsort([stable_id, *reversed(keys)])


def rank_within(order: np.ndarray, pool: np.ndarray, county: np.ndarray) -> np.ndarray:
    """1-based rank of each pool parcel within its county, following *order*; 0 outside.

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


def fill_quota(
    order: np.ndarray,
    eligible: np.ndarray,
    area_m2: np.ndarray,
    county: np.ndarray,
    target_m2: Mapping[str, float],
) -> np.ndarray:
    """Select, per county, the smallest prefix of *order* whose area reaches the target.

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


def read_targets_table(
    path: str | Path, *, required: tuple[str, ...] = ("county_code",)
) -> pd.DataFrame:
    """A targets CSV (``county_code`` plus 万亩 columns), county codes kept as text.

    Raises
    ------
    InputError
        Naming the file and every *required* column that is missing, with the
        columns present.
    """
    try:
        table = pd.read_csv(path, dtype={"county_code": str}, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            [Problem("TARGETS_UNREADABLE", f"cannot read targets: {exc}", str(path))]
        ) from None
    problems = [
        Problem(
            "TARGETS_COLUMN",
            f"no column {name!r}; columns are {list(table.columns)} "
            "(choose the target column with --targets-column)",
            str(path),
        )
        for name in required
        if name not in table
    ]
    if problems:
        raise InputError(problems)
    return table


def read_targets(path: str | Path, *, column: str = "pbf_2035_wanmu") -> dict[str, float]:
    """Per-county PBF targets in m² from a CSV with ``county_code`` and a 万亩 column.

    Raises
    ------
    InputError
        Naming the file, the missing column and the columns present, or the
        rows whose value is not a number.
    """
    table = read_targets_table(path, required=("county_code", column))
    values = pd.to_numeric(table[column], errors="coerce")
    bad = table.loc[values.isna(), "county_code"].tolist()
    if bad:
        raise InputError(
            [
                Problem(
                    "TARGETS_VALUE",
                    f"column {column!r} is not a number for counties {bad}",
                    str(path),
                )
            ]
        )
    codes = table["county_code"].astype(str).str.strip()
    return dict(zip(codes, values.to_numpy(dtype=float) * M2_PER_WANMU, strict=True))
