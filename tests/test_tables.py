"""The plans' tables: Chinese headers, 万亩 to two decimals, rows that add up after rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from landplan.core.units import M2_PER_WANMU
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.outputs.indicators import Thresholds, grade_indicator
from landplan.outputs.tables import (
    appendix2,
    appendix3,
    appendix5,
    balanced_round,
    paired_round,
    plan_tables,
    write_tables,
)

W = M2_PER_WANMU  # one 万亩 in m²


@given(st.lists(st.floats(min_value=-50, max_value=500, allow_nan=False), min_size=1, max_size=30))
def test_balanced_rounding_adds_up_and_stays_within_a_hundredth(values: list[float]) -> None:
    array = np.array(values)
    total = float(array.sum())
    rounded = balanced_round(array, total)
    # the parts add up to the total rounded to a hundredth (one of its two neighbours) ...
    cents = round(float(rounded.sum()) * 100)
    assert np.floor(total * 100 - 1e-6) <= cents <= np.ceil(total * 100 + 1e-6)
    assert abs(cents / 100 - total) <= 0.005 + 1e-6
    # ... and no part moves by a hundredth or more
    assert np.all(np.abs(rounded - array) < 0.01 + 1e-9)


def test_balanced_rounding_by_hand() -> None:
    # 0.334 × 3 = 1.002 → total 1.00; naive rounding gives 0.33 × 3 = 0.99
    assert balanced_round(np.array([0.334, 0.334, 0.334]), 1.002).tolist() == [0.34, 0.33, 0.33]
    # naive rounding of 0.125 + 0.125 + 0.25 gives 0.13 + 0.13 + 0.25 = 0.51 ≠ 0.50
    assert balanced_round(np.array([0.125, 0.125, 0.25]), 0.5).sum() == pytest.approx(0.5)
    # 四舍五入: a total of exactly half a hundredth rounds up, not to even
    assert balanced_round(np.array([0.025]), 0.025).tolist() == [0.03]
    assert balanced_round(np.array([0.015]), 0.015).tolist() == [0.02]
    assert balanced_round(np.array([-0.025]), -0.025).tolist() == [-0.03]


def delineation() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_code": ["430421", "430422", CITY_TOTAL],
            "county_name": ["衡阳县", "衡南县", CITY_TOTAL],
            "farmland_m2": [10.004 * W, 20.004 * W, 30.008 * W],
            "protection_target_m2": [9.0 * W, 19.5 * W, 28.5 * W],
            "excluded_m2": [1.004 * W, 0.504 * W, 1.508 * W],
            "T_NATURE_CORE_m2": [1.004 * W, 0.0, 1.004 * W],
            "T_SMALL_FRAGMENT_m2": [0.0, 0.504 * W, 0.504 * W],
        }
    )


def test_appendix2_has_the_plan_headers_and_balanced_rows() -> None:
    table = appendix2(delineation())
    group = "未纳入耕地保护目标耕地"
    assert list(table.columns) == [
        "行政区代码", "行政区名称", "现状耕地", "耕地保护目标耕地", f"{group}-小计",
        f"{group}-自然保护地核心区", f"{group}-碎小图斑",
    ]  # fmt: skip
    assert table.attrs["title"] == "附录 2 耕地保护目标划定情况表"
    assert table.attrs["unit"] == "万亩"
    city, counties = table.iloc[0], table.iloc[1:]
    assert city["行政区名称"] == CITY_TOTAL
    # 9.0 + 19.5 = 28.5 target; parts 1.004 → 1.00 and 0.504 → 0.50, 小计 1.50;
    # 现状耕地 = 28.50 + 1.50 = 30.00 + 0.00 (the unrounded 30.008 is within a hundredth)
    assert city["耕地保护目标耕地"] == 28.5
    assert city[f"{group}-小计"] == 1.5
    assert city["现状耕地"] == 30.0
    for column in table.columns[2:]:
        assert counties[column].sum() == pytest.approx(city[column])


def test_appendix2_subtotal_is_the_sum_of_its_printed_parts() -> None:
    # 衡阳县's two exclusions of 0.014 each: 0.028 → 0.03 rounded alone, but its parts print
    # 0.01 + 0.01; the 小计 prints their sum, 0.02, and 现状耕地 = 目标 + 小计 = 1.00 + 0.02
    frame = pd.DataFrame(
        {
            "county_code": ["430421", "430422"],
            "county_name": ["衡阳县", "衡南县"],
            "farmland_m2": [1.028 * W, 2.0 * W],
            "protection_target_m2": [1.0 * W, 2.0 * W],
            "excluded_m2": [0.028 * W, 0.0],
            "T_NATURE_CORE_m2": [0.014 * W, 0.0],
            "T_SMALL_FRAGMENT_m2": [0.014 * W, 0.0],
        }
    )
    row = appendix2(frame).set_index("行政区名称").loc["衡阳县"]
    parts = ["未纳入耕地保护目标耕地-自然保护地核心区", "未纳入耕地保护目标耕地-碎小图斑"]
    assert row[parts].tolist() == [0.01, 0.01]
    assert row["未纳入耕地保护目标耕地-小计"] == pytest.approx(0.02)
    assert row["现状耕地"] == pytest.approx(1.02)
    assert row["耕地保护目标耕地"] == pytest.approx(1.0)


def quotas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_code": ["430421", "430422", "430423"],
            "county_name": ["衡阳县", "衡南县", "衡山县"],
            "protection_target_m2": [100 * W, 50 * W, 10 * W],
            "pbf_target_m2": [90 * W, 45 * W, 9 * W],
            "pbf_selected_m2": [90 * W, 44.7 * W, 8 * W],  # met, 0.67 % short, 11 % short
            "reserve_target_m2": [0.9 * W, 0.447 * W, 0.08 * W],
            "reserve_selected_m2": [0.9 * W, 0.5 * W, 0.0],
            "reserve_eligible_m2": [2 * W, 1 * W, 0.0],
            "recovery_m2": [5 * W, 3 * W, 1 * W],
        }
    )


def test_appendix5_compares_with_targets_and_grades_them() -> None:
    targets = pd.DataFrame(
        {"county_code": ["430421", "430422", "430423"],
         "protection_target_2035_wanmu": [99.0, 50.0, 12.0]}
    )  # fmt: skip
    table = appendix5(quotas(), targets).set_index("行政区名称")
    assert table.loc["衡阳县", "耕地保护目标-差额"] == pytest.approx(1.0)
    assert table.loc["衡山县", "耕地保护目标-差额"] == pytest.approx(-2.0)
    assert table["永久基本农田-预警"].to_dict() == {
        CITY_TOTAL: "预警", "衡阳县": "达标", "衡南县": "预警", "衡山县": "未达标",
    }  # fmt: skip
    assert table.loc["衡南县", "永久基本农田-差额"] == pytest.approx(-0.3)
    # (44.7 − 45) / 45 = −0.6667 % → −0.67 (rounded down); (8 − 9) / 9 = −11.11 %
    assert table.loc["衡南县", "永久基本农田-差额率(%)"] == pytest.approx(-0.67)
    assert table.loc["衡山县", "永久基本农田-差额率(%)"] == pytest.approx(-11.12)
    assert table.loc["衡山县", "永久基本农田储备区-预警"] == "未达标"
    assert table.attrs["title"] == "附录 5 耕地保护主要规划指标分解表"
    assert any("1.00%" in note for note in table.attrs["notes"])  # the grade rule, printed


def small_quotas() -> pd.DataFrame:
    """Counties as the issue found them: short by less than a printed hundredth."""
    return pd.DataFrame(
        {
            "county_code": ["430426", "430412", "430424", "430423"],
            "county_name": ["祁东县", "南岳区", "衡东县", "衡山县"],
            "protection_target_m2": [1.0 * W, 1.0 * W, 1.0 * W, 1.0 * W],
            # 祁东县 0.81 % short (预警); 南岳区 2 % short (未达标); 衡东县 4 % short;
            # 衡山县 met by 0.001
            "pbf_selected_m2": [0.4156 * W, 0.01078 * W, 0.3549 * W, 0.171 * W],
            "pbf_target_m2": [0.4190 * W, 0.0110 * W, 0.3697 * W, 0.170 * W],
            "reserve_target_m2": [0.0] * 4,
            "reserve_selected_m2": [0.0] * 4,
            "reserve_eligible_m2": [0.0] * 4,
            "recovery_m2": [0.0] * 4,
        }
    )


def test_appendix5_rows_agree_with_their_grades_as_printed() -> None:
    table = appendix5(small_quotas()).set_index("行政区名称")
    pbf = table[["永久基本农田-目标", "永久基本农田-计算", "永久基本农田-差额"]]
    # 差额 is 计算 − 目标 as printed, to the hundredth
    cents = (pbf * 100).round().astype(int)
    assert (
        cents["永久基本农田-差额"] == cents["永久基本农田-计算"] - cents["永久基本农田-目标"]
    ).all()
    # the grade from unrounded areas, and a printed 差额 negative exactly where it is short
    assert table["永久基本农田-预警"].to_dict() == {
        CITY_TOTAL: "未达标", "祁东县": "预警", "南岳区": "未达标", "衡东县": "未达标",
        "衡山县": "达标",
    }  # fmt: skip
    for name in ["祁东县", "南岳区", "衡东县", CITY_TOTAL]:
        assert cents.loc[name, "永久基本农田-差额"] < 0, name
    assert cents.loc["衡山县", "永久基本农田-差额"] >= 0
    # 差额率 by hand: (0.4156 − 0.4190) / 0.4190 = −0.8115 % → −0.82; (0.01078 − 0.011) / 0.011
    # = −2 %; (0.171 − 0.170) / 0.170 = 0.588 % → 0.58
    assert table.loc["祁东县", "永久基本农田-差额率(%)"] == pytest.approx(-0.82)
    assert table.loc["南岳区", "永久基本农田-差额率(%)"] == pytest.approx(-2.0)
    assert table.loc["衡山县", "永久基本农田-差额率(%)"] == pytest.approx(0.58)
    # every figure within a hundredth of its unrounded value, columns adding up to the city
    raw = small_quotas().set_index("county_name")
    for column, source in [
        ("永久基本农田-目标", "pbf_target_m2"),
        ("永久基本农田-计算", "pbf_selected_m2"),
    ]:
        assert (abs(table[column].drop(CITY_TOTAL) - raw[source] / W) < 0.01).all()
        assert table[column].drop(CITY_TOTAL).sum() == pytest.approx(table.loc[CITY_TOTAL, column])
        assert abs(table.loc[CITY_TOTAL, column] - raw[source].sum() / W) < 0.01


def test_paired_round_by_hand() -> None:
    # largest remainders alone print the targets 0.37 and 0.91 (total 1.276 → 1.28), so a
    # county 0.3 % short would print 0.37 − 0.37 = 0.00; kept short, 0.38 takes the hundredth
    c, t = paired_round(np.array([0.371, 1.0]), np.array([0.372, 0.904]), ["lt", "ge"])
    assert c.tolist() == [0.37, 1.0]
    assert t.tolist() == [0.38, 0.9]
    assert balanced_round(np.array([0.372, 0.904]), 1.276).tolist() == [0.37, 0.91]
    # without relations it is the largest-remainder rounding
    c, t = paired_round(np.array([0.334, 0.334, 0.334]), np.array([1.0, 2.0, 3.0]), [""] * 3)
    assert c.tolist() == balanced_round(np.array([0.334] * 3), 1.002).tolist()
    assert t.tolist() == [1.0, 2.0, 3.0]


@given(
    st.lists(
        st.tuples(st.floats(0, 50, allow_nan=False), st.floats(0, 50, allow_nan=False)),
        min_size=1, max_size=15,
    )
)  # fmt: skip
def test_paired_round_keeps_relations_of_pairs_a_hundredth_apart(
    pairs: list[tuple[float, float]],
) -> None:
    computed = np.array([p[0] for p in pairs])
    target = np.array([p[1] for p in pairs])
    relations = ["ge" if c >= t else "lt" for c, t in pairs]
    c, t = paired_round(computed, target, relations)
    # every value is one of its two neighbours in hundredths; the totals too
    assert np.all(np.abs(c - computed) < 0.01 + 1e-9)
    assert np.all(np.abs(t - target) < 0.01 + 1e-9)
    assert abs(c.sum() - computed.sum()) < 0.01 + 1e-9
    assert abs(t.sum() - target.sum()) < 0.01 + 1e-9
    # pairs at least a hundredth apart always keep their order as printed
    for i, (raw_c, raw_t) in enumerate(pairs):
        if raw_c - raw_t >= 0.01 or raw_t - raw_c >= 0.01:
            assert (c[i] >= t[i]) == (raw_c >= raw_t), i


def test_tables_print_title_unit_and_two_decimals(tmp_path: Path) -> None:
    tables = plan_tables(delineation(), quotas())
    write_tables(tables, tmp_path)
    lines = (tmp_path / "附录2_耕地保护目标划定情况表.csv").read_text("utf-8-sig").splitlines()
    assert lines[0] == "附录 2 耕地保护目标划定情况表"
    assert lines[1] == "单位：万亩"
    assert lines[2].startswith("行政区代码,行政区名称,现状耕地")
    # 0.5 prints 0.50: two decimals in every number cell
    assert lines[5].split(",")[:4] == ["430422", "衡南县", "20.00", "19.50"]
    assert lines[-1].startswith("备注：")
    sheet = openpyxl.load_workbook(tmp_path / "plan_tables.xlsx")["附录2"]
    assert sheet["A1"].value == "附录 2 耕地保护目标划定情况表"
    assert sheet["A2"].value == "单位：万亩"
    # grouped header as printed: 未纳入耕地保护目标耕地 over 小计 and the T rules
    assert sheet["E3"].value == "未纳入耕地保护目标耕地"
    assert [sheet.cell(4, j).value for j in (5, 6, 7)] == ["小计", "自然保护地核心区", "碎小图斑"]
    assert "E3:G3" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.freeze_panes == "C5"
    assert sheet["C5"].value == 30.0 and sheet["C5"].number_format == "0.00"
    assert sheet["B6"].value == "衡阳县" and sheet["A6"].value == "430421"
    assert sheet.column_dimensions["B"].width >= 8  # 衡阳县 is 6 units wide


def test_appendix3_has_the_plans_four_columns() -> None:
    """003 附录3 补充耕地和可恢复耕地资源潜力 prints 耕地后备资源开发潜力, 现有耕地周边补充耕地潜力,
    可恢复耕地资源潜力 and 耕地责任目标缺口 (合计 35.03 7.38 81.55 36.50); the gap is the
    previous round's target minus 2035's (ch.1: 562.31 − 525.81 = 36.50), so only the
    plan's figures give it."""
    stage_b = pd.DataFrame(
        {"county_code": ["430421", "430422", "430423", CITY_TOTAL],
         "candidate_m2": [2 * W, 1 * W, 0.0, 3 * W],
         "adjacent_m2": [0.5 * W, 0.0, 0.0, 0.5 * W]}
    )  # fmt: skip
    targets = pd.DataFrame(
        {"county_code": ["430421", "430422", "430423"],
         "backup_resource_wanmu": [4.72, 11.65, 1.02],
         "target_gap_wanmu": [11.0, 2.45, 4.48]}
    )  # fmt: skip
    table = appendix3(quotas(), targets, stage_b).set_index("行政区名称")
    assert table.loc["衡阳县", "耕地后备资源开发潜力"] == pytest.approx(2.0)
    assert table.loc[CITY_TOTAL, "耕地后备资源开发潜力"] == pytest.approx(3.0)
    assert table.loc["衡阳县", "现有耕地周边补充耕地潜力"] == pytest.approx(0.5)
    assert table.loc["衡阳县", "耕地后备资源开发潜力(规划)"] == pytest.approx(4.72)
    assert table.loc[CITY_TOTAL, "可恢复耕地资源潜力"] == pytest.approx(9.0)
    assert table.loc["衡阳县", "耕地责任目标缺口(规划)"] == pytest.approx(11.0)
    assert table.loc[CITY_TOTAL, "耕地责任目标缺口(规划)"] == pytest.approx(17.93)
    assert "永久基本农田储备资源" not in table  # unsourced in the plan: gone
    without = appendix3(quotas())
    assert "耕地后备资源开发潜力" not in without and "耕地责任目标缺口(规划)" not in without
    assert len(without.attrs["notes"]) == 3  # ... and it says why each is missing


def test_appendix3_gap_from_the_previous_target() -> None:
    targets = pd.DataFrame(
        {"county_code": ["430421", "430422", "430423"],
         "protection_target_previous_wanmu": [110.0, 52.0, 9.5],
         "protection_target_2035_wanmu": [99.0, 50.0, 10.0]}
    )  # fmt: skip
    table = appendix3(quotas(), targets).set_index("行政区名称")
    assert table["耕地责任目标缺口(规划)"].to_dict() == pytest.approx(
        {CITY_TOTAL: 12.5, "衡阳县": 11.0, "衡南县": 2.0, "衡山县": -0.5}
    )


@pytest.mark.parametrize(
    ("computed", "grade"),
    [(100.0, "met"), (101.0, "met"), (99.0, "warning"), (98.99, "short"), (0.0, "short")],
)
def test_indicator_grades_at_the_thresholds(computed: float, grade: str) -> None:
    assert grade_indicator([computed], [100.0]).tolist() == [grade]


def test_indicator_thresholds_are_configurable() -> None:
    loose = Thresholds(warn_within=0.05)
    assert grade_indicator([96.0], [100.0], loose).tolist() == ["warning"]
    assert grade_indicator([5.0], [float("nan")]).tolist() == ["none"]
    assert grade_indicator([5.0], [0.0]).tolist() == ["met"]
    # met only with a 1 % margin: 0.5 % over the target is still a warning
    strict = Thresholds(met_at=0.01)
    assert grade_indicator([100.5, 101.0], [100.0, 100.0], strict).tolist() == ["warning", "met"]


def test_appendix5_adds_high_standard_farmland_and_the_plans_other_columns() -> None:
    """003 附录5 lists, per county, 高标准农田 (2021—2025 新建, 2035 累计), 补充耕地任务
    and 粮食播种面积 beside the protection targets; landplan computes high-standard farmland
    (farmland under the HSF layer) and shows the rest as printed."""
    counties = quotas().assign(high_standard_m2=[80 * W, 40 * W, 9 * W])
    targets = pd.DataFrame(
        {"county_code": ["430421", "430422", "430423"],
         "hsf_total_2035_wanmu": [82.38, 40.0, 9.0],
         "grain_area_2035_wanmu": [128.6, 100.0, 20.0]}
    )  # fmt: skip
    table = appendix5(counties, targets).set_index("行政区名称")
    assert table.loc["衡阳县", "高标准农田-计算"] == pytest.approx(80.0)
    assert table.loc["衡阳县", "高标准农田-目标"] == pytest.approx(82.38)
    assert table.loc["衡阳县", "高标准农田-差额"] == pytest.approx(-2.38)
    assert table.loc["衡南县", "高标准农田-预警"] == "达标"
    assert table.loc[CITY_TOTAL, "粮食播种面积-2035年(规划)"] == pytest.approx(248.6)
    assert "补充耕地任务-2021—2025年(规划)" not in table  # not in these targets
    assert "高标准农田-计算" not in appendix5(quotas(), targets)  # not counted in old results


def test_county_sums_from_arrays_equal_those_of_a_parcel_table() -> None:
    """The driver's tables sum figures with numpy.bincount; pandas' groupby of a table of
    every parcel, the way county_table sums, gives the same rows, names, totals and 万亩."""
    from landplan.outputs.aggregate import county_table, county_table_of

    rng = np.random.default_rng(11)
    n = 5_000
    county = rng.choice(["430482", "430405", "430421", "430426"], n).astype(object)
    figures = {
        "farmland_m2": rng.uniform(0, 5_000, n),
        "pbf_m2": np.where(rng.random(n) < 0.4, rng.uniform(0, 5_000, n), 0.0),
    }
    got = county_table_of(county, figures)
    want = county_table(pd.DataFrame({"county_code": county, **figures}))
    assert got["county_code"].tolist() == ["430405", "430421", "430426", "430482", "全市"]
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, check_dtype=False)


def test_pbf_changes_and_delineation_sum_each_parcel_once_as_a_groupby_does() -> None:
    """Every county's kept, added and removed PBF (by the first rule that removed it, or
    none) and its delineation, against pandas summing parcel by parcel."""
    from landplan.outputs.aggregate import pbf_change_table, target_delineation

    rng = np.random.default_rng(11)
    n = 3_000
    county = rng.choice(["430421", "430422", "430405"], n)
    change = rng.choice(["KEPT", "REMOVED", "ADDED", ""], n)
    area = rng.random(n) * 1e4
    area[::97] = np.nan  # counted as 0
    hits = pd.DataFrame(rng.random((n, 3)) < 0.2, columns=["T_A", "T_B", "P_C"])
    table = pbf_change_table(pd.Series(county, dtype="str"), change, area, hits).set_index(
        "county_code"
    )
    frame = pd.DataFrame({"county": county, "change": change, "area": np.nan_to_num(area)})
    first = hits.to_numpy().argmax(axis=1)
    fired = hits.to_numpy().any(axis=1)
    for code, rows in frame.groupby("county"):
        got = table.loc[code]
        at = rows.index.to_numpy()
        for what in ("KEPT", "ADDED", "REMOVED"):
            want = rows["area"][rows["change"] == what].sum()
            assert got[f"{what.lower()}_m2"] == pytest.approx(want, rel=1e-12)
        gone = rows["change"].to_numpy() == "REMOVED"
        for i, rule in enumerate(hits.columns):
            want = rows["area"][gone & fired[at] & (first[at] == i)].sum()
            assert got[f"removed_{rule}_m2"] == pytest.approx(want, rel=1e-12)
        assert got["removed_not_farmland_m2"] == pytest.approx(
            rows["area"][gone & ~fired[at]].sum(), rel=1e-12
        )
    assert table.loc["全市", "kept_m2"] == pytest.approx(frame["area"][change == "KEPT"].sum())

    farmland = pd.Series(rng.random(n) < 0.6)
    t_hits = hits[["T_A", "T_B"]]
    delineation = target_delineation(pd.Series(county), farmland, pd.Series(area), t_hits)
    delineation = delineation.set_index("county_code")
    t_first = t_hits.to_numpy().argmax(axis=1)
    t_fired = t_hits.to_numpy().any(axis=1) & farmland.to_numpy()
    for code, rows in frame.groupby("county"):
        got = delineation.loc[code]
        at = rows.index.to_numpy()
        farm = farmland.to_numpy()[at]
        assert got["farmland_m2"] == pytest.approx(rows["area"][farm].sum(), rel=1e-12)
        assert got["excluded_m2"] == pytest.approx(rows["area"][t_fired[at]].sum(), rel=1e-12)
        assert got["T_B_m2"] == pytest.approx(
            rows["area"][t_fired[at] & (t_first[at] == 1)].sum(), rel=1e-12
        )
        assert got["protection_target_m2"] == pytest.approx(
            rows["area"][farm & ~t_fired[at]].sum(), rel=1e-12
        )
