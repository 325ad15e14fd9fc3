"""The command line as a user calls it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
from click.testing import CliRunner

from landplan.cli import main
from landplan.datasets import sample_path


def test_demo_writes_a_geopackage_and_prints_county_figures(tmp_path: Path) -> None:
    out = tmp_path / "demo.gpkg"
    result = CliRunner().invoke(main, ["demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "衡阳县" in result.stdout and "全市" in result.stdout
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"parcels", "county_summary"} <= layers
    parcels = gpd.read_file(out, layer="parcels")
    source = gpd.read_file(sample_path("parcels"))
    assert len(parcels) == len(source)
    assert set(source.columns) <= set(parcels.columns)
    assert all(len(c) <= 10 for c in parcels.columns if c.startswith(("lp_", "ov_", "os_")))
    summary = gpd.read_file(out, layer="county_summary")
    city = summary[summary["county_code"] == "全市"].iloc[0]
    assert city["parcels"] == len(source)
    assert abs(city["area_m2"] - parcels["lp_area_m2"].sum()) < 1e-3


def test_measure_with_a_synthetic_dataset(small_synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.gpkg"
    args = [
        "measure",
        str(small_synthetic / "parcels.gpkg"),
        "-o",
        str(out),
        "--dem",
        str(small_synthetic / "dem.tif"),
        "--layer",
        f"eco_redline={small_synthetic / 'constraints.gpkg'}",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    parcels = gpd.read_file(out, layer="parcels")
    assert {"lp_slope", "lp_sgrade", "ov_eco", "os_eco"} <= set(parcels.columns)
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2
    assert "--overwrite" in again.stderr


def test_unknown_role_lists_the_known_ones(small_synthetic: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "measure",
            str(small_synthetic / "parcels.gpkg"),
            "-o",
            str(tmp_path / "x.gpkg"),
            "--layer",
            "redline=x.shp",
        ],
    )
    assert result.exit_code == 2
    assert "eco_redline" in result.stderr and "green_heart" in result.stderr


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.shp"
    bad.write_bytes(b"not a shapefile")
    result = CliRunner().invoke(main, ["measure", str(bad), "-o", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 3
    assert "bad.shp" in result.stderr
