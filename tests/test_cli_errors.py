"""Every documented error, as a user meets it on the command line.

Each case runs the CLI and checks: the exit code the README defines (2 usage error,
3 unreadable or invalid input), one readable message on stderr (one ``error:`` line
block, no traceback, no ``Problem(...)`` repr), its code, and its fix; where the fix is
an option or an action, running it again with the fix succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from landplan.cli import main
from landplan.io.layers import write_layer
from landplan.io.sample import sample_path

from .conftest import square_parcels


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, ["-q", *args], prog_name="landplan")


def assert_one_message(run: Result, exit_code: int, code: str, *fix: str) -> None:
    """One readable error: the exit code, its code in brackets, the fix, nothing else."""
    err = run.stderr
    assert run.exit_code == exit_code, (run.exit_code, err, run.exception)
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert "Traceback" not in err and "Problem(" not in err, err
    assert err.count("error:") == 1 and err.startswith("error:"), err
    assert f"[{code}]" in err, err
    for text in fix:
        assert text in err, (text, err)


@pytest.fixture
def parcels(tmp_path: Path) -> Path:
    """Three valid 1-ha paddies of county 430421 in a GeoPackage."""
    path = tmp_path / "dltb.gpkg"
    write_layer(square_parcels(3, 1), path, layer="DLTB")
    return path


@pytest.fixture
def no_prj(tmp_path: Path) -> Path:
    """The same parcels as a shapefile without .prj."""
    path = tmp_path / "shp" / "dltb.shp"
    path.parent.mkdir()
    write_layer(square_parcels(3, 1), path)
    path.with_suffix(".prj").unlink()
    return path


@pytest.fixture
def result_gpkg(parcels: Path, tmp_path: Path) -> Path:
    out = tmp_path / "result.gpkg"
    assert invoke(["classify", str(parcels), "-o", str(out)]).exit_code == 0
    return out


# ---- paths of outputs -------------------------------------------------------------------


def test_classify_refuses_an_existing_output(parcels: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.gpkg"
    out.write_bytes(b"x")
    run = invoke(["classify", str(parcels), "-o", str(out)])
    assert_one_message(run, 2, "OUTPUT_EXISTS", "--overwrite")
    assert invoke(["classify", str(parcels), "-o", str(out), "--overwrite"]).exit_code == 0


def test_measure_refuses_an_existing_output(parcels: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.gpkg"
    out.write_bytes(b"x")
    assert_one_message(
        invoke(["measure", str(parcels), "-o", str(out)]), 2, "OUTPUT_EXISTS", "--overwrite"
    )


def test_report_refuses_a_folder_holding_files(result_gpkg: Path, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    run = invoke(["report", str(result_gpkg), "-d", str(folder)])
    assert_one_message(run, 2, "OUTPUT_EXISTS", "--overwrite")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]  # nothing written
    done = invoke(["report", str(result_gpkg), "-d", str(folder), "--overwrite"])
    assert done.exit_code == 0, done.stderr
    assert (folder / "report.html").exists() and (folder / "notes.txt").exists()


def test_every_output_option_creates_its_folders(parcels: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "result.gpkg"
    summary = tmp_path / "nodir" / "deeper" / "totals.csv"
    run = invoke(["classify", str(parcels), "-o", str(out), "--summary", str(summary)])
    assert run.exit_code == 0, run.stderr
    assert out.exists() and summary.read_bytes().startswith(b"\xef\xbb\xbf")
    report = tmp_path / "b" / "c" / "report"
    assert invoke(["report", str(out), "-d", str(report)]).exit_code == 0
    assert (report / "report.html").exists()
    measured = tmp_path / "d" / "m.gpkg"
    assert invoke(["measure", str(parcels), "-o", str(measured)]).exit_code == 0
    assert measured.exists()


# ---- reading the parcels ------------------------------------------------------------------


def test_missing_and_unreadable_parcels(tmp_path: Path) -> None:
    run = invoke(["classify", str(tmp_path / "none.gpkg"), "-o", str(tmp_path / "o.gpkg")])
    assert_one_message(run, 3, "FILE_MISSING", "check the path")
    garbage = tmp_path / "bad.gpkg"
    garbage.write_bytes(b"not a geopackage")
    run = invoke(["classify", str(garbage), "-o", str(tmp_path / "o.gpkg")])
    assert_one_message(run, 3, "VECTOR_UNREADABLE", "bad.gpkg", "GeoPackage")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_message(invoke(["check", str(empty)]), 3, "NO_PARCEL_FILES", "folder")


def test_parcels_without_prj_need_crs(no_prj: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.gpkg"
    run = invoke(["classify", str(no_prj), "-o", str(out)])
    assert_one_message(run, 2, "CRS_MISSING", "dltb.prj", "--crs EPSG:")
    assert invoke(["classify", str(no_prj), "-o", str(out), "--crs", "EPSG:4547"]).exit_code == 0


def test_constraint_layer_without_prj_takes_crs_too(parcels: Path, tmp_path: Path) -> None:
    """--crs is the CRS of every input that declares none: the advice works for layers."""
    import geopandas as gpd
    from shapely.geometry import box

    redline = tmp_path / "redline.shp"
    square = box(500_000, 3_000_000, 500_100, 3_000_100)  # the first parcel
    write_layer(gpd.GeoDataFrame(geometry=[square], crs=4547), redline)
    redline.with_suffix(".prj").unlink()
    out = tmp_path / "o.gpkg"
    args = ["classify", str(parcels), "-o", str(out), "--layer", f"eco_redline={redline}"]
    assert_one_message(invoke(args), 2, "CRS_MISSING", "eco_redline=", "redline.prj", "--crs")
    done = invoke([*args, "--crs", "EPSG:4547"])  # parcels keep the CRS they declare
    assert done.exit_code == 0, done.stderr
    classes = gpd.read_file(out, layer="parcels")["lp_class"].tolist()
    assert classes[0] != "PBF" and "PBF" in classes  # the first square is in the redline


def test_a_crs_that_is_no_crs(parcels: Path, tmp_path: Path) -> None:
    run = invoke(["classify", str(parcels), "-o", str(tmp_path / "o.gpkg"), "--crs", "EPSG:1"])
    assert_one_message(run, 2, "CRS_INVALID", "EPSG:4490")


def test_missing_fields_are_mapped_with_field(tmp_path: Path) -> None:
    path = tmp_path / "dltb.gpkg"
    write_layer(square_parcels(3, 1).rename(columns={"ZLDWDM": "LOCCODE"}), path)
    out = tmp_path / "o.gpkg"
    run = invoke(["classify", str(path), "-o", str(out)])
    assert_one_message(run, 2, "FIELD_MISSING", "ZLDWDM", "LOCCODE")
    assert (
        invoke(["classify", str(path), "-o", str(out), "--field", "ZLDWDM=LOCCODE"]).exit_code == 0
    )


def test_invalid_parcels_stop_or_are_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "dltb.gpkg"
    write_layer(square_parcels(3, 1, KCXS=[0.1, 8.0, 0.0]), path, layer="DLTB")
    out = tmp_path / "o.gpkg"
    run = invoke(["classify", str(path), "-o", str(out)])
    assert_one_message(run, 3, "V_KCXS_RANGE", "BSM 4304210000000001", "--skip-invalid")
    assert invoke(["classify", str(path), "-o", str(out), "--skip-invalid"]).exit_code == 0


# ---- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "fix"),
    [
        (["--layer", "redline=x.shp"], "ROLE_UNKNOWN", "eco_redline"),
        (["--layer", "redline.shp"], "LAYER_OPTION", "ROLE=PATH"),
        (["--field", "NOPE=X"], "FIELD_OPTION", "CANONICAL=COLUMN"),
        (["--profile", "no-such-profile"], "PROFILE_NOT_FOUND", "hunan-hengyang"),
        (["--engine", "processes", "--scheduler", "tcp://127.0.0.1:1"], "ENGINE_SCHEDULER", "dask"),
        (["--engine", "threads"], "USAGE", "landplan classify --help"),
        (["--targets", "missing.csv"], "USAGE", "landplan classify --help"),
    ],
)
def test_bad_options_of_classify(
    parcels: Path, tmp_path: Path, args: list[str], code: str, fix: str
) -> None:
    run = invoke(["classify", str(parcels), "-o", str(tmp_path / "o.gpkg"), *args])
    assert_one_message(run, 2, code, fix)


def test_bad_options_of_check(parcels: Path) -> None:
    run = invoke(["check", str(parcels), "--fail-on", "fatal"])
    assert_one_message(run, 2, "USAGE", "'info', 'warning', 'error'", "landplan check --help")


# ---- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetsCase:
    name: str
    write: Callable[[Path], Path]
    exit_code: int
    code: str
    fix: tuple[str, ...]


def _csv(text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "targets.csv"
        path.write_bytes(text.encode(encoding))
        return path

    return write


def _bytes(data: bytes, name: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return write


TARGETS_CASES = [
    TargetsCase(
        "another city",
        _csv("行政区代码,永久基本农田保护面积\n110101,1\n", "gbk"),
        2,
        "TARGETS_NO_COUNTY",
        ("110101", "430421", "--targets-county-column"),
    ),
    TargetsCase(
        "county column not recognised",
        _csv("县代码,保护目标\n430421,1\n", "gbk"),
        2,
        "TARGETS_COLUMN",
        ("县代码", "--targets-county-column"),
    ),
    TargetsCase(
        "no PBF column",
        _csv("county_code,pbf_2025\n430421,1\n"),
        2,
        "TARGETS_COLUMN",
        ("pbf_2025", "--targets-column"),
    ),
    TargetsCase(
        "a township code",
        _csv("county_code,pbf_2035_wanmu\n430421001,1\n"),
        2,
        "TARGETS_COUNTY_CODE",
        ("row 2: '430421001'", "township", "padded with zeros"),
    ),
    TargetsCase(
        "text in a value",
        _csv("county_code,pbf_2035_wanmu\n430421,一万\n"),
        2,
        "TARGETS_VALUE",
        ("row 2: '一万'", "Correct"),
    ),
    TargetsCase(
        "bytes that are no text",
        _bytes(b"county_code,pbf_2035_wanmu\n430421,\xff\n", "targets.csv"),
        3,
        "TEXT_ENCODING",
        ("CSV UTF-8", ".xlsx"),
    ),
    TargetsCase(
        "an old workbook",
        _bytes(b"\xd0\xcf\x11\xe0", "targets.xls"),
        3,
        "TARGETS_UNREADABLE",
        (".xlsx",),
    ),
]


@pytest.mark.parametrize("case", TARGETS_CASES, ids=[c.name for c in TARGETS_CASES])
def test_targets_errors(parcels: Path, tmp_path: Path, case: TargetsCase) -> None:
    targets = case.write(tmp_path)
    run = invoke(
        ["classify", str(parcels), "-o", str(tmp_path / "o.gpkg"), "--targets", str(targets)]
    )
    assert_one_message(run, case.exit_code, case.code, str(targets), *case.fix)


def test_the_county_column_option_is_the_fix(parcels: Path, tmp_path: Path) -> None:
    targets = _csv("县代码,保护目标\n430421000000,0.0015\n", "gbk")(tmp_path)  # 15 亩 = 1 ha
    out = tmp_path / "o.gpkg"
    args = ["classify", str(parcels), "-o", str(out), "--targets", str(targets)]
    done = invoke([*args, "--targets-county-column", "县代码"])
    assert done.exit_code == 0, done.stderr
    import pyogrio

    quotas = pyogrio.read_dataframe(out, layer="county_quotas", read_geometry=False)
    assert quotas.set_index("county_code").loc["430421", "pbf_target_m2"] == pytest.approx(1e4)


def test_report_reads_the_same_targets(result_gpkg: Path, tmp_path: Path) -> None:
    targets = tmp_path / "附录5.xlsx"
    pd.DataFrame({"行政区代码": [430421000000], "耕地保护目标（亩）": [45]}).to_excel(
        targets, index=False
    )  # 45 亩 = 3 ha = 0.0045 万亩
    run = invoke(["report", str(result_gpkg), "--targets", str(targets), "-d", str(tmp_path / "r")])
    assert run.exit_code == 0, run.stderr
    bad = _csv("县代码,保护目标\n430421,1\n", "gbk")(tmp_path)
    run = invoke(["report", str(result_gpkg), "--targets", str(bad), "-d", str(tmp_path / "r2")])
    assert_one_message(run, 2, "TARGETS_COLUMN", "--targets-county-column")


# ---- report and check inputs ----------------------------------------------------------------


def test_report_on_a_shapefile_or_a_plain_parcel_file(parcels: Path, tmp_path: Path) -> None:
    shp = tmp_path / "result.shp"
    write_layer(square_parcels(1, 1), shp)
    run = invoke(["report", str(shp), "-d", str(tmp_path / "r")])
    assert_one_message(run, 3, "RESULT_NOT_GPKG", "-o result.gpkg")
    run = invoke(["report", str(parcels), "-d", str(tmp_path / "r")])
    assert_one_message(run, 3, "RESULT_INCOMPLETE", "county_summary", "landplan classify")


def test_check_refuses_an_existing_findings_file(parcels: Path, tmp_path: Path) -> None:
    out = tmp_path / "findings.gpkg"
    out.write_bytes(b"x")
    run = invoke(["check", str(parcels), "--findings-gpkg", str(out)])
    assert_one_message(run, 2, "OUTPUT_EXISTS", "--overwrite")


def test_sample_runs_clean_for_reference() -> None:
    """The sample needs none of these fixes: its targets name its counties."""
    from landplan.io.targets import load_targets

    targets = load_targets(sample_path("targets"))
    assert targets is not None and "430421" in targets.pbf_m2
