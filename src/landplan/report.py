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

from .errors import Problem, ReadError
from .indicators import DEFAULT_THRESHOLDS, Thresholds
from .io import list_layers, read_layer
from .select import read_targets_table
from .tables import plan_tables, write_tables

log = logging.getLogger(__name__)

REQUIRED_TABLES = ("county_summary", "county_quotas", "target_delineation")


@dataclass(frozen=True)
class Report:
    """What a report wrote, and its tables."""

    directory: Path
    files: tuple[Path, ...]
    tables: dict[str, pd.DataFrame]


def _read_table(path: Path, name: str) -> pd.DataFrame:
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=name, read_geometry=False)
    if "county_code" in frame:
        frame["county_code"] = frame["county_code"].astype(str)
    return pd.DataFrame(frame)


def write_report(
    result_gpkg: str | Path,
    directory: str | Path,
    *,
    targets: str | Path | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    layer: str = "parcels",
) -> Report:
    """Write the tables, charts and HTML summary of a classified GeoPackage into *directory*."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import area_by_county, class_map, use_cjk_font

    path = Path(result_gpkg)
    present = set(list_layers(path))
    missing = [t for t in (layer, *REQUIRED_TABLES) if t not in present]
    if missing:
        raise ReadError(
            [
                Problem(
                    "RESULT_INCOMPLETE",
                    f"{missing} not found (layers are {sorted(present)}); "
                    "give the GeoPackage written by `landplan classify`.",
                    str(path),
                )
            ]
        )
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    summary = _read_table(path, "county_summary")
    quotas = _read_table(path, "county_quotas")
    delineation = _read_table(path, "target_delineation")
    target_table = read_targets_table(targets) if targets is not None else None
    tables = plan_tables(delineation, quotas, target_table, thresholds=thresholds)
    files = write_tables(tables, out)
    language = "zh" if use_cjk_font() else "en"
    parcels = read_layer(path, layer=layer, columns=["lp_class", "lp_county"])
    charts: dict[str, Callable[[Axes], Axes]] = {
        "class_map": lambda ax: class_map(parcels, ax=ax, language=language),
        "area_by_county": lambda ax: area_by_county(
            summary, quotas=quotas, ax=ax, language=language, thresholds=thresholds
        ),
    }
    images: dict[str, bytes] = {}
    for name, draw in charts.items():
        fig, ax = plt.subplots(figsize=(9, 7) if name == "class_map" else (10, 5))
        draw(ax)
        fig.tight_layout()
        for suffix in ("png", "svg"):
            target = out / f"{name}.{suffix}"
            fig.savefig(target, dpi=120)
            files.append(target)
        images[name] = (out / f"{name}.png").read_bytes()
        plt.close(fig)
    page = out / "report.html"
    page.write_text(_html(path, tables, images), encoding="utf-8")
    files.append(page)
    log.info("report written to %s", out)
    return Report(out, tuple(files), tables)


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
