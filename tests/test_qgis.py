"""What QGIS users see, checked in real QGIS (Debian's python3-qgis, run headless).

PyQGIS only runs under the system Python, so each check runs a script there
(``tests/qgis/inspect_layer.py``) or the Processing executor
(``qgis_process.bin``) and reads what it reports.  Without QGIS on the machine
the tests marked ``needs_qgis`` are skipped, unless ``LANDPLAN_REQUIRE_QGIS=1``
(set by CI, which installs QGIS) makes that a failure; the plugin package test
needs no QGIS and always runs.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

import landplan
from landplan.cli import main
from landplan.core.palette import CLASSES, FIELD_ALIASES_ZH
from landplan.io.sample import load_sample, sample_path
from landplan.outputs.result import Result

SYSTEM_PYTHON = "/usr/bin/python3"
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
HERE = Path(__file__).parent
REPO = HERE.parent


def _has_qgis() -> bool:
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="session")
def qgis_available() -> None:
    """Skip a test that needs PyQGIS when it is absent; fail instead when CI requires it."""
    if _has_qgis():
        return
    if os.environ.get("LANDPLAN_REQUIRE_QGIS") == "1":
        pytest.fail("QGIS is required (LANDPLAN_REQUIRE_QGIS=1) but PyQGIS is not importable")
    pytest.skip("PyQGIS is not installed (apt install python3-qgis qgis)")


needs_qgis = pytest.mark.usefixtures("qgis_available")


def qgis_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),  # a QGIS profile of the test's own
        "XDG_RUNTIME_DIR": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def inspect(path: Path, layer: str, png: Path) -> dict:
    done = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "qgis" / "inspect_layer.py"), str(path), layer, str(png)],
        capture_output=True,
        text=True,
        env=qgis_env(png.parent / "home"),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_not_blank(png: Path, colours: list[str]) -> None:
    image = imread(png)[..., :3]
    pixels = np.round(image.reshape(-1, 3) * 255).astype(int)
    assert len(np.unique(pixels, axis=0)) > 3, "rendered image is blank"
    for colour in colours:  # the classes' fill colours are on the map
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(axis=1) <= 2).any(), colour


@pytest.fixture(scope="module")
def result() -> Result:
    s = load_sample()
    return landplan.classify(s.parcels, layers=s.layers, targets=s.targets)


@needs_qgis
def test_geopackage_opens_in_qgis_with_the_class_style(result: Result, tmp_path: Path) -> None:
    out = result.to_file(tmp_path / "result.gpkg")
    report = inspect(out, "parcels", tmp_path / "map.png")
    assert report["valid"] and report["features"] == len(result.parcels)
    renderer = report["renderer"]
    assert renderer["type"] == "categorizedSymbol" and renderer["field"] == "lp_class"
    assert [(c["value"], c["label"], c["colour"]) for c in renderer["categories"]] == [
        (c.code, c.zh, c.colour) for c in CLASSES
    ]
    assert report["aliases"]["lp_class"] == "分类" == FIELD_ALIASES_ZH["lp_class"]
    assert report["aliases"]["os_eco"] == "生态保护红线重叠占比"
    assert report["styles"] == ["landplan classes", "landplan recovery priority"]
    present = set(result.parcels["lp_class"])
    assert_not_blank(
        tmp_path / "map.png", [c.colour for c in CLASSES if c.code in {"PBF", "OTHER"} & present]
    )


@needs_qgis
def test_second_style_shows_recovery_candidates_by_priority(result: Result, tmp_path: Path) -> None:
    out = result.to_file(tmp_path / "result.gpkg")
    rules = inspect(out, "parcels", tmp_path / "map.png")["recovery_renderer"]
    assert rules["type"] == "RuleRenderer"
    ranks = result.parcels.loc[result.parcels["lp_class"] == "RECOVERY", "lp_prio"]
    assert len(rules["rules"]) == 4
    assert rules["rules"][0]["label"].startswith("可恢复耕地 优先序 1–")
    assert rules["rules"][-1]["label"].endswith(
        f"–{ranks.max()}"
    )  # the last band ends at the last rank


@needs_qgis
def test_shapefile_output_gets_its_qml_applied(result: Result, tmp_path: Path) -> None:
    out = result.to_file(tmp_path / "result.shp")
    assert out.with_suffix(".qml").exists()
    report = inspect(out, "result", tmp_path / "shp.png")
    assert report["features"] == len(result.parcels)
    assert report["renderer"]["type"] == "categorizedSymbol"
    assert report["aliases"]["lp_area_ha"] == "面积(公顷)"


def _qgis_process(args: list[str], home: Path) -> dict:
    env = {
        **qgis_env(home),
        "QGIS_PLUGINPATH": str(REPO / "qgis_plugin"),
        "LANDPLAN_EXECUTABLE": str(Path(sys.executable).parent / "landplan"),
    }
    enable = subprocess.run(
        [QGIS_PROCESS, "plugins", "enable", "landplan_processing"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert enable.returncode == 0, enable.stdout + enable.stderr
    done = subprocess.run(
        [QGIS_PROCESS, "--json", "run", *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout[done.stdout.index("{") :])


@needs_qgis
def test_processing_provider_classifies_headless(tmp_path: Path) -> None:
    out = tmp_path / "qp.gpkg"
    constraints = sample_path("constraints")
    report = _qgis_process(
        [
            "landplan:classify", "--",
            f"PARCELS={sample_path('parcels')}",
            f"LAYERS=eco_redline={constraints}|layername=eco_redline;"
            f"dev_boundary={constraints}|layername=dev_boundary",
            f"TARGETS={sample_path('targets')}",
            f"OUTPUT={out}",
        ],
        tmp_path / "home",
    )  # fmt: skip
    assert report["results"]["OUTPUT"] == str(out)
    parcels = gpd.read_file(out, layer="parcels")
    assert len(parcels) == len(load_sample().parcels)
    # the layers given in the toolbox reached the rules: the same parcels fire as when the
    # same layers are given in Python, and the redline does fire (without it, none can)
    direct = landplan.classify(
        sample_path("parcels"),
        layers={
            role: f"{constraints}|layername={role}" for role in ("eco_redline", "dev_boundary")
        },
        targets=sample_path("targets"),
    ).parcels
    fired = parcels["lp_reasons"].str.split(";").apply(lambda ids: "P_ECO_REDLINE" in ids)
    expected = direct["lp_reasons"].str.split(";").apply(lambda ids: "P_ECO_REDLINE" in ids)
    assert fired.tolist() == expected.tolist()
    assert expected.any()
    assert parcels["lp_class"].tolist() == direct["lp_class"].tolist()


@needs_qgis
def test_processing_provider_checks_headless(tmp_path: Path) -> None:
    out = tmp_path / "findings.csv"
    report = _qgis_process(
        ["landplan:check", "--", f"PARCELS={sample_path('parcels')}", f"OUTPUT={out}",
         "FAIL_ON=2"],
        tmp_path / "home",
    )  # fmt: skip
    from_qgis = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert {"file", "bsm", "county", "check_id", "severity"} <= set(from_qgis.columns)
    assert report["results"]["FINDINGS"] == 1
    # the toolbox reports exactly what `landplan check` finds on the same file
    direct = CliRunner().invoke(main, ["check", sample_path("parcels"), "--csv"])
    assert direct.exit_code == 1
    expected = pd.read_csv(io.StringIO(direct.stdout.lstrip("\ufeff")), dtype=str)
    columns = ["bsm", "check_id"]
    assert from_qgis[columns].values.tolist() == expected[columns].values.tolist()
    assert len(expected) > 0


def test_plugin_zip_holds_a_processing_provider(tmp_path: Path) -> None:
    target = tmp_path / "landplan_processing.zip"
    subprocess.run(
        [sys.executable, str(REPO / "qgis_plugin" / "package.py"), str(target)], check=True
    )
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        metadata = archive.read("landplan_processing/metadata.txt").decode()
    assert "landplan_processing/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n]
    assert "hasProcessingProvider=yes" in metadata
