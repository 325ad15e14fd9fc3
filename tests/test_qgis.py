"""What QGIS users see, checked in real QGIS (Debian's python3-qgis, run headless).

PyQGIS only runs under the system Python, so each check runs a script there
(``tests/qgis/inspect_layer.py``) or the Processing executor
(``qgis_process.bin``) and reads what it reports.  Without QGIS on the machine
the tests marked ``needs_qgis`` are skipped, unless ``LANDPLAN_REQUIRE_QGIS=1``
(set by CI, which installs QGIS) makes that a failure; the plugin package test
needs no QGIS and always runs.
"""

from __future__ import annotations

import doctest
import hashlib
import importlib.util
import io
import itertools
import json
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

import landplan
from landplan.cli import main
from landplan.core.errors import SEVERITIES
from landplan.core.palette import BALANCE_CATEGORIES, CLASSES, FIELD_ALIASES_ZH
from landplan.core.roles import ROLES
from landplan.io.sample import load_sample, sample_path
from landplan.outputs.result import Result
from landplan.rules import DEFAULT_PROFILE, SHIPPED_PROFILES

from .test_balance import NEW, OLD, RETURN_FOREST, _layer

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
    home.chmod(0o700)  # Qt wants its runtime folder private
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
def test_balance_pieces_open_in_qgis_drawn_as_their_map(tmp_path: Path) -> None:
    """The changed pieces of test_balance's vintages, each category's pieces counted by hand.

    Paddy turned out: O1's east half (county A) and O8 (B); other farmland
    out: O7's east half; paddy turned in: O6; other farmland in: O4's strip
    x 80-100 and O9; excluded (生态退耕): O7's west half, in return_forest;
    outside the balance: O10 to rural housing.  QGIS counts each rule's
    features with the rule's own filter.
    """
    balance = landplan.balance(_layer(OLD), _layer(NEW), layers={"return_forest": RETURN_FOREST})
    out = tmp_path / "balance.gpkg"
    balance.to_files(out)
    report = inspect(out, "balance_pieces", tmp_path / "map.png")
    renderer = report["renderer"]
    assert renderer["type"] == "RuleRenderer"
    assert [(r["label"], r["colour"]) for r in renderer["rules"]] == [
        (c.zh, c.colour) for c in BALANCE_CATEGORIES
    ]
    counts = {
        c.code: r["features"] for c, r in zip(BALANCE_CATEGORIES, renderer["rules"], strict=True)
    }
    assert counts == {
        "out_paddy": 2, "out": 1, "in_paddy": 1, "in": 2,
        "excluded": 1, "out_other": 1, "in_other": 0, "gap": 0,
    }  # fmt: skip
    assert report["features"] == sum(counts.values())  # every piece in exactly one rule
    assert report["aliases"]["direction"] == "流向"
    assert report["styles"] == ["landplan balance"]
    assert_not_blank(tmp_path / "map.png", [c.colour for c in BALANCE_CATEGORIES[:4]])


@needs_qgis
def test_shapefile_output_gets_its_qml_applied(result: Result, tmp_path: Path) -> None:
    out = result.to_file(tmp_path / "result.shp")
    assert out.with_suffix(".qml").exists()
    report = inspect(out, "result", tmp_path / "shp.png")
    assert report["features"] == len(result.parcels)
    assert report["renderer"]["type"] == "categorizedSymbol"
    assert report["aliases"]["lp_area_ha"] == "面积(公顷)"


PLUGINS = REPO / "qgis_plugin"
DATA = Path(sample_path("parcels")).parent
#: QGIS 3.22 prints this at every start-up of its Python, with or without the plugin.
QGIS_STARTUP_WARNING = "DeprecationWarning: setapi() is deprecated"


def landplan_qgis_env(tmp_path: Path) -> dict[str, str]:
    temp = tmp_path / "tmp"  # Processing's temporary folder (QDir::tempPath) goes here
    temp.mkdir(exist_ok=True)
    return {
        **qgis_env(tmp_path / "home"),
        "QGIS_PLUGINPATH": str(PLUGINS),
        "LANDPLAN_EXECUTABLE": str(Path(sys.executable).parent / "landplan"),
        "TMPDIR": str(temp),
    }


def folder_state(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file of *folder* with its size and SHA-256: what a run must leave as it was."""
    return {
        p.name: (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
    }


def sample_layer(name: str) -> str:
    return f"{sample_path('constraints')}|layername={name}"


#: The project an analyst has open: parcels, DEM and constraint layers named as people name
#: them (a Chinese name, a role in another case, a name that is no role).
PROJECT_LAYERS = [
    ("地块 DLTB", f"{sample_path('parcels')}|layername=DLTB", "vector"),
    ("高程 DEM", sample_path("dem"), "raster"),
    ("生态保护红线", sample_layer("eco_redline"), "vector"),
    ("Dev_Boundary", sample_layer("dev_boundary"), "vector"),
    ("河湖管理范围", sample_layer("river_lake"), "vector"),
    ("现状永久基本农田", sample_layer("pbf_existing"), "vector"),
]


def write_project(tmp_path: Path, layers: list[tuple[str, str, str]] = PROJECT_LAYERS) -> Path:
    """A .qgs holding *layers* (name, source, kind), written by QgsProject in real QGIS."""
    spec = tmp_path / "layers.json"
    spec.write_text(
        json.dumps([{"name": n, "source": s, "kind": k} for n, s, k in layers]), encoding="utf-8"
    )
    target = tmp_path / "project.qgs"
    # QGIS desktop saves a raster's statistics beside it (.aux.xml) when one is added to a
    # project; that is QGIS, not the plugin, and must not touch the repository's sample
    env = {**qgis_env(tmp_path / "home"), "GDAL_PAM_ENABLED": "NO"}
    done = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "qgis" / "make_project.py"), str(target), str(spec)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout.strip().splitlines()[-1])) == {n for n, _, _ in layers}
    return target


def python_warnings(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "Warning" in line and QGIS_STARTUP_WARNING not in line
    ]


def qgis_process(args: list[str], tmp_path: Path) -> tuple[dict, str]:
    """``qgis_process --json run ARGS`` with the plugin enabled: its JSON report and stderr."""
    env = landplan_qgis_env(tmp_path)
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
    return json.loads(done.stdout[done.stdout.index("{") :]), done.stderr


def layer_options(command: str) -> dict[str, str]:
    """The ``--layer ROLE=PATH`` options of a landplan command line."""
    words = shlex.split(command)
    return dict(v.split("=", 1) for k, v in itertools.pairwise(words) if k == "--layer")


@needs_qgis
def test_processing_classifies_layers_of_a_project(tmp_path: Path) -> None:
    before = folder_state(DATA)
    project = write_project(tmp_path)
    out = tmp_path / "分类.gpkg"
    report, stderr = qgis_process(
        [
            "landplan:classify", f"--PROJECT_PATH={project}", "--",
            "PARCELS=地块 DLTB",
            "DEM=高程 DEM",
            "ECO_REDLINE=生态保护红线",
            "LAYERS=Dev_Boundary",  # a role in another case
            f"LAYERS={sample_layer('high_standard_farmland')}",  # a file, by its layer name
            "LAYERS=河湖管理范围", "ROLE_TABLE=河湖管理范围,River_Lake",  # by the role table
            "PROFILE=hunan-xiangtan",
            f"TARGETS={sample_path('targets')}",
            f"OUTPUT={out}",
        ],
        tmp_path,
    )  # fmt: skip
    assert report["results"]["OUTPUT"] == f"{out}|layername=parcels"
    command = report["log"]["info"][0]
    roles = {"eco_redline", "dev_boundary", "high_standard_farmland", "river_lake"}
    assert layer_options(command) == {role: sample_layer(role) for role in roles}
    assert f"--dem {sample_path('dem')}" in command
    assert "--profile hunan-xiangtan" in command
    parcels = gpd.read_file(out, layer="parcels")
    direct = landplan.classify(
        sample_path("parcels"),
        dem=sample_path("dem"),
        layers={role: sample_layer(role) for role in roles},
        profile="hunan-xiangtan",
        targets=sample_path("targets"),
    ).parcels
    assert len(parcels) == len(direct) == 12000
    assert parcels["lp_class"].tolist() == direct["lp_class"].tolist()
    assert parcels["lp_reasons"].tolist() == direct["lp_reasons"].tolist()
    assert direct["lp_reasons"].str.contains("C_SLOPE_GT15").any()  # the profile and DEM acted
    assert folder_state(DATA) == before  # nothing written beside the inputs (no .aux.xml)
    assert python_warnings(stderr) == []
    assert not list((tmp_path / "tmp").glob("processing_*/landplan_*"))  # work folder removed


def findings_from_cli(*args: str) -> pd.DataFrame:
    direct = CliRunner().invoke(main, ["check", sample_path("parcels"), *args, "--csv"])
    assert direct.exit_code == 1, direct.output
    return pd.read_csv(io.StringIO(direct.stdout.lstrip("\ufeff")), dtype=str)


@needs_qgis
def test_processing_checks_layers_of_a_project(tmp_path: Path) -> None:
    before = folder_state(DATA)
    # the DEM is a file the project does not hold: QGIS would open it anew (and save its
    # statistics beside it) if the plugin loaded it as a layer
    project = write_project(tmp_path, [layer for layer in PROJECT_LAYERS if layer[2] == "vector"])
    out, csv = tmp_path / "findings.gpkg", tmp_path / "findings.csv"
    report, stderr = qgis_process(
        [
            "landplan:check", f"--PROJECT_PATH={project}", "--",
            "PARCELS=地块 DLTB", "PBF_EXISTING=现状永久基本农田", "FAIL_ON=warning",
            f"DEM={sample_path('dem')}",
            f"OUTPUT={out}", f"REPORT={csv}",
        ],
        tmp_path,
    )  # fmt: skip
    assert report["results"] == {
        "FINDINGS": 1,
        "OUTPUT": f"{out}|layername=findings",
        "REPORT": str(csv),
    }
    expected = findings_from_cli(
        "--layer", f"pbf_existing={sample_layer('pbf_existing')}", "--dem", sample_path("dem")
    )
    findings = gpd.read_file(out, layer="findings")
    assert len(findings) == len(expected) > 0
    assert findings.geometry.notna().all() and not findings.geometry.is_empty.any()
    columns = ["bsm", "check_id", "severity"]
    assert findings[columns].values.tolist() == expected[columns].values.tolist()
    assert (expected["check_id"].str.startswith("A_")).any()  # the PBF layer was audited
    from_csv = pd.read_csv(csv, encoding="utf-8-sig", dtype=str)
    assert from_csv[columns].values.tolist() == expected[columns].values.tolist()
    assert folder_state(DATA) == before
    assert python_warnings(stderr) == []


@needs_qgis
def test_toolbox_exports_memory_layers_and_adds_styled_outputs(tmp_path: Path) -> None:
    before = folder_state(DATA)
    project = write_project(tmp_path, [layer for layer in PROJECT_LAYERS if layer[2] == "vector"])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = landplan_qgis_env(tmp_path)
    done = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "qgis" / "run_in_project.py"), str(project), str(PLUGINS),
         str(out_dir), sample_path("dem")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    classify_command, check_command = report["commands"]
    # the memory layers went to landplan as temporary GeoPackages of Processing
    exported = layer_options(classify_command)
    assert set(exported) == {"eco_redline", "dev_boundary"}
    temp = str(tmp_path / "tmp" / "processing_")
    assert exported["eco_redline"].startswith(temp)
    assert exported["eco_redline"].endswith("/ECO_REDLINE.gpkg")
    assert exported["dev_boundary"].startswith(temp)
    assert check_command.startswith(f"{env['LANDPLAN_EXECUTABLE']} check {sample_path('parcels')} ")
    assert f"--dem {sample_path('dem')}" in check_command

    # the outputs were added to the project (named as the user's Processing settings say)
    added = {layer["source"]: layer for layer in report["added"].values()}
    classes = added.pop(f"{out_dir / 'classes.gpkg'}|layername=parcels")
    ((findings_source, findings),) = added.items()
    assert classes["features"] == classes["with_geometry"] == 12000
    assert classes["renderer"] == "categorizedSymbol" and classes["field"] == "lp_class"
    assert classes["categories"] == [[c.code, c.zh] for c in CLASSES]
    direct = landplan.classify(
        sample_path("parcels"),
        layers={role: sample_layer(role) for role in ("eco_redline", "dev_boundary")},
    ).parcels
    written = gpd.read_file(out_dir / "classes.gpkg", layer="parcels")
    assert written["lp_reasons"].tolist() == direct["lp_reasons"].tolist()
    assert direct["lp_reasons"].str.contains("P_ECO_REDLINE").any()

    expected = findings_from_cli("--fail-on", "info", "--dem", sample_path("dem"))
    assert findings_source.startswith(temp) and findings_source.endswith("|layername=findings")
    assert findings["features"] == findings["with_geometry"] == len(expected) > 0
    assert findings["renderer"] == "categorizedSymbol" and findings["field"] == "severity"
    assert [value for value, _label in findings["categories"]] == ["error", "warning", "info"]
    assert folder_state(DATA) == before


def test_plugin_offers_landplans_profiles_severities_and_roles() -> None:
    catalog = plugin_catalog()
    assert catalog.PROFILES == SHIPPED_PROFILES
    assert catalog.PROFILES[0] == DEFAULT_PROFILE
    assert catalog.SEVERITIES == SEVERITIES
    roles = {name: role.zh for name, role in ROLES.items()}
    for parameter, role, label in catalog.MAIN_ROLES:
        assert parameter == role.upper()
        assert label == f"{roles[role]} {role}"
    assert doctest.testmod(catalog).failed == 0


def test_plugin_tells_which_layer_has_no_role_or_a_role_twice() -> None:
    catalog = plugin_catalog()
    roles = ["eco_redline", "river_lake"]
    listed = [(["roads", "/d/roads.shp"], "/d/roads.shp"), (["ECO_REDLINE"], "/d/r.gpkg")]
    with pytest.raises(catalog.RoleError) as error:
        catalog.assign_roles({"eco_redline": "/d/e.shp"}, listed, {}, roles)
    assert str(error.value) == (
        "layer 'roads' has no role: name it after its role or give it one in the role table "
        "(roles: eco_redline, river_lake); role eco_redline is given twice (/d/e.shp and "
        "'ECO_REDLINE')"
    )
    with pytest.raises(catalog.RoleError, match="'河湖' the role 'lake', which is not a role"):
        catalog.assign_roles({}, [(["河湖"], "/d/h.shp")], {"河湖": "lake"}, roles)
    with pytest.raises(catalog.RoleError, match="names 'rivers', which is not among the layers"):
        catalog.assign_roles({}, [], {"rivers": "river_lake"}, roles)
    assert catalog.assign_roles({}, [(["河湖"], "/d/h.shp")], {"河湖": "River_Lake"}, roles) == {
        "river_lake": "/d/h.shp"
    }


def plugin_catalog() -> ModuleType:
    """The plugin's QGIS-free module, imported from its file."""
    spec = importlib.util.spec_from_file_location(
        "landplan_processing_catalog", PLUGINS / "landplan_processing" / "catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plugin_zip_holds_a_processing_provider(tmp_path: Path) -> None:
    target = tmp_path / "landplan_processing.zip"
    subprocess.run(
        [sys.executable, str(REPO / "qgis_plugin" / "package.py"), str(target)], check=True
    )
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        metadata = archive.read("landplan_processing/metadata.txt").decode()
    assert {f"landplan_processing/{m}.py" for m in ("__init__", "algorithms", "catalog")} <= set(
        names
    )
    assert not [n for n in names if "__pycache__" in n]
    assert "hasProcessingProvider=yes" in metadata
