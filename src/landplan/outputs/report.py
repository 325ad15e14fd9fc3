"""``landplan report``: the plans' tables, charts and a one-page HTML summary of a result.

Reads a classified GeoPackage (layer ``parcels`` and the tables
``county_summary``, ``county_quotas``, ``target_delineation``) and writes into
a folder: 附录 2/3/5 as CSV (UTF-8 with BOM) and XLSX, the class map and the
area chart as PNG and SVG, and ``report.html`` embedding them and the CJK
font landplan ships (cut down to the page's characters), so that any browser
shows the Chinese without a font installed.

The plan's targets come from ``targets``; without it, from the targets file
the classification used (the result's manifest, table ``manifest``); without
that, from the table shipped with landplan that the classification's profile
took its targets from; otherwise the tables say that the targets are missing.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes

from landplan.core.errors import OutputExistsError, Problem, ReadError
from landplan.io.files import (
    ensure_directory,
    read_bytes,
    subset_font,
    write_figure,
    write_text,
)
from landplan.io.layers import list_layers, read_layer, read_table
from landplan.io.reference import reference_table
from landplan.io.targets import read_targets_table
from landplan.outputs.indicators import DEFAULT_THRESHOLDS, Thresholds
from landplan.outputs.tables import plan_tables, write_tables

__all__ = ["REQUIRED_TABLES", "Report", "write_report"]

log = logging.getLogger(__name__)

REQUIRED_TABLES = ("county_summary", "county_quotas", "target_delineation")


@dataclass(frozen=True)
class Report:
    """What a report wrote, and its tables."""

    directory: Path
    files: tuple[Path, ...]
    tables: dict[str, pd.DataFrame]
    #: Where the plan's targets came from (a file, a shipped table), or "" when none.
    targets_source: str = ""


def write_report(
    result_gpkg: str | Path,
    directory: str | Path,
    *,
    targets: str | Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    parcels_layer: str = "parcels",
    targets_county_column: str | None = None,
    overwrite: bool = False,
) -> Report:
    """Write the tables, charts and HTML summary of a classified GeoPackage into *directory*.

    Parameters
    ----------
    result_gpkg
        GeoPackage written by ``landplan classify``
        (:meth:`~landplan.outputs.result.Result.to_file`).
    directory
        Folder to write into; created with its parents if needed.  A folder
        that holds files is refused unless *overwrite*.
    targets
        Targets file (CSV in UTF-8 or GBK, or XLSX; county codes and 万亩
        columns shaped like ``hengyang_county_targets.csv``, Chinese headers
        recognised as by :func:`~landplan.io.targets.read_targets_table`) to
        compare the plan's figures with; without it, the targets file named
        in the result's manifest (if it is still there), else the shipped
        table the classification took its targets from; without any, 附录 3
        and 5 have no plan protection target and their notes say so.
    thresholds
        Thresholds of the indicator grades (附录 5 and the area chart).
    parcels_layer
        Name of the parcel layer in *result_gpkg*.
    targets_county_column
        Column of *targets* holding the county codes, when its header is not
        recognised.
    overwrite
        Write into a folder that already holds files, replacing the report's
        files there (other files are left alone).

    Returns
    -------
    Report
        The folder, the files written and the plan tables by file name.

    Raises
    ------
    ReadError
        *result_gpkg* is not a GeoPackage, or lacks the parcel layer or one of
        :data:`REQUIRED_TABLES`; or the targets file cannot be read.
    InputError
        The targets have no county-code column or malformed rows.
    OutputExistsError
        *directory* holds files and *overwrite* is false.
    """
    path = Path(result_gpkg)
    layers = _check_result(path, parcels_layer)
    _check_directory(Path(directory), overwrite=overwrite)
    quotas = read_table(path, "county_quotas")
    target_table, source = _targets(path, layers, quotas, targets, targets_county_column)
    out = ensure_directory(directory)
    stage_b = read_table(path, "stage_b") if "stage_b" in layers else None
    tables = plan_tables(
        read_table(path, "target_delineation"),
        quotas,
        target_table,
        thresholds=thresholds,
        stage_b=stage_b,
    )
    files = write_tables(tables, out)
    parcels = read_layer(path, layer=parcels_layer, columns=["lp_class", "lp_county"])
    images = _write_charts(parcels, read_table(path, "county_summary"), quotas, out, thresholds)
    files += [out / f"{name}.{suffix}" for name in images for suffix in ("png", "svg")]
    files.append(write_text(_html(path, tables, images, source), out / "report.html"))
    log.info("report written to %s", out)
    return Report(out, tuple(files), tables, source)


def _write_charts(
    parcels: pd.DataFrame,
    summary: pd.DataFrame,
    quotas: pd.DataFrame,
    out: Path,
    thresholds: Thresholds,
) -> dict[str, bytes]:
    """The class map and the area chart as PNG and SVG; the PNGs' bytes by name."""
    from matplotlib.figure import Figure

    from landplan.outputs.plot import area_by_county, chart_style, class_map

    codes, labels = quotas["county_code"].astype(str), quotas["county_name"].astype(str)
    names = dict(zip(codes, labels, strict=True))
    images: dict[str, bytes] = {}
    with chart_style() as language:
        charts: dict[str, Callable[[Axes], Axes]] = {
            "class_map": lambda ax: class_map(parcels, ax=ax, language=language, names=names),
            "area_by_county": lambda ax: area_by_county(
                summary, quotas=quotas, ax=ax, language=language, thresholds=thresholds
            ),
        }
        for name, draw in charts.items():
            # a Figure of its own, outside pyplot: no backend is chosen or changed
            fig = Figure(figsize=(10, 8) if name == "class_map" else (11, 5.5))
            draw(fig.subplots())
            for suffix in ("png", "svg"):
                write_figure(fig, out / f"{name}.{suffix}", dpi=150)
            images[name] = read_bytes(out / f"{name}.png")
    return images


def _targets(
    path: Path,
    layers: set[str],
    quotas: pd.DataFrame,
    targets: str | Path | None,
    county_column: str | None,
) -> tuple[pd.DataFrame | None, str]:
    """The plan's targets and where they came from: given, the manifest's, or the shipped ones."""
    if targets is not None:
        return read_targets_table(targets, county_column=county_column), str(targets)
    recorded, recorded_column = _manifest_targets(path, layers)
    if recorded is not None:
        log.info("targets from the result's manifest: %s", recorded)
        table = read_targets_table(recorded, county_column=county_column or recorded_column)
        return table, str(recorded)
    sources = set(quotas.get("pbf_target_source", pd.Series(dtype=str)).astype(str))
    shipped = {s[: -len(" (landplan)")] for s in sources if s.endswith(" (landplan)")}
    if len(shipped) == 1:
        name = shipped.pop()
        log.info("targets from the table %s shipped with landplan, as classify used", name)
        return reference_table(name), f"{name} (landplan)"
    log.warning(
        "no targets: the plan's protection target is left out of 附录 3 and 5; give "
        "--targets TARGETS.csv (the file classify used)"
    )
    return None, ""


def _manifest_targets(path: Path, layers: set[str]) -> tuple[Path | None, str | None]:
    """The targets file named in the result's manifest (of *layers*), if it is still there."""
    if "manifest" not in layers:
        return None, None
    text = read_table(path, "manifest")["manifest_json"].iloc[0]
    manifest = json.loads(text)
    entry = manifest.get("inputs", {}).get("targets") or {}
    column = manifest.get("parameters", {}).get("targets_county_column")
    if "path" not in entry:
        return None, None
    recorded = Path(entry["path"])
    for candidate in (recorded, path.parent / recorded):
        if candidate.is_file():
            return candidate, column
    log.warning(
        "the targets file the classification used, %s, is not there any more; give it "
        "with --targets to compare with the plan's targets",
        recorded,
    )
    return None, None


def _check_result(path: Path, parcels_layer: str) -> set[str]:
    """Refuse anything but a GeoPackage written by ``landplan classify``; its layer names."""
    if path.suffix.lower() != ".gpkg":
        raise ReadError(
            Problem(
                "RESULT_NOT_GPKG",
                f"a report needs the GeoPackage written by `landplan classify`, with its "
                f"tables; a {path.suffix or 'suffix-less'} file holds at most the parcels. Run "
                "`landplan classify PARCELS -o result.gpkg` and report on result.gpkg.",
                str(path),
            )
        )
    present = set(list_layers(path))
    missing = [t for t in (parcels_layer, *REQUIRED_TABLES) if t not in present]
    if missing:
        raise ReadError(
            Problem(
                "RESULT_INCOMPLETE",
                f"{', '.join(missing)} not found (layers are {', '.join(sorted(present))}); "
                "give the GeoPackage written by `landplan classify` (or name its parcel "
                "layer with --layer-name).",
                str(path),
            )
        )
    return present


def _check_directory(directory: Path, *, overwrite: bool) -> None:
    """Refuse a folder that holds files, unless *overwrite*."""
    if directory.exists() and not directory.is_dir():
        raise OutputExistsError(
            f"{directory} is a file, not a folder; give a folder for the report"
        )
    if not overwrite and directory.is_dir() and any(directory.iterdir()):
        raise OutputExistsError(
            f"{directory} exists and holds files; give a new or empty folder, or pass "
            "--overwrite (overwrite=True) to replace the report's files in it"
        )


def _table_html(table: pd.DataFrame) -> str:
    attrs = table.attrs
    body = table.to_html(
        index=False, float_format=lambda v: f"{v:.2f}", na_rep="", border=0, classes="plan"
    )
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in attrs.get("notes", ()))
    return (
        f"<h2>{html.escape(str(attrs.get('title', '')))}</h2>"
        f"<p class='unit'>单位：{html.escape(str(attrs.get('unit', '')))}</p>{body}{notes}"
    )


_CAPTIONS = {"class_map": "耕地保护分类图", "area_by_county": "各县市区分类面积与永久基本农田目标"}
_CSS = (
    "body{font-family:'%s',sans-serif;margin:2em;color:#222}"
    "h1,h2{font-weight:normal}table{border-collapse:collapse;font-size:12px}"
    "td,th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:right}"
    "th{background:#f3f3f3}.unit{text-align:right;max-width:60em;margin:0}"
    ".note{font-size:12px;color:#555}img{max-width:100%%}"
)


def _html(
    source: Path, tables: dict[str, pd.DataFrame], images: dict[str, bytes], targets: str
) -> str:
    from landplan.outputs.plot import CJK_FONT_FAMILY

    figures = "".join(
        f'<figure><img alt="{html.escape(_CAPTIONS.get(name, name))}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode()}">'
        f"<figcaption>{html.escape(_CAPTIONS.get(name, name))}</figcaption></figure>"
        for name, data in images.items()
    )
    sections = "".join(_table_html(table) for table in tables.values())
    origin = f"规划目标来源：{targets}" if targets else "未提供规划目标（--targets）。"
    body = (
        f"<h1>耕地保护分析报告 — {html.escape(source.name)}</h1>"
        f"<p>单位：万亩（两位小数，县级数据调平至合计）。{html.escape(origin)}</p>"
        f"{figures}{sections}"
    )
    font = base64.b64encode(subset_font(body + _CSS + "".join(_CAPTIONS.values()))).decode()
    face = (
        f"@font-face{{font-family:'{CJK_FONT_FAMILY}';"
        f"src:url(data:font/ttf;base64,{font}) format('truetype')}}"
    )
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>耕地保护分析报告 — {html.escape(source.name)}</title>"
        f"<style>{face}{_CSS % CJK_FONT_FAMILY}</style></head><body>{body}</body></html>"
    )
