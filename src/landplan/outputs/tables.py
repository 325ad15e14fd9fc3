"""The plans' county tables (附录 2, 3, 5) with Chinese headers, in 万亩 to two decimals.

Built from a classification's tables (``target_delineation`` and
``county_quotas``, as in a :class:`~landplan.outputs.result.Result` or the output
GeoPackage) and, where the plan's figures are compared, a targets table
shaped like ``hengyang_county_targets.csv``.

Rounding is balanced the way the survey's statistics are (调平): the city
total is rounded once from unrounded values (四舍五入), and the county figures
are rounded so that they add up to it exactly (largest remainders get the
remaining hundredths); no figure moves by a hundredth or more.  Every row
is consistent as printed:

- 附录 2: a 小计 is the sum of its printed parts, and 耕地保护目标耕地 is
  现状耕地 − 小计 as printed (as the unrounded figures are);
- 附录 3: the gap is 规划 − 计算 as printed, never of the other sign than the
  unrounded gap;
- 附录 5: 差额 is 计算 − 目标 as printed; the grade is computed from unrounded
  areas (:func:`~landplan.outputs.indicators.grade_indicator`), and the pair
  目标 / 计算 is rounded so that the printed 差额 is negative exactly when the
  indicator falls short (:func:`paired_round`).  差额率(%) prints the relative
  balance the grade thresholds apply to, rounded down, so that it agrees with
  the grade at every threshold that is a whole hundredth of a percent.

Unrounded values stay in the tables' ``_m2`` sources; only these display
tables are rounded.  Each table carries its title, unit and notes in
``DataFrame.attrs`` (``title``, ``unit``, ``notes``), which :func:`write_tables`
prints above and below it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from landplan.core.units import M2_PER_WANMU
from landplan.io.files import PublishedTable, write_published_csv, write_xlsx
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.outputs.indicators import DEFAULT_THRESHOLDS, GRADE_ZH, Thresholds, grade_indicator

__all__ = [
    "PRINTED_ONLY",
    "T_RULE_HEADERS_ZH",
    "appendix2",
    "appendix3",
    "appendix5",
    "balanced_round",
    "paired_round",
    "plan_tables",
    "published",
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
_EXCLUDED = "未纳入耕地保护目标耕地"
UNIT = "万亩"

log = logging.getLogger(__name__)


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


#: How printed computed (c) and target (t) of a row must compare.
_RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "": lambda c, t: True,
    "ge": lambda c, t: c >= t,
    "lt": lambda c, t: c < t,
    "le": lambda c, t: c <= t,
    "eq": lambda c, t: c == t,
}
_VIOLATION = 1e6  # cost of a row whose printed relation disagrees: avoided whenever possible
_NOT_HALF_UP = 1e3  # cost of a city total that is not the 四舍五入 of the unrounded total


def _half_up(units: float) -> int:
    clean = round(units, 6)
    return int(math.copysign(math.floor(abs(clean) + 0.5), clean))


def _relation_of(computed: np.ndarray, target: np.ndarray) -> list[str]:
    """``ge`` where computed ≥ target (unrounded), ``lt`` where short, none without target."""
    return [
        "" if np.isnan(t) else ("ge" if c >= t else "lt")
        for c, t in zip(computed, target, strict=True)
    ]


def paired_round(
    computed: np.ndarray,
    target: np.ndarray,
    relations: Sequence[str],
    *,
    city_relation: str = "",
    decimals: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Round two columns each balanced to its total, keeping how each row's pair compares.

    Each value is rounded down or up to *decimals* (never further), each
    column adds up to its total rounded 四舍五入 (or, where that cannot keep a
    relation, to its other neighbour), and each row's printed pair keeps its
    relation: ``"ge"`` (computed ≥ target), ``"lt"`` (computed < target),
    ``"le"``, ``"eq"`` or ``""`` (none); so does the city row of the totals
    (*city_relation*).  Among the roundings that do, the one with the least
    total rounding error is chosen (dynamic programming over how many values
    of each column are rounded up), which without relations is the largest-
    remainder rounding of :func:`balanced_round`.

    Parameters
    ----------
    computed, target
        The unrounded columns (no NaN).
    relations
        The relation of every row.
    city_relation
        The relation of the totals.
    decimals
        Number of decimals to round to.

    Returns
    -------
    tuple of numpy.ndarray
        The rounded *computed* and *target*.

    Examples
    --------
    A county 0.3 % short of 0.372 would print 0.37 − 0.37 = 0.00 rounded
    half-up; kept short, the target goes up instead:

    >>> c, t = paired_round(np.array([0.371, 1.0]), np.array([0.372, 0.904]), ["lt", "ge"])
    >>> c.tolist(), t.tolist()
    ([0.37, 1.0], [0.38, 0.9])
    """
    scale = 10**decimals
    c = np.round(np.asarray(computed, dtype=float) * scale, 6)
    t = np.round(np.asarray(target, dtype=float) * scale, 6)
    floor_c, floor_t = np.floor(c), np.floor(t)
    n = len(c)
    cost = np.full((n + 1, n + 1), np.inf)  # [values of c rounded up, of t rounded up]
    cost[0, 0] = 0.0
    picks = []
    for i in range(n):
        new, pick = np.full_like(cost, np.inf), np.zeros(cost.shape, dtype=np.int8)
        for up_c, up_t in ((0, 0), (0, 1), (1, 0), (1, 1)):
            if (up_c and c[i] == floor_c[i]) or (up_t and t[i] == floor_t[i]):
                continue  # a whole number of hundredths is never moved
            pc, pt = floor_c[i] + up_c, floor_t[i] + up_t
            step = abs(pc - c[i]) + abs(pt - t[i])
            step += 0.0 if _RELATIONS[relations[i]](pc, pt) else _VIOLATION
            candidate = np.full_like(cost, np.inf)
            candidate[up_c:, up_t:] = cost[: n + 1 - up_c, : n + 1 - up_t] + step
            better = candidate < new
            new[better], pick[better] = candidate[better], 2 * up_c + up_t
        cost = new
        picks.append(pick)
    k_c, k_t = _best_totals(cost, c, t, (floor_c.sum(), floor_t.sum()), city_relation)
    up = np.zeros((n, 2), dtype=int)
    for i in range(n - 1, -1, -1):
        choice = int(picks[i][k_c, k_t])
        up[i] = divmod(choice, 2)
        k_c, k_t = k_c - up[i, 0], k_t - up[i, 1]
    printed_c, printed_t = floor_c + up[:, 0], floor_t + up[:, 1]
    broken = [i for i in range(n) if not _RELATIONS[relations[i]](printed_c[i], printed_t[i])]
    if broken:
        log.info("rows %s cannot keep their relation at this precision", broken)
    return printed_c / scale, printed_t / scale


def _best_totals(
    cost: np.ndarray,
    c: np.ndarray,
    t: np.ndarray,
    floors: tuple[float, float],
    city_relation: str,
) -> tuple[int, int]:
    """How many values of each column to round up: totals at a neighbour of the unrounded."""
    best, where = np.inf, (0, 0)
    for total_c in {math.floor(round(c.sum(), 6)), math.ceil(round(c.sum(), 6))}:
        for total_t in {math.floor(round(t.sum(), 6)), math.ceil(round(t.sum(), 6))}:
            k_c, k_t = int(total_c - floors[0]), int(total_t - floors[1])
            if not (0 <= k_c < cost.shape[0] and 0 <= k_t < cost.shape[1]):
                continue
            value = cost[k_c, k_t] + abs(total_c - c.sum()) + abs(total_t - t.sum())
            value += _NOT_HALF_UP * (
                (total_c != _half_up(c.sum())) + (total_t != _half_up(t.sum()))
            )
            value += 0.0 if _RELATIONS[city_relation](total_c, total_t) else _VIOLATION
            if value < best:
                best, where = value, (k_c, k_t)
    return where


def _county_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["county_code"].astype(str) != CITY_TOTAL]


def _wanmu(m2: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(m2, dtype=float) / M2_PER_WANMU


def _balanced(wanmu: np.ndarray, decimals: int = 2) -> np.ndarray:
    """County figures balanced to the city total rounded once."""
    return balanced_round(np.nan_to_num(wanmu), float(np.nansum(wanmu)), decimals)


def _frame(counties: pd.DataFrame, columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """City row (the sum of the printed county rows) first, then the counties."""
    out = pd.DataFrame(
        {_CODE: counties["county_code"].astype(str).to_numpy(),
         _NAME: counties["county_name"].astype(str).to_numpy()}
    )  # fmt: skip
    city: dict[str, object] = {_CODE: "", _NAME: CITY_TOTAL}
    for header, printed in columns.items():
        out[header] = printed
        city[header] = round(float(np.nansum(printed)), 6)
    return pd.concat([pd.DataFrame([city]), out], ignore_index=True)


def _published(table: pd.DataFrame, title: str, notes: Sequence[str]) -> pd.DataFrame:
    table.attrs = {"title": title, "unit": UNIT, "notes": list(notes)}
    return table


def _protection_pair(
    counties: pd.DataFrame, targets: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """The printed protection target: computed, and the plan's (NaN without).

    Rounded once in the same way for 附录 2, 3 and 5 (by county code, whatever
    the row order), so that the same figure reads the same in each.
    """
    order = np.argsort(counties["county_code"].astype(str).to_numpy(), kind="stable")
    codes = counties["county_code"].iloc[order]
    computed = _wanmu(counties["protection_target_m2"].to_numpy(float)[order])
    plan = _wanmu(_targets_m2(targets, codes, "protection_target_2035_wanmu"))
    total_c, total_p = float(computed.sum()), float(np.nansum(plan))
    printed_c, printed_p = paired_round(
        computed,
        np.nan_to_num(plan),
        _relation_of(computed, plan),
        city_relation=_relation_of(np.array([total_c]), np.array([total_p]))[0],
    )
    back = np.argsort(order, kind="stable")
    return printed_c[back], np.where(np.isnan(plan), np.nan, printed_p)[back]


def appendix2(delineation: pd.DataFrame, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """附录 2 耕地保护目标划定情况表 from a ``target_delineation`` table.

    The parts (one per T rule) and 耕地保护目标耕地 are balanced to their
    city totals; 小计 is the sum of the printed parts and 现状耕地 is
    耕地保护目标耕地 + 小计 as printed (as the unrounded figures are), so
    that every row and column adds up as printed.  The protection target
    prints as in 附录 3 and 5.

    Parameters
    ----------
    delineation
        The ``target_delineation`` table (``Result.delineation``); its city
        total row, if any, is left out and summed afresh.
    targets
        The plan's targets, if any: the protection target is rounded with
        them as in 附录 3 and 5 (:func:`paired_round`).

    Returns
    -------
    pandas.DataFrame
        City row first, then one row per county: current farmland, protection
        target, excluded farmland and its breakdown by T rule
        (``未纳入耕地保护目标耕地-<rule>``), in 万亩 to two decimals.
    """
    counties = _county_rows(delineation)
    rules = [c[:-3] for c in counties.columns if c.startswith("T_") and c.endswith("_m2")]
    parts = {
        f"{_EXCLUDED}-{T_RULE_HEADERS_ZH.get(rule, rule)}": _balanced(
            _wanmu(counties[f"{rule}_m2"])
        )
        for rule in rules
    }
    if parts:
        subtotal = np.round(np.sum(list(parts.values()), axis=0), 6)
    else:
        subtotal = _balanced(_wanmu(counties["excluded_m2"]))
    target, _ = _protection_pair(counties, targets)
    columns = {
        "现状耕地": np.round(target + subtotal, 6),
        "耕地保护目标耕地": target,
        f"{_EXCLUDED}-小计": subtotal,
        **parts,
    }
    notes = [
        "备注：县级数据调平至全市合计（最大余数法）；小计为所列各项之和，"
        "现状耕地 = 耕地保护目标耕地 + 小计。"
    ]
    return _published(_frame(counties, columns), "附录 2 耕地保护目标划定情况表", notes)


def _targets_m2(targets: pd.DataFrame | None, codes: pd.Series, column: str) -> np.ndarray:
    if targets is None or column not in targets:
        return np.full(len(codes), np.nan)
    by_code = dict(zip(targets["county_code"].astype(str), targets[column], strict=True))
    return np.array([by_code.get(c, np.nan) for c in codes.astype(str)], dtype=float) * (
        M2_PER_WANMU
    )


def appendix3(
    quotas: pd.DataFrame, targets: pd.DataFrame | None = None, stage_b: pd.DataFrame | None = None
) -> pd.DataFrame:
    """附录 3 补充耕地和可恢复耕地资源潜力, with the plan's figures beside where it prints them.

    The plan's four columns: 耕地后备资源开发潜力 (stage B candidates),
    现有耕地周边补充耕地潜力 (those contiguous with existing farmland), 可恢复耕地
    资源潜力 (``RECOVERY`` area) and 耕地责任目标缺口 — the previous round's
    protection target minus the 2035 target (003 ch.1: 562.31 − 525.81 = 36.50),
    which only the plan's figures give: ``target_gap_wanmu`` of *targets* as
    printed, or ``protection_target_previous_wanmu`` − ``protection_target_2035_wanmu``.

    Parameters
    ----------
    quotas
        The ``county_quotas`` table (``Result.quotas``).
    targets
        Targets table (``county_code`` and 万亩 columns); its
        ``backup_resource_wanmu``, ``adjacent_supplement_wanmu`` and
        ``recoverable_wanmu`` are shown as the plan's figures beside the
        computed ones.
    stage_b
        The ``stage_b`` table (``Result.stage_b``); without it the stage B
        columns are left out and a note says so.

    Returns
    -------
    pandas.DataFrame
        City row first, then one row per county, in 万亩 to two decimals.
    """
    counties = _county_rows(quotas)
    codes = counties["county_code"].astype(str)
    columns: dict[str, np.ndarray] = {}
    notes = ["备注：县级数据调平至全市合计（最大余数法）；(规划) 为规划附录 3 所列数值。"]
    if stage_b is not None:
        by_code = _county_rows(stage_b).set_index("county_code")
        for name, column in (
            ("耕地后备资源开发潜力", "candidate_m2"),
            ("现有耕地周边补充耕地潜力", "adjacent_m2"),
        ):
            values = by_code[column].reindex(codes).fillna(0.0).to_numpy(float)
            columns[name] = _balanced(_wanmu(values))
    else:
        notes.append("结果中无耕地后备资源（阶段 B）表，开发潜力两列未列出。")
    columns["可恢复耕地资源潜力"] = _balanced(_wanmu(counties["recovery_m2"]))
    for name, column in (
        ("耕地后备资源开发潜力", "backup_resource_wanmu"),
        ("现有耕地周边补充耕地潜力", "adjacent_supplement_wanmu"),
        ("可恢复耕地资源潜力", "recoverable_wanmu"),
    ):
        plan = _wanmu(_targets_m2(targets, codes, column))
        if name in columns and not np.isnan(plan).all():
            columns[f"{name}(规划)"] = np.round(plan, 2)
    gap = _responsibility_gap(targets, codes)
    if gap is None:
        notes.append(
            "耕地责任目标缺口 = 上轮耕地保护目标 − 2035 年耕地保护目标，仅由规划数值给出"
            "（targets 的 target_gap_wanmu 或 protection_target_previous_wanmu）；未提供，未列出。"
        )
    else:
        columns["耕地责任目标缺口(规划)"] = gap
    return _published(_frame(counties, columns), "附录 3 补充耕地和可恢复耕地资源潜力", notes)


def _responsibility_gap(targets: pd.DataFrame | None, codes: pd.Series) -> np.ndarray | None:
    """耕地责任目标缺口 from the plan's figures (printed, or previous − 2035 target), else None."""
    printed = _wanmu(_targets_m2(targets, codes, "target_gap_wanmu"))
    if not np.isnan(printed).all():
        return np.round(printed, 2)
    previous = _wanmu(_targets_m2(targets, codes, "protection_target_previous_wanmu"))
    target = _wanmu(_targets_m2(targets, codes, "protection_target_2035_wanmu"))
    if np.isnan(previous).all() or np.isnan(target).all():
        return None
    return np.round(previous, 2) - np.round(target, 2)


def _grade_note(thresholds: Thresholds) -> str:
    met = f"{thresholds.met_at:.2%}"
    warn = f"{thresholds.warn_within:.2%}"
    return (
        "预警等级按未取整面积计算（000 §十三）：差额率 = (计算 − 目标) / 目标；"
        f"差额率 ≥ {met} 为达标，不足目标不超过 {warn}（差额率 ≥ −{warn}）为预警，"
        "其余为未达标；差额率(%)向下取两位小数列出。"
    )


def _rate_percent(computed: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(computed − target) / target in %, rounded down to 0.01 % (so it agrees with the grade)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(target > 0, (computed - target) / target * 100, np.nan)
    return np.floor(np.round(rate * 100, 6)) / 100


def _indicator_columns(
    name: str,
    computed: np.ndarray,
    target: np.ndarray,
    thresholds: Thresholds,
    *,
    printed: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """目标, 计算, 差额, 差额率(%) and 预警 of one indicator; the city row last in each.

    *printed* is the rounded (computed, target) pair when it is already known.
    """
    has = ~np.isnan(target)
    total_c, total_t = float(computed.sum()), float(np.nansum(target))
    printed_c, printed_t = printed or paired_round(
        computed,
        np.nan_to_num(target),
        _relation_of(computed, target),
        city_relation=_relation_of(np.array([total_c]), np.array([total_t]))[0],
    )
    grades = grade_indicator(np.r_[computed, total_c], np.r_[target, total_t], thresholds)
    return {
        f"{name}-目标": np.where(has, printed_t, np.nan),
        f"{name}-计算": printed_c,
        f"{name}-差额": np.where(has, np.round(printed_c - printed_t, 6), np.nan),
        f"{name}-差额率(%)": _rate_percent(np.r_[computed, total_c], np.r_[target, total_t]),
        f"{name}-预警": np.array([GRADE_ZH[g] for g in grades], dtype=object),
    }


def appendix5(
    quotas: pd.DataFrame,
    targets: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """附录 5 耕地保护主要规划指标分解表: indicators computed vs target, with warning grades.

    Indicators: protection target (``protection_target_2035_wanmu``), PBF (the
    PBF target the quotas used), reserve (the reserve target the quotas
    used), high-standard farmland (farmland under the ``high_standard_farmland``
    layer against ``hsf_total_2035_wanmu``).  The 2025 targets, new
    high-standard farmland, supplementary farmland and grain area are shown as
    the plan prints them (:data:`PRINTED_ONLY`) where the targets carry them.
    Each indicator gets its target, computed figure, balance (计算 − 目标 as
    printed), relative balance in % and grade
    (:mod:`landplan.outputs.indicators`, from unrounded areas).  The printed
    balance is negative exactly where the indicator falls short
    (:func:`paired_round`).

    Parameters
    ----------
    quotas
        The ``county_quotas`` table (``Result.quotas``).
    targets
        Targets table with ``county_code`` and ``protection_target_2035_wanmu``
        (万亩); without it the protection target indicator is left out, and a
        note says so.
    thresholds
        Thresholds of the grades.

    Returns
    -------
    pandas.DataFrame
        City row first, then one row per county: for every indicator with a
        target ``<indicator>-目标``, ``-计算``, ``-差额`` in 万亩 to two
        decimals, ``-差额率(%)`` and ``-预警`` (the grade in Chinese).
    """
    counties = _county_rows(quotas)
    plan_target = _targets_m2(targets, counties["county_code"], "protection_target_2035_wanmu")
    indicators: dict[str, tuple[pd.Series | np.ndarray, pd.Series | np.ndarray]] = {
        "耕地保护目标": (counties["protection_target_m2"], plan_target),
        "永久基本农田": (counties["pbf_selected_m2"], counties["pbf_target_m2"]),
        "永久基本农田储备区": (counties["reserve_selected_m2"], counties["reserve_target_m2"]),
    }
    if "high_standard_m2" in counties:  # results written before it was counted lack it
        indicators["高标准农田"] = (
            counties["high_standard_m2"],
            _targets_m2(targets, counties["county_code"], "hsf_total_2035_wanmu"),
        )
    columns: dict[str, np.ndarray] = {}
    notes = [
        "备注：县级数据调平至全市合计（最大余数法）；差额 = 计算 − 目标（按表列数值），负数为不足。"
    ]
    names = counties["county_name"].astype(str).to_numpy()
    for name, (computed_m2, target_m2) in indicators.items():
        computed, target = _wanmu(computed_m2), _wanmu(target_m2)
        if np.isnan(target).all():
            notes.append(f"未提供{name}的目标（--targets），该指标未列出。")
            continue
        printed = _protection_pair(counties, targets) if name == "耕地保护目标" else None
        new = _indicator_columns(name, computed, target, thresholds, printed=printed)
        columns.update(new)
        hidden = names[(computed < target) & (new[f"{name}-差额"] >= 0)]
        if len(hidden):
            notes.append(
                f"{name}：{'、'.join(hidden)}不足目标不到 0.01 万亩，且县级数据须调平至合计，"
                "两位小数的差额显示不出不足，以差额率和预警为准。"
            )
    columns.update(_printed_only(counties, targets))
    notes.append(_grade_note(thresholds))
    notes.append(
        "高标准农田-计算：现状耕地中被高标准农田图层覆盖一半以上的面积；(规划) 列为规划所列数值，"
        "landplan 不计算。"
    )
    table = _frame_with_city(counties, columns)
    return _published(table, "附录 5 耕地保护主要规划指标分解表", notes)


#: 附录 5 columns only the plan's figures give (targets columns → header).
PRINTED_ONLY = {
    "protection_target_2025_wanmu": "耕地保护目标-2025年(规划)",
    "pbf_2025_wanmu": "永久基本农田-2025年(规划)",
    "hsf_new_2021_2025_wanmu": "高标准农田-2021—2025年新建(规划)",
    "supplement_2021_2025_wanmu": "补充耕地任务-2021—2025年(规划)",
    "supplement_2026_2035_wanmu": "补充耕地任务-2026—2035年(规划)",
    "grain_area_2035_wanmu": "粮食播种面积-2035年(规划)",
}


def _printed_only(counties: pd.DataFrame, targets: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """The 附录 5 figures only the plan gives, where the targets carry them (city row last)."""
    out = {}
    for column, header in PRINTED_ONLY.items():
        values = _wanmu(_targets_m2(targets, counties["county_code"], column))
        if not np.isnan(values).all():
            out[header] = np.round(values, 2)
    return out


def _frame_with_city(counties: pd.DataFrame, columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Like :func:`_frame`, for columns whose last value is the city row's own (rates, grades)."""
    own = {k for k in columns if k.endswith(("-差额率(%)", "-预警"))}
    table = _frame(counties, {k: v for k, v in columns.items() if k not in own})
    for key in own:
        table[key] = np.r_[columns[key][-1:], columns[key][:-1]]
    return table[[_CODE, _NAME, *columns]]


def plan_tables(
    delineation: pd.DataFrame,
    quotas: pd.DataFrame,
    targets: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    stage_b: pd.DataFrame | None = None,
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
    stage_b
        The ``stage_b`` table (耕地后备资源), for 附录 3.

    Returns
    -------
    dict of str to pandas.DataFrame
        :func:`appendix2`, :func:`appendix3` and :func:`appendix5` by file name
        (without suffix), each with its title, unit and notes in ``attrs``.
    """
    return {
        "附录2_耕地保护目标划定情况表": appendix2(delineation, targets),
        "附录3_补充耕地和可恢复耕地资源潜力": appendix3(quotas, targets, stage_b),
        "附录5_耕地保护主要规划指标分解表": appendix5(quotas, targets, thresholds=thresholds),
    }


def published(table: pd.DataFrame) -> PublishedTable:
    """A plan table with the title, unit and notes from its ``attrs``, for printing.

    Parameters
    ----------
    table
        A table of :func:`plan_tables`.

    Returns
    -------
    landplan.io.files.PublishedTable
        The table to write.
    """
    attrs = table.attrs
    return PublishedTable(
        table,
        title=str(attrs.get("title", "")),
        unit=str(attrs.get("unit", "")),
        notes=tuple(attrs.get("notes", ())),
    )


def write_tables(tables: Mapping[str, pd.DataFrame], directory: str | Path) -> list[Path]:
    """Each table as CSV (UTF-8 with BOM) and all of them as sheets of one XLSX.

    Both print the tables as the plans do: title row, unit row (单位：万亩),
    header, the figures to two decimals, the notes below; the XLSX keeps the
    values and shows them with the number format ``0.00``, with widths fitted
    to the content and the header frozen.

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
    printed = {name: published(table) for name, table in tables.items()}
    written = [write_published_csv(table, out / f"{name}.csv") for name, table in printed.items()]
    sheets = {name.split("_")[0]: table for name, table in printed.items()}
    written.append(write_xlsx(sheets, out / "plan_tables.xlsx"))
    return written
