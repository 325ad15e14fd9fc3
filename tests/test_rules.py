"""Every rule of both profiles, on parcels whose answer is worked out by hand from RULES.md.

Each case builds two parcels of the stage's kind (farmland for T, P and R;
a garden with the recovery attribute JKHF for C): parcel 0 meets the rule's
condition, parcel 1 does not.  The table is written from the plans, not
from the profile files, and must cover every rule ID a profile ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from landplan.api import classify
from landplan.outputs.result import Result
from landplan.rules import load_profile

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0
COVER_FIRST = box(X0 - 10, Y0 - 10, X0 + 100, Y0 + 110)  # all of parcel 0, none of parcel 1


@dataclass
class Case:
    """Parcel 0 fires the rule, parcel 1 does not."""

    layer: str | None = None  # role whose layer covers parcel 0
    fields: dict[str, list[Any]] = field(default_factory=dict)  # per-parcel attributes


def farmland(**fields: list[Any]) -> dict[str, list[Any]]:
    return {"DLBM": ["0101", "0101"], **fields}


def recoverable(**fields: list[Any]) -> dict[str, list[Any]]:
    return {"DLBM": ["0201", "0201"], "ZZSXDM": ["JKHF", "JKHF"], **fields}


CASES: dict[str, Case] = {
    # Stage T: current farmland left out of the protection target (专栏 3-1)
    "T_APPROVED_CONSTRUCTION": Case("approved_construction", farmland()),
    "T_RETURN_FOREST": Case("return_forest_2014", farmland()),
    "T_AGRI_FACILITY": Case(None, farmland(SSNYDBA=["1", ""])),
    "T_NATURE_CORE": Case("nature_core", farmland()),
    "T_WATER_SOURCE_L1": Case("water_source_l1", farmland()),
    "T_RIVER_LAKE_EXIT": Case("river_channel", farmland()),
    "T_SURPLUS_QUOTA": Case(None, farmland(BCGDJY=["1", "0"])),
    "T_SMALL_FRAGMENT": Case(None, farmland(KCXS=[0.97, 0.0])),  # 300 m² of land-class area
    # Stage P: never PBF (专栏 4-1)
    "P_RETURN_FOREST": Case("return_forest", farmland()),
    "P_SLOPE_GT25": Case(None, farmland(GDPDJB=[5, 4])),
    "P_DAMAGED": Case("damaged", farmland()),
    "P_RIVER_DIKE": Case("river_dike", farmland()),
    "P_STRICT_POLLUTION": Case("strict_pollution", farmland()),
    "P_NATURE_CORE": Case("nature_core", farmland()),
    "P_ECO_REDLINE": Case("eco_redline", farmland()),
    "P_DEV_BOUNDARY": Case("dev_boundary", farmland()),
    "P_UNSTABLE": Case(None, farmland(TBXHDM=["HDGD", ""])),
    "P_EXIT_MAJOR_PROJECT": Case("major_project", farmland()),
    "P_EXIT_FORMER_CONSTRUCTION": Case("former_plan_construction", farmland()),
    "P_EXIT_STRATEGIC_MINING": Case("strategic_mining", farmland()),
    # Stage R: never reserve (专栏 4-2)
    "R_NOT_ACTUAL_FARMLAND": Case(None, farmland(ZZSXDM=["WG", "LS"])),
    "R_ECO_REDLINE": Case("eco_redline", farmland()),
    "R_WATER_SOURCE_SLOPE_15_25": Case("water_source_important", farmland(GDPDJB=[4, 4])),
    "R_DESERTIFIED": Case("desertified", farmland()),
    "R_STRICT_POLLUTION": Case("strict_pollution", farmland()),
    "R_DAMAGED": Case("damaged", farmland()),
    "R_RIVER_DIKE": Case("river_dike", farmland()),
    "R_SLOPE_GT25": Case(None, farmland(GDPDJB=[5, 3])),
    "R_RETURN_FOREST": Case("return_forest", farmland()),
    "R_DEV_BOUNDARY": Case("dev_boundary", farmland()),
    "R_CONSTRUCTION": Case("approved_construction", farmland()),
    # Stage C: never a recovery candidate (003/004 ch.5 §3)
    "C_SLOPE_GT25": Case(None, recoverable()),  # slope needs a DEM here: see the DEM test
    "C_SLOPE_GT15": Case(None, recoverable()),
    "C_RIVER_LAKE": Case("river_lake", recoverable()),
    "C_FOREST_PASTURE_DISTRICT": Case(None, recoverable(TBXHDM=["LQYD", ""])),
    "C_STRICT_POLLUTION": Case("strict_pollution", recoverable()),
    "C_ECO_REDLINE": Case("eco_redline", recoverable()),
    "C_NATURE_RESERVE": Case("nature_reserve", recoverable()),
    "C_WATER_SOURCE_L1": Case("water_source_l1", recoverable()),
    "C_TOWN_VILLAGE": Case("town_village", recoverable()),
    "C_RETURNED_FOREST": Case("returned_forest", recoverable()),
}


def grassland(**fields: list[Any]) -> dict[str, list[Any]]:
    return {"DLBM": ["0404", "0404"], **fields}


def dry_land(**fields: list[Any]) -> dict[str, list[Any]]:
    return {"DLBM": ["0103", "0103"], **fields}


CASES.update(
    {
        # Stage B: 耕地后备资源, 剔除城镇开发边界、生态保护红线、自然保护地、
        # 生态公益林、天然林 (003 ch.7 §1)
        "B_DEV_BOUNDARY": Case("dev_boundary", grassland()),
        "B_ECO_REDLINE": Case("eco_redline", grassland()),
        "B_NATURE_RESERVE": Case("nature_reserve", grassland()),
        "B_PUBLIC_FOREST": Case("public_forest", grassland()),
        "B_NATURAL_FOREST": Case("natural_forest", grassland()),
        "B_GREEN_HEART": Case("green_heart", grassland()),  # 004
        "B_SLOPE_GT25": Case(None, grassland(GDPDJB=[5, 4])),
        "B_SLOPE_GT15": Case(None, grassland(GDPDJB=[4, 3])),  # 004
        # Stage D: 旱改水, 剔除生态保护红线、城镇开发边界、生态退耕、土壤污染和
        # 坡度 15 度以上 (003 ch.7 §1)
        "D_ECO_REDLINE": Case("eco_redline", dry_land()),
        "D_DEV_BOUNDARY": Case("dev_boundary", dry_land()),
        "D_RETURN_FOREST": Case("return_forest", dry_land()),
        "D_POLLUTED": Case("strict_pollution", dry_land()),
        "D_SLOPE_GT15": Case(None, dry_land(GDPDJB=[4, 3])),
    }
)
DEM_SLOPE_CASES = {"C_SLOPE_GT25": (30.0, 20.0), "C_SLOPE_GT15": (20.0, 10.0)}
ALL_IDS = sorted(
    {r for p in ("hunan-hengyang", "hunan-xiangtan") for r in load_profile(p).rule_ids}
)


def profile_of(rule_id: str) -> str:
    return (
        "hunan-xiangtan"
        if rule_id in load_profile("hunan-xiangtan").rule_ids
        and (rule_id not in load_profile("hunan-hengyang").rule_ids)
        else "hunan-hengyang"
    )


def run_case(rule_id: str, case: Case) -> Result:
    parcels = square_parcels(2, 1, **case.fields)
    layers = {case.layer: gpd.GeoSeries([COVER_FIRST], crs=GK38)} if case.layer else {}
    return classify(parcels, layers=layers, profile=profile_of(rule_id))


def test_every_shipped_rule_has_a_case() -> None:
    assert set(ALL_IDS) == set(CASES)


@pytest.mark.parametrize("rule_id", [r for r in ALL_IDS if r not in DEM_SLOPE_CASES])
def test_rule_fires_for_the_parcel_that_meets_it_only(rule_id: str) -> None:
    result = run_case(rule_id, CASES[rule_id])
    assert result.evidence.hits[rule_id].tolist() == [True, False]
    reasons = result.parcels["lp_reasons"].str.split(";")
    assert rule_id in reasons.iloc[0]
    assert rule_id not in reasons.iloc[1]


@pytest.mark.parametrize("rule_id", sorted(DEM_SLOPE_CASES))
def test_recovery_slope_rules_with_a_dem(tmp_path, rule_id: str) -> None:
    from .conftest import write_plane_dem

    steep, gentle = DEM_SLOPE_CASES[rule_id]
    parcels = square_parcels(2, 1, x0=500_150.0, y0=3_000_150.0, **recoverable())
    hits = []
    for degrees in (steep, gentle):
        dem = write_plane_dem(tmp_path / f"{degrees}.tif", degrees)
        result = classify(parcels, dem=dem, profile=profile_of(rule_id))
        hits.append(bool(result.evidence.hits[rule_id].iloc[0]))
        assert result.evidence.values[rule_id].iloc[0] == pytest.approx(degrees, abs=1e-6)
        assert result.evidence.units[rule_id] == "deg"
    assert hits == [True, False]


def test_terraces_count_as_soil_conservation_for_pbf_only() -> None:
    parcels = square_parcels(2, 1, DLBM=["0101", "0101"], GDPDJB=[5, 5], GDLX=["TT", "PD"])
    hits = classify(parcels).evidence.hits
    assert hits["P_SLOPE_GT25"].tolist() == [False, True]
    assert hits["R_SLOPE_GT25"].tolist() == [True, True]  # 专栏 4-2 has no terrace exception


def test_farmland_in_both_surveys_stays_in_the_target() -> None:
    """003 专栏 3-1 (6): 河湖范围内…根据淹没频次…需退出的耕地 — "二调""三调"均为耕地的原则上保留.

    Both parcels lie below the 10-year flood line; parcel 0 was farmland in 二调 as
    well (the farmland_2009 layer covers it) and stays in; parcel 1 exits.
    """
    parcels = square_parcels(2, 1, **farmland())
    flood = gpd.GeoSeries([box(X0 - 10, Y0 - 10, X0 + 210, Y0 + 110)], crs=GK38)  # both inside
    farmland_2009 = gpd.GeoSeries([COVER_FIRST], crs=GK38)
    result = classify(parcels, layers={"flood_10yr": flood, "farmland_2009": farmland_2009})
    assert result.evidence.hits["T_RIVER_LAKE_EXIT"].tolist() == [False, True]
    assert result.parcels["lp_class"].tolist()[1] == "NON_TARGET"


def test_river_lake_range_alone_is_not_an_exit() -> None:
    """专栏 3-1 (6) names four categories, not the whole 河湖管理范围.

    The range alone exits nothing.
    """
    parcels = square_parcels(2, 1, **farmland())
    river = gpd.GeoSeries([box(X0 - 10, Y0 - 10, X0 + 210, Y0 + 110)], crs=GK38)
    result = classify(parcels, layers={"river_lake": river})
    assert not result.evidence.hits["T_RIVER_LAKE_EXIT"].any()
    assert "T_RIVER_LAKE_EXIT" in result.evidence.missing


def test_exit_without_the_2009_layer_reports_the_unchecked_exemption() -> None:
    parcels = square_parcels(2, 1, **farmland())
    channel = gpd.GeoSeries([COVER_FIRST], crs=GK38)
    result = classify(parcels, layers={"river_channel": channel})
    assert result.evidence.hits["T_RIVER_LAKE_EXIT"].tolist() == [True, False]
    codes = {(p.code, p.source) for p in result.problems}
    assert ("RULE_NOT_EVALUATED_ON_PARCELS", "T_RIVER_LAKE_EXIT") in codes


def test_min_overlap_is_strict_and_in_square_metres(tmp_path) -> None:
    """With no positional tolerance, the area threshold alone decides (> 1 m², strictly)."""
    parcels = square_parcels(3, 1)
    # 0.5 m², 1.5 m² and 1.0 m² strips (ellipsoidal area is 0.9999... of planar here)
    eco = gpd.GeoSeries(
        [
            box(X0, Y0, X0 + 0.005, Y0 + 100),
            box(X0 + 100, Y0, X0 + 100.015, Y0 + 100),
            box(X0 + 200, Y0, X0 + 200.01, Y0 + 100),
        ],
        crs=GK38,
    )
    exact = _profile_with(tmp_path, position_tolerance_m=0.0)
    result = classify(parcels, layers={"eco_redline": eco}, profile=exact)
    assert result.evidence.hits["P_ECO_REDLINE"].tolist() == [False, True, False]
    # with the shipped 1 m tolerance, strips a few millimetres wide are misregistration
    result = classify(parcels, layers={"eco_redline": eco})
    assert not result.evidence.hits["P_ECO_REDLINE"].any()


def test_an_overlap_rule_records_the_overlap_once_in_square_metres(tmp_path) -> None:
    """The value of P_ECO_REDLINE is each parcel's overlap (strips 0.5, 1.5, 0 m² by hand),
    read from the measurement table rather than kept a second time in the evidence."""
    parcels = square_parcels(3, 1)
    eco = gpd.GeoSeries(
        [box(X0, Y0, X0 + 0.005, Y0 + 100), box(X0 + 100, Y0, X0 + 100.015, Y0 + 100)], crs=GK38
    )
    exact = _profile_with(tmp_path, position_tolerance_m=0.0)
    evidence = classify(parcels, layers={"eco_redline": eco}, profile=exact).evidence
    assert evidence.measured["P_ECO_REDLINE"] == "ov_eco"
    assert "P_ECO_REDLINE" not in evidence.own_values
    np.testing.assert_allclose(evidence.values["P_ECO_REDLINE"], [0.5, 1.5, 0.0], atol=1e-3)
    long = evidence.long()  # every parcel and rule, the values beside the hits
    eco = long[long["rule_id"] == "P_ECO_REDLINE"]
    assert eco["hit"].tolist() == [False, True, False]  # above 1 m² only
    np.testing.assert_allclose(eco["value"], [0.5, 1.5, 0.0], atol=1e-3)
    # rules with values of their own keep them: the small-fragment area, 100 × 100 m
    np.testing.assert_allclose(evidence.values["T_SMALL_FRAGMENT"], 1e4, rtol=1e-3)


def _profile_with(tmp_path, **parameters: str | float) -> str:
    lines = "\n".join(
        f"{k} = {v!r}" if isinstance(v, float) else f'{k} = "{v}"' for k, v in parameters.items()
    )
    path = tmp_path / "mine.toml"
    path.write_text(
        f'[profile]\nid = "mine"\nextends = "hunan-hengyang"\n\n[parameters]\n{lines}\n',
        encoding="utf-8",
    )
    return str(path)


def test_dem_slope_rules_use_the_mean_slope_in_degrees(tmp_path) -> None:
    from .conftest import write_plane_dem

    parcels = square_parcels(2, 1, x0=500_150.0, y0=3_000_150.0, GDPDJB=[1, 1])
    dem_decides = _profile_with(tmp_path, farmland_slope_source="dem")
    for degrees, fires in ((25.1, True), (24.9, False)):
        dem = write_plane_dem(tmp_path / f"{degrees}.tif", degrees)
        result = classify(parcels, dem=dem, profile=dem_decides)
        assert result.evidence.hits["P_SLOPE_GT25"].tolist() == [fires, fires]  # DEM over GDPDJB


def test_the_survey_grade_decides_farmland_slope_by_default(tmp_path) -> None:
    """The plans' slope statistics use the survey's grade (GDPDJB 1: ≤ 2°), so a 30° DEM
    does not make a grade-1 paddy steep unless the profile says the DEM decides."""
    from .conftest import write_plane_dem

    parcels = square_parcels(2, 1, x0=500_150.0, y0=3_000_150.0, GDPDJB=[1, None])
    dem = write_plane_dem(tmp_path / "30.tif", 30.0)
    result = classify(parcels, dem=dem)
    # parcel 0 by its grade (1), parcel 1 (no grade) by the DEM (30°)
    assert result.evidence.hits["P_SLOPE_GT25"].tolist() == [False, True]


def test_a_slope_rule_reports_parcels_it_cannot_judge() -> None:
    """Recovery slope rules (003 ch.5 §3: 不得在 25 度以上陡坡地上整治耕地) on gardens, where
    the survey fills no GDPDJB: without a DEM they cannot judge them, and say so per county."""
    parcels = square_parcels(3, 1, DLBM=["0201"] * 3, ZZSXDM=["JKHF"] * 3, GDPDJB=[5, None, None])
    result = classify(parcels)
    assert result.evidence.hits["C_SLOPE_GT25"].tolist() == [True, False, False]
    found = [
        p
        for p in result.problems
        if p.code == "RULE_NOT_EVALUATED_ON_PARCELS" and p.source == "C_SLOPE_GT25"
    ]
    assert len(found) == 1
    assert " 2 parcels of county 430421 " in found[0].message


def test_without_a_layer_the_rule_is_reported_and_never_fires() -> None:
    result = classify(square_parcels(2, 1))
    assert not result.evidence.hits["P_ECO_REDLINE"].any()
    assert "P_ECO_REDLINE" in result.evidence.missing
    assert any(
        p.code == "RULE_NOT_EVALUATED" and "P_ECO_REDLINE" in p.source.split(", ")
        for p in result.problems
    )


def test_rules_of_a_stage_only_judge_parcels_of_that_stage() -> None:
    # a forest parcel in the redline is not farmland: no T, P or R rule may fire for it
    parcels = square_parcels(2, 1, DLBM=["0301", "0101"])
    eco = gpd.GeoSeries([box(X0 - 10, Y0 - 10, X0 + 210, Y0 + 110)], crs=GK38)
    result = classify(parcels, layers={"eco_redline": eco})
    assert result.parcels["lp_reasons"].tolist() == ["", "P_ECO_REDLINE;R_ECO_REDLINE"]
    assert result.parcels["lp_class"].tolist() == ["OTHER", "GENERAL"]


@pytest.mark.parametrize("shape", [(2_000, 30), (500, 70), (7, 1), (0, 3), (4, 0)])
def test_reasons_join_the_fired_rule_ids_of_each_parcel_in_profile_order(
    shape: tuple[int, int],
) -> None:
    """lp_reasons, made once per combination of fired rules, against a join parcel by parcel."""
    from landplan.rules.evaluate import Evidence

    rng = np.random.default_rng(sum(shape))
    columns = [f"T_R{i:02d}" for i in range(shape[1])]
    hits = pd.DataFrame(rng.random(shape) < 0.3, columns=columns, index=np.arange(shape[0]) * 7)
    evidence = Evidence(hits=hits, own_values=pd.DataFrame(index=hits.index), units={})
    want = [";".join(c for c in columns if row[c]) for _, row in hits.iterrows()]
    got = evidence.reasons()
    assert got.tolist() == want
    assert got.index.equals(hits.index)
