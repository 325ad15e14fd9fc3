"""Profiles that extend another: ``remove``, ``replaces``, amendments, parameters, priorities."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from landplan.api import classify
from landplan.core.errors import ProfileError
from landplan.rules import load_profile

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0
BASE = load_profile("hunan-hengyang")

C_SLOPE_GT15 = """
[[rules]]
id = "C_SLOPE_GT15"
replaces = "C_SLOPE_GT25"
kind = "slope_above"
params = { threshold_deg = 15.0 }
zh = "不得在 15 度以上陡坡地上整治耕地"
en = "slope over 15°"
source = "004 ch.5 §3"
"""


def profile_file(tmp_path: Path, body: str, head: str = "") -> Path:
    path = tmp_path / "county.toml"
    path.write_text(
        f'[profile]\nid = "my-county"\nextends = "hunan-hengyang"\n{head}\n{body}',
        encoding="utf-8",
    )
    return path


def test_remove_drops_exactly_the_named_rules(tmp_path: Path) -> None:
    """003 ch.4 §1 调出 (4): 城镇开发边界内零星分布的 … 可调出 — a county may decide otherwise.

    A county keeping PBF inside its development boundary removes both boundary rules.
    """
    path = profile_file(tmp_path, "", 'remove = ["P_DEV_BOUNDARY", "R_DEV_BOUNDARY"]')
    profile = load_profile(path)
    expected = [r for r in BASE.rule_ids if r not in ("P_DEV_BOUNDARY", "R_DEV_BOUNDARY")]
    assert list(profile.rule_ids) == expected  # the others keep their order
    assert len(profile.rule_ids) == len(BASE.rule_ids) - 2
    # a parcel inside the boundary is PBF-eligible under the county's profile only
    parcels = square_parcels(2, 1)
    boundary = gpd.GeoSeries([box(X0, Y0, X0 + 100, Y0 + 100)], crs=GK38)
    base = classify(parcels, layers={"dev_boundary": boundary}, targets={"430421": 20_000.0})
    mine = classify(
        parcels, layers={"dev_boundary": boundary}, profile=path, targets={"430421": 20_000.0}
    )
    assert base.evidence.hits["P_DEV_BOUNDARY"].tolist() == [True, False]
    assert "P_DEV_BOUNDARY" not in mine.evidence.hits.columns
    assert base.parcels["lp_class"].tolist() == ["GENERAL", "PBF"]
    assert mine.parcels["lp_class"].tolist() == ["PBF", "PBF"]


def test_remove_of_a_rule_the_base_lacks_is_refused(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "", 'remove = ["P_DEV_BOUNDARY", "P_NO_SUCH_RULE"]')
    with pytest.raises(ProfileError) as refused:
        load_profile(path)
    (problem,) = refused.value.problems
    assert problem.code == "PROFILE_REMOVE"
    assert "P_NO_SUCH_RULE" in problem.message and "P_DEV_BOUNDARY" not in problem.message


def test_replaces_puts_the_new_rule_in_the_old_ones_place(tmp_path: Path) -> None:
    """004 ch.5 §3 规范引导耕地转进: 不得在15度以上陡坡地上整治耕地 (003: 25 度)."""
    profile = load_profile(profile_file(tmp_path, C_SLOPE_GT15))
    ids = list(profile.rule_ids)
    position = list(BASE.rule_ids).index("C_SLOPE_GT25")
    assert ids[position] == "C_SLOPE_GT15"
    assert ids[:position] + ids[position + 1 :] == [r for r in BASE.rule_ids if r != "C_SLOPE_GT25"]
    rule = next(r for r in profile.rules if r.id == "C_SLOPE_GT15")
    assert rule.params == {"threshold_deg": 15.0} and rule.source == "004 ch.5 §3"


def test_a_replaced_rule_judges_recovery_candidates(tmp_path: Path) -> None:
    """004 ch.5 §3: 不得在15度以上陡坡地上整治耕地 — grade 4 (15-25°) is out under 004 only."""
    parcels = square_parcels(3, 1, DLBM=["0201"] * 3, ZZSXDM=["JKHF"] * 3, GDPDJB=[3, 4, 5])
    base = classify(parcels)
    mine = classify(parcels, profile=profile_file(tmp_path, C_SLOPE_GT15))
    assert base.evidence.hits["C_SLOPE_GT25"].tolist() == [False, False, True]
    assert mine.evidence.hits["C_SLOPE_GT15"].tolist() == [False, True, True]
    assert "C_SLOPE_GT25" not in mine.evidence.hits.columns
    assert base.parcels["lp_class"].tolist() == ["RECOVERY", "RECOVERY", "OTHER"]
    assert mine.parcels["lp_class"].tolist() == ["RECOVERY", "OTHER", "OTHER"]


def test_replaces_of_a_rule_the_base_lacks_is_refused(tmp_path: Path) -> None:
    body = C_SLOPE_GT15.replace('replaces = "C_SLOPE_GT25"', 'replaces = "C_SLOPE_GT35"')
    with pytest.raises(ProfileError) as refused:
        load_profile(profile_file(tmp_path, body))
    (problem,) = refused.value.problems
    assert problem.code == "PROFILE_REPLACES" and "C_SLOPE_GT35" in problem.message


def test_remove_replace_and_add_together(tmp_path: Path) -> None:
    body = (
        C_SLOPE_GT15
        + """
[[rules]]
id = "P_SLOPE_GT20"
kind = "slope_above"
params = { threshold_deg = 20.0 }
zh = "坡度大于 20 度"
en = "slope over 20°"
source = "county decision 2024-01"
"""
    )
    profile = load_profile(profile_file(tmp_path, body, 'remove = ["T_SURPLUS_QUOTA"]'))
    expected = list(BASE.rule_ids)
    expected.remove("T_SURPLUS_QUOTA")
    expected[expected.index("C_SLOPE_GT25")] = "C_SLOPE_GT15"
    last_p = max(i for i, r in enumerate(expected) if r.startswith("P_"))
    expected.insert(last_p + 1, "P_SLOPE_GT20")  # a new rule joins the end of its stage
    assert list(profile.rule_ids) == expected


def test_an_amendment_changes_only_what_it_names(tmp_path: Path) -> None:
    body = """
[[rules]]
id = "P_DEV_BOUNDARY"
existing_pbf = "exit"
source = "county decision 2024-02"
"""
    profile = load_profile(profile_file(tmp_path, body))
    base = next(r for r in BASE.rules if r.id == "P_DEV_BOUNDARY")
    mine = next(r for r in profile.rules if r.id == "P_DEV_BOUNDARY")
    assert base.existing_pbf == "may_exit" and mine.existing_pbf == "exit"
    assert mine.source == "county decision 2024-02"
    assert (mine.kind, mine.params, mine.zh, mine.en) == (base.kind, base.params, base.zh, base.en)
    assert profile.rule_ids == BASE.rule_ids


def test_an_amendment_of_one_parameter_keeps_the_others(tmp_path: Path) -> None:
    """003 专栏 3-1 (6): “二调”“三调”均为耕地的原则上保留 — the exemption must survive."""
    body = """
[[rules]]
id = "T_RIVER_LAKE_EXIT"
params = { role = ["river_channel", "flood_10yr", "polder_double_return", "reservoir_expropriation"], min_overlap_m2 = 5.0 }
"""  # noqa: E501
    profile = load_profile(profile_file(tmp_path, body))
    base = next(r for r in BASE.rules if r.id == "T_RIVER_LAKE_EXIT")
    mine = next(r for r in profile.rules if r.id == "T_RIVER_LAKE_EXIT")
    assert mine.params == {**base.params, "min_overlap_m2": 5.0}


def test_parameters_and_priority_pools_override_one_by_one(tmp_path: Path) -> None:
    body = """
[parameters]
reserve_share_of_pbf = 0.02

[priorities]
recovery = [
  { criterion = "area_descending", zh = "规模较大" },
]
"""
    profile = load_profile(profile_file(tmp_path, body))
    assert profile.parameters["reserve_share_of_pbf"] == 0.02
    others = {k: v for k, v in BASE.parameters.items() if k != "reserve_share_of_pbf"}
    assert {k: profile.parameters[k] for k in others} == others
    assert [p.criterion for p in profile.priorities["recovery"]] == ["area_descending"]
    assert profile.priorities["pbf"] == BASE.priorities["pbf"]
    assert profile.priorities["reserve"] == BASE.priorities["reserve"]


def test_the_hash_covers_the_base(tmp_path: Path) -> None:
    """The profile hash in the manifest changes when the base changes, not only the file."""
    base = tmp_path / "base.toml"
    text = (files("landplan") / "profiles" / "hunan-hengyang.toml").read_text(encoding="utf-8")
    base.write_text(text.replace('id = "hunan-hengyang"', 'id = "my-base"', 1), encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text(f'[profile]\nid = "child"\nextends = "{base.as_posix()}"\n', encoding="utf-8")
    before = load_profile(child).sha256
    base.write_text(
        base.read_text(encoding="utf-8").replace("threshold_m2 = 400.0", "threshold_m2 = 500.0"),
        encoding="utf-8",
    )
    after = load_profile(child)
    assert after.sha256 != before  # the child's own text did not change
    assert next(r for r in after.rules if r.id == "T_SMALL_FRAGMENT").params == {
        "threshold_m2": 500.0
    }
