"""`landplan check` output that a batch script, Excel and QGIS can use."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from landplan.cli import main
from landplan.io.layers import write_layer

from .test_check import X0, Y0, county_file

BOM = b"\xef\xbb\xbf"


def _refuse_constant(name: str) -> object:
    raise ValueError(f"not strict JSON: {name}")


@pytest.fixture
def flagged(tmp_path: Path) -> Path:
    """Four parcels of 430421; the second is forest (林地 0301), the fourth a low grade (GDDB 14).

    Written to a GeoPackage, whose feature ids (fid) count from 1 in the order written.
    """
    frame = county_file(DLBM=["0101", "0301", "0101", "0101"], GDDB=[5, 5, 5, 14])
    path = tmp_path / "衡阳县.gpkg"
    write_layer(frame, path, layer="DLTB")
    return path


def test_findings_name_parcels_by_bsm_and_row_in_strict_json(flagged: Path) -> None:
    run = CliRunner().invoke(main, ["check", str(flagged), "--json"])
    assert run.exit_code == 1, run.output  # A_NOT_FARMLAND is an error
    text = run.stdout
    assert "NaN" not in text and "Infinity" not in text
    report = json.loads(text, parse_constant=_refuse_constant)
    rows = [(f["bsm"], f["row"], f["check_id"]) for f in report["findings"]]
    # BSM is county + position (county_file), the fid is the position + 1
    assert ("4304211", 2, "A_NOT_FARMLAND") in rows
    assert ("4304213", 4, "A_LOW_GRADE") in rows
    not_farmland = next(f for f in report["findings"] if f["check_id"] == "A_NOT_FARMLAND")
    assert not_farmland["value"] is None  # no value measured: null, not NaN


def test_csv_has_a_bom_for_excel_and_reads_back(flagged: Path) -> None:
    run = CliRunner().invoke(main, ["check", str(flagged), "--csv"])
    assert run.exit_code == 1
    assert run.stdout_bytes.startswith(BOM)
    table = pd.read_csv(io.BytesIO(run.stdout_bytes), encoding="utf-8-sig", dtype={"bsm": str})
    assert list(table.columns[:3]) == ["file", "bsm", "row"]
    low = table[table["check_id"] == "A_LOW_GRADE"].iloc[0]
    assert (low["bsm"], low["row"], low["category"]) == ("4304213", 4, "质量不优")


def test_csv_redirected_to_a_file_starts_with_a_bom(flagged: Path, tmp_path: Path) -> None:
    """The README's `landplan check ... --csv > findings.csv`, through a real shell redirect."""
    out = tmp_path / "findings.csv"
    with out.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-c", "from landplan.cli import main; main()", "check",
             str(flagged), "--csv"],
            stdout=stdout, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")
    data = out.read_bytes()
    assert data.startswith(BOM) and data.count(BOM) == 1
    assert "划定不实" in data.decode("utf-8-sig")


def test_findings_gpkg_has_each_parcels_geometry(flagged: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder" / "findings.gpkg"
    run = CliRunner().invoke(main, ["check", str(flagged), "--findings-gpkg", str(out)])
    assert run.exit_code == 1, run.output
    layer = gpd.read_file(out, layer="findings")
    report = json.loads(run.stdout)
    assert len(layer) == len(report["findings"])  # one row per finding
    assert layer.crs.to_epsg() == 4547  # the file's own CRS
    low = layer[layer["check_id"] == "A_LOW_GRADE"].iloc[0]
    # the fourth 100 m square of the row (square_parcels)
    assert low.geometry.equals(box(X0 + 300, Y0, X0 + 400, Y0 + 100))
    again = CliRunner().invoke(main, ["check", str(flagged), "--findings-gpkg", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    replaced = CliRunner().invoke(
        main, ["check", str(flagged), "--findings-gpkg", str(out), "--overwrite"]
    )
    assert replaced.exit_code == 1
    assert len(gpd.read_file(out, layer="findings")) == len(layer)


def test_findings_of_files_in_two_crs_share_cgcs2000(tmp_path: Path) -> None:
    folder = tmp_path / "县级成果"
    folder.mkdir()
    a = county_file("430421", GDDB=[5, 5, 5, 14])
    b = county_file("430422", GDDB=[14, 5, 5, 5]).to_crs(4546)  # zone 37 without prefix
    write_layer(a, folder / "a.gpkg", layer="DLTB")
    write_layer(b, folder / "b.gpkg", layer="DLTB")
    out = tmp_path / "f.gpkg"
    run = CliRunner().invoke(main, ["check", str(folder), "--findings-gpkg", str(out)])
    assert run.exit_code == 0, run.output  # low grades are warnings, below --fail-on error
    layer = gpd.read_file(out, layer="findings")
    assert layer.crs.to_epsg() == 4490
    got = layer.set_index("bsm").geometry.to_crs(4547)
    assert got["4304213"].equals_exact(a.geometry.iloc[3], tolerance=1e-3)
    assert got["4304220"].equals_exact(b.to_crs(4547).geometry.iloc[0], tolerance=1e-3)
