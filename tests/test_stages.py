"""Stages B and D, contiguous blocks, and the quota table's explanations, worked by hand.

Parcels are squares on the central meridian of EPSG:4547, where Gauss-Krüger area equals
ellipsoidal area to 1e-9; 1 ha = 15 亩.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from landplan.api import classify

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0
MU = 10_000 / 15


def strip(*columns: int, size: float = 110.0) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [box(X0 + size * c, Y0, X0 + size * (c + 1), Y0 + size) for c in columns], crs=GK38
    )


def five() -> gpd.GeoDataFrame:
    """其他林地, 果园, then three dry fields, 110 m squares (1.21 ha = 18.15 亩 each)."""
    return square_parcels(
        5,
        1,
        size=110.0,
        DLBM=["0307", "0201", "0103", "0103", "0103"],
        GDPDJB=[None, None, 1, 1, 1],
    )


def test_stage_b_candidates_and_exclusions_by_county() -> None:
    """003 ch.7 §1 合理划定耕地后备资源: …剔除城镇开发边界、生态保护红线、自然保护地、生态公益林、
    天然林范围内等不适宜开发地块; totals split 林地 (灌木林地、其他林地) and 非林地."""
    result = classify(five(), layers={"eco_redline": strip(1)})
    assert result.parcels["lp_stage_b"].tolist() == ["CANDIDATE", "EXCLUDED", "", "", ""]
    assert "B_ECO_REDLINE" in result.parcels["lp_reasons"].iloc[1].split(";")
    row = result.stage_b.set_index("county_code").loc["430421"]
    assert row["candidate_m2"] == pytest.approx(12_100, rel=1e-6)
    assert row["forest_m2"] == pytest.approx(12_100, rel=1e-6)
    assert row["nonforest_m2"] == 0
    assert row["dlbm_0307_m2"] == pytest.approx(12_100, rel=1e-6)
    assert row["excluded_m2"] == pytest.approx(12_100, rel=1e-6)


def test_stage_d_candidates_and_their_blocks() -> None:
    """003 ch.7 §1: 以现有旱地为对象，剔除生态保护红线、城镇开发边界、生态退耕、土壤污染和坡度 15 度
    以上…, 并从水源、坡度、土壤质地、耕作便利度和连片程度等方面开展…评价; 004 ch.7 §1 reports
    30亩以上 / 15亩以上集中连片地块.  Dry fields 2 and 3 form a block of 36.3 亩; field 4 lies
    in the development boundary."""
    parcels = five().assign(GDPDJB=[None, None, 1, 3, 1])  # field 3 is 6-15°
    layers = {"dev_boundary": strip(4), "irrigation": strip(2)}  # water reaches field 2 only
    result = classify(parcels, layers=layers)
    assert result.parcels["lp_stage_d"].tolist() == ["", "", "CANDIDATE", "CANDIDATE", "EXCLUDED"]
    assert "D_DEV_BOUNDARY" in result.parcels["lp_reasons"].iloc[4].split(";")
    row = result.stage_d.set_index("county_code").loc["430421"]
    assert row["candidate_m2"] == pytest.approx(24_200, rel=1e-6)
    assert row["excluded_m2"] == pytest.approx(12_100, rel=1e-6)
    assert row["block_ge15mu_m2"] == pytest.approx(24_200, rel=1e-6)
    assert row["block_ge30mu_m2"] == pytest.approx(24_200, rel=1e-6)
    assert row["water_m2"] == pytest.approx(12_100, rel=1e-6)  # 水源
    assert row["flat_m2"] == pytest.approx(12_100, rel=1e-6)  # 坡度: GDPDJB ≤ 2


def test_farmland_parcels_carry_their_block() -> None:
    result = classify(five())
    p = result.parcels
    assert p["lp_block_id"].tolist() == [-1, -1, 2, 2, 2]
    assert np.isnan(p["lp_block_mu"].iloc[0])
    assert p["lp_block_mu"].iloc[2:].tolist() == pytest.approx([3 * 1.21 * 15] * 3, rel=1e-6)


def three_paddies() -> gpd.GeoDataFrame:
    """Paddy 0 alone; paddies 1 and 2 touch each other, 20 m east of paddy 0."""
    geoms = [
        box(X0, Y0, X0 + 100, Y0 + 100),
        box(X0 + 120, Y0, X0 + 220, Y0 + 100),
        box(X0 + 220, Y0, X0 + 320, Y0 + 100),
    ]
    frame = square_parcels(3, 1)
    return frame.set_geometry(gpd.GeoSeries(geoms, crs=GK38))


def _profile(tmp_path, gap: float) -> str:
    path = tmp_path / "gap.toml"
    path.write_text(
        f'[profile]\nid = "gap"\nextends = "hunan-hengyang"\n\n[parameters]\nblock_gap_m = {gap}\n',
        encoding="utf-8",
    )
    return str(path)


def test_larger_contiguous_blocks_come_first_for_pbf(tmp_path) -> None:
    """专栏 4-1 优先划入 …集中连片: with equal quality, a parcel of the 30 亩 block is drawn
    before the lone 15 亩 parcel, which its lower id would otherwise put first."""
    target = {"430421": 10_000.0 - 1.0}  # one parcel
    result = classify(three_paddies(), targets=target)
    assert result.parcels["lp_class"].tolist()[:2] == ["GENERAL", "PBF"]
    # a 25 m gap joins all three into one block: the tie falls back to the parcel id
    joined = classify(three_paddies(), targets=target, profile=_profile(tmp_path, 25.0))
    assert joined.parcels["lp_class"].tolist()[0] == "PBF"


def test_contiguity_shares_per_county() -> None:
    """003 ch.3 §4 / 004 ch.1 §1 report farmland in blocks of ≥ 3, 5, 15, 20 亩: here a 15 亩
    block and a 30 亩 block, so 2/3 of the farmland lies in blocks of 20 亩 or more."""
    table = classify(three_paddies()).contiguity.set_index("county_code")
    assert table.loc["430421", "farmland_m2"] == pytest.approx(30_000, rel=1e-6)
    assert table.loc["430421", "farmland_ge20mu_share"] == pytest.approx(2 / 3, rel=1e-6)
    assert table.loc["430421", "farmland_ge3mu_share"] == pytest.approx(1.0)
    assert table.loc["全市", "farmland_ge20mu_m2"] == pytest.approx(20_000, rel=1e-6)


def test_the_quota_table_explains_a_shortfall_and_gives_the_pbf_shares() -> None:
    """A county short of its target: the redline kept paddy 0 out of the pool, nothing
    eligible is left; of the PBF, half is paddy and half lies under 15° (003 ch.4 §1 reports
    水田 and 坡度 15 度以下 shares of the PBF)."""
    parcels = square_parcels(3, 1, DLBM=["0101", "0101", "0103"], GDPDJB=[1, 1, 4])
    result = classify(
        parcels, layers={"eco_redline": strip(0, size=100.0)}, targets={"430421": 30_000.0}
    )
    row = result.quotas.set_index("county_code").loc["430421"]
    assert row["pbf_out_P_ECO_REDLINE_m2"] == pytest.approx(10_000, rel=1e-6)
    assert row["pbf_eligible_left_m2"] == 0
    assert row["pbf_balance_m2"] == pytest.approx(-10_000, rel=1e-6)
    assert row["pbf_paddy_share"] == pytest.approx(0.5, rel=1e-6)
    assert row["pbf_slope_le15_share"] == pytest.approx(0.5, rel=1e-6)


def test_a_xiangtan_run_names_its_counties_and_says_its_targets_are_the_city_ratio() -> None:
    """004 专栏2-1: 永久基本农田保护面积 171.01 of 耕地保护目标 191.17 万亩 (0.8946); 004 prints no
    county targets, so every county takes that ratio and the run says so."""
    parcels = square_parcels(2, 1, ZLDWDM=["4303810010010000000"] * 2)
    result = classify(parcels, profile="hunan-xiangtan")
    row = result.quotas.iloc[0]
    assert row["county_name"] == "湘乡市"
    assert row["pbf_target_source"] == "default"
    assert row["pbf_target_m2"] == pytest.approx(0.8946 * 20_000, rel=1e-6)
    assert any(p.code == "TARGET_DEFAULT" for p in result.problems)


def test_classify_prints_why_a_county_is_short(tmp_path) -> None:
    """Three 1 km² paddies (0.15 万亩 each); the redline keeps one out of the PBF pool, so a
    target of all three is 0.15 万亩 short and the run says the redline took 0.150."""
    from click.testing import CliRunner

    from landplan.cli import main

    parcels = square_parcels(3, 1, size=1000.0)
    parcels.to_file(tmp_path / "p.gpkg", layer="DLTB")
    strip(0, size=1000.0).to_frame("geometry").to_file(tmp_path / "eco.gpkg")
    (tmp_path / "t.csv").write_text("county_code,pbf_2035_wanmu\n430421,0.45\n", encoding="utf-8")
    run = CliRunner().invoke(
        main,
        [
            "classify", str(tmp_path / "p.gpkg"), "-o", str(tmp_path / "out.gpkg"),
            "--layer", f"eco_redline={tmp_path / 'eco.gpkg'}", "--targets", str(tmp_path / "t.csv"),
        ],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    line = [x for x in run.output.splitlines() if "short 0.150" in x]
    assert line and "eligible left 0.000" in line[0] and "P_ECO_REDLINE 0.150" in line[0]


def ponds_and_mines() -> gpd.GeoDataFrame:
    """Six 100 m squares (1 ha each, KCXS 0): ponds (1104), mining land (0602), other forest."""
    return square_parcels(6, 1, DLBM=["1104", "1104", "0602", "0602", "0307", "1104"], GDPDJB=None)


def abandoned_layer() -> gpd.GeoSeries:
    """废弃坑塘/废弃采矿用地范围: 95 % of pond 0, 60 % of mine 2, 40 % of mine 3, all of pond 5."""
    return gpd.GeoSeries(
        [
            box(X0 - 5, Y0 - 5, X0 + 95, Y0 + 105),  # pond 0: x 0-95 of 0-100; none of pond 1
            box(X0 + 240, Y0 - 5, X0 + 300, Y0 + 105),  # mine 2: x 240-300 of 200-300
            box(X0 + 300, Y0 - 5, X0 + 340, Y0 + 105),  # mine 3: x 300-340 of 300-400
            box(X0 + 500, Y0 - 5, X0 + 605, Y0 + 105),  # pond 5
        ],
        crs=GK38,
    )


def test_abandoned_ponds_and_mining_land_join_stage_b_where_the_layer_marks_them() -> None:
    """003 ch.7 §1: 全市划定耕地后备资源 35.03 万亩，其中林地 19.83 万亩（灌木林地 2.94 万亩、
    其他林地 16.89 万亩），非林地 15.20 万亩（果园 2.83 万亩、茶园 0.12 万亩、其他园地 2.28 万亩、
    其他草地 9.16 万亩、废弃采矿用地 0 万亩、废弃坑塘水面 0.55 万亩、裸土地 0.26 万亩）.
    The survey's 1104 / 0602 say nothing of abandonment: the abandoned_land layer does, on at
    least half a parcel (abandoned_land_min_share).

    By hand: pond 0 (covered) and mine 2 (60 %) join; pond 1 (uncovered) and mine 3 (40 %)
    do not; the forest joins as always; pond 5 joins and the redline excludes it.  Candidates
    1 ha each: 废弃坑塘 1, 废弃采矿用地 1, 其他林地 1 = 3 ha, 2 of them 非林地; excluded 1 ha.
    """
    redline = gpd.GeoSeries(
        [box(X0 + 100, Y0, X0 + 200, Y0 + 100), box(X0 + 500, Y0, X0 + 600, Y0 + 100)], crs=GK38
    )
    result = classify(
        ponds_and_mines(), layers={"abandoned_land": abandoned_layer(), "eco_redline": redline}
    )
    assert result.parcels["lp_stage_b"].tolist() == [
        "CANDIDATE", "", "CANDIDATE", "", "CANDIDATE", "EXCLUDED",
    ]  # fmt: skip
    # the redline over pond 1 fires no B rule: pond 1 is in no pool
    assert result.parcels["lp_reasons"].iloc[1] == ""
    assert "B_ECO_REDLINE" in result.parcels["lp_reasons"].iloc[5].split(";")
    row = result.stage_b.set_index("county_code").loc["430421"]
    assert row["candidate_m2"] == pytest.approx(30_000, rel=1e-6)
    assert row["forest_m2"] == pytest.approx(10_000, rel=1e-6)
    assert row["nonforest_m2"] == pytest.approx(20_000, rel=1e-6)
    assert row["dlbm_1104_m2"] == pytest.approx(10_000, rel=1e-6)  # 废弃坑塘水面
    assert row["dlbm_0602_m2"] == pytest.approx(10_000, rel=1e-6)  # 废弃采矿用地
    assert row["dlbm_0307_m2"] == pytest.approx(10_000, rel=1e-6)
    assert row["excluded_m2"] == pytest.approx(10_000, rel=1e-6)
    assert not [p for p in result.problems if p.code == "POOL_NOT_EVALUATED"]


def test_without_the_layer_ponds_and_mining_land_stay_out_and_the_run_says_so() -> None:
    """No abandoned_land layer: no pond or mining parcel can be told 废弃, none is 耕地后备资源,
    their columns are 0 (as 003 prints 废弃采矿用地 0 万亩), and a warning names the layer."""
    result = classify(ponds_and_mines())
    assert result.parcels["lp_stage_b"].tolist() == ["", "", "", "", "CANDIDATE", ""]
    row = result.stage_b.set_index("county_code").loc["430421"]
    assert row["candidate_m2"] == pytest.approx(10_000, rel=1e-6)
    assert row["dlbm_1104_m2"] == 0 and row["dlbm_0602_m2"] == 0
    (problem,) = [p for p in result.problems if p.code == "POOL_NOT_EVALUATED"]
    assert problem.severity == "warning" and problem.counties == ("430421",)
    assert "no abandoned_land layer" in problem.message
    assert "--layer abandoned_land=PATH" in problem.message
    assert "1104, 0602" in problem.message


def test_a_profile_threshold_decides_how_much_of_a_parcel_the_layer_must_cover(tmp_path) -> None:
    """abandoned_land_min_share = 0.3: mine 3, 40 % covered, joins too (4 candidates)."""
    path = tmp_path / "share.toml"
    path.write_text(
        '[profile]\nid = "share"\nextends = "hunan-hengyang"\n\n'
        "[parameters]\nabandoned_land_min_share = 0.3\n",
        encoding="utf-8",
    )
    result = classify(
        ponds_and_mines(), layers={"abandoned_land": abandoned_layer()}, profile=str(path)
    )
    assert result.parcels["lp_stage_b"].tolist()[:4] == ["CANDIDATE", "", "CANDIDATE", "CANDIDATE"]
    row = result.stage_b.set_index("county_code").loc["430421"]
    assert row["dlbm_0602_m2"] == pytest.approx(20_000, rel=1e-6)
