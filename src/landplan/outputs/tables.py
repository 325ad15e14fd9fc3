"""The plans' county tables (附录 2, 3, 5) with Chinese headers, in 万亩 to two decimals.

Built from a classification's tables (``target_delineation`` and
``county_quotas``, as in a :class:`~landplan.outputs.result.Result` or the output
GeoPackage) and, where the plan's figures are compared, a targets table
shaped like ``hengyang_county_targets.csv``.

Rounding is balanced the way the survey's statistics are (调平): the city
total is rounded once from unrounded values, and the county figures are
rounded so that they add up to it exactly (largest remainders get the
remaining hundredths).  Unrounded values stay in the tables' ``_m2``
sources; only these display tables are rounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from landplan.core.units import M2_PER_WANMU
from landplan.io.files import write_csv, write_xlsx
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.outputs.indicators import DEFAULT_THRESHOLDS, GRADE_ZH, Thresholds, grade_indicator

__all__ = [
    "T_RULE_HEADERS_ZH",
    "appendix2",
    "appendix3",
    "appendix5",
    "balanced_round",
    "plan_tables",
    "write_tables",
]

#: The plan's 附录 2 column headers for the canonical T rules.
T_RULE_HEADERS_ZH: Mapping[str, str] = {
    "T_APPROVED_CONSTRUCTION": "已批建设占用",
    "T_RETURN_FOREST": "退耕还林还草",
    "T_AGRI_FACILITY": "农业设施占用",
    "T_NATURE_CORE": "自然保护地核心区",
    "T_WATER_SOURCE_L1": "水源一级保护区",
    "T_RIVER_LAKE_EXIT": "河湖范围内",
    "T_SURPLUS_QUOTA": "补充耕地储备库结余指标",
    "T_SMALL_FRAGMENT": "碎小图斑",
}
_CODE, _NAME = "行政区代码", "行政区名称"


def balanced_round(values: np.ndarray, total: float, decimals: int = 2) -> np.ndarray:
    """Round *values* to *decimals* so that they add up to *total* rounded once.

    Largest-remainder method: every value is floored to the unit, and the
    units still missing go to the values with the largest remainders.  The
    total is rounded half away from zero (四舍五入), after cleaning float
    noise below 1e-6 of a unit.

    Parameters
    ----------
    values
        The unrounded values.
    total
        Their unrounded total.
    decimals
        Number of decimals to round to.

    Returns
    -------
    numpy.ndarray
        The rounded values (float), adding up to *total* rounded to *decimals*.

    Examples
    --------
    >>> balanced_round(np.array([0.335, 0.335, 0.33]), 1.0).tolist()
    [0.34, 0.33, 0.33]
    >>> float(balanced_round(np.array([1.005, 2.004, 3.006]), 6.015).sum())
    6.02
    """
    scale = 10**decimals
    scaled = np.asarray(values, dtype=float) * scale
    floor = np.floor(scaled + 1e-9)
    clean = round(total * scale, 6)
    missing = int(math.copysign(math.floor(abs(clean) + 0.5), clean)) - int(floor.sum())
    remainder = scaled - floor
    order = np.argsort(-remainder, kind="stable")
    units = floor.copy()
    if missing > 0:
        units[order[:missing]] += 1
    elif missing < 0:
        units[order[::-1][:-missing]] -= 1
    return units / scale


def _county_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["county_code"].astype(str) != CITY_TOTAL]


def _display(
    counties: pd.DataFrame, columns: Mapping[str, np.ndarray], *, decimals: int = 2
) -> pd.DataFrame:
    """A county table in 万亩 with a balanced city row first (as the plans print it)."""
    out = pd.DataFrame(
        {_CODE: counties["county_code"].astype(str).to_numpy(),
         _NAME: counties["county_name"].astype(str).to_numpy()}
    )  # fmt: skip
    city: dict[str, object] = {_CODE: "", _NAME: CITY_TOTAL}
    for header, m2 in columns.items():
        wanmu = np.asarray(m2, dtype=float) / M2_PER_WANMU
        total = float(np.nansum(wanmu))
        out[header] = balanced_round(np.nan_to_num(wanmu), total, decimals)
        # the parts add up to the total rounded 四舍五入; print exactly that sum
        city[header] = round(float(out[header].sum()), decimals)
    return pd.concat([pd.DataFrame([city]), out], ignore_index=True)


def appendix2(delineation: pd.DataFrame) -> pd.DataFrame:
    """附录 2 耕地保护目标划定情况表 from a ``target_delineation`` table.

    Parameters
    ----------
    delineation
        The ``target_delineation`` table (``Result.delineation``); its city
        total row, if any, is left out and summed afresh.

    Returns
    -------
    pandas.DataFrame
        City row first, then one row per county: current farmland, protection
        target, excluded farmland and its breakdown by T rule, in 万亩 to two
        decimals.
    """
    counties = _county_rows(delineation)
    rules = [c[:-3] for c in counties.columns if c.startswith("T_") and c.endswith("_m2")]
    columns = {
        "现状耕地": counties["farmland_m2"],
        "耕地保护目标耕地": counties["protection_target_m2"],
        "未纳入耕地保护目标耕地-小计": counties["excluded_m2"],
    }
    for rule in rules:
        columns[f"未纳入-{T_RULE_HEADERS_ZH.get(rule, rule)}"] = counties[f"{rule}_m2"]
    return _display(counties, {k: np.asarray(v) for k, v in columns.items()})


def _targets_m2(targets: pd.DataFrame | None, codes: pd.Series, column: str) -> np.ndarray:
    if targets is None or column not in targets:
        return np.full(len(codes), np.nan)
    by_code = dict(zip(targets["county_code"].astype(str), targets[column], strict=True))
    return np.array([by_code.get(c, np.nan) for c in codes.astype(str)], dtype=float) * (
        M2_PER_WANMU
    )


def appendix3(quotas: pd.DataFrame, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """附录 3 可恢复耕地资源潜力 and the gap to the protection target.

    Columns: recoverable potential (``RECOVERY`` area), reserve-eligible
    farmland not selected (储备资源), the computed protection target, the
    plan's target (``protection_target_2035_wanmu`` of *targets*) and the gap
    (plan target − computed protection target; > 0 means more is needed).

    Parameters
    ----------
    quotas
        The ``county_quotas`` table (``Result.quotas``).
    targets
        Targets table with ``county_code`` and ``protection_target_2035_wanmu``
        (万亩); without it (or that column) the plan's target and the gap are
        left out.

    Returns
    -------
    pandas.DataFrame
        City row first, then one row per county, in 万亩 to two decimals.
    """
    counties = _county_rows(quotas)
    plan = _targets_m2(targets, counties["county_code"], "protection_target_2035_wanmu")
    computed = counties["protection_target_m2"].to_numpy(float)
    columns = {
        "可恢复耕地资源潜力": counties["recovery_m2"].to_numpy(float),
        "永久基本农田储备资源": (
            counties["reserve_eligible_m2"] - counties["reserve_selected_m2"]
        ).to_numpy(float),
        "耕地保护目标(计算)": computed,
    }
    if not np.isnan(plan).all():
        columns["耕地保护目标(规划)"] = np.nan_to_num(plan)
        columns["耕地责任目标缺口"] = np.nan_to_num(plan) - computed
    return _display(counties, columns)


def appendix5(
    quotas: pd.DataFrame,
    targets: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """附录 5 耕地保护主要规划指标分解表: indicators computed vs target, with warning grades.

    Indicators: protection target (``protection_target_2035_wanmu``), PBF (the
    PBF target the quotas used), reserve (``reserve_share_of_pbf`` of the PBF
    selected).  Each gets its computed figure, target, balance and grade
    (:mod:`landplan.outputs.indicators`).

    Parameters
    ----------
    quotas
        The ``county_quotas`` table (``Result.quotas``).
    targets
        Targets table with ``county_code`` and ``protection_target_2035_wanmu``
        (万亩); without it the protection target indicator is left out.
    thresholds
        Thresholds of the grades.

    Returns
    -------
    pandas.DataFrame
        City row first, then one row per county: ``<indicator>-目标``, ``-计算``
        and ``-差额`` in 万亩 to two decimals and ``-预警`` (the grade in
        Chinese), for every indicator with a target.
    """
    counties = _county_rows(quotas)
    plan_target = _targets_m2(targets, counties["county_code"], "protection_target_2035_wanmu")
    indicators = {
        "耕地保护目标": (counties["protection_target_m2"].to_numpy(float), plan_target),
        "永久基本农田": (
            counties["pbf_selected_m2"].to_numpy(float),
            counties["pbf_target_m2"].to_numpy(float),
        ),
        "永久基本农田储备区": (
            counties["reserve_selected_m2"].to_numpy(float),
            counties["reserve_target_m2"].to_numpy(float),
        ),
    }
    columns: dict[str, np.ndarray] = {}
    for name, (computed, target) in indicators.items():
        if np.isnan(target).all():
            continue
        columns[f"{name}-目标"] = np.nan_to_num(target)
        columns[f"{name}-计算"] = computed
        columns[f"{name}-差额"] = computed - np.nan_to_num(target)
    table = _display(counties, columns)
    for name, (computed, target) in indicators.items():
        if np.isnan(target).all():
            continue
        grades = grade_indicator(
            np.r_[computed.sum(), computed], np.r_[np.nansum(target), target], thresholds
        )
        table[f"{name}-预警"] = [GRADE_ZH[g] for g in grades]
    return table


def plan_tables(
    delineation: pd.DataFrame,
    quotas: pd.DataFrame,
    targets: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> dict[str, pd.DataFrame]:
    """附录 2, 3 and 5 by their file names.

    Parameters
    ----------
    delineation
        The ``target_delineation`` table, for 附录 2.
    quotas
        The ``county_quotas`` table, for 附录 3 and 5.
    targets
        Targets table of the plan (``county_code`` and 万亩 columns), if any.
    thresholds
        Thresholds of the indicator grades in 附录 5.

    Returns
    -------
    dict of str to pandas.DataFrame
        :func:`appendix2`, :func:`appendix3` and :func:`appendix5` by file name
        (without suffix).
    """
    return {
        "附录2_耕地保护目标划定情况表": appendix2(delineation),
        "附录3_可恢复耕地资源潜力": appendix3(quotas, targets),
        "附录5_耕地保护主要规划指标分解表": appendix5(quotas, targets, thresholds=thresholds),
    }


def write_tables(tables: Mapping[str, pd.DataFrame], directory: str | Path) -> list[Path]:
    """Each table as CSV (UTF-8 with BOM) and all of them as sheets of one XLSX.

    Parameters
    ----------
    tables
        Tables by file name (:func:`plan_tables`).
    directory
        The folder; created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(directory)
    written = [
        write_csv(table, out / f"{name}.csv", float_format="%.2f") for name, table in tables.items()
    ]
    sheets = {name.split("_")[0]: table for name, table in tables.items()}
    written.append(write_xlsx(sheets, out / "plan_tables.xlsx"))
    return written
