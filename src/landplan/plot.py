"""Maps and charts with matplotlib; colours and labels from :mod:`landplan.palette`.

Every function draws on the given Axes (or a new one) and returns it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from .aggregate import CITY_TOTAL, M2_PER_WANMU
from .indicators import (
    DEFAULT_THRESHOLDS,
    GRADE_COLOURS,
    GRADE_ZH,
    Thresholds,
    grade_indicator,
)
from .palette import CLASSES

#: Fonts that carry Chinese glyphs, tried in order (Noto/WenQuanYi on Linux, others elsewhere).
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


def use_cjk_font() -> str | None:
    """Put the first installed CJK font first in matplotlib's sans-serif list; return it."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            mpl.rcParams["font.sans-serif"] = [name, *mpl.rcParams["font.sans-serif"]]
            mpl.rcParams["axes.unicode_minus"] = False
            return name
    return None


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
    """Map of ``lp_class`` for the city or one county (``lp_county``), with a legend."""
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

    *summary* is the county × class table (``Result.summary``); *quotas* the
    ``county_quotas`` table, whose PBF targets are drawn as diamonds coloured
    by their indicator grade (:mod:`landplan.indicators`).
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
