"""The map of the in/out balance's changed pieces (issue 12: a map of the changed pieces).

The vintages are those of ``test_balance.py``; every piece, its direction and its area are
worked out by hand there and again below, from the parcels' rows, not from the code's output.
"""

from __future__ import annotations

import inspect
import struct
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest
from click.testing import CliRunner
from matplotlib.patches import Patch
from shapely.geometry import Polygon

import landplan
from landplan.audit.balance import compare_vintages, output_files
from landplan.cli import main
from landplan.outputs.plot import CJK_FONT_FAMILY, balance_map

from .test_balance import NEW, OLD, RETURN_FOREST, _layer

# By hand, from the rows of OLD and NEW (areas as drawn, in m², before KCXS):
#   转出（水田）      O1's east half to orchard (5 000) and O8 paddy to tea (10 000)  2 pieces
#   转出（水浇地、旱地） O7's east half (x 350-400) dry land to forest (5 000)        1 piece
#   转进（水田）      O6 other forest to paddy N6 (10 000)                           1 piece
#   转进（水浇地、旱地） O4's strip x 80-100 to irrigated N5 (2 000), O9 grass to dry
#                   land N9 (10 000)                                               2 pieces
#   除外减少          O7's west half inside return_forest (5 000)                    1 piece
#   其他减少          O10 dry land to rural housing (10 000)                         1 piece
# (O2 and O3 merged into N2, O5 redrawn as N5 and O1's west half stay farmland: not drawn.)
EXPECTED = {
    "转出（水田）": (2, 15_000.0, "#b2182b"),
    "转出（水浇地、旱地）": (1, 5_000.0, "#f4a582"),
    "转进（水田）": (1, 10_000.0, "#2166ac"),
    "转进（水浇地、旱地）": (2, 12_000.0, "#92c5de"),
    "除外减少": (1, 5_000.0, "#9970ab"),
    "其他减少（不计入进出平衡）": (1, 10_000.0, "#bf812d"),
}


@pytest.fixture(scope="module")
def result() -> landplan.audit.balance.Balance:
    return landplan.balance(_layer(OLD), _layer(NEW), layers={"return_forest": RETURN_FOREST})


def _drawn(ax: matplotlib.axes.Axes, colour: str) -> list[Polygon]:
    """The polygons of the collections filled with *colour*, in data coordinates."""
    out = []
    for collection in ax.collections:
        faces = collection.get_facecolor()
        if len(faces) and matplotlib.colors.to_hex(faces[0]) == colour:
            for path in collection.get_paths():
                out += [Polygon(ring) for ring in path.to_polygons()]
    return out


def test_each_legend_entry_draws_the_pieces_of_its_direction(result) -> None:
    """Per legend entry: as many patches as pieces counted by hand, of the hand-worked area."""
    fig, ax = plt.subplots(figsize=(9, 8))
    assert balance_map(result.pieces, counties=result.counties, ax=ax) is ax
    handles = [h for h in ax.get_legend().legend_handles if isinstance(h, Patch)]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [*EXPECTED, "县级界线"]  # legend order: turned out, turned in, the rest
    for handle, label in zip(handles, labels, strict=False):
        count, area_m2, colour = EXPECTED[label]
        assert matplotlib.colors.to_hex(handle.get_facecolor()) == colour, label
        polygons = _drawn(ax, colour)
        assert len(polygons) == count, label
        assert sum(p.area for p in polygons) == pytest.approx(area_m2, rel=1e-6), label
    codes = {c.get_gid() for c in ax.collections} - {None}
    assert codes == {"out_paddy", "out", "in_paddy", "in", "excluded", "out_other"}
    plt.close(fig)


def test_the_map_has_counties_scale_bar_north_arrow_and_the_cjk_font(result) -> None:
    fig, ax = plt.subplots(figsize=(9, 8))
    balance_map(result.pieces, counties=result.counties, ax=ax)
    texts = {t.get_text() for t in ax.texts}
    assert {"衡阳县", "衡南县", "北"} <= texts  # county names from the new vintage's ZLDWDM
    assert ax.get_title() == "耕地进出平衡变化图斑"
    assert any(t.startswith("坐标系：CGCS2000") and "EPSG:4547" in t for t in texts)
    assert len([a for a in ax.artists if type(a).__name__ == "AnchoredSizeBar"]) == 1
    assert {t.get_fontname() for t in [ax.title, *ax.texts]} == {CJK_FONT_FAMILY}
    # county A's outline: x 0-400 m by y 0-100 m and x 0-300 m by y 100-200 m = 70 000 m²,
    # one polygon without the sliver holes that reprojected T-junctions leave
    county_a = result.counties.set_index("county_code").geometry["430421"]
    assert county_a.area == pytest.approx(70_000, rel=1e-6)
    assert county_a.geom_type == "Polygon" and not list(county_a.interiors)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    plt.close(fig)


def test_english_labels(result) -> None:
    fig, ax = plt.subplots()
    balance_map(result.pieces, ax=ax, language="en")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["turned out (paddy)", "turned out (irrigated and dry land)"]
    assert "county boundary" not in labels  # no outlines given
    plt.close(fig)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_to_files_writes_the_map_beside_the_tables(tmp_path: Path, result) -> None:
    written = result.to_files(tmp_path)
    names = sorted(p.name for p in written)
    assert names == [
        "balance.csv", "balance.gpkg", "balance.xlsx", "balance_flows.csv",
        "balance_map.png", "balance_map.svg",
    ]  # fmt: skip
    width, height = _png_size(tmp_path / "balance_map.png")
    assert 800 <= width <= 3000 and 500 <= height <= 3000  # 10 × 8 in at 150 dpi, cropped
    svg = (tmp_path / "balance_map.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_one_map_file(tmp_path: Path, result) -> None:
    assert list(output_files(tmp_path / "m.svg")) == ["map.svg"]
    assert [p.name for p in result.to_files(tmp_path / "m.png")] == ["m.png"]
    assert _png_size(tmp_path / "m.png")[0] > 0


def test_no_change_still_draws_a_map(tmp_path: Path) -> None:
    same = landplan.balance(_layer(OLD), _layer(OLD))
    fig, ax = plt.subplots()
    balance_map(same.pieces, counties=same.counties, ax=ax)
    assert "无变化图斑" in {t.get_text() for t in ax.texts}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["县级界线"]
    plt.close(fig)
    assert (tmp_path / "balance_map.png") in same.to_files(tmp_path)


def test_cli_writes_the_map(tmp_path: Path) -> None:
    old, new = tmp_path / "old.gpkg", tmp_path / "new.gpkg"
    _layer(OLD).to_file(old)
    _layer(NEW).to_file(new)
    run = CliRunner().invoke(main, ["balance", str(old), str(new), "-o", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    assert _png_size(tmp_path / "out" / "balance_map.png")[0] > 0
    assert "balance_map.svg" in run.output


def test_the_default_scope_is_the_plans_agricultural_balance() -> None:
    """The plan's 进出平衡 governs farmland turned into other agricultural land; construction
    falls under 占补平衡:

    003 ch.2 §3: 严格管控耕地转为其他农用地，对耕地转为其他农用地及农业设施建设用地实行年度进出平衡
    003 ch.5 §3: 因农业结构调整、农业设施建设等…确需将一般耕地转为其他农用地的，应当以进定出原则…
    003 ch.3 §1: 对非农建设占用现状耕地（含城镇村范围内耕地）的，严格落实耕地占补平衡。
    003 ch.5 §2: 非农业建设占用现状耕地的，依法落实耕地占补平衡。
    004 ch.3 §1: 对耕地转为林地、草地、园地等其他农用地及农业设施建设用地的以进定出…

    So by default O10 (dry land, 10 000 m² at KCXS 0.05) turned rural housing is 9 500 m² of
    其他减少, not 转出, while O8 (paddy at KCXS 0.1) turned tea garden is 9 000 m² 转出.
    """
    assert inspect.signature(compare_vintages).parameters["scope"].default == "agricultural"
    assert inspect.signature(landplan.balance).parameters["scope"].default == "agricultural"
    row = landplan.balance(_layer(OLD), _layer(NEW)).summary.set_index("county_code")
    assert row.loc["430422", "out_other_m2"] == pytest.approx(9_500, rel=1e-6)
    assert row.loc["430422", "out_m2"] == pytest.approx(9_000, rel=1e-6)
