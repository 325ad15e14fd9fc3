"""RECOVERY (可恢复耕地) membership and its 专栏 8-1 ranking, by a hand-worked example.

Fourteen parcels, worked out by hand from the Hengyang profile:

- the pool (003 ch.8 §1): gardens, forests, other grass and ponds (果园, 茶园, 其他园地,
  乔木林地, 竹林地, 灌木林地, 其他林地, 其他草地, 坑塘水面) marked with a recovery attribute
  (ZZSXDM JKHF/GCHF) or farmland in the previous survey (EDDLBM 01x);
- out of it (003 ch.5 §3): slope over 25°, town/village range ...;
- ranked per county by 专栏 8-1: marked first, then inside the 2017 PBF, then lower slope,
  then 即可恢复 before 工程恢复, then larger; ties by parcel id.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from landplan.api import classify
from landplan.rules import load_profile

from .conftest import GK38

X0, Y0 = 500_000.0, 3_000_000.0
HOME, OTHER = "4304210010010000000", "4304220010010000000"

#: label: (DLBM, ZZSXDM, EDDLBM, GDPDJB, width m, ZLDWDM, CZCSXM, share in the 2017 PBF)
PARCELS = {
    20: ("0201", "JKHF", "", 1, 100, HOME, "", 0.4),  # a: marked, 40 % in 2017 PBF (< 50 %)
    21: ("0301", "GCHF", "", 1, 100, HOME, "", 1.0),  # b
    22: ("0404", "", "013", 1, 100, HOME, "", 1.0),  # c: 二调 dry land, not marked
    23: ("1104", "JKHF", "", 3, 100, HOME, "", 1.0),  # d
    24: ("1104A", "JKHF", "", 3, 150, HOME, "", 1.0),  # d2: as d, larger
    25: ("0307", "GCHF", "", 3, 100, HOME, "", 1.0),  # e
    7: ("0204", "GCHF", "", 2, 100, HOME, "", 0.0),  # t1: tied with t2
    3: ("0204", "GCHF", "", 2, 100, HOME, "", 0.0),  # t2: t1's twin (same place), lower id
    26: ("0201", "JKHF", "", 5, 100, HOME, "", 0.0),  # f: > 25°
    27: ("0201", "", "", 1, 100, HOME, "", 1.0),  # g: neither marked nor 二调 farmland
    28: ("0702", "JKHF", "", 1, 100, HOME, "", 0.0),  # h: rural housing, not a recovery class
    29: ("0302", "JKHF", "", 1, 100, HOME, "203", 0.0),  # i: inside a village (203 村庄)
    30: ("0201", "JKHF", "", 1, 100, OTHER, "", 0.0),  # p: the other county
    31: ("0201", "JKHF", "", 1, 120, OTHER, "", 0.0),  # q: the other county, larger
}


@pytest.fixture(scope="module")
def result():
    geoms, pbf_2017 = [], []
    for i, (label, row) in enumerate(PARCELS.items()):
        width, share = row[4], row[7]
        # 300 m apart: no parcel touches another; t2 lies on t1, so their areas are equal
        x = X0 + 300 * (list(PARCELS).index(7) if label == 3 else i)
        geoms.append(box(x, Y0, x + width, Y0 + 100))
        if share:
            pbf_2017.append(box(x, Y0, x + width * share, Y0 + 100))
    columns = list(zip(*PARCELS.values(), strict=True))
    parcels = gpd.GeoDataFrame(
        {
            "BSM": [f"B{label:04d}" for label in PARCELS],
            "DLBM": columns[0],
            "ZZSXDM": columns[1],
            "EDDLBM": columns[2],
            "GDPDJB": columns[3],
            "ZLDWDM": columns[5],
            "CZCSXM": columns[6],
            "KCXS": 0.0,
        },
        geometry=geoms,
        crs=GK38,
        index=pd.Index(list(PARCELS)),
    )
    return classify(parcels, layers={"pbf_2017": gpd.GeoSeries(pbf_2017, crs=GK38)})


def test_the_profile_ranks_recovery_by_column_8_1() -> None:
    """专栏 8-1: （1）优先从标注恢复属性地类范围整治耕地；
    （2）优先整治 2017 年划定的永久基本农田地块；（3）优先整治坡度 15 度以内 … 的地块.
    """
    recovery = load_profile("hunan-hengyang").priorities["recovery"]
    assert [p.criterion for p in recovery] == [
        "attribute_in",
        "in_layer",
        "slope_grade_ascending",
        "attribute_in",
        "area_descending",
    ]
    assert recovery[0].params == {"fields": ["ZZSXDM"], "values": ["JKHF", "GCHF"]}
    assert recovery[1].params == {"role": "pbf_2017", "min_share": 0.5}


def test_recovery_membership(result) -> None:
    """003 ch.8 §1: 全市恢复耕地潜力 … 其中果园、其他园地、乔木林地、竹林地、灌木林地、
    其他林地、坑塘水面等; ch.5 §3: 不得在 25 度以上陡坡地上整治耕地 …
    不得将城镇村庄范围内整治耕地作为进出平衡转进耕地来源.
    """
    classes = result.parcels["lp_class"]
    assert sorted(classes.index[classes == "RECOVERY"]) == [3, 7, 20, 21, 22, 23, 24, 25, 30, 31]
    assert classes.loc[[26, 27, 28, 29]].tolist() == ["OTHER"] * 4
    reasons = result.parcels["lp_reasons"].str.split(";")
    assert "C_SLOPE_GT25" in reasons.loc[26]  # grade 5: > 25°
    assert "C_TOWN_VILLAGE" in reasons.loc[29]  # CZCSXM 203
    assert reasons.loc[27] == [""] and reasons.loc[28] == [""]  # never in the pool


def test_recovery_rank_by_hand(result) -> None:
    """专栏 8-1 order, per county (lp_prio 1 first); parcels outside the pool rank 0.

    430421: marked and in the 2017 PBF: b (grade 1), then d2 and d (grade 3, 即可恢复,
    d2 larger), then e (grade 3, 工程恢复); marked, not in the 2017 PBF (a only 40 %):
    a (grade 1), then t2 and t1 (grade 2, equal in all: lower id first); then c, not marked.
    430422: q (larger), p.
    """
    expected = {21: 1, 24: 2, 23: 3, 25: 4, 20: 5, 3: 6, 7: 7, 22: 8, 31: 1, 30: 2}
    prio = result.parcels["lp_prio"]
    assert prio.loc[list(expected)].tolist() == list(expected.values())
    assert prio.loc[[26, 27, 28, 29]].tolist() == [0, 0, 0, 0]


def test_recovery_candidates_are_counted_as_recovery_not_farmland(result) -> None:
    """Recovery candidates are not farmland: no PBF, reserve or protection target from them."""
    classes = set(result.parcels["lp_class"])
    assert classes == {"RECOVERY", "OTHER"}
    summary = result.summary
    recovery_m2 = summary.loc[
        (summary["lp_class"] == "RECOVERY") & (summary["county_code"] == "430421"), "area_m2"
    ].sum()
    # 7 parcels of 100 m × 100 m and one of 150 m × 100 m, on the central meridian
    assert recovery_m2 == pytest.approx(7 * 10_000 + 15_000, rel=1e-6)
