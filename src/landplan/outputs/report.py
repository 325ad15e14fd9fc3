"""``landplan report``: the plans' tables, charts and a one-page HTML summary of a result.

Reads a classified GeoPackage (layer ``parcels`` and the tables
``county_summary``, ``county_quotas``, ``target_delineation``) and writes into
a folder: 附录 2/3/5 as CSV (UTF-8 with BOM) and XLSX, the class map and the
area chart as PNG and SVG, and ``report.html`` embedding them.
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes

from landplan.core.errors import OutputExistsError, Problem, ReadError
from landplan.io.files import ensure_directory, read_bytes, write_figure, write_text
from landplan.io.layers import list_layers, read_layer, read_table
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
        compare the plan's figures with; without it, 附录 3 and 5 have no plan
        columns.
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
    from matplotlib.figure import Figure

    from landplan.outputs.plot import area_by_county, chart_style, class_map

    path = Path(result_gpkg)
    _check_result(path, parcels_layer)
    _check_directory(Path(directory), overwrite=overwrite)
    target_table = (
        None
        if targets is None
        else read_targets_table(targets, county_column=targets_county_column)
    )
    out = ensure_directory(directory)
    summary = read_table(path, "county_summary")
    quotas = read_table(path, "county_quotas")
    delineation = read_table(path, "target_delineation")
    tables = plan_tables(delineation, quotas, target_table, thresholds=thresholds)
    files = write_tables(tables, out)
    parcels = read_layer(path, layer=parcels_layer, columns=["lp_class", "lp_county"])
    images: dict[str, bytes] = {}
    with chart_style() as language:
        charts: dict[str, Callable[[Axes], Axes]] = {
            "class_map": lambda ax: class_map(parcels, ax=ax, language=language),
            "area_by_county": lambda ax: area_by_county(
                summary, quotas=quotas, ax=ax, language=language, thresholds=thresholds
            ),
        }
        for name, draw in charts.items():
            # a Figure of its own, outside pyplot: no backend is chosen or changed
            fig = Figure(figsize=(9, 7) if name == "class_map" else (10, 5))
            draw(fig.subplots())
            fig.tight_layout()
            for suffix in ("png", "svg"):
                files.append(write_figure(fig, out / f"{name}.{suffix}"))
            images[name] = read_bytes(out / f"{name}.png")
    files.append(write_text(_html(path, tables, images), out / "report.html"))
    log.info("report written to %s", out)
    return Report(out, tuple(files), tables)


def _check_result(path: Path, parcels_layer: str) -> None:
    """Refuse anything but a GeoPackage written by ``landplan classify``."""
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


def _html(source: Path, tables: dict[str, pd.DataFrame], images: dict[str, bytes]) -> str:
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" style="max-width:100%" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode()}"></figure>'
        for name, data in images.items()
    )
    sections = "".join(
        f"<h2>{html.escape(name)}</h2>"
        + table.to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0)
        for name, table in tables.items()
    )
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>landplan — {html.escape(source.name)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:12px}td,th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:right}"
        "</style></head><body>"
        f"<h1>耕地保护分析 — {html.escape(source.name)}</h1>"
        "<p>单位：万亩（两位小数，县级数据调平至合计）。</p>"
        f"{figures}{sections}</body></html>"
    )
