"""Maps and charts with matplotlib; colours and labels from :mod:`landplan.core.palette`.

Every function draws on the given Axes (or a new one) and returns it.  Nothing
here changes matplotlib's global state: Chinese labels need a CJK font, which
:func:`chart_style` puts first only for the figures drawn inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from landplan.core.palette import CLASSES
from landplan.core.units import M2_PER_WANMU
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.outputs.indicators import (
    DEFAULT_THRESHOLDS,
    GRADE_COLOURS,
    GRADE_ZH,
    Thresholds,
    grade_indicator,
)

__all__ = ["CJK_FONTS", "area_by_county", "chart_style", "class_map"]

#: Fonts that carry Chinese glyphs, tried in order (Noto/WenQuanYi on Linux, others elsewhere).
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


def _cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, if any.

    Returns
    -------
    str or None
        The font's family name.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


@contextmanager
def chart_style() -> Iterator[str]:
    """Within the block, draw with a CJK font first when one is installed.

    matplotlib's settings are restored on leaving the block.

    Yields
    ------
    str
        ``"zh"`` when a CJK font is used, else ``"en"``: the label language to draw in.
    """
    font = _cjk_font()
    settings: dict[str, Any] = {}
    if font is not None:
        settings = {
            "font.sans-serif": [font, *mpl.rcParams["font.sans-serif"]],
            "axes.unicode_minus": False,
        }
    with mpl.rc_context(settings):  # type: ignore[arg-type]  # keys are valid rcParams
        yield "zh" if font is not None else "en"


def _axes(ax: Axes | None, **kwargs: Any) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(**kwargs)
    return new


def _label(code: str, language: str) -> str:
    cls = next(c for c in CLASSES if c.code == code)
    return cls.zh if language == "zh" else cls.en


def class_map(
    parcels: gpd.GeoDataFrame,
    *,
    county: str | None = None,
    ax: Axes | None = None,
    language: str = "en",
) -> Axes:
    """Map of ``lp_class`` for the city or one county (``lp_county``), with a legend.

    Parameters
    ----------
    parcels
        Classified parcels with ``lp_class`` and ``lp_county`` (``Result.parcels``).
    county
        County code to map; None maps every county.
    ax
        Axes to draw on; None draws on a new figure.
    language
        ``"en"`` or ``"zh"``: the language of the legend (``"zh"`` needs a CJK
        font, see :func:`chart_style`).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    frame = parcels if county is None else parcels[parcels["lp_county"] == county]
    ax = _axes(ax, figsize=(8, 8))
    for cls in CLASSES:
        part = frame[frame["lp_class"] == cls.code]
        if len(part):
            part.plot(ax=ax, color=cls.colour, linewidth=0)
    handles = [
        Patch(facecolor=c.colour, edgecolor="#787878", label=_label(c.code, language))
        for c in CLASSES
    ]
    ax.legend(handles=handles, loc="lower right", fontsize="small")
    ax.set_title(f"lp_class — {county or 'all counties'}")
    ax.set_axis_off()
    ax.set_aspect("equal")
    return ax


def area_by_county(
    summary: pd.DataFrame,
    *,
    quotas: pd.DataFrame | None = None,
    ax: Axes | None = None,
    language: str = "en",
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Axes:
    """Stacked bars of area (万亩) by class and county; PBF targets as markers, graded.

    Parameters
    ----------
    summary
        The county × class table (``Result.summary``, table ``county_summary``)
        with ``area_wanmu``; its city rows are left out.
    quotas
        The ``county_quotas`` table; its PBF targets are drawn as diamonds
        coloured by the grade of the PBF selected against them
        (:mod:`landplan.outputs.indicators`).  None draws no targets.
    ax
        Axes to draw on; None draws on a new figure.
    language
        ``"en"`` or ``"zh"``: the language of labels, legend and title.
    thresholds
        Thresholds of the targets' grades.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    counties = summary[summary["county_code"] != CITY_TOTAL]
    wide = counties.pivot_table(
        index="county_code", columns="lp_class", values="area_wanmu", aggfunc="sum"
    ).fillna(0.0)
    names = counties.drop_duplicates("county_code").set_index("county_code")["county_name"]
    ax = _axes(ax, figsize=(10, 5))
    x = np.arange(len(wide))
    bottom = np.zeros(len(wide))
    for cls in CLASSES:
        if cls.code not in wide:
            continue
        values = wide[cls.code].to_numpy()
        ax.bar(x, values, bottom=bottom, color=cls.colour, edgecolor="#787878",
               linewidth=0.3, label=_label(cls.code, language))  # fmt: skip
        bottom += values
    if quotas is not None:
        q = quotas.set_index(quotas["county_code"].astype(str)).reindex(wide.index)
        target = q["pbf_target_m2"].to_numpy(float) / M2_PER_WANMU
        selected = q["pbf_selected_m2"].to_numpy(float) / M2_PER_WANMU
        grades = grade_indicator(selected, target, thresholds)
        for grade in ("met", "warning", "short"):
            pick = grades == grade
            if pick.any():
                label = grade if language == "en" else GRADE_ZH[grade]
                ax.scatter(x[pick], target[pick], marker="D", color=GRADE_COLOURS[grade],
                           edgecolor="black", zorder=3, label=f"PBF target: {label}")  # fmt: skip
    labels = [names.get(c, c) if language == "zh" else c for c in wide.index]
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_ylabel("万亩" if language == "zh" else "area (10⁴ mu)")
    ax.legend(fontsize="small", ncol=2)
    ax.set_title("Area by class and county" if language == "en" else "各县市区分类面积")
    return ax
