"""Profiles as data: listing, user copies, extension, and broken profiles refused in full."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from landplan.api import classify
from landplan.cli import main
from landplan.core.errors import ProfileError
from landplan.rules import load_profile
from landplan.rules.model import STAGES

from .conftest import square_parcels

HENGYANG = Path(__file__).resolve().parents[1] / "src/landplan/profiles/hunan-hengyang.toml"


def test_every_rule_is_cited_and_described() -> None:
    for name in ("hunan-hengyang", "hunan-xiangtan"):
        profile = load_profile(name)
        for rule in profile.rules:
            assert rule.stage in STAGES
            assert rule.zh and rule.en and rule.source[:3] in ("003", "004")


def test_xiangtan_uses_its_own_id_for_the_15_degree_limit() -> None:
    xiangtan = load_profile("hunan-xiangtan")
    slope = next(r for r in xiangtan.rules if r.id == "C_SLOPE_GT15")
    assert slope.params["threshold_deg"] == 15.0
    assert slope.source.startswith("004")
    assert "C_SLOPE_GT25" not in xiangtan.rule_ids


def test_a_users_copy_with_a_changed_threshold(tmp_path: Path) -> None:
    text = HENGYANG.read_text(encoding="utf-8").replace(
        "threshold_m2 = 400.0", "threshold_m2 = 20000.0"
    )
    mine = tmp_path / "my.toml"
    mine.write_text(text, encoding="utf-8")
    parcels = square_parcels(2, 1)  # 1 ha each
    assert not classify(parcels).evidence.hits["T_SMALL_FRAGMENT"].any()
    assert classify(parcels, profile=mine).evidence.hits["T_SMALL_FRAGMENT"].all()


def test_a_users_rule_of_an_existing_kind(tmp_path: Path) -> None:
    mine = tmp_path / "extra.toml"
    mine.write_text(
        """
[profile]
id = "my-county"
extends = "hunan-hengyang"

[[rules]]
id = "P_SLOPE_GT20"
kind = "slope_above"
params = { threshold_deg = 20.0 }
zh = "坡度大于 20 度"
en = "slope over 20°"
source = "county decision 2024-01"
""",
        encoding="utf-8",
    )
    profile = load_profile(mine)
    base_p = [r for r in load_profile("hunan-hengyang").rule_ids if r.startswith("P_")]
    # a new rule joins the end of its stage, right after the base's last P rule
    assert profile.rule_ids.index("P_SLOPE_GT20") == profile.rule_ids.index(base_p[-1]) + 1
    parcels = square_parcels(2, 1, GDPDJB=[5, 4])
    assert classify(parcels, profile=mine).evidence.hits["P_SLOPE_GT20"].tolist() == [True, False]


def test_a_broken_profile_lists_every_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        """
[profile]
id = "broken"

[[rules]]
id = "P_SLOPE_GT25"
kind = "slope_above"
params = { threshold_deg = 15.0, colour = "red" }
zh = "x"
en = "x"
source = "x"

[[rules]]
id = "P_REDLINE"
kind = "overlaps_layer"
params = { role = "redline" }
zh = "x"
en = ""
source = "x"

[[rules]]
id = "bad id"
kind = "no_such_kind"
zh = "x"
en = "x"
source = "x"
""",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError) as info:
        load_profile(broken)
    codes = sorted(p.code for p in info.value.problems)
    assert codes == sorted(
        [
            "PROFILE_PARAM_UNKNOWN",
            "PROFILE_ID_MEANING",
            "PROFILE_ROLE_UNKNOWN",
            "PROFILE_RULE_TEXT",
            "PROFILE_RULE_ID",
            "PROFILE_KIND_UNKNOWN",
        ]
    )
    result = CliRunner().invoke(main, ["rules", "--profile", str(broken)])
    assert result.exit_code == 2
    assert result.stderr.count("[PROFILE_") == 6


def test_unknown_profile_name() -> None:
    with pytest.raises(ProfileError, match="hunan-hengyang, hunan-xiangtan"):
        load_profile("hunan-changsha")


def test_rules_command_lists_and_exports_json() -> None:
    listing = CliRunner().invoke(main, ["rules", "--profile", "hunan-xiangtan"])
    assert listing.exit_code == 0
    assert "C_SLOPE_GT15" in listing.stdout and "专栏 4-1" in listing.stdout
    exported = CliRunner().invoke(main, ["rules", "--json"])
    data = json.loads(exported.stdout)
    assert data["id"] == "hunan-hengyang"
    assert {r["stage"] for r in data["rules"]} == set(STAGES)
    assert all("threshold_deg" in r["params"] for r in data["rules"] if r["kind"] == "slope_above")
