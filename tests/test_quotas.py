"""Quota filling on cases whose answer is known."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from landplan.allocate.quotas import fill_quota
from landplan.api import classify
from landplan.core.units import M2_PER_WANMU

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0


def five_parcels() -> gpd.GeoDataFrame:
    """Five farmland squares of one county; priorities differ by HSF, 两区 and GDDB."""
    return square_parcels(5, 1, GDDB=[9, 3, 5, 3, 12], GDPDJB=[1, 1, 1, 2, 1])


def hsf_over(*columns: int) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [box(X0 + 100 * c, Y0, X0 + 100 * (c + 1), Y0 + 100) for c in columns], crs=GK38
    )


def test_pbf_is_the_smallest_prefix_of_the_priority_order_reaching_the_target() -> None:
    parcels = five_parcels()
    area = classify(parcels).measurement.table["dlmj_m2"]
    # by hand, 专栏 4-1 order: in HSF first (parcels 4, 0), better GDDB among them (0: 9, 4: 12)
    # -> 0, 4; then outside HSF by GDDB: 1 and 3 (both 3) -> lower slope grade first: 1, 3; then 2
    target = float(area[0] + area[4] + 0.5 * area[1])  # needs 0, 4 and part of 1
    result = classify(
        parcels, layers={"high_standard_farmland": hsf_over(0, 4)}, targets={"430421": target}
    )
    assert result.parcels["lp_class"].tolist() == ["PBF", "PBF", "RESERVE", "GENERAL", "PBF"]
    # rank in the deciding pool: PBF order for 0, 1, 3, 4; reserve order for the reserve parcel
    assert result.parcels["lp_prio"].tolist() == [1, 3, 1, 4, 2]
    quota = result.quotas.iloc[0]
    assert quota["pbf_target_m2"] == pytest.approx(target)
    assert quota["pbf_selected_m2"] == pytest.approx(area[0] + area[4] + area[1])
    assert quota["pbf_balance_m2"] == pytest.approx(0.5 * area[1])


def test_reserve_is_one_percent_of_pbf_and_prefers_parcels_next_to_pbf() -> None:
    """003 附录5 备注1: 永久基本农田储备区规模按永久基本农田保[护]面积的 1%予以落实 — 1 % of
    the PBF *target*, not of the PBF selected."""
    parcels = square_parcels(6, 1, GDDB=[1, 15, 15, 15, 15, 2])
    area = classify(parcels).measurement.table["dlmj_m2"]
    # PBF: parcel 0 (GDDB 1) then 5 (GDDB 2) -> two parcels; reserve target 1 % of the target:
    # the first reserve parcel in 专栏 4-2 order is the one touching PBF: 1 (next to 0), then 4
    target = float(area[0] + area[5]) - 1.0
    result = classify(parcels, targets={"430421": target})
    classes = result.parcels["lp_class"].tolist()
    assert classes[0] == classes[5] == "PBF"
    assert classes[1] == "RESERVE"
    assert classes.count("RESERVE") == 1
    assert result.quotas.iloc[0]["reserve_target_m2"] == pytest.approx(0.01 * target)


def test_shortfall_when_eligible_farmland_is_not_enough() -> None:
    parcels = five_parcels()
    eco = gpd.GeoSeries([box(X0, Y0, X0 + 300, Y0 + 100)], crs=GK38)  # parcels 0-2 in redline
    result = classify(parcels, layers={"eco_redline": eco}, targets={"430421": 1e9})
    assert result.parcels["lp_class"].tolist()[3:] == ["PBF", "PBF"]
    quota = result.quotas.iloc[0]
    assert quota["pbf_balance_m2"] == pytest.approx(quota["pbf_selected_m2"] - 1e9)
    assert quota["pbf_balance_m2"] < 0


def test_targets_csv_in_wanmu_and_default_share(tmp_path) -> None:
    """Without a targets file, 衡阳 counties take 附录5's own figures (row 衡阳县
    90.92 90.23 82.55 82.38 0.82 …: 2035 永久基本农田保护面积 82.38 万亩, 储备区 0.82 万亩);
    other counties 0.9053 of their protection target (ch.2: 476.04 / 525.81)."""
    parcels = five_parcels()
    area = classify(parcels).measurement.table["dlmj_m2"]
    csv = tmp_path / "t.csv"
    csv.write_text(
        f"county_code,pbf_2035_wanmu,other\n430421,{area[0] / M2_PER_WANMU},1\n",
        encoding="utf-8-sig",
    )
    result = classify(parcels, targets=csv)
    assert result.quotas.iloc[0]["pbf_target_m2"] == pytest.approx(area[0])
    assert result.quotas.iloc[0]["pbf_target_source"] == str(csv)
    shipped = classify(parcels)
    quota = shipped.quotas.iloc[0]
    assert quota["pbf_target_m2"] == pytest.approx(82.38 * 10_000 * 10_000 / 15)
    assert quota["reserve_target_m2"] == pytest.approx(0.82 * 10_000 * 10_000 / 15)
    assert quota["pbf_target_source"] == "hengyang_county_targets (landplan)"
    elsewhere = classify(five_parcels_in("4303020010010000000"))  # 湘潭 雨湖区: not in 附录5
    quota = elsewhere.quotas.iloc[0]
    assert quota["pbf_target_m2"] == pytest.approx(0.9053 * area.sum())
    assert quota["pbf_target_source"] == "default"
    with pytest.raises(ValueError, match=r"pbf_2025_wanmu.*columns are"):
        classify(parcels, targets=csv, targets_column="pbf_2025_wanmu")


def five_parcels_in(zldwdm: str) -> gpd.GeoDataFrame:
    return square_parcels(5, 1, GDDB=[9, 3, 5, 3, 12], GDPDJB=[1, 1, 1, 2, 1], ZLDWDM=[zldwdm] * 5)


def test_quotas_are_per_county() -> None:
    parcels = square_parcels(4, 1, ZLDWDM=["4304210010010000000"] * 2 + ["4304220010010000000"] * 2)
    area = classify(parcels).measurement.table["dlmj_m2"].to_numpy()
    result = classify(parcels, targets={"430421": float(area[0]) - 1, "430422": 0.0})
    classes = result.parcels["lp_class"].tolist()
    assert classes[:2].count("PBF") == 1
    assert "PBF" not in classes[2:]
    assert np.array_equal(result.parcels["lp_county"].unique(), ["430421", "430422"])


@pytest.mark.parametrize("threads", [1, 2])
def test_parcels_next_to_a_class_are_those_a_pairwise_test_finds(threads: int) -> None:
    """ "与已划定的永久基本农田相邻" (专栏 4-2): a parcel touches a parcel of the class in its
    own county.  Checked against shapely.intersects on every pair of a 12 × 12 grid of
    squares, with a gap column, two counties, a missing geometry and every third parcel PBF."""
    import shapely

    from landplan.allocate.classes import _adjacency

    parcels = square_parcels(12, 12)
    geoms = parcels.geometry.to_numpy().copy()
    geoms[5::12] = [shapely.affinity.translate(g, 0.5, 0) for g in geoms[5::12]]  # a gap
    geoms[7] = None
    county = np.where(np.arange(len(geoms)) % 12 < 6, "430421", "430422").astype(object)
    lp_class = np.where(np.arange(len(geoms)) % 3 == 0, "PBF", "GENERAL").astype(object)
    got = _adjacency(gpd.GeoSeries(geoms, crs=GK38), lp_class, county, threads=threads)("PBF")
    want = np.zeros(len(geoms), dtype=bool)
    for i in range(len(geoms)):
        for j in np.flatnonzero(lp_class == "PBF"):
            if geoms[i] is not None and geoms[j] is not None and county[i] == county[j]:
                want[i] |= lp_class[i] != "PBF" and bool(shapely.intersects(geoms[i], geoms[j]))
    assert got.tolist() == want.tolist()
    assert 20 < want.sum() < len(geoms) - 48


@pytest.mark.parametrize("l_shape_first", [True, False])
def test_a_parcel_is_next_to_a_class_when_any_member_touches_it(l_shape_first: bool) -> None:
    """Boxes that meet are not enough: an L-shaped PBF parcel wraps round parcel p 2 m away
    (its box holds p's), while a strip of PBF touches p's east edge.  p is next to PBF
    whichever member is looked at first; q, in the L's notch 0.5 m from it, whose box only
    the L-shape's box meets, is not."""
    import shapely

    from landplan.allocate.classes import _adjacency

    x, y = 500_000.0, 3_000_000.0
    l_shape = shapely.Polygon(
        [(x + 12, y), (x + 20, y), (x + 20, y + 20), (x, y + 20), (x, y + 12), (x + 12, y + 12)]
    )
    strip = shapely.box(x + 10, y, x + 11, y + 10)
    p, q = shapely.box(x, y, x + 10, y + 10), shapely.box(x + 1, y + 10.5, x + 9, y + 11.5)
    members = [l_shape, strip] if l_shape_first else [strip, l_shape]
    geoms = gpd.GeoSeries([*members, p, q], crs=GK38)
    assert not shapely.intersects(l_shape, p) and shapely.intersects(strip, p)
    assert shapely.intersects(l_shape.envelope, q) and not shapely.intersects(l_shape, q)
    lp_class = np.array(["PBF", "PBF", "GENERAL", "GENERAL"], dtype=object)
    county = np.array(["430421"] * 4, dtype=object)
    got = _adjacency(geoms, lp_class, county)("PBF")
    assert got.tolist() == [False, False, True, False]


def test_attribute_ascending_reads_typed_fields_as_they_are_and_text_as_numbers() -> None:
    """GDDB as parsed (Int64 with a missing grade), a column of the layer's own holding
    numbers as text (blanks and garbage included) and one of floats: lower first, the
    missing and the unreadable last (infinity)."""
    import pandas as pd

    from landplan.rules.criteria import CRITERIA, SelectContext
    from landplan.rules.kinds import Context
    from landplan.survey.schema import survey_attributes

    frame = pd.DataFrame(
        {
            "DLBM": ["0101"] * 5,
            "ZLDWDM": ["4304210010010000000"] * 5,
            "GDDB": [3, None, 1, 12, 3],
            "RANK_TXT": [" 2.5", "x", "", None, "10"],
            "RANK_NUM": [0.5, np.nan, -1.0, 7.0, 0.5],
        }
    )
    attrs = survey_attributes(frame)
    ctx = SelectContext(Context(attrs, frame, pd.DataFrame(index=frame.index), has_dem=False))
    key = CRITERIA["attribute_ascending"].func
    inf = np.inf
    assert key(ctx, field="GDDB").tolist() == [3.0, inf, 1.0, 12.0, 3.0]
    assert key(ctx, field="RANK_TXT").tolist() == [2.5, inf, inf, inf, 10.0]
    assert key(ctx, field="RANK_NUM").tolist() == [0.5, inf, -1.0, 7.0, 0.5]
    assert key(ctx, field="ABSENT").tolist() == [0.0] * 5


def test_a_target_reached_but_for_rounding_draws_no_further_parcel() -> None:
    """A shortfall is a target less the kept area: (0.1 + 0.2) - 0.1 is 0.2 plus 2.8e-17.

    The parcel of 0.2 m² meets it; the next one (5 m²) must not be drawn for
    the rounding, while a real shortfall of a square centimetre still draws it.
    """
    order, county = np.array([0, 1]), np.array(["a", "a"])
    area, eligible = np.array([0.2, 5.0]), np.array([True, True])
    shortfall = (0.1 + 0.2) - 0.1
    assert shortfall > 0.2  # the rounding the fill must absorb
    assert fill_quota(order, eligible, area, county, {"a": shortfall}).tolist() == [True, False]
    assert fill_quota(order, eligible, area, county, {"a": 0.2001}).tolist() == [True, True]
