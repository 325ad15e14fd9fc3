"""Discoverability: roles, profiles and plans in the help; help on every option."""

from __future__ import annotations

import json
from pathlib import Path

import click
import geopandas as gpd
import pytest
from click.testing import CliRunner

from landplan.cli import PLANS, _parse_layer_options, main
from landplan.core.errors import InputError
from landplan.core.roles import ROLES, get_role
from landplan.io.profiles import SHIPPED_PROFILES
from landplan.io.sample import sample_path


def _commands(command: click.Command, path: str = "landplan"):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {'/'.join(param.opts)}"
        for path, command in _commands(main)
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == []


def test_the_walk_sees_every_command_and_would_catch_a_missing_help() -> None:
    names = {path for path, _ in _commands(main)}
    assert {"landplan classify", "landplan balance", "landplan rules", "landplan synth"} <= names

    @click.command()
    @click.option("--bare")
    def bare(bare: str) -> None:
        """Nothing."""

    assert [p for p in bare.params if isinstance(p, click.Option) and not p.help]


@pytest.mark.parametrize("args", [["--help"], ["classify", "--help"]])
def test_help_lists_the_roles_and_the_shipped_profiles(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for role in ROLES.values():
        assert role.name in result.output and role.zh in result.output
    for profile in SHIPPED_PROFILES:
        assert profile in result.output
    assert "衡阳市耕地保护国土空间专项规划" in result.output  # the default profile's plan
    assert "case-insensitive" in result.output


def test_targets_column_has_help() -> None:
    result = CliRunner().invoke(main, ["classify", "--help"])
    assert "--targets-column" in result.output
    assert "永久基本农田保护面积" in result.output


def test_balance_help_lists_its_roles() -> None:
    result = CliRunner().invoke(main, ["balance", "--help"])
    assert result.exit_code == 0, result.output
    for role in ("return_forest", "damaged", "river_lake", "river_channel"):
        assert role in result.output
    assert "eco_redline" not in result.output.split("Roles for")[-1]


@pytest.mark.parametrize("name", ["ECO_REDLINE", "Eco_Redline", " eco_redline ", "eco-redline"])
def test_role_names_are_case_insensitive(name: str) -> None:
    assert get_role(name).name == "eco_redline"
    assert _parse_layer_options((f"{name}=x.shp",)) == {"eco_redline": "x.shp"}


def test_an_unknown_role_still_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"ROLE_UNKNOWN.*eco_redline"):
        get_role("redline")


def test_layer_option_in_upper_case_measures_the_layer(tmp_path: Path) -> None:
    out = tmp_path / "m.gpkg"
    layer = f"ECO_REDLINE={sample_path('constraints')}|layername=eco_redline"
    result = CliRunner().invoke(
        main, ["measure", sample_path("parcels"), "-o", str(out), "--layer", layer]
    )
    assert result.exit_code == 0, result.output
    parcels = gpd.read_file(out, layer="parcels")
    assert "ov_eco" in parcels.columns and parcels["ov_eco"].sum() > 0


def test_rules_names_the_plans_it_cites() -> None:
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[1]
    assert header.startswith("sources: ")
    assert "003 = 衡阳市耕地保护国土空间专项规划（2021—2035年）" in header
    assert "004 = 湘潭市耕地保护国土空间专项规划（2021—2035年）" in header
    assert "000 = 衡阳市“十四五”自然资源规划" in header
    assert "[003 专栏" in result.output  # the short codes the header explains
    assert "parameters (value, unit: ground):" in result.output  # listing kept


def test_rules_json_carries_the_plans() -> None:
    data = json.loads(CliRunner().invoke(main, ["rules", "--json"]).output)
    assert data["plans"] == PLANS
    assert data["rules"] and data["severities"]


def test_rules_help_names_the_plans() -> None:
    result = CliRunner().invoke(main, ["rules", "--help"])
    assert "hunan-xiangtan" in result.output and "湘潭市耕地保护国土空间专项规划" in result.output
    assert "000" in result.output and "衡阳市“十四五”自然资源规划" in result.output
