"""Maps and charts with matplotlib; colours and labels from :mod:`landplan.core.palette`.

Every function draws on the given Axes (or a new one) and returns it, in
Chinese by default (``language="en"`` for English).  Chinese needs no font on
the machine: landplan ships one (``landplan/fonts``, a subset of Noto Sans CJK
SC to the 7,000 characters of GB 2312 and the symbols the outputs use, SIL
Open Font License 1.1), registered with matplotlib by its file
(:func:`cjk_font`), so neither a missing system font nor matplotlib's font
cache can turn the labels into boxes.  If it cannot be loaded,
:class:`FontError` is raised; a label with a character it lacks raises
:class:`MissingGlyphWarning`.  Nothing here changes matplotlib's global
settings: the functions set the font on the text they draw, and
:func:`chart_style` puts it first only inside its block.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from landplan.core.errors import LandplanError, LandplanWarning
from landplan.core.palette import BALANCE_CATEGORIES, CLASSES, PADDY
from landplan.core.units import M2_PER_WANMU
from landplan.io.files import shipped_font
from landplan.io.reference import county_names
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.outputs.indicators import (
    DEFAULT_THRESHOLDS,
    GRADE_COLOURS,
    GRADE_ZH,
    Thresholds,
    grade_indicator,
)
from landplan.outputs.outlines import county_outlines

__all__ = [
    "CJK_FONT_FAMILY",
    "FontError",
    "MissingGlyphWarning",
    "area_by_county",
    "balance_categories",
    "balance_map",
    "chart_style",
    "cjk_font",
    "class_map",
]

#: Family name of the CJK font shipped with landplan.
CJK_FONT_FAMILY = "Noto Sans SC Landplan"
Language = Literal["zh", "en"]
_BOUNDARY = "#3c3c3c"
_GRADE_EN = {"met": "met", "warning": "warning (≤ 1 % short)", "short": "short"}


class FontError(LandplanError, RuntimeError):
    """The CJK font shipped with landplan cannot be loaded."""


class MissingGlyphWarning(LandplanWarning):
    """A label has characters the shipped CJK font lacks: they may be drawn as boxes."""


@functools.cache
def cjk_font() -> FontProperties:
    """The CJK font shipped with landplan, registered with matplotlib by its file.

    Registering the file (``fontManager.addfont``) makes it known by family
    name, :data:`CJK_FONT_FAMILY`, whatever matplotlib's font cache holds.

    Returns
    -------
    matplotlib.font_manager.FontProperties
        The font.

    Raises
    ------
    FontError
        The font file is missing or matplotlib cannot read it.
    """
    from matplotlib import font_manager

    try:
        path = shipped_font()
        font_manager.fontManager.addfont(str(path))
        prop = FontProperties(fname=path)
        name = prop.get_name()
    except (OSError, RuntimeError, ValueError) as error:
        raise FontError(
            f"landplan's CJK font cannot be loaded ({error}); Chinese labels would be drawn "
            "as boxes. Reinstall landplan (pip install --force-reinstall landplan)."
        ) from error
    if name != CJK_FONT_FAMILY:
        raise FontError(f"landplan's CJK font is {name!r}, expected {CJK_FONT_FAMILY!r}")
    return prop


@functools.cache
def _charmap() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(str(shipped_font())).get_charmap())


def _check_glyphs(texts: Iterable[str]) -> None:
    """Warn, naming them, about characters the shipped font cannot draw."""
    have = _charmap()
    missing = sorted({ch for text in texts for ch in text if ord(ch) not in have and ch > " "})
    if missing:
        warnings.warn(
            f"the CJK font shipped with landplan has no glyph for {''.join(missing)!r}; "
            "these characters fall back to another installed font or are drawn as boxes",
            MissingGlyphWarning,
            stacklevel=3,
        )


def _font(size: str | float | None = None) -> FontProperties:
    prop = cjk_font().copy()
    if size is not None:
        prop.set_size(size)
    return prop


def _style_texts(ax: Axes) -> None:
    """Every text of *ax* (title, labels, ticks, legend) in the shipped font; glyphs checked."""
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels()]
    texts += [*ax.get_yticklabels(), *ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [*legend.get_texts(), legend.get_title()]
    for text in texts:
        text.set_fontproperties(_font(text.get_fontsize()))
    _check_glyphs(t.get_text() for t in texts)


@contextmanager
def chart_style(language: Language = "zh") -> Iterator[Language]:
    """Within the block, draw with the shipped CJK font first.

    matplotlib's settings are restored on leaving the block; landplan's own
    plots set their font themselves, the block is for text you add.

    Parameters
    ----------
    language
        The label language to draw in: ``"zh"`` (default) or ``"en"``.

    Yields
    ------
    str
        *language*, to pass on to the plotting functions.

    Raises
    ------
    FontError
        The shipped font cannot be loaded.
    """
    cjk_font()
    settings: dict[str, Any] = {
        "font.family": "sans-serif",
        "font.sans-serif": [CJK_FONT_FAMILY, *mpl.rcParams["font.sans-serif"]],
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
    }
    with mpl.rc_context(settings):  # type: ignore[arg-type]  # keys are valid rcParams
        yield language


def _axes(ax: Axes | None, **kwargs: Any) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(**kwargs)
    return new


def _label(code: str, language: str) -> str:
    cls = next(c for c in CLASSES if c.code == code)
    return cls.zh if language == "zh" else cls.en


def _names(frame: pd.DataFrame | None) -> dict[str, str]:
    """County code → name: from *frame*'s ``county_name`` where given, else the shipped table."""
    names = dict(county_names())
    if frame is not None and {"county_code", "county_name"} <= set(frame.columns):
        rows = frame[frame["county_code"].astype(str) != CITY_TOTAL]
        codes, labels = rows["county_code"].astype(str), rows["county_name"].astype(str)
        names.update(zip(codes, labels, strict=True))
    return names


def _nice_length(span: float) -> float:
    """A round length (1, 2 or 5 × 10ⁿ) of about a fifth of *span*."""
    raw = span / 5
    power = 10 ** math.floor(math.log10(raw))
    return max(m * power for m in (1, 2, 5) if m * power <= raw)


def _add_scale_bar(ax: Axes, crs: Any, language: str) -> None:
    """A scale bar in metres or kilometres below the map, at its left."""
    from mpl_toolkits.axes_grid1.anchored_artists import (  # type: ignore[import-untyped]
        AnchoredSizeBar,
    )

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    metres_per_unit = 1.0
    if crs is not None and crs.is_geographic:
        metres_per_unit = 111_320.0 * math.cos(math.radians((y0 + y1) / 2))
    length_m = _nice_length((x1 - x0) * metres_per_unit)
    if length_m >= 1000:
        text = f"{length_m / 1000:g} {'公里' if language == 'zh' else 'km'}"
    else:
        text = f"{length_m:g} {'米' if language == 'zh' else 'm'}"
    bar = AnchoredSizeBar(ax.transData, length_m / metres_per_unit, text, "upper left",
                          pad=0.2, borderpad=0.0, sep=3, frameon=False,
                          size_vertical=(y1 - y0) / 150, fontproperties=_font(9),
                          bbox_to_anchor=(0.0, -0.015), bbox_transform=ax.transAxes)  # fmt: skip
    ax.add_artist(bar)


def _add_north_arrow(ax: Axes, language: str) -> None:
    """A north arrow right of the map, below the legend (grid north of the map's CRS)."""
    ax.annotate("", xy=(1.08, 0.17), xytext=(1.08, 0.05), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 3, "headwidth": 11,
                            "headlength": 10})  # fmt: skip
    ax.text(1.08, 0.19, "北" if language == "zh" else "N", transform=ax.transAxes,
            ha="center", va="bottom", fontproperties=_font(12))  # fmt: skip


def _crs_note(crs: Any) -> str:
    if crs is None:
        return "CRS unknown"
    name = str(crs.name)
    epsg = crs.to_epsg()
    return name + (f" (EPSG:{epsg})" if epsg else "")


def _draw_counties(ax: Axes, frame: gpd.GeoDataFrame, names: Mapping[str, str]) -> None:
    """County boundaries (parcels dissolved by ``lp_county``) and names, as vectors."""
    _draw_outlines(ax, county_outlines(frame.geometry, frame["lp_county"]), names)


def _draw_outlines(ax: Axes, outlines: gpd.GeoDataFrame, names: Mapping[str, str]) -> None:
    """County boundaries and names (at a point inside each county), as vectors."""
    from matplotlib import patheffects

    outlines.boundary.plot(ax=ax, color=_BOUNDARY, linewidth=0.9)
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    codes = outlines["county_code"].astype(str)
    for code, point in zip(codes, outlines.representative_point(), strict=True):
        ax.text(point.x, point.y, names.get(code, code), ha="center", va="center",
                fontproperties=_font(10), path_effects=halo, zorder=5)  # fmt: skip


def class_map(
    parcels: gpd.GeoDataFrame,
    *,
    county: str | None = None,
    ax: Axes | None = None,
    language: Language = "zh",
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Map of ``lp_class`` with county boundaries and names, scale bar, north arrow, legend.

    The parcels are rasterised inside vector formats (SVG, PDF stay small at
    any number of parcels); boundaries and text stay vectors.  The legend sits
    outside the map, right of it; the CRS is noted below.

    Parameters
    ----------
    parcels
        Classified parcels with ``lp_class`` and ``lp_county`` (``Result.parcels``).
    county
        County code to map; None maps every county.
    ax
        Axes to draw on; None draws on a new figure.
    language
        ``"zh"`` (default) or ``"en"``: the language of title, legend and notes.
    names
        County code → name; by default the names shipped with landplan.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    FontError
        The shipped CJK font cannot be loaded.
    """
    frame = parcels if county is None else parcels[parcels["lp_county"] == county]
    names = dict(names) if names is not None else _names(None)
    ax = _axes(ax, figsize=(9, 8))
    for cls in CLASSES:
        part = frame[frame["lp_class"] == cls.code]
        if len(part):
            part.plot(ax=ax, color=cls.colour, linewidth=0, rasterized=True)
    if len(frame):
        _draw_counties(ax, frame, names)
    handles: list[Any] = [
        Patch(facecolor=c.colour, edgecolor="#787878", label=_label(c.code, language))
        for c in CLASSES
    ]
    place = names.get(county, county) if county else None
    if language == "zh":
        ax.set_title(f"{place or '全域'}耕地保护分类图")
    else:
        ax.set_title(f"Farmland protection classes — {place or 'all counties'}")
    _finish_map(ax, handles, frame.crs, language, boundaries=True)
    return ax


def _finish_map(
    ax: Axes,
    handles: list[Any],
    crs: Any,
    language: str,
    *,
    boundaries: bool,
    adjustable: Literal["box", "datalim"] = "box",
) -> None:
    """Legend right of the map, scale bar, north arrow, CRS note; texts in the shipped font.

    With *adjustable* ``"datalim"`` the map keeps the Axes' shape and widens
    its extent instead, so that a long thin extent leaves room for the legend.
    """
    if boundaries:
        handles = [*handles, Line2D([], [], color=_BOUNDARY, label="县级界线" if language == "zh"
                                    else "county boundary")]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
              title="图例" if language == "zh" else "Legend", fontsize="small")  # fmt: skip
    ax.set_aspect("equal", adjustable=adjustable)
    ax.set_axis_off()
    _add_scale_bar(ax, crs, language)
    _add_north_arrow(ax, language)
    ax.text(1.0, -0.015, ("坐标系：" if language == "zh" else "CRS: ") + _crs_note(crs),
            transform=ax.transAxes, ha="right", va="top", fontsize=8,
            color="#505050")  # fmt: skip
    _style_texts(ax)


def balance_categories(pieces: pd.DataFrame, language: Language = "zh") -> list[dict[str, Any]]:
    """The categories of the balance map present in *pieces*, legend order (first on top).

    The categories are :data:`~landplan.core.palette.BALANCE_CATEGORIES`, as
    the QGIS style draws them: pieces by ``direction``, farmland turned out
    and turned in split into paddy (水田, 0101: the old class of a piece turned
    out, the new class of one turned in, as the plan's 转进水田不少于转出水田
    counts it), in darker colours, and other farmland.

    Parameters
    ----------
    pieces
        The balance's changed pieces (``Balance.pieces``): ``direction``,
        ``class_old``, ``class_new``.
    language
        ``"zh"`` or ``"en"``: the language of the labels.

    Returns
    -------
    list of dict
        ``code`` (``out_paddy``, ``out``, ``in_paddy``, ``in``, ``excluded``,
        ``out_other``, ``in_other`` or ``gap``), ``label``, ``colour`` and
        ``mask`` (boolean, aligned to *pieces*), one per category with pieces.

    Examples
    --------
    >>> pieces = pd.DataFrame({"direction": ["out", "out", "in"],
    ...                        "class_old": ["0101", "0103", "0301"],
    ...                        "class_new": ["0201", "0301", "0102"]})
    >>> [(c["code"], int(c["mask"].sum())) for c in balance_categories(pieces)]
    [('out_paddy', 1), ('out', 1), ('in', 1)]
    >>> [c["label"] for c in balance_categories(pieces)][:2]
    ['转出（水田）', '转出（水浇地、旱地）']
    """
    direction = pieces["direction"].astype(str).to_numpy()
    paddy = (
        np.where(
            direction == "in", pieces["class_new"].astype(str), pieces["class_old"].astype(str)
        )
        == PADDY
    )
    out = []
    for category in BALANCE_CATEGORIES:
        mask = direction == category.direction
        if category.paddy is not None:
            mask = mask & (paddy == category.paddy)
        if mask.any():
            label = category.zh if language == "zh" else category.en
            out.append(
                {"code": category.code, "label": label, "colour": category.colour, "mask": mask}
            )
    return out


def balance_map(
    pieces: gpd.GeoDataFrame,
    *,
    counties: gpd.GeoDataFrame | None = None,
    ax: Axes | None = None,
    language: Language = "zh",
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Map of the in/out balance's changed pieces by direction, with counties, legend, scale bar.

    One patch collection per category of :func:`balance_categories`, its
    ``gid`` the category's code, drawn with a thin outline of its own colour
    so that pieces far smaller than a pixel still show; losses are drawn
    over gains, those counted in the balance over the rest.  County
    boundaries and names come from *counties*; the legend sits right of the
    map, the CRS is noted below.

    Parameters
    ----------
    pieces
        The changed pieces (``Balance.pieces``): ``direction``, ``class_old``,
        ``class_new`` and their geometry.
    counties
        County outlines (``Balance.counties``: ``county_code`` and geometry);
        None draws none.
    ax
        Axes to draw on; None draws on a new figure.
    language
        ``"zh"`` (default) or ``"en"``: the language of title, legend and notes.
    names
        County code → name; by default the names shipped with landplan.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    FontError
        The shipped CJK font cannot be loaded.
    """
    names = dict(names) if names is not None else _names(None)
    ax = _axes(ax, figsize=(9, 8))
    categories = balance_categories(pieces, language)
    crs = pieces.crs
    boundaries = counties is not None and len(counties) > 0
    if counties is not None and boundaries:
        if crs is not None and counties.crs is not None:
            counties = counties.to_crs(crs)
        _draw_outlines(ax, counties, names)
    for category in reversed(categories):  # the first of the legend is drawn last, on top
        part = pieces[category["mask"]]
        part.plot(ax=ax, facecolor=category["colour"], edgecolor=category["colour"],
                  linewidth=0.4, zorder=3)  # fmt: skip
        ax.collections[-1].set_gid(category["code"])
    if not categories:
        ax.text(0.5, 0.5, "无变化图斑" if language == "zh" else "no changed pieces",
                transform=ax.transAxes, ha="center", va="center", fontsize=12)  # fmt: skip
    handles: list[Any] = [
        Patch(facecolor=c["colour"], edgecolor=c["colour"], label=c["label"]) for c in categories
    ]
    ax.set_title("耕地进出平衡变化图斑" if language == "zh" else
                 "Farmland in/out balance: changed pieces")  # fmt: skip
    _finish_map(ax, handles, crs, language, boundaries=boundaries, adjustable="datalim")
    return ax


def area_by_county(
    summary: pd.DataFrame,
    *,
    quotas: pd.DataFrame | None = None,
    ax: Axes | None = None,
    language: Language = "zh",
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Axes:
    """Stacked bars of area (万亩) by class and county; PBF targets as markers, graded.

    Counties are named (``county_name`` of *summary*); the legend sits right
    of the bars, so it hides none of them.

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
        ``"zh"`` (default) or ``"en"``: the language of labels, legend and title.
    thresholds
        Thresholds of the targets' grades.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    FontError
        The shipped CJK font cannot be loaded.
    """
    counties = summary[summary["county_code"].astype(str) != CITY_TOTAL]
    wide = counties.pivot_table(
        index="county_code", columns="lp_class", values="area_wanmu", aggfunc="sum"
    ).fillna(0.0)
    wide.index = wide.index.astype(str)
    names = _names(counties)
    ax = _axes(ax, figsize=(11, 5))
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
        _draw_targets(ax, quotas, wide.index, language, thresholds)
    ax.set_xticks(x, [names.get(c, c) for c in wide.index], rotation=45, ha="right")
    ax.set_ylabel("面积（万亩）" if language == "zh" else "area (10⁴ mu)")
    ax.margins(y=0.05)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not isinstance(handles[i], BarContainer))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")  # fmt: skip
    ax.set_title(
        "各县市区分类面积与永久基本农田目标"
        if language == "zh"
        else "Area by class and county, with PBF targets"
    )
    _style_texts(ax)
    return ax


def _draw_targets(
    ax: Axes, quotas: pd.DataFrame, codes: pd.Index, language: str, thresholds: Thresholds
) -> None:
    """PBF targets as diamonds coloured by the grade of the PBF selected."""
    q = quotas.set_index(quotas["county_code"].astype(str)).reindex(codes)
    target = q["pbf_target_m2"].to_numpy(float) / M2_PER_WANMU
    selected = q["pbf_selected_m2"].to_numpy(float) / M2_PER_WANMU
    grades = grade_indicator(selected, target, thresholds)
    x = np.arange(len(codes))
    for grade in ("met", "warning", "short"):
        pick = grades == grade
        if pick.any():
            label = (
                f"永久基本农田目标（{GRADE_ZH[grade]}）"
                if language == "zh"
                else f"PBF target ({_GRADE_EN[grade]})"
            )
            ax.scatter(x[pick], target[pick], marker="D", color=GRADE_COLOURS[grade],
                       edgecolor="black", zorder=3, label=label)  # fmt: skip
