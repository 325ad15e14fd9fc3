"""``--layer-name``: the alias of ``classify --output-layer`` and ``report --parcels-layer``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner

from landplan.cli import main
from landplan.io.layers import write_layer

from .conftest import square_parcels


@pytest.fixture
def parcels_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.gpkg"
    write_layer(square_parcels(3, 2), path, layer="DLTB")
    return path


def layers_of(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def test_classify_writes_the_parcels_under_the_name_given(
    parcels_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.gpkg"
    done = CliRunner().invoke(
        main, ["classify", str(parcels_file), "-o", str(out), "--layer-name", "DLTB_class"]
    )
    assert done.exit_code == 0, done.output
    names = layers_of(out)
    assert "DLTB_class" in names and "parcels" not in names
    written = gpd.read_file(out, layer="DLTB_class")
    assert len(written) == 6 and written["BSM"].tolist() == square_parcels(3, 2)["BSM"].tolist()
    # the QGIS default style is stored for the layer under its new name
    styles = gpd.read_file(out, layer="layer_styles")
    assert set(styles["f_table_name"]) == {"DLTB_class"}


def test_layer_name_and_output_layer_are_the_same_option(
    parcels_file: Path, tmp_path: Path
) -> None:
    tables = {}
    for option in ("--layer-name", "--output-layer"):
        out = tmp_path / f"{option.strip('-')}.gpkg"
        done = CliRunner().invoke(
            main, ["classify", str(parcels_file), "-o", str(out), option, "mine"]
        )
        assert done.exit_code == 0, done.output
        tables[option] = gpd.read_file(out, layer="mine").drop(columns="geometry")
    assert tables["--layer-name"].equals(tables["--output-layer"])


def test_report_reads_the_parcels_by_the_name_given(parcels_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.gpkg"
    CliRunner().invoke(main, ["classify", str(parcels_file), "-o", str(out), "--layer-name", "x"])
    found = CliRunner().invoke(
        main, ["report", str(out), "-d", str(tmp_path / "a"), "--layer-name", "x"]
    )
    assert found.exit_code == 0, found.output
    assert (tmp_path / "a" / "report.html").is_file()
    same = CliRunner().invoke(
        main, ["report", str(out), "-d", str(tmp_path / "b"), "--parcels-layer", "x"]
    )
    assert same.exit_code == 0, same.output
    # without it the default layer "parcels" is looked for: unreadable input, exit 3,
    # with advice naming the option
    missing = CliRunner().invoke(main, ["report", str(out), "-d", str(tmp_path / "c")])
    assert missing.exit_code == 3
    assert "--layer-name" in missing.stderr and "parcels" in missing.stderr
