"""Contiguous farmland blocks (集中连片), on hand-built squares with known answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from landplan.core.errors import CRSError, InputError
from landplan.measure.blocks import (
    DEFAULT_GAP_M,
    DEFAULT_THRESHOLDS_MU,
    Neighbours,
    area_in_blocks,
    contiguous_blocks,
)

MU = 10_000 / 15  # m² per 亩, written out here rather than imported


def blocks(geoms, *, county=None, member=None, area=None, gap_m=0.0):
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    county = np.array(["430421"] * n, dtype=object) if county is None else np.asarray(county)
    member = np.ones(n, bool) if member is None else np.asarray(member)
    area = shapely.area(geoms) if area is None else np.asarray(area, dtype=float)
    return contiguous_blocks(geoms, county, member, area, gap_m=gap_m)


# ------------------------------------------------------------------ who joins


def test_two_touching_parcels_form_one_block():
    b = blocks([box(0, 0, 20, 20), box(20, 0, 50, 20)])
    assert b.block_id.tolist() == [0, 0]
    assert b.block_area_m2.tolist() == [400.0 + 600.0] * 2
    assert b.table.to_dict("index") == {0: {"county": "430421", "n_parcels": 2, "area_m2": 1000.0}}


def test_separate_parcels_are_separate_blocks():
    b = blocks([box(0, 0, 20, 20), box(30, 0, 50, 20)], gap_m=5.0)  # 10 m apart
    assert b.block_id.tolist() == [0, 1]
    assert b.block_area_m2.tolist() == [400.0, 400.0]


@pytest.mark.parametrize(("gap_m", "joined"), [(5.0, True), (3.0, True), (2.0, False)])
def test_a_road_parcel_between_two_fields(gap_m, joined):
    # farmland | 3 m rural road (1006, a parcel of its own, not a member) | farmland
    geoms = [box(0, 0, 50, 20), box(50, 0, 53, 20), box(53, 0, 103, 20)]
    b = blocks(geoms, member=[True, False, True], area=[1000.0, 60.0, 1000.0], gap_m=gap_m)
    assert b.block_id[1] == -1
    assert np.isnan(b.block_area_m2[1])
    if joined:
        assert b.block_id.tolist() == [0, -1, 0]
        assert b.block_area_m2[[0, 2]].tolist() == [2000.0, 2000.0]  # the road's 60 m² not in it
    else:
        assert b.block_id.tolist() == [0, -1, 2]
        assert b.block_area_m2[[0, 2]].tolist() == [1000.0, 1000.0]


def test_a_non_member_touching_both_fields_does_not_join_them():
    # the road touches both fields, but only members link: with gap 0 the fields stay apart
    geoms = [box(0, 0, 50, 20), box(50, 0, 53, 20), box(53, 0, 103, 20)]
    b = blocks(geoms, member=[True, False, True], gap_m=0.0)
    assert b.block_id.tolist() == [0, -1, 2]


def test_corner_touching_parcels_join():
    b = blocks([box(0, 0, 10, 10), box(10, 10, 20, 20)], gap_m=0.0)
    assert b.block_id.tolist() == [0, 0]


@pytest.mark.parametrize(("gap_m", "joined"), [(4.3, True), (4.2, False)])
def test_diagonal_across_a_crossing_uses_the_true_distance(gap_m, joined):
    # two fields at opposite corners of a crossing of two 3 m roads: 3·√2 ≈ 4.243 m apart,
    # although their boxes widened by 4.2 m overlap
    b = blocks([box(0, 0, 10, 10), box(13, 13, 23, 23)], gap_m=gap_m)
    assert b.block_id.tolist() == ([0, 0] if joined else [0, 1])


def test_blocks_are_transitive():
    # a row of four fields, 3 m apart: the ends are 66 m apart but one block
    geoms = [box(x, 0, x + 20, 20) for x in (0, 23, 46, 69)]
    b = blocks(geoms, gap_m=3.0)
    assert b.block_id.tolist() == [0, 0, 0, 0]
    assert b.table["n_parcels"].tolist() == [4]


def test_counties_never_join():
    geoms = [box(0, 0, 20, 20), box(20, 0, 40, 20), box(40, 0, 60, 20)]
    # the middle parcel belongs to the next county: it touches both, links neither
    b = blocks(geoms, county=["430421", "430422", "430421"], gap_m=5.0)
    assert b.block_id.tolist() == [0, 1, 2]
    assert b.table["county"].tolist() == ["430421", "430422", "430421"]


def test_touching_parcels_of_two_counties_are_two_blocks():
    b = blocks([box(0, 0, 20, 20), box(20, 0, 40, 20)], county=["430421", "430481"])
    assert b.block_id.tolist() == [0, 1]


def test_block_area_is_the_sum_of_the_given_areas():
    # land-class areas after the 田坎 deduction, not the geometric areas
    geoms = [box(0, 0, 20, 20), box(20, 0, 40, 20), box(0, 20, 20, 40), box(100, 0, 120, 20)]
    area = [400 * (1 - 0.04), 400 * (1 - 0.08), 400.0, 400 * (1 - 0.17)]
    b = blocks(geoms, area=area)
    assert b.block_id.tolist() == [0, 0, 0, 3]
    assert b.block_area_m2[:3] == pytest.approx([384.0 + 368.0 + 400.0] * 3)
    assert b.block_area_m2[3] == pytest.approx(332.0)
    assert b.table["area_m2"].tolist() == pytest.approx([1152.0, 332.0])


def test_non_members_need_no_area():
    b = blocks([box(0, 0, 20, 20), box(20, 0, 40, 20)], member=[True, False], area=[400.0, np.nan])
    assert b.block_id.tolist() == [0, -1]
    assert b.block_area_m2[0] == 400.0


def test_block_id_is_the_smallest_position_whatever_the_order():
    # two blocks: {a, b, c} (a row) and {d, e}; listed in a scrambled order
    a, b_, c = box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)
    d, e = box(100, 0, 110, 10), box(110, 0, 120, 10)
    order = [d, c, a, e, b_]  # positions: d 0, c 1, a 2, e 3, b 4
    b = blocks(order)
    assert b.block_id.tolist() == [0, 1, 1, 0, 1]
    assert b.table.index.tolist() == [0, 1]
    assert b.table["n_parcels"].tolist() == [2, 3]
    again = blocks(order)
    assert np.array_equal(again.block_id, b.block_id)


def test_a_member_without_geometry_is_a_block_of_its_own():
    geoms = np.array([box(0, 0, 10, 10), None, shapely.Polygon(), box(10, 0, 20, 10)])
    b = blocks(geoms, area=[100.0, 50.0, 70.0, 100.0], gap_m=DEFAULT_GAP_M)
    assert b.block_id.tolist() == [0, 1, 2, 0]
    assert b.block_area_m2.tolist() == [200.0, 50.0, 70.0, 200.0]


def test_no_members():
    b = blocks([box(0, 0, 10, 10)], member=[False], gap_m=8.0)
    assert b.block_id.tolist() == [-1]
    assert np.isnan(b.block_area_m2).all()
    assert b.table.empty


def test_matches_brute_force_on_random_rectangles():
    # an independent answer: every pair's distance, then a flood fill
    rng = np.random.default_rng(7)
    n = 80
    x, y = rng.uniform(0, 400, n), rng.uniform(0, 400, n)
    w, h = rng.uniform(5, 40, n), rng.uniform(5, 40, n)
    geoms = shapely.box(x, y, x + w, y + h)
    county = rng.choice(["a", "b"], n)
    member = rng.random(n) < 0.8
    gap = 6.0
    b = blocks(geoms, county=county, member=member, gap_m=gap)

    expected = np.full(n, -1)
    for start in range(n):
        if not member[start] or expected[start] >= 0:
            continue
        expected[start] = start
        stack = [start]
        while stack:
            k = stack.pop()
            for other in range(n):
                if (
                    member[other]
                    and expected[other] < 0
                    and county[other] == county[k]
                    and geoms[k].distance(geoms[other]) <= gap
                ):
                    expected[other] = start
                    stack.append(other)
    assert b.block_id.tolist() == expected.tolist()
    assert len(set(expected[member])) > 5  # the layout has several blocks


def test_geographic_parcels_are_measured_in_metres():
    gk = "EPSG:4545"  # CGCS2000 3° Gauss-Krüger zone 36, central meridian 108°E
    x0, y0 = 500_000.0, 3_000_000.0
    squares = [box(x0, y0, x0 + 50, y0 + 50), box(x0 + 53, y0, x0 + 103, y0 + 50)]
    geo = gpd.GeoSeries(squares, crs=gk).to_crs("EPSG:4490")
    county, member, area = ["430421"] * 2, np.ones(2, bool), np.full(2, 2500.0)
    joined = contiguous_blocks(geo, county, member, area, gap_m=3.5)
    apart = contiguous_blocks(geo, county, member, area, gap_m=2.5)
    assert joined.block_id.tolist() == [0, 0]
    assert apart.block_id.tolist() == [0, 1]


def test_foot_units_are_refused():
    feet = gpd.GeoSeries([box(0, 0, 10, 10)], crs="EPSG:2263")  # NY state plane, US feet
    with pytest.raises(CRSError, match="metres"):
        contiguous_blocks(feet, ["x"], [True], [1.0], gap_m=8.0)


@pytest.mark.parametrize("gap_m", [-1.0, np.nan, np.inf])
def test_bad_gap_is_refused(gap_m):
    with pytest.raises(InputError, match="gap_m"):
        blocks([box(0, 0, 1, 1)], gap_m=gap_m)


def test_inputs_of_different_lengths_are_refused():
    with pytest.raises(InputError, match="county"):
        contiguous_blocks(
            np.array([box(0, 0, 1, 1)]), ["a", "b"], [True], [1.0], gap_m=DEFAULT_GAP_M
        )


def test_member_without_area_is_refused():
    with pytest.raises(InputError, match="finite area"):
        blocks([box(0, 0, 1, 1)], area=[np.nan])


# ---------------------------------------------------------------- area by size


def test_default_sizes_are_the_plans():
    assert DEFAULT_THRESHOLDS_MU == (3.0, 5.0, 15.0, 20.0)


def test_area_in_blocks_of_3_5_15_20_mu():
    # county 430421: blocks of 2, 4, 10, 16 and 25 亩, one parcel each, areas in 亩
    #   total 57; ≥3: 4+10+16+25 = 55; ≥5: 51; ≥15: 41; ≥20: 25
    # county 430422: a block of 6 亩 made of a 1 亩 and a 5 亩 parcel, and a 3 亩 block
    #   total 9; ≥3: 9; ≥5: 6; ≥15: 0; ≥20: 0
    county = ["430421"] * 5 + ["430422"] * 3
    block_mu = np.array([2, 4, 10, 16, 25, 6, 6, 3], dtype=float)
    parcel_mu = np.array([2, 4, 10, 16, 25, 1, 5, 3], dtype=float)
    table = area_in_blocks(county, block_mu * MU, parcel_mu * MU)
    assert table.index.tolist() == ["430421", "430422"]
    assert list(table.columns) == [
        "area_m2",
        "ge3mu_m2",
        "ge3mu_share",
        "ge5mu_m2",
        "ge5mu_share",
        "ge15mu_m2",
        "ge15mu_share",
        "ge20mu_m2",
        "ge20mu_share",
    ]
    a, b = table.loc["430421"], table.loc["430422"]
    assert a["area_m2"] == pytest.approx(57 * MU)
    assert [a[f"ge{t}mu_m2"] / MU for t in (3, 5, 15, 20)] == pytest.approx([55, 51, 41, 25])
    assert [a[f"ge{t}mu_share"] for t in (3, 5, 15, 20)] == pytest.approx(
        [55 / 57, 51 / 57, 41 / 57, 25 / 57]
    )
    assert b["area_m2"] == pytest.approx(9 * MU)
    assert [b[f"ge{t}mu_share"] for t in (3, 5, 15, 20)] == pytest.approx([1, 6 / 9, 0, 0])


def test_a_block_of_exactly_3_mu_is_3_mu_or_more():
    # six parcels of ½ 亩 in a row: 3 亩 exactly, though their float sum is 1999.9999999999998
    half = 0.5 * MU
    side = np.sqrt(half)
    geoms = [box(k * side, 0, (k + 1) * side, side) for k in range(6)]
    b = blocks(geoms, area=np.full(6, half))
    assert b.block_id.tolist() == [0] * 6
    table = area_in_blocks(["c"] * 6, b.block_area_m2, np.full(6, half), thresholds_mu=(3, 5))
    assert table.loc["c", "ge3mu_share"] == 1.0
    assert table.loc["c", "ge5mu_share"] == 0.0


def test_area_in_blocks_counts_only_parcels_in_blocks():
    # the PBF figures: PBF area per parcel (0 where none), the block the farmland block;
    # the second parcel is not farmland (no block) and is left out
    county = ["c", "c", "c"]
    block_m2 = [30 * MU, np.nan, 30 * MU]
    pbf_m2 = [10 * MU, 4 * MU, 0.0]
    table = area_in_blocks(county, block_m2, pbf_m2, thresholds_mu=(20,))
    assert table.loc["c", "area_m2"] == pytest.approx(10 * MU)
    assert table.loc["c", "ge20mu_share"] == pytest.approx(1.0)


def test_area_in_blocks_share_of_nothing_is_nan():
    table = area_in_blocks(["c"], [5 * MU], [0.0], thresholds_mu=(3,))
    assert np.isnan(table.loc["c", "ge3mu_share"])


def test_area_in_blocks_refuses_bad_sizes():
    with pytest.raises(InputError):
        area_in_blocks(["c"], [1.0], [1.0], thresholds_mu=(-3,))
    with pytest.raises(InputError, match="length"):
        area_in_blocks(["c"], [1.0, 2.0], [1.0])


def test_blocks_then_shares_end_to_end():
    # county 430421: a 2 亩 field alone, and a 4 亩 + 2 亩 pair across a 3 m road (6 亩 block)
    # with gap 5: ≥3 亩 share (4 + 2) / 8, ≥5 亩 share 6 / 8; with gap 2: 4 / 8 and 0
    side2, side4 = np.sqrt(2 * MU), np.sqrt(4 * MU)
    geoms = [
        box(0, 0, side2, side2),
        box(500, 0, 500 + side4, side4),
        box(500 + side4 + 3, 0, 500 + side4 + 3 + side2, side2),
    ]
    county, member = ["430421"] * 3, np.ones(3, bool)
    area = shapely.area(np.array(geoms))
    wide = contiguous_blocks(np.array(geoms), county, member, area, gap_m=5.0)
    narrow = contiguous_blocks(np.array(geoms), county, member, area, gap_m=2.0)
    t_wide = area_in_blocks(county, wide.block_area_m2, area, thresholds_mu=(3, 5))
    t_narrow = area_in_blocks(county, narrow.block_area_m2, area, thresholds_mu=(3, 5))
    assert t_wide.loc["430421", ["ge3mu_share", "ge5mu_share"]].tolist() == pytest.approx(
        [6 / 8, 6 / 8]
    )
    assert t_narrow.loc["430421", ["ge3mu_share", "ge5mu_share"]].tolist() == pytest.approx(
        [4 / 8, 0]
    )


# ------------------------------------------------------------------ neighbours kept


def _pairs_by_brute_force(geoms, county, member, gap_m):
    """Every pair of members, tested one by one with shapely's distance."""
    at = np.flatnonzero(member)
    return sorted(
        (int(i), int(j))
        for k, i in enumerate(at)
        for j in at[k + 1 :]
        if county[i] == county[j]
        and geoms[i] is not None
        and geoms[j] is not None
        and shapely.distance(geoms[i], geoms[j]) <= gap_m
    )


def test_neighbours_kept_for_one_set_give_the_pairs_of_the_next():
    """Sets asked in the pipeline's order (farmland, some of it, farmland with others)
    give the pairs a brute-force distance test gives for each set alone."""
    rng = np.random.default_rng(5)
    n = 300
    x, y = rng.uniform(0, 400, n), rng.uniform(0, 400, n)
    w, h = rng.uniform(2, 25, n), rng.uniform(2, 25, n)
    geoms = shapely.box(x, y, x + w, y + h).astype(object)
    geoms[[7, 100]] = None
    county = rng.choice(["430421", "430422"], n).astype(object)
    farmland = rng.random(n) < 0.5
    dry = farmland & (rng.random(n) < 0.4)
    others = ~farmland & (rng.random(n) < 0.5)
    near = Neighbours(geoms, county, gap_m=4.0)
    for member in (farmland, dry, farmland | others, others):
        found = sorted(map(tuple, near.among(member).T.tolist()))
        assert found == _pairs_by_brute_force(geoms, county, member, 4.0)
        assert len(found) >= 5  # the test has pairs to compare


def test_blocks_from_kept_neighbours_equal_blocks_found_afresh():
    geoms = np.array(
        [box(0, 0, 20, 20), box(20, 0, 40, 20), box(43, 0, 63, 20), box(70, 0, 90, 20)]
    )
    county, area = np.array(["a"] * 4, dtype=object), np.full(4, 400.0)
    near = Neighbours(geoms, county, gap_m=5.0)
    for member in ([True, True, False, False], [True, True, True, True], [False, True, True, True]):
        kept = contiguous_blocks(geoms, county, member, area, gap_m=5.0, neighbours=near)
        afresh = contiguous_blocks(geoms, county, member, area, gap_m=5.0)
        assert kept.block_id.tolist() == afresh.block_id.tolist()
    with pytest.raises(InputError, match="blocks of 8"):
        contiguous_blocks(geoms, county, [True] * 4, area, gap_m=8.0, neighbours=near)
