"""Annual farmland in/out balance (年度耕地进出平衡) between two survey vintages.

003 ch.5 §3 (seeds/003, 第三节 严格落实耕地进出平衡):

    实施耕地年度进出平衡。严格控制耕地转为林地、草地、园地、农业设施建设用地。因农业结构调整、
    农业设施建设等（国家安排的生态退耕和自然灾害毁损难以复耕、河湖水面自然扩大导致永久淹没等
    自然因素造成耕地减少的除外），确需将一般耕地转为其他农用地的，应当以进定出原则……
    坚持以进定出，年度转进耕地不得少于转出耕地，转进水田不少于转出水田。

The vintages below are hand-built in CGCS2000 / 3-degree Gauss-Krüger CM 114°E (EPSG:4547)
next to the central meridian, where a 100 m square is 10 000 m² on the ellipsoid to better
than 1e-6; every expected area is worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import box

import landplan
from landplan.audit.balance import compare_vintages
from landplan.cli import main
from landplan.core.errors import InputError
from landplan.core.units import M2_PER_MU, M2_PER_WANMU

X0, Y0 = 500_000.0, 3_000_000.0
A, B = "430421", "430422"  # 衡阳县, 衡南县


def _box(x0: float, y0: float, x1: float, y1: float) -> object:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _layer(rows: list[tuple[str, str, str, float, tuple[float, ...]]], crs: int = 4547):
    """Rows of (BSM, DLBM, county, KCXS, (x0, y0, x1, y1) in metres from the origin)."""
    return gpd.GeoDataFrame(
        {
            "BSM": [r[0] for r in rows],
            "DLBM": [r[1] for r in rows],
            "ZLDWDM": [r[2] + "1000010000000" for r in rows],
            "KCXS": [r[3] for r in rows],
        },
        geometry=[_box(*r[4]) for r in rows],
        crs=crs,
    )


# County A: every kind of geometry change; county B: paddy out, dry land in, construction.
OLD = [
    ("O1", "0101", A, 0.10, (0, 0, 100, 100)),  # paddy, split in two: half stays, half orchard
    ("O2", "0103", A, 0.05, (100, 0, 200, 100)),  # dry land, merged with O3
    ("O3", "0103", A, 0.05, (200, 0, 300, 100)),
    ("O4", "0301", A, 0.00, (0, 100, 100, 200)),  # forest; boundary with O5 redrawn at x=80
    ("O5", "0102", A, 0.00, (100, 100, 200, 200)),  # irrigated land
    ("O6", "0307", A, 0.00, (200, 100, 300, 200)),  # other forest, becomes paddy
    ("O7", "0103", A, 0.05, (300, 0, 400, 100)),  # dry land to forest; half in return_forest
    ("O8", "0101", B, 0.10, (1000, 0, 1100, 100)),  # paddy to tea
    ("O9", "0404", B, 0.00, (1100, 0, 1200, 100)),  # grass to dry land
    ("O10", "0103", B, 0.05, (1200, 0, 1300, 100)),  # dry land to rural housing
]
NEW = [
    ("N1a", "0101", A, 0.10, (0, 0, 50, 100)),
    ("N1b", "0201", A, 0.00, (50, 0, 100, 100)),
    ("N2", "0103", A, 0.08, (100, 0, 300, 100)),
    ("N4", "0301", A, 0.00, (0, 100, 80, 200)),
    ("N5", "0102", A, 0.00, (80, 100, 200, 200)),
    ("N6", "0101", A, 0.10, (200, 100, 300, 200)),
    ("N7", "0301", A, 0.00, (300, 0, 400, 100)),
    ("N8", "0202", B, 0.00, (1000, 0, 1100, 100)),
    ("N9", "0103", B, 0.05, (1100, 0, 1200, 100)),
    ("N10", "0702", B, 0.00, (1200, 0, 1300, 100)),
]
RETURN_FOREST = gpd.GeoDataFrame(geometry=[_box(300, 0, 350, 100)], crs=4547)

# county A by hand (areas after the old vintage's KCXS for farmland lost or kept, the new one's
# for farmland gained):
#   old farmland: O1 10000*0.9 + O2 10000*0.95 + O3 10000*0.95 + O5 10000 + O7 10000*0.95 = 47500
#   out: O1's east half to orchard 5000*0.9 = 4500 (all paddy), O7's east half to forest
#        5000*0.95 = 4750                                                        -> 9250
#   excluded (生态退耕): O7's west half, 5000*0.95                                  = 4750
#   kept: O1's west half 4500 + O2, O3 merged 19000 (old KCXS) + O5 10000         = 33500
#   in: O4's strip x 80-100 to irrigated 2000*(1-0) + O6 to paddy 10000*0.9 = 9000 -> 11000
#   paddy in 9000 >= paddy out 4500, in 11000 >= out 9250: balanced
# county B: out 9000 (paddy), in 9500 (no paddy), O10 to housing 9500 is out_other
A_EXPECTED = {
    "farmland_old_m2": 47_500,
    "kept_m2": 33_500,
    "out_m2": 9_250,
    "paddy_out_m2": 4_500,
    "excluded_m2": 4_750,
    "excluded_eco_return_m2": 4_750,
    "out_other_m2": 0,
    "in_m2": 11_000,
    "paddy_in_m2": 9_000,
    "net_m2": 1_750,
    "shortfall_m2": 0,
    "paddy_shortfall_m2": 0,
    "unmatched_old_m2": 0,
}
B_EXPECTED = {
    "farmland_old_m2": 18_500,
    "kept_m2": 0,
    "out_m2": 9_000,
    "paddy_out_m2": 9_000,
    "excluded_m2": 0,
    "out_other_m2": 9_500,
    "in_m2": 9_500,
    "paddy_in_m2": 0,
    "shortfall_m2": 0,
    "paddy_shortfall_m2": 9_000,
}


def _row(summary: pd.DataFrame, county: str) -> pd.Series:
    return summary.set_index("county_code").loc[county]


def _check(row: pd.Series, expected: dict[str, float]) -> None:
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, rel=1e-6, abs=0.05), column  # 5e-6 of 10 000 m²


@pytest.fixture(scope="module")
def result() -> landplan.audit.balance.Balance:
    return landplan.balance(_layer(OLD), _layer(NEW), layers={"return_forest": RETURN_FOREST})


def test_split_merge_redraw_paddy_to_orchard_forest_to_paddy_and_return_forest(result) -> None:
    """County A: the hand-computed balance, met (转进 ≥ 转出, 转进水田 ≥ 转出水田)."""
    row = _row(result.summary, A)
    _check(row, A_EXPECTED)
    assert bool(row["balanced"]) and row["status"] == "平衡"
    assert row["county_name"] == "衡阳县"


def test_paddy_turned_out_without_paddy_turned_in_is_unbalanced(result) -> None:
    """County B: 转进耕地 9500 ≥ 转出 9000, but 转进水田 0 < 转出水田 9000: not balanced.

    Farmland turned into rural housing (0702) is not 转为其他农用地: outside the balance.
    """
    row = _row(result.summary, B)
    _check(row, B_EXPECTED)
    assert not bool(row["balanced"]) and row["status"] == "不平衡"


def test_no_farmland_area_is_lost(result) -> None:
    """Out + excluded + outside + kept (+ unmatched) is the old vintage's farmland."""
    old = _layer(OLD)
    farm = old["DLBM"].str.startswith("01")
    by_hand = old[farm].to_crs(landplan.core.crs.EQUAL_AREA_CRS).area * (1 - old["KCXS"][farm])
    summary = result.summary.set_index("county_code")
    parts = ["kept_m2", "out_m2", "excluded_m2", "out_other_m2", "unmatched_old_m2"]
    assert (summary[parts].sum(axis=1) - summary["farmland_old_m2"]).abs().max() < 1e-6
    assert summary.loc["全市", "farmland_old_m2"] == pytest.approx(by_hand.sum(), rel=1e-9)
    assert summary.loc["全市", "farmland_old_m2"] == pytest.approx(66_000, rel=1e-6)
    assert summary.loc["全市", "unmatched_old_m2"] == pytest.approx(0, abs=0.05)
    assert result.problems == []


def test_city_row_is_balanced_from_its_own_sums(result) -> None:
    """The city: in 20500 ≥ out 18250, paddy in 9000 < paddy out 13500: short by 4500 of paddy."""
    city = _row(result.summary, "全市")
    assert city["in_m2"] == pytest.approx(20_500, rel=1e-6)
    assert city["out_m2"] == pytest.approx(18_250, rel=1e-6)
    assert city["paddy_shortfall_m2"] == pytest.approx(4_500, rel=1e-6)
    assert not bool(city["balanced"])
    assert city["paddy_shortfall_mu"] == pytest.approx(4_500 / M2_PER_MU, rel=1e-6)
    assert city["paddy_shortfall_wanmu"] == pytest.approx(4_500 / M2_PER_WANMU, rel=1e-6)
    assert city["paddy_shortfall_mu"] == pytest.approx(6.75, rel=1e-6)  # 4500 m² = 6.75 亩


def test_flows_by_destination_and_origin_class(result) -> None:
    flows = result.flows[result.flows["county_code"] == A].set_index(["direction", "class_code"])
    assert flows.loc[("out", "0201"), "area_m2"] == pytest.approx(4_500, rel=1e-6)
    assert flows.loc[("out", "0201"), "class_group_name"] == "园地"
    assert flows.loc[("out", "0301"), "area_m2"] == pytest.approx(4_750, rel=1e-6)
    assert flows.loc[("excluded", "0301"), "cause"] == "eco_return"
    assert flows.loc[("in", "0301"), "area_m2"] == pytest.approx(2_000, rel=1e-6)  # redrawn
    assert flows.loc[("in", "0307"), "area_m2"] == pytest.approx(10_000 * 0.9, rel=1e-6)
    assert flows.loc[("in", "0307"), "class_group"] == "03"
    city = result.flows[result.flows["county_code"] == "全市"]
    assert city["area_m2"].sum() == pytest.approx(result.flows["area_m2"].sum() / 2, rel=1e-9)


def test_pieces_layer_for_a_map(result) -> None:
    pieces = result.pieces
    assert pieces.crs.to_epsg() == 4547
    assert set(pieces["direction"]) == {"out", "in", "excluded", "out_other"}
    assert {"class_old", "class_new", "direction", "county", "area_m2"} <= set(pieces.columns)
    split = pieces[(pieces["bsm_old"] == "O1") & (pieces["direction"] == "out")]
    assert len(split) == 1 and split["class_new"].iloc[0] == "0201"  # no slivers on the map
    assert split.geometry.iloc[0].symmetric_difference(_box(50, 0, 100, 100)).area < 1e-3
    assert split["counted_m2"].iloc[0] == pytest.approx(4_500, rel=1e-6)
    # nothing kept is on the map; merged O2/O3 are neither out nor in
    assert not pieces["bsm_old"].isin(["O2", "O3", "O5"]).any()


def test_without_the_layer_return_forest_counts_as_out() -> None:
    """O7 wholly out: county A out 4500 + 9500 = 14000 > in 11000: short by 3000."""
    row = _row(landplan.balance(_layer(OLD), _layer(NEW)).summary, A)
    assert row["out_m2"] == pytest.approx(14_000, rel=1e-6)
    assert row["excluded_m2"] == pytest.approx(0, abs=1e-6)
    assert row["shortfall_m2"] == pytest.approx(3_000, abs=0.05)
    assert not bool(row["balanced"])


def test_scope_all_counts_construction_as_out() -> None:
    row = _row(landplan.balance(_layer(OLD), _layer(NEW), scope="all").summary, B)
    assert row["out_m2"] == pytest.approx(18_500, rel=1e-6)
    assert row["out_other_m2"] == pytest.approx(0, abs=1e-6)
    assert row["shortfall_m2"] == pytest.approx(9_000, rel=1e-6)


def test_cause_from_an_attribute() -> None:
    """N10 marked 灾毁 (自然灾害损毁难以复耕): O10's 9500 m² is exempt, not out_other."""
    new = _layer(NEW).assign(BHYY=["", "", "", "", "", "", "", "", "", "灾毁"])
    row = _row(landplan.balance(_layer(OLD), new, cause_field="BHYY", scope="all").summary, B)
    assert row["excluded_disaster_m2"] == pytest.approx(9_500, rel=1e-6)
    assert row["out_m2"] == pytest.approx(9_000, rel=1e-6)


def test_flooding_needs_river_or_lake_water() -> None:
    """Inside river_lake, farmland turned river water (1101) is exempt, turned pond (1104) not."""
    old = _layer(
        [("F1", "0103", A, 0.0, (0, 0, 100, 100)), ("F2", "0103", A, 0.0, (100, 0, 200, 100))]
    )
    new = _layer(
        [("G1", "1101", A, 0.0, (0, 0, 100, 100)), ("G2", "1104", A, 0.0, (100, 0, 200, 100))]
    )
    river = gpd.GeoDataFrame(geometry=[_box(-10, -10, 210, 110)], crs=4547)
    row = _row(landplan.balance(old, new, layers={"RIVER_LAKE": river}).summary, A)
    assert row["excluded_flooded_m2"] == pytest.approx(10_000, rel=1e-6)
    assert row["out_m2"] == pytest.approx(10_000, rel=1e-6)  # the pond: 其他农用地
    assert row["out_other_m2"] == pytest.approx(0, abs=1e-6)


def test_vintages_in_different_crs_give_the_same_answer(result) -> None:
    old = _layer(OLD).to_crs(4490)  # geographic CGCS2000
    again = landplan.balance(old, _layer(NEW), layers={"return_forest": RETURN_FOREST})
    _check(_row(again.summary, A), A_EXPECTED)


def test_a_gap_in_the_new_vintage_is_reported_not_lost() -> None:
    """N7 missing: O7's 9500 m² of farmland is unmatched, named by BSM, and on the map."""
    new = _layer([r for r in NEW if r[0] != "N7"])
    out = landplan.balance(_layer(OLD), new)
    row = _row(out.summary, A)
    assert row["unmatched_old_m2"] == pytest.approx(9_500, abs=0.05)
    assert row["farmland_old_m2"] == pytest.approx(47_500, rel=1e-6)
    (problem,) = [p for p in out.problems if p.code == "BALANCE_UNMATCHED"]
    assert "BSM O7" in str(problem)
    gap = out.pieces[out.pieces["direction"] == "gap"]
    assert gap["area_m2"].sum() == pytest.approx(10_000, rel=1e-6)


def test_bad_kcxs_names_the_parcel() -> None:
    old = _layer(OLD)
    old.loc[old["BSM"] == "O2", "KCXS"] = 5.0
    with pytest.raises(InputError, match=r"BALANCE_KCXS_RANGE.*BSM O2"):
        compare_vintages(old, _layer(NEW), sources=("old.gpkg", "new.gpkg"))


def test_a_role_that_marks_no_cause_is_refused() -> None:
    with pytest.raises(InputError, match=r"eco_redline.*return_forest"):
        landplan.balance(_layer(OLD), _layer(NEW), layers={"eco_redline": RETURN_FOREST})


def test_an_unknown_cause_value_is_refused() -> None:
    new = _layer(NEW).assign(BHYY="盖房")
    with pytest.raises(InputError, match=r"盖房.*生态退耕"):
        landplan.balance(_layer(OLD), new, cause_field="BHYY")


def test_vintages_that_do_not_overlap_are_refused() -> None:
    new = _layer(NEW)
    far = new.set_geometry(new.translate(xoff=100_000))
    with pytest.raises(InputError, match="BALANCE_NO_OVERLAP"):
        landplan.balance(_layer(OLD), far)


def test_cli_writes_tables_and_map(tmp_path: Path) -> None:
    old, new, rf = tmp_path / "old.gpkg", tmp_path / "new.gpkg", tmp_path / "rf.gpkg"
    _layer(OLD).to_file(old)
    _layer(NEW).to_file(new)
    RETURN_FOREST.to_file(rf)
    out = tmp_path / "out"
    args = ["balance", str(old), str(new), "-o", str(out), "--layer", f"Return_Forest={rf}"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    assert "不平衡" in run.stdout and "衡阳县" in run.stdout
    table = pd.read_csv(out / "balance.csv", encoding="utf-8-sig", dtype={"county_code": str})
    assert (out / "balance.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert _row(table, A)["out_m2"] == pytest.approx(9_250, rel=1e-6)
    assert (out / "balance_flows.csv").exists() and (out / "balance.xlsx").exists()
    assert "balance_pieces" in pyogrio.list_layers(out / "balance.gpkg")[:, 0]
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0


def test_cli_one_file(tmp_path: Path) -> None:
    old, new = tmp_path / "old.gpkg", tmp_path / "new.gpkg"
    _layer(OLD).to_file(old)
    _layer(NEW).to_file(new)
    run = CliRunner().invoke(
        main, ["balance", str(old), str(new), "-o", str(tmp_path / "b.xlsx"), "--scope", "all"]
    )
    assert run.exit_code == 0, run.output
    sheets = pd.read_excel(tmp_path / "b.xlsx", sheet_name=None, dtype={"county_code": str})
    assert set(sheets) == {"summary", "flows"}
    assert _row(sheets["summary"], B)["out_m2"] == pytest.approx(18_500, rel=1e-6)


def test_identical_vintages_change_nothing() -> None:
    same = landplan.balance(_layer(OLD), _layer(OLD))
    city = _row(same.summary, "全市")
    assert city["kept_m2"] == pytest.approx(66_000, rel=1e-6)
    assert city["out_m2"] == city["in_m2"] == 0 and bool(city["balanced"])
    assert same.flows.empty and same.pieces.empty
