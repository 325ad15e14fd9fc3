"""County totals: sums by county with ha, mu and 万亩, and a city total row.

Totals are summed from unrounded values; rounding is for display only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from landplan.allocate.classes import Assignment
from landplan.core.groups import groups_of
from landplan.core.palette import CLASS_CODES
from landplan.core.units import M2_PER_HA, M2_PER_MU, M2_PER_WANMU
from landplan.io.reference import county_names

__all__ = [
    "CITY_TOTAL",
    "add_total_row",
    "class_totals",
    "county_table",
    "county_table_of",
    "pbf_change_table",
    "quota_table",
    "stage_b_table",
    "stage_d_table",
    "stage_totals",
    "summarize_measures_by_county",
    "target_delineation",
    "with_units",
]

#: Label of the city total row.
CITY_TOTAL = "全市"


def with_units(table: pd.DataFrame, area_m2_column: str, prefix: str) -> pd.DataFrame:
    """Add ``<prefix>_ha``, ``<prefix>_mu`` and ``<prefix>_wanmu`` from an m² column.

    Parameters
    ----------
    table
        Any table.
    area_m2_column
        Name of the column of areas in m².
    prefix
        Start of the new columns' names.

    Returns
    -------
    pandas.DataFrame
        A copy of *table* with the area in ha, mu and 万亩 appended.

    Examples
    --------
    >>> t = with_units(pd.DataFrame({"a": [666_666.67]}), "a", "area")
    >>> [round(float(t[c].iloc[0]), 2) for c in ("area_ha", "area_mu", "area_wanmu")]
    [66.67, 1000.0, 0.1]
    """
    out = table.copy()
    m2 = out[area_m2_column].to_numpy(dtype=float)
    out[f"{prefix}_ha"] = m2 / M2_PER_HA
    out[f"{prefix}_mu"] = m2 / M2_PER_MU
    out[f"{prefix}_wanmu"] = m2 / M2_PER_WANMU
    return out


def add_total_row(table: pd.DataFrame, *, key: str = "county_code") -> pd.DataFrame:
    """Append a city total row summing every numeric column (from unrounded values).

    Parameters
    ----------
    table
        One row per county.
    key
        Column labelled :data:`CITY_TOTAL` in the total row (as is ``county_name``,
        when present); other non-numeric columns are left empty there.

    Returns
    -------
    pandas.DataFrame
        *table* with the total row last, on a fresh integer index.
    """
    numeric = table.select_dtypes(include=[np.number]).columns
    total = {c: table[c].sum() for c in numeric}
    total[key] = CITY_TOTAL
    if "county_name" in table:
        total["county_name"] = CITY_TOTAL
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def county_table(frame: pd.DataFrame, *, total: bool = True) -> pd.DataFrame:
    """Sum per-parcel figures by county, name the counties and add 万亩 columns.

    Parameters
    ----------
    frame
        One row per parcel: ``county_code`` and numeric columns; those ending
        in ``_m2`` get a ``_wanmu`` twin.
    total
        Append the city total row (:func:`add_total_row`).

    Returns
    -------
    pandas.DataFrame
        One row per county (sorted by code), ``county_name`` second.
    """
    return _named(frame.groupby("county_code", sort=True).sum().reset_index(), total=total)


def county_table_of(
    county: np.ndarray | pd.Series, figures: Mapping[str, np.ndarray], *, total: bool = True
) -> pd.DataFrame:
    """:func:`county_table` of per-parcel figures given as arrays, summed without a parcel table.

    A table of every parcel (the county codes as text, the figures stacked
    into one block) took most of the time of the driver's tables for a
    city; the figures are summed county by county with ``numpy.bincount``.

    Parameters
    ----------
    county
        County code of every parcel, grouped as text as :func:`county_table`
        groups them (:func:`~landplan.core.groups.groups_of`); parcels
        without one are left out, as there.
    figures
        Per-parcel figures by column name, floats; those ending in ``_m2`` get
        a ``_wanmu`` twin.
    total
        Append the city total row.

    Returns
    -------
    pandas.DataFrame
        As :func:`county_table` of a table of *county* and *figures*.

    Examples
    --------
    >>> county_table_of(np.array(["430421", "430422", "430421"]),
    ...                 {"pbf_m2": np.array([1.0, 2.0, 4.0])})[["county_code", "pbf_m2"]]
      county_code  pbf_m2
    0      430421     5.0
    1      430422     2.0
    2          全市     7.0
    """
    groups = groups_of(county)  # parcels without a county are left out
    sums = {name: groups.sum(values) for name, values in figures.items()}
    return _named(pd.DataFrame({"county_code": groups.keys, **sums}), total=total)


def _named(table: pd.DataFrame, *, total: bool) -> pd.DataFrame:
    """Counties' rows named, the city total row added if asked, 万亩 twins of the m² columns."""
    table.insert(1, "county_name", table["county_code"].map(county_names()).fillna(""))
    if total:
        table = add_total_row(table)
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table[column[:-3] + "_wanmu"] = table[column] / M2_PER_WANMU
    return table


def summarize_measures_by_county(attributes: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Per-county figures of a measured parcel layer, with a city total row.

    Columns: parcels, total area, farmland parcels and area (after KCXS) in
    ha and 万亩, farmland area steeper than 25° and in the ecological redline
    (when measured).

    Parameters
    ----------
    attributes
        Survey attributes of every parcel (``COUNTY``, ``IS_FARMLAND``).
    measures
        Measurement table in the same row order: ``area_m2``, ``dlmj_m2`` and,
        when measured, ``slope_gt25_share`` and ``os_eco``.

    Returns
    -------
    pandas.DataFrame
        One row per county (sorted by code) and the city total row; every
        ``*_m2`` column with its ``_ha``, ``_mu`` and ``_wanmu`` twins.
    """
    farm = attributes["IS_FARMLAND"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "county_code": attributes["COUNTY"].to_numpy(),
            "parcels": 1,
            "area_m2": measures["area_m2"].to_numpy(),
            "farmland_parcels": farm.astype(int),
            "farmland_m2": np.where(farm, measures["dlmj_m2"].to_numpy(), 0.0),
        }
    )
    if "slope_gt25_share" in measures:
        frame["farmland_gt25_m2"] = (
            frame["farmland_m2"] * measures["slope_gt25_share"].fillna(0).to_numpy()
        )
    if "os_eco" in measures:
        frame["farmland_eco_m2"] = frame["farmland_m2"] * measures["os_eco"].to_numpy()
    table = frame.groupby("county_code", sort=True).sum().reset_index()
    table.insert(1, "county_name", table["county_code"].map(county_names()).fillna(""))
    table = add_total_row(table)
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table = with_units(table, column, column[:-3])
    return table


def class_totals(county: pd.Series, lp_class: pd.Series, area_m2: pd.Series) -> pd.DataFrame:
    """Long table county × class: parcels and area in m², ha, mu and 万亩, with city rows.

    Every class appears for every county (zero rows included), in palette
    order; city rows (``county_code`` = 全市) sum the unrounded county values.

    Parameters
    ----------
    county
        County code of every parcel.
    lp_class
        Class code of every parcel.
    area_m2
        Area (m²) of every parcel.

    Returns
    -------
    pandas.DataFrame
        Columns ``county_code``, ``county_name``, ``lp_class``, ``parcels``,
        ``area_m2``, ``area_ha``, ``area_mu`` and ``area_wanmu``; county rows
        first, then the city rows.
    """
    groups = groups_of(county)
    classes = np.asarray(CLASS_CODES, dtype=object)
    kind, found = pd.factorize(lp_class)
    position = np.full(len(found) + 1, -1, dtype=np.intp)  # class codes by palette position
    position[:-1] = [CLASS_CODES.index(c) if c in CLASS_CODES else -1 for c in found]
    at = position[kind]
    parcels = groups.sum_by(at, len(classes), np.ones(len(at)))  # county × class
    table = pd.DataFrame(
        {
            "county_code": np.repeat(groups.keys, len(classes)),
            "lp_class": np.tile(classes, len(groups.keys)),
            "parcels": parcels.ravel().astype(np.int64),
            "area_m2": groups.sum_by(at, len(classes), area_m2).ravel(),
        }
    )
    city = pd.DataFrame(
        {
            "county_code": CITY_TOTAL,
            "lp_class": classes,
            "parcels": table["parcels"].to_numpy().reshape(-1, len(classes)).sum(axis=0),
            "area_m2": table["area_m2"].to_numpy().reshape(-1, len(classes)).sum(axis=0),
        }
    )
    table = pd.concat([table, city], ignore_index=True)
    table.insert(
        1,
        "county_name",
        table["county_code"].map({**county_names(), CITY_TOTAL: CITY_TOTAL}).fillna(""),
    )
    return with_units(table, "area_m2", "area")


def target_delineation(
    county: pd.Series, farmland: pd.Series, area_m2: pd.Series, t_hits: pd.DataFrame
) -> pd.DataFrame:
    """附录 2 耕地保护目标划定情况表: current farmland, protection target, exclusions by T rule.

    A parcel excluded by several T rules is counted once, under the first of
    them in profile order, so the breakdown adds up to the excluded total.

    Parameters
    ----------
    county
        County code of every parcel.
    farmland
        Whether each parcel is current farmland.
    area_m2
        Land-class area (after KCXS, m²) of every parcel; NaN counts as 0.
    t_hits
        Whether each T rule fired for each parcel: one boolean column per rule,
        named by its id, in profile order; rows in parcel order.

    Returns
    -------
    pandas.DataFrame
        One row per county and the city total row: ``farmland_m2``,
        ``protection_target_m2``, ``excluded_m2`` and ``<rule id>_m2`` per T
        rule, each with a ``_wanmu`` twin (:func:`county_table`).
    """
    is_farm = farmland.to_numpy(dtype=bool)
    hits = t_hits.to_numpy(dtype=bool) & is_farm[:, None]
    excluded = hits.any(axis=1)
    first = np.where(excluded, hits.argmax(axis=1), -1)
    area = np.nan_to_num(area_m2.to_numpy(dtype=float))
    groups = groups_of(county)
    # categories: 0 kept as target, 1 + j excluded by T rule j first; -1 not farmland
    sums = groups.sum_by(np.where(is_farm, first + 1, -1), len(t_hits.columns) + 1, area)
    figures = {
        "farmland_m2": sums.sum(axis=1),
        "protection_target_m2": sums[:, 0],
        "excluded_m2": sums[:, 1:].sum(axis=1),
        **{f"{rule_id}_m2": sums[:, 1 + j] for j, rule_id in enumerate(t_hits.columns)},
    }
    return _named(pd.DataFrame({"county_code": groups.keys, **figures}), total=True)


#: Pools of :class:`~landplan.allocate.classes.Assignment` summed in the quota table, by column.
_QUOTA_POOLS = {
    "farmland_m2": "farmland",
    "protection_target_m2": "target",
    "pbf_eligible_m2": "pbf_eligible",
    "pbf_selected_m2": "pbf",
    "reserve_eligible_m2": "reserve_eligible",
    "reserve_selected_m2": "reserve",
    "pbf_paddy_m2": "pbf_paddy",
    "pbf_slope_le15_m2": "pbf_slope_le15",
    "high_standard_m2": "high_standard",
}


def quota_table(
    county: np.ndarray,
    area_m2: np.ndarray,
    full_area_m2: np.ndarray,
    assignment: Assignment,
    p_hits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per county: the pools, the PBF and reserve targets, what was selected and why short.

    Parameters
    ----------
    county
        County code of every parcel.
    area_m2
        Land-class area (after KCXS) of every parcel; NaN counts as 0.
    full_area_m2
        Whole area of every parcel (recovery candidates are counted whole).
    assignment
        The classes and pools of :func:`~landplan.allocate.classes.assign_classes`.
    p_hits
        Hits of the P rules, one boolean column per rule ID in the parcels'
        order: protection-target farmland each rule kept out of the PBF pool
        is given per rule, so a shortfall explains itself.

    Returns
    -------
    pandas.DataFrame
        One row per county: areas in m² and 万亩, targets and where they came
        from, the balances, ``pbf_paddy_share`` and ``pbf_slope_le15_share``
        (of the PBF selected: paddy, and GDPDJB grade ≤ 3, as 003 ch.4 §1
        reports them), ``pbf_out_<rule>_m2`` (target farmland a P rule kept
        out of the PBF pool, counted under the first rule that fired) and
        ``pbf_eligible_left_m2`` (eligible farmland not selected).
    """
    area = np.nan_to_num(area_m2)
    pools = assignment.pools
    columns = {name: np.where(pools[pool], area, 0.0) for name, pool in _QUOTA_POOLS.items()}
    frame = pd.DataFrame(
        {
            "county_code": county.astype(str),
            **columns,
            "recovery_m2": np.where(pools["recovery"], full_area_m2, 0.0),
            **_pbf_out_by_rule(pools, area, p_hits),
            "pbf_eligible_left_m2": np.where(pools["pbf_eligible"] & ~pools["pbf"], area, 0.0),
        }
    )
    table = frame.groupby("county_code", sort=True).sum()
    codes = list(table.index)
    table.insert(2, "pbf_target_m2", [assignment.pbf_target_m2.get(c, 0.0) for c in codes])
    table.insert(3, "pbf_target_source", [assignment.target_source.get(c, "") for c in codes])
    table["pbf_balance_m2"] = table["pbf_selected_m2"] - table["pbf_target_m2"]
    table["reserve_target_m2"] = [assignment.reserve_target_m2.get(c, 0.0) for c in codes]
    table["reserve_balance_m2"] = table["reserve_selected_m2"] - table["reserve_target_m2"]
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in ("pbf_paddy", "pbf_slope_le15"):
            table[f"{name}_share"] = table[f"{name}_m2"] / table["pbf_selected_m2"]
    return county_table(table.reset_index(), total=False)


def _pbf_out_by_rule(
    pools: Mapping[str, np.ndarray], area: np.ndarray, p_hits: pd.DataFrame | None
) -> dict[str, np.ndarray]:
    """Target farmland kept out of the PBF pool, per P rule (the first that fired)."""
    if p_hits is None or not len(p_hits.columns):
        return {}
    hits = p_hits.to_numpy(dtype=bool) & pools["target"][:, None]
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    return {
        f"pbf_out_{rule_id}_m2": np.where(first == i, area, 0.0)
        for i, rule_id in enumerate(p_hits.columns)
    }


def pbf_change_table(
    county: np.ndarray | pd.Series,
    change: np.ndarray | pd.Series,
    area_m2: np.ndarray,
    exit_hits: pd.DataFrame,
) -> pd.DataFrame:
    """Per county: existing PBF kept, removed (by the rule that removed it) and added.

    Parameters
    ----------
    county
        County code of every parcel.
    change
        ``lp_pbf_change`` of every parcel: ``KEPT``, ``REMOVED``, ``ADDED`` or empty.
    area_m2
        Area of every parcel (land-class area for farmland), m².
    exit_hits
        Hits of the rules that can remove existing PBF (T rules, then the P
        rules whose ``existing_pbf`` is ``exit``), one boolean column per rule
        ID, in the parcels' order.

    Returns
    -------
    pandas.DataFrame
        One row per county and a city total row: ``existing_m2`` (kept and
        removed), ``kept_m2``, ``removed_m2``, ``removed_<rule>_m2`` per rule
        (a removed parcel counts under the first rule that fired for it),
        ``removed_not_farmland_m2`` (existing PBF that is not farmland today),
        ``added_m2``, ``pbf_m2`` (kept and added) and ``balance_m2`` (added
        minus removed), each with its 万亩 twin.
    """
    area = np.nan_to_num(np.asarray(area_m2, dtype=float))
    kept, removed, added = (
        np.asarray(change == c, dtype=bool) for c in ("KEPT", "REMOVED", "ADDED")
    )
    hits = exit_hits.to_numpy(dtype=bool)
    rules = len(exit_hits.columns)
    # categories: 0 kept, 1 added, 2 + i removed by rule i first, 2 + rules removed by none
    removed_by = 2 + np.where(hits.any(axis=1), hits.argmax(axis=1), rules)
    category = np.where(kept, 0, np.where(added, 1, np.where(removed, removed_by, -1)))
    groups = groups_of(county)
    sums = groups.sum_by(category, rules + 3, area)
    gone = sums[:, 2:].sum(axis=1)
    columns: dict[str, np.ndarray] = {
        "existing_m2": sums[:, 0] + gone,
        "kept_m2": sums[:, 0],
        "removed_m2": gone,
    }
    for i, rule_id in enumerate(exit_hits.columns):
        columns[f"removed_{rule_id}_m2"] = sums[:, 2 + i]
    columns["removed_not_farmland_m2"] = sums[:, 2 + rules]
    columns["added_m2"] = sums[:, 1]
    columns["pbf_m2"] = sums[:, 0] + sums[:, 1]
    columns["balance_m2"] = columns["added_m2"] - columns["removed_m2"]
    return _named(pd.DataFrame({"county_code": groups.keys, **columns}), total=True)


#: Stages defined by land class (耕地后备资源, 旱改水) and their pools in an assignment.
CLASS_STAGES = {"B": "stage_b", "D": "stage_d"}


def stage_totals(
    county: np.ndarray,
    dlbm: np.ndarray,
    pools: Mapping[str, np.ndarray],
    area_m2: np.ndarray,
    *,
    parts: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Long table of the class-defined stages: area per stage, county, land class and status.

    Parameters
    ----------
    county
        County code of every parcel.
    dlbm
        Land class (four-character base code) of every parcel.
    pools
        The assignment's pools (``stage_b``, ``stage_b_candidate``, ``stage_d`` ...).
    area_m2
        Land-class area (after KCXS) of every parcel, m².
    parts
        Named masks of parcels whose area is also totalled (``<name>_m2``): the
        pipeline gives ``block_ge15mu`` / ``block_ge30mu`` (旱改水 candidates in
        blocks of candidates that large, 004 ch.7 §1), ``adjacent`` (耕地后备资源
        contiguous with existing farmland, 003 ch.7 §1 现有耕地周边补充耕地潜力),
        ``water`` and ``flat`` (旱改水 candidates with a water source, and on
        slopes of at most 6°).

    Returns
    -------
    pandas.DataFrame
        ``stage``, ``county_code``, ``dlbm``, ``status`` (CANDIDATE or
        EXCLUDED), ``parcels``, ``area_m2`` and ``<part>_m2`` per part: one
        row per combination present.
    """
    area = np.nan_to_num(np.asarray(area_m2, dtype=float))
    frames = []
    for stage, pool in CLASS_STAGES.items():
        member = pools[pool]
        status = np.where(pools[f"{pool}_candidate"], "CANDIDATE", "EXCLUDED")[member]
        frames.append(
            pd.DataFrame(
                {
                    "stage": stage,
                    "county_code": np.asarray(county).astype(str)[member],
                    "dlbm": np.asarray(dlbm).astype(str)[member],
                    "status": status,
                    "parcels": 1,
                    "area_m2": area[member],
                    **{
                        f"{name}_m2": np.where(inside, area, 0.0)[member]
                        for name, inside in (parts or {}).items()
                    },
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    keys = ["stage", "county_code", "dlbm", "status"]
    values = [c for c in long.columns if c not in keys]
    return long.groupby(keys, sort=True, as_index=False)[values].sum()


def _stage_rows(totals: pd.DataFrame, stage: str) -> pd.DataFrame:
    rows = totals[totals["stage"] == stage]
    return rows.assign(
        candidate_m2=np.where(rows["status"] == "CANDIDATE", rows["area_m2"], 0.0),
        excluded_m2=np.where(rows["status"] == "EXCLUDED", rows["area_m2"], 0.0),
    )


def stage_b_table(totals: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """耕地后备资源 per county as 003 ch.7 §1 prints it: 宜耕林地, 宜耕非林地 and by class.

    Parameters
    ----------
    totals
        :func:`stage_totals`.
    classes
        The stage's land classes (the profile's ``stage_b_classes``), for columns
        of classes without candidates.

    Returns
    -------
    pandas.DataFrame
        One row per county and a city total row: ``candidate_m2`` (the
        potential), ``forest_m2`` (宜耕林地: 03xx), ``nonforest_m2`` (宜耕非林地),
        ``adjacent_m2`` (candidates contiguous with existing farmland: 现有耕地
        周边补充耕地潜力),
        ``dlbm_<code>_m2`` per class, ``excluded_m2``, each with its 万亩 twin.
        Classes of ``stage_b_abandoned_classes`` enter the pool only where the
        ``abandoned_land`` layer marks them, so by default ``dlbm_1104_m2``
        is 废弃坑塘水面 and ``dlbm_0602_m2`` 废弃采矿用地, both 宜耕非林地 as
        003 ch.7 §1 counts them.
    """
    rows = _stage_rows(totals, "B")
    forest = rows["dlbm"].str.startswith("03").to_numpy()
    frame = pd.DataFrame(
        {
            "county_code": rows["county_code"].to_numpy(),
            "candidate_m2": rows["candidate_m2"].to_numpy(),
            "forest_m2": np.where(forest, rows["candidate_m2"], 0.0),
            "nonforest_m2": np.where(~forest, rows["candidate_m2"], 0.0),
            "adjacent_m2": np.where(
                rows["status"] == "CANDIDATE", rows.get("adjacent_m2", 0.0), 0.0
            ),
            **{
                f"dlbm_{code}_m2": np.where(rows["dlbm"] == code, rows["candidate_m2"], 0.0)
                for code in classes
            },
            "excluded_m2": rows["excluded_m2"].to_numpy(),
        }
    )
    return county_table(frame)


def stage_d_table(totals: pd.DataFrame) -> pd.DataFrame:
    """旱改水 potential per county (003 ch.7 §1: 全市…约 14.29 万亩): candidates and exclusions.

    Parameters
    ----------
    totals
        :func:`stage_totals`.

    Returns
    -------
    pandas.DataFrame
        One row per county and a city total row: ``candidate_m2``,
        ``excluded_m2``, ``block_ge<size>mu_m2`` (candidates in contiguous
        blocks of candidates at least that large), ``water_m2`` (with a water
        source: the ``irrigation`` layer covers half of them) and ``flat_m2``
        (GDPDJB ≤ 2, at most 6°) — the plan's 水源, 坡度 and 连片程度 — with their
        万亩 twins.
    """
    rows = _stage_rows(totals, "D")
    grades = [c for c in rows.columns if c.startswith("block_ge") or c in ("water_m2", "flat_m2")]
    frame = rows[["county_code", "candidate_m2", "excluded_m2", *grades]]
    return county_table(frame.reset_index(drop=True))
