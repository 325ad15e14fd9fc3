"""The plans' tables: Chinese headers, 万亩 to two decimals, rows that add up after rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from landplan.core.units import M2_PER_WANMU
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.outputs.indicators import Thresholds, grade_indicator
from landplan.outputs.tables import appendix2, appendix3, appendix5, balanced_round

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
    assert list(table.columns) == [
        "行政区代码", "行政区名称", "现状耕地", "耕地保护目标耕地", "未纳入耕地保护目标耕地-小计",
        "未纳入-自然保护地核心区", "未纳入-碎小图斑",
    ]  # fmt: skip
    city, counties = table.iloc[0], table.iloc[1:]
    assert city["行政区名称"] == CITY_TOTAL
    # 10.004 + 20.004 = 30.008 → 30.01; naive county rounding gives 10.00 + 20.00 = 30.00
    assert city["现状耕地"] == 30.01
    assert counties["现状耕地"].sum() == pytest.approx(30.01)
    for column in table.columns[2:]:
        assert counties[column].sum() == pytest.approx(city[column])


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
    assert table.loc["衡山县", "永久基本农田储备区-预警"] == "未达标"


def test_appendix3_gap_is_plan_target_minus_computed() -> None:
    targets = pd.DataFrame(
        {"county_code": ["430421", "430422", "430423"],
         "protection_target_2035_wanmu": [101.5, 50.0, 9.0]}
    )  # fmt: skip
    table = appendix3(quotas(), targets).set_index("行政区名称")
    assert table.loc["衡阳县", "耕地责任目标缺口"] == pytest.approx(1.5)
    assert table.loc["衡山县", "耕地责任目标缺口"] == pytest.approx(-1.0)
    assert table.loc[CITY_TOTAL, "可恢复耕地资源潜力"] == pytest.approx(9.0)
    assert table.loc["衡阳县", "永久基本农田储备资源"] == pytest.approx(1.1)
    assert "耕地保护目标(规划)" not in appendix3(quotas())  # without targets: no comparison


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
