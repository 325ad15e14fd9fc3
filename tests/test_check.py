"""`landplan check`: auditing an existing PBF layer, validating attributes, batches, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from landplan.audit.pbf import audit_pbf
from landplan.cli import main
from landplan.io.layers import write_layer

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0


def county_file(county: str = "430421", **fields: list[object]) -> gpd.GeoDataFrame:
    """Four clean farmland parcels of one county, valid in every attribute."""
    base = {
        "BSM": [f"{county}{i}" for i in range(4)],
        "DLBM": ["0101"] * 4,
        "ZLDWDM": [f"{county}0010010000000"] * 4,
        "KCXS": [0.0] * 4,
        "GDPDJB": [1] * 4,
        "GDDB": [5] * 4,
        "ZZSXDM": ["LS"] * 4,
        "TBXHDM": [""] * 4,
        "GDLX": [""] * 4,
    }
    base.update(fields)
    frame = square_parcels(4, 1, **base)
    frame["TBMJ"] = frame.to_crs(
        "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +a=6378137 +rf=298.257222101"
    ).area.round(2)
    frame["KCMJ"] = (frame["TBMJ"] * frame["KCXS"]).round(2)
    frame["TBDLMJ"] = (frame["TBMJ"] - frame["KCMJ"]).round(2)
    return frame


def test_pbf_audit_by_hand() -> None:
    parcels = county_file(
        DLBM=["0101", "0301", "0101", "0101"],  # 1: not farmland (划定不实)
        ZZSXDM=["LS", "", "WG", "LS"],  # 2: not cultivated (划定不实)
        GDPDJB=[5, None, 1, 1],
        GDLX=["PD", "", "", ""],  # 0: > 25° (质量不优)
        GDDB=[5, None, 5, 14],
    )  # 3: low grade (质量不优)
    pbf = gpd.GeoSeries([box(X0, Y0, X0 + 300, Y0 + 100)], crs=GK38)  # parcels 0-2 are PBF
    audit = audit_pbf(parcels, layers={"pbf_existing": pbf})
    found = {(int(r.parcel), r.check_id, r.category) for r in audit.findings.itertuples()}
    assert found == {
        (0, "P_SLOPE_GT25", "质量不优"),
        (1, "A_NOT_FARMLAND", "划定不实"),
        (2, "R_NOT_ACTUAL_FARMLAND", "划定不实"),
    }  # 3 is low grade but not PBF
    row = audit.summary.iloc[0]
    assert (row["pbf_parcels"], row["划定不实_parcels"], row["质量不优_parcels"]) == (3, 2, 1)
    assert audit.findings.loc[audit.findings["check_id"] == "P_SLOPE_GT25", "value"].iloc[0] == 5


def test_without_a_pbf_layer_the_file_is_the_pbf() -> None:
    audit = audit_pbf(county_file(GDDB=[5, 5, 5, 14]))
    assert audit.findings[["parcel", "check_id"]].values.tolist() == [[3, "A_LOW_GRADE"]]


def test_attribute_validation_findings() -> None:
    parcels = county_file(
        DLBM=["0101", "9999", "0101", "0101"],
        GDPDJB=[1, 1, 7, 1],
        ZZSXDM=["LS", "", "LS", "XX"],
        KCXS=[0.0, 0.0, 0.0, 0.0],
    )
    parcels.loc[0, "TBDLMJ"] = parcels.loc[0, "TBMJ"] - 10  # breaks TBDLMJ = TBMJ − KCMJ
    parcels.loc[1, "BSM"] = parcels.loc[2, "BSM"]
    parcels.loc[3, "ZLDWDM"] = "43042100100100"  # 14 characters
    parcels.loc[2, "TBMJ"] = parcels.loc[2, "TBMJ"] * 1.01
    parcels.loc[2, "TBDLMJ"] = parcels.loc[2, "TBMJ"]
    findings = audit_pbf(parcels).findings
    got = set(
        map(
            tuple,
            findings[findings["category"] == "属性校验"][["parcel", "check_id"]].values.tolist(),
        )
    )
    assert got == {
        (0, "V_TBDLMJ_BALANCE"),
        (1, "V_DLBM_DOMAIN"),
        (1, "V_BSM_DUPLICATE"),
        (2, "V_BSM_DUPLICATE"),
        (2, "V_GDPDJB_DOMAIN"),
        (2, "V_TBMJ_AREA"),
        (3, "V_ZZSXDM_DOMAIN"),
        (3, "V_ZLDWDM_FORMAT"),
    }


def test_batch_over_a_folder_with_a_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "县级成果"
    folder.mkdir()
    write_layer(county_file("430421"), folder / "430421_衡阳县.gpkg", layer="DLTB")
    write_layer(county_file("430422", GDDB=[5, 5, 5, 14]), folder / "430422.gpkg", layer="DLTB")
    (folder / "430423.shp").write_bytes(b"garbage")
    result = CliRunner().invoke(main, ["check", str(folder), "--json"])
    assert result.exit_code == 3  # unreadable input, reported after the others ran
    report = json.loads(result.stdout)
    statuses = {Path(f["file"]).name: f["status"] for f in report["files"]}
    assert statuses == {"430421_衡阳县.gpkg": "ok", "430422.gpkg": "ok", "430423.shp": "unreadable"}
    assert [(Path(f["file"]).name, f["check_id"]) for f in report["findings"]] == [
        ("430422.gpkg", "A_LOW_GRADE")
    ]
    assert "checking" in result.stderr  # progress on stderr, report on stdout
    assert len(report["manifest"]["inputs"]) == 2  # the two files read, hashed
    assert report["manifest"]["profile"]["id"] == "hunan-hengyang"


@pytest.mark.parametrize(("fail_on", "code"), [("error", 0), ("warning", 1), ("info", 1)])
def test_exit_codes_follow_fail_on(tmp_path: Path, fail_on: str, code: int) -> None:
    path = tmp_path / "c.gpkg"
    write_layer(county_file(GDDB=[5, 5, 5, 14]), path)  # one warning, no error
    result = CliRunner().invoke(main, ["check", str(path), "--csv", "--fail-on", fail_on])
    assert result.exit_code == code
    table = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert table["check_id"].tolist() == ["A_LOW_GRADE"]
    clean = tmp_path / "clean.gpkg"
    write_layer(county_file(), clean)
    assert CliRunner().invoke(main, ["check", str(clean), "--fail-on", fail_on]).exit_code == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "c.gpkg"
    write_layer(county_file(), path)
    assert CliRunner().invoke(main, ["check", str(path), "--fail-on", "fatal"]).exit_code == 2
    assert CliRunner().invoke(main, ["check", str(path), "--layer", "x=y"]).exit_code == 2


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    """README: exit codes 0 no finding, 1 findings, 2 usage error, 3 unreadable input."""
    missing = CliRunner().invoke(main, ["check", str(tmp_path / "none.gpkg")])
    assert missing.exit_code == 3
    garbage = tmp_path / "garbage.shp"
    garbage.write_bytes(b"garbage")
    assert CliRunner().invoke(main, ["check", str(garbage)]).exit_code == 3


def test_check_on_the_sample_finds_what_was_planted(tmp_path: Path) -> None:
    from landplan.io.sample import sample_path

    constraints = sample_path("constraints")
    result = CliRunner().invoke(
        main,
        [
            "check",
            sample_path("parcels"),
            "--csv",
            "--layer",
            f"pbf_existing={constraints}",
            "--layer",
            f"eco_redline={constraints}",
        ],
    )
    assert result.exit_code == 1
    findings = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype={"bsm": str})
    flagged = findings.groupby("check_id")["bsm"].agg(set)
    # computed independently from the files: the PBF layer holds copies of parcels (by BSM)
    parcels = gpd.read_file(sample_path("parcels"))
    pbf = gpd.read_file(constraints, layer="pbf_existing")
    redline = gpd.read_file(constraints, layer="eco_redline")
    # 划定不实: the synthetic current PBF carries a few forest and garden parcels
    not_farmland = set(pbf.loc[~pbf["DLBM"].str.startswith("01"), "BSM"])
    assert len(not_farmland) == 23
    assert flagged["A_NOT_FARMLAND"] == not_farmland
    # PBF farmland overlapping the redline: planar GK overlap (0.03 % off the ellipsoidal
    # one here) above the rule's 1 m²; the sample has no overlap between 0.3 and 2.9 m²,
    # so neither the projection nor the 1 m positional tolerance can move a parcel
    pbf_farm = parcels[parcels["BSM"].isin(pbf["BSM"]) & parcels["DLBM"].str.startswith("01")]
    pieces = gpd.overlay(pbf_farm[["BSM", "geometry"]], redline[["geometry"]])
    overlap = pieces.area.groupby(pieces["BSM"].to_numpy()).sum()
    assert not overlap.between(0.3, 2.9).any()
    in_redline = set(overlap.index[overlap > 1.0])
    assert len(in_redline) == 94
    assert flagged["P_ECO_REDLINE"] == in_redline
