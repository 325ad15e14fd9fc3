"""``landplan report`` and the charts: files a planner opens, values taken from the result."""

from __future__ import annotations

import dataclasses
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
from landplan.outputs import plot
from landplan.outputs.plot import (
    CJK_FONT_FAMILY,
    FontError,
    MissingGlyphWarning,
    area_by_county,
    class_map,
)
from landplan.outputs.report import write_report
from landplan.outputs.result import Result


@pytest.fixture(scope="module")
def result() -> Result:
    s = load_sample()
    return landplan.classify(s.parcels, layers=s.layers, targets=s.targets)


def test_class_map_draws_every_class_in_its_palette_colour(result: Result) -> None:
    fig, ax = plt.subplots()
    assert class_map(result.parcels, ax=ax, language="en") is ax
    parcels = [c for c in ax.collections if c.get_rasterized()]
    drawn = {matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in parcels}
    present = set(result.parcels["lp_class"])
    assert drawn == {c.colour for c in CLASSES if c.code in present}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [c.en for c in CLASSES] + ["county boundary"]
    plt.close(fig)


def test_class_map_is_a_map_in_chinese(result: Result) -> None:
    fig, ax = plt.subplots(figsize=(9, 8))
    class_map(result.parcels, ax=ax)  # Chinese by default, with no font set up by the caller
    assert ax.get_title() == "全域耕地保护分类图"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [
        "永久基本农田",
        "永久基本农田储备区",
    ]
    texts = {t.get_text() for t in ax.texts}
    # one name per county, from the shipped table, on the dissolved boundaries
    assert {"衡阳县", "南岳区", "耒阳市"} <= texts
    assert any(t.startswith("坐标系：CGCS2000") and "EPSG:4546" in t for t in texts)
    assert "北" in texts  # north arrow
    scale = [a for a in ax.artists if type(a).__name__ == "AnchoredSizeBar"]
    assert len(scale) == 1
    # the legend sits right of the map, not on it
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert legend_box.x0 >= ax.get_window_extent(renderer).x1
    # every text in the shipped CJK font, found by its file whatever the font cache holds
    assert {t.get_fontname() for t in [ax.title, *ax.texts]} == {CJK_FONT_FAMILY}
    # the county boundaries: one closed outline per county, drawn as vectors
    lines = [c for c in ax.collections if not c.get_rasterized()]
    assert lines and not any(c.get_rasterized() for c in lines)
    plt.close(fig)


def test_area_chart_bars_are_the_summary_areas(result: Result) -> None:
    fig, ax = plt.subplots()
    assert area_by_county(result.summary, quotas=result.quotas, ax=ax) is ax
    heights = sum(p.get_height() for p in ax.patches)
    areas = result.parcels["lp_area_ha"].sum() / 666.666_666_7  # ha → 万亩
    assert heights == pytest.approx(areas, rel=1e-6)
    targets = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert sorted(targets) == pytest.approx(sorted(result.quotas["pbf_target_wanmu"]))
    # counties by name, in the order of their codes
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[:2] == ["珠晖区", "雁峰区"] and "衡阳县" in ticks
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "永久基本农田" and any(x.startswith("永久基本农田目标（") for x in labels)
    # the legend is outside the bars: it hides none of them
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    plt.close(fig)


def test_a_character_the_font_lacks_is_reported(result: Result) -> None:
    summary = result.summary.copy()
    summary.loc[summary["county_code"] == "430421", "county_name"] = "𠀋阳县"  # CJK ext. B
    fig, ax = plt.subplots()
    with pytest.warns(MissingGlyphWarning, match="𠀋"):
        area_by_county(summary, ax=ax)
    plt.close(fig)


def test_a_missing_font_stops_the_chart_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*_: object) -> Path:
        raise FileNotFoundError("fonts/NotoSansSCLandplan-Regular.ttf is missing")

    monkeypatch.setattr(plot, "shipped_font", missing)
    plot.cjk_font.cache_clear()
    try:
        with pytest.raises(FontError, match="Reinstall landplan"):
            plot.cjk_font()
    finally:
        monkeypatch.undo()
        plot.cjk_font.cache_clear()
    assert plot.cjk_font().get_name() == CJK_FONT_FAMILY


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
        "附录3_补充耕地和可恢复耕地资源潜力.csv", "附录5_耕地保护主要规划指标分解表.csv",
    ]  # fmt: skip
    assert set(expected) <= names
    csv = out / "附录2_耕地保护目标划定情况表.csv"
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese
    # title and unit rows above the header; notes below the rows
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype={"行政区代码": str}, skiprows=2)
    table = table[table["行政区名称"].notna()]
    city = table.iloc[0]
    target_wanmu = result.quotas["protection_target_m2"].sum() / M2_PER_WANMU
    assert abs(city["耕地保护目标耕地"] - target_wanmu) < 0.01
    assert table["耕地保护目标耕地"].iloc[1:].sum() == pytest.approx(city["耕地保护目标耕地"])
    book = openpyxl.load_workbook(out / "plan_tables.xlsx")
    assert book.sheetnames == ["附录2", "附录3", "附录5"]
    assert book["附录5"]["A1"].value == "附录 5 耕地保护主要规划指标分解表"
    assert book["附录5"].cell(3, 3).value == "耕地保护目标"  # group header over 目标 ...
    assert book["附录5"].cell(4, 3).value == "目标"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2 and "附录 5" in page
    assert "@font-face" in page and f"font-family:'{CJK_FONT_FAMILY}'" in page
    # the map's parcels are one picture inside the SVG: the file does not grow with them
    svg = (out / "class_map.svg").read_text(encoding="utf-8")
    assert svg.count("<image") >= 1 and svg.count("<path") < 2000
    assert (out / "class_map.svg").stat().st_size < 3_000_000


def test_report_reads_the_targets_file_named_in_the_manifest(
    result: Result, tmp_path: Path
) -> None:
    assert result.manifest["inputs"]["targets"]["path"] == str(sample_path("targets"))
    gpkg = result.to_file(tmp_path / "result.gpkg")
    report = write_report(gpkg, tmp_path / "r")  # no targets given: the manifest's file
    assert report.targets_source == str(sample_path("targets"))
    given = write_report(gpkg, tmp_path / "g", targets=sample_path("targets"))
    for name, table in given.tables.items():
        pd.testing.assert_frame_equal(report.tables[name], table)
    assert "耕地保护目标-目标" in report.tables["附录5_耕地保护主要规划指标分解表"]


def test_report_without_any_targets_says_so(result: Result, tmp_path: Path) -> None:
    manifest = {**result.manifest, "inputs": {"parcels": result.manifest["inputs"]["parcels"]}}
    gpkg = dataclasses.replace(result, manifest=manifest).to_file(tmp_path / "result.gpkg")
    report = write_report(gpkg, tmp_path / "r")
    assert report.targets_source == ""
    appendix5 = report.tables["附录5_耕地保护主要规划指标分解表"]
    assert "耕地保护目标-目标" not in appendix5
    assert "未提供耕地保护目标的目标（--targets），该指标未列出。" in appendix5.attrs["notes"]
    page = (report.directory / "report.html").read_text(encoding="utf-8")
    assert "未提供规划目标" in page


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
