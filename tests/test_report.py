"""``landplan report`` and the charts: files a planner opens, values taken from the result."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import landplan
from landplan.cli import main
from landplan.core.palette import CLASSES
from landplan.core.units import M2_PER_WANMU
from landplan.io.sample import load_sample, sample_path
from landplan.outputs.plot import area_by_county, class_map
from landplan.outputs.result import Result


@pytest.fixture(scope="module")
def result() -> Result:
    s = load_sample()
    return landplan.classify(s.parcels, layers=s.layers, targets=s.targets)


def test_class_map_draws_every_class_in_its_palette_colour(result: Result) -> None:
    fig, ax = plt.subplots()
    assert class_map(result.parcels, ax=ax) is ax
    drawn = {
        matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in ax.collections if len(c.get_paths())
    }
    present = set(result.parcels["lp_class"])
    assert drawn == {c.colour for c in CLASSES if c.code in present}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [c.en for c in CLASSES]
    plt.close(fig)


def test_area_chart_bars_are_the_summary_areas(result: Result) -> None:
    fig, ax = plt.subplots()
    assert area_by_county(result.summary, quotas=result.quotas, ax=ax) is ax
    heights = sum(p.get_height() for p in ax.patches)
    areas = result.parcels["lp_area_ha"].sum() / 666.666_666_7  # ha → 万亩
    assert heights == pytest.approx(areas, rel=1e-6)
    targets = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert sorted(targets) == pytest.approx(sorted(result.quotas["pbf_target_wanmu"]))
    plt.close(fig)


def test_report_command_writes_tables_charts_and_html(result: Result, tmp_path: Path) -> None:
    gpkg = result.to_file(tmp_path / "result.gpkg")
    out = tmp_path / "report"
    run = CliRunner().invoke(
        main, ["report", str(gpkg), "--targets", sample_path("targets"), "-d", str(out)]
    )
    assert run.exit_code == 0, run.output
    names = {p.name for p in out.iterdir()}
    expected = [
        "class_map.png", "class_map.svg", "area_by_county.png", "area_by_county.svg",
        "report.html", "plan_tables.xlsx", "附录2_耕地保护目标划定情况表.csv",
        "附录3_可恢复耕地资源潜力.csv", "附录5_耕地保护主要规划指标分解表.csv",
    ]  # fmt: skip
    assert set(expected) <= names
    csv = out / "附录2_耕地保护目标划定情况表.csv"
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype={"行政区代码": str})
    city = table.iloc[0]
    farmland_wanmu = result.quotas["farmland_m2"].sum() / M2_PER_WANMU
    assert city["现状耕地"] == round(farmland_wanmu, 2)
    assert table["现状耕地"].iloc[1:].sum() == pytest.approx(city["现状耕地"])
    book = openpyxl.load_workbook(out / "plan_tables.xlsx")
    assert book.sheetnames == ["附录2", "附录3", "附录5"]
    assert book["附录5"].cell(1, 3).value == "耕地保护目标-目标"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2 and "附录5" in page


def test_report_refuses_a_file_that_is_not_a_result(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["report", sample_path("parcels"), "-d", str(tmp_path)])
    assert run.exit_code == 3
    assert "county_summary" in run.output and "landplan classify" in run.output


def test_report_names_the_missing_targets_column(result: Result, tmp_path: Path) -> None:
    gpkg = result.to_file(tmp_path / "result.gpkg")
    targets = tmp_path / "targets.csv"
    targets.write_text("code,pbf_2035_wanmu\n430421,1.0\n", encoding="utf-8")
    run = CliRunner().invoke(
        main, ["report", str(gpkg), "--targets", str(targets), "-d", str(tmp_path / "r")]
    )
    assert run.exit_code == 2
    assert "no column 'county_code'" in run.output and "'code'" in run.output
