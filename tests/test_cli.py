"""The command line as a user calls it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner

from landplan.cli import main
from landplan.io.layers import SHAPEFILE_NAMES
from landplan.io.sample import sample_path


def test_demo_classifies_the_sample_and_prints_county_figures(tmp_path: Path) -> None:
    out = tmp_path / "demo.gpkg"
    result = CliRunner().invoke(main, ["demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "衡阳县" in result.stdout and "全市" in result.stdout and "PBF" in result.stdout
    parcels = gpd.read_file(out, layer="parcels")
    assert len(parcels) == len(gpd.read_file(sample_path("parcels")))
    summary = gpd.read_file(out, layer="county_summary")
    city = summary[summary["county_code"] == "全市"]
    assert city["parcels"].sum() == len(parcels)
    assert abs(city["area_ha"].sum() - parcels["lp_area_ha"].sum()) < 1e-6
    assert (tmp_path / "demo.csv").exists()


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


@pytest.mark.parametrize("command", ["measure", "classify"])
def test_unknown_role_lists_the_known_ones(tmp_path: Path, command: str) -> None:
    args = [command, sample_path("parcels"), "-o", str(tmp_path / "x.gpkg"), "--layer", "redline=x"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "eco_redline" in result.stderr and "green_heart" in result.stderr


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.shp"
    bad.write_bytes(b"not a shapefile")
    result = CliRunner().invoke(main, ["measure", str(bad), "-o", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 3
    assert "bad.shp" in result.stderr


def test_classify_end_to_end_on_the_sample(tmp_path: Path) -> None:
    from landplan.io.sample import sample_path

    out = tmp_path / "衡阳_分类.gpkg"
    summary = tmp_path / "summary.csv"
    constraints = sample_path("constraints")
    args = [
        "classify",
        sample_path("parcels"),
        "-o",
        str(out),
        "--dem",
        sample_path("dem"),
        "--targets",
        sample_path("targets"),
        "--summary",
        str(summary),
        "--layer",
        f"eco_redline={constraints}|layername=eco_redline",
        "--layer",
        f"dev_boundary={constraints}",  # the layer named after the role
        "--layer",
        f"high_standard_farmland={constraints}",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    parcels = gpd.read_file(out, layer="parcels")
    source = gpd.read_file(sample_path("parcels"))
    assert len(parcels) == len(source)
    assert set(source.columns) <= set(parcels.columns)
    assert {"lp_class", "lp_reasons", "lp_county", "lp_area_ha", "lp_prio"} <= set(parcels.columns)
    # shapefile-safe names, but for those a shapefile gets under SHAPEFILE_NAMES
    assert all(len(c) <= 10 for c in parcels.columns if c not in SHAPEFILE_NAMES)
    assert all(len(c) <= 10 for c in SHAPEFILE_NAMES.values())
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"county_summary", "target_delineation", "county_quotas", "rule_hits"} <= layers
    assert summary.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    import sqlite3

    with sqlite3.connect(out) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, f_table_schema, useAsDefault, "
            "styleQML FROM layer_styles"
        ).fetchall()
    assert rows[0][:4] == ("parcels", "geom", "", 1)
    assert 'attr="lp_class"' in rows[0][4] and "永久基本农田" in rows[0][4]
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "--overwrite" in again.stderr


def test_non_standard_schema_gbk_shapefile_without_prj(tmp_path: Path) -> None:
    from .conftest import square_parcels
    from .test_io import write_shp

    frame = square_parcels(2, 1).rename(columns={"ZLDWDM": "LOCCODE"})
    frame["DLMC"] = ["水田", "水田"]
    shp = write_shp(frame, tmp_path / "地块.shp", "GBK", cpg=None, ldid=0)
    shp.with_suffix(".prj").unlink()
    out = tmp_path / "out.gpkg"
    base = ["classify", str(shp), "-o", str(out), "--encoding", "GBK"]
    missing = CliRunner().invoke(main, base)
    assert missing.exit_code == 2
    assert "ZLDWDM" in missing.stderr and "LOCCODE" in missing.stderr  # the columns there are
    assert "CRS_MISSING" in missing.stderr  # every problem at once
    result = CliRunner().invoke(main, [*base, "--field", "ZLDWDM=LOCCODE", "--crs", "EPSG:4547"])
    assert result.exit_code == 0, result.output
    parcels = gpd.read_file(out, layer="parcels")
    assert parcels["DLMC"].tolist() == ["水田", "水田"]
    assert parcels["lp_county"].tolist() == ["430421", "430421"]
    bad = CliRunner().invoke(main, [*base, "--overwrite", "--field", "NOPE=LOCCODE"])
    assert bad.exit_code == 2 and "CANONICAL" in bad.stderr


def test_result_html_repr_shows_counts_and_areas() -> None:
    import landplan

    sample = landplan.load_sample()
    html = landplan.classify(sample.parcels, layers=sample.layers)._repr_html_()
    assert "永久基本农田" in html and "<table>" in html and f"{len(sample.parcels):,}" in html


def test_roles_and_severities_as_json_for_the_qgis_plugin() -> None:
    """The QGIS plugin reads roles and severities from these commands, not from a copy."""
    import json

    roles = json.loads(CliRunner().invoke(main, ["roles", "--json"]).output)
    names = [r["name"] for r in roles]
    assert names[:2] == ["eco_redline", "dev_boundary"]
    assert {"pbf_existing", "high_standard_farmland", "two_zones"} <= set(names)
    assert all(r["zh"] for r in roles)
    rules = json.loads(CliRunner().invoke(main, ["rules", "--json"]).output)
    assert rules["severities"] == ["info", "warning", "error"]


def test_workers_alone_means_local_processes_in_cli_and_api(tmp_path: Path) -> None:
    """``--workers N`` and ``workers=N`` choose the same engine, recorded in the manifest."""
    import json

    from landplan.engines import resolve_engine

    assert resolve_engine(None, workers=2) == "processes"
    out = tmp_path / "w.gpkg"
    run = CliRunner().invoke(
        main, ["classify", sample_path("parcels"), "-o", str(out), "--workers", "2"]
    )
    assert run.exit_code == 0, run.output
    manifest = json.loads((tmp_path / "w.gpkg.manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["engine"] == "processes"


def test_scheduler_with_another_engine_is_a_usage_error(tmp_path: Path) -> None:
    run = CliRunner().invoke(
        main,
        ["classify", sample_path("parcels"), "-o", str(tmp_path / "x.gpkg"),
         "--engine", "processes", "--scheduler", "tcp://127.0.0.1:1"],
    )  # fmt: skip
    assert run.exit_code == 2
    assert "ENGINE_SCHEDULER" in run.output


def test_kcxs_typed_as_8_stops_the_run_or_is_set_aside(tmp_path: Path) -> None:
    """A paddy whose 扣除系数 is 8 instead of 0.08 never becomes PBF with an unknown area.

    Without --skip-invalid the run stops before classifying (exit 3) naming the parcel by
    BSM, the check and the value; with it the parcel is OTHER, in no quota or farmland total,
    and listed in the table invalid_parcels.
    """
    import numpy as np

    from .conftest import square_parcels

    frame = square_parcels(3, 1, KCXS=[0.1, 8.0, 0.0])  # three 1-ha paddies
    path = tmp_path / "dltb.gpkg"
    frame.to_file(path, layer="DLTB")
    out = tmp_path / "out.gpkg"
    stopped = CliRunner().invoke(main, ["classify", str(path), "-o", str(out)])
    assert stopped.exit_code == 3
    assert "V_KCXS_RANGE" in stopped.stderr and "BSM 4304210000000001" in stopped.stderr
    assert "value 8" in stopped.stderr and not out.exists()
    done = CliRunner().invoke(main, ["classify", str(path), "-o", str(out), "--skip-invalid"])
    assert done.exit_code == 0, done.output
    parcels = gpd.read_file(out, layer="parcels")
    assert parcels["lp_class"].iloc[1] == "OTHER"
    assert parcels["lp_reasons"].iloc[1] == "V_KCXS_RANGE"
    assert not parcels[["lp_area_ha", "lp_dlmj_m2", "lp_area_m2"]].isna().any().any()
    # its measured area stays (100 m × 100 m = 1 ha), its untrusted land-class area counts as 0
    assert parcels["lp_area_ha"].iloc[1] == pytest.approx(1.0, rel=1e-3)
    assert parcels["lp_dlmj_m2"].iloc[1] == 0.0
    summary = pyogrio.read_dataframe(out, layer="county_summary", read_geometry=False)
    city = summary[summary["county_code"] == "全市"].set_index("lp_class")["area_m2"]
    assert city["OTHER"] == pytest.approx(10_000, rel=1e-3)
    assert city["PBF"] + city["GENERAL"] + city["RESERVE"] == pytest.approx(19_000, rel=1e-3)
    quotas = pyogrio.read_dataframe(out, layer="county_quotas", read_geometry=False)
    # farmland: the two valid paddies, 0.9 ha + 1 ha after KCXS (10 000 m² each, 10 % deducted)
    assert quotas["farmland_m2"].sum() == pytest.approx(19_000, rel=1e-3)
    assert not quotas.select_dtypes(float).isna().any().any()
    invalid = pyogrio.read_dataframe(out, layer="invalid_parcels", read_geometry=False)
    assert invalid["bsm"].tolist() == ["4304210000000001"]
    assert np.isclose(invalid["value"].iloc[0], 8.0)
