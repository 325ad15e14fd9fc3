"""Classes and balance directions with labels and colours: one source for tables, plots, QGIS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from landplan.core.roles import ROLES

__all__ = [
    "BALANCE_ALIASES_ZH",
    "BALANCE_CATEGORIES",
    "BALANCE_DIRECTIONS",
    "BALANCE_PADDY_COLOURS",
    "BY_CODE",
    "CLASSES",
    "CLASS_CODES",
    "FIELD_ALIASES_ZH",
    "PADDY",
    "PRIORITY_RAMP",
    "BalanceCategory",
    "BalanceDirection",
    "ParcelClass",
    "priority_colours",
]


@dataclass(frozen=True)
class _Labelled:
    """A coded value with its Chinese and English labels and its fill colour."""

    code: str
    zh: str
    en: str
    colour: str  # #RRGGBB


@dataclass(frozen=True)
class ParcelClass(_Labelled):
    """A value of ``lp_class``.

    Attributes
    ----------
    code
        The value itself, e.g. ``"PBF"``.
    zh
        Chinese label (legends, tables, QGIS categories).
    en
        English label.
    colour
        Fill colour, ``#RRGGBB``.
    """


#: The classes, in the order of tables and legends.
CLASSES: tuple[ParcelClass, ...] = (
    ParcelClass("PBF", "永久基本农田", "permanent basic farmland", "#1a9641"),
    ParcelClass("RESERVE", "永久基本农田储备区", "PBF reserve", "#a6d96a"),
    ParcelClass("GENERAL", "一般耕地", "general farmland", "#ffffbf"),
    ParcelClass(
        "NON_TARGET", "未纳入保护目标耕地", "farmland outside the protection target", "#fdae61"
    ),
    ParcelClass("RECOVERY", "可恢复耕地", "recovery candidate", "#2b83ba"),
    ParcelClass("OTHER", "其他用地", "other land", "#d9d9d9"),
)
#: Classes by code.
BY_CODE: Mapping[str, ParcelClass] = MappingProxyType({c.code: c for c in CLASSES})
#: Codes of :data:`CLASSES`, in the same order.
CLASS_CODES: tuple[str, ...] = tuple(c.code for c in CLASSES)


@dataclass(frozen=True)
class BalanceDirection(_Labelled):
    """A direction of a changed piece of the in/out balance (``direction`` of its map layer).

    Attributes
    ----------
    code
        The value itself, e.g. ``"out"``.
    zh
        Chinese label (tables, legends).
    en
        English label.
    colour
        Fill colour on the map, ``#RRGGBB``; paddy pieces of ``out`` and ``in``
        take :data:`BALANCE_PADDY_COLOURS` instead.
    """


#: Directions of the in/out balance's changed pieces, in the order of tables and legends:
#: losses red, gains blue (a diverging pair that reads in colour-blind vision and greyscale),
#: the exempt losses purple, changes outside the balance brown and teal.
BALANCE_DIRECTIONS: tuple[BalanceDirection, ...] = (
    BalanceDirection("out", "转出", "turned out", "#f4a582"),
    BalanceDirection("in", "转进", "turned in", "#92c5de"),
    BalanceDirection("excluded", "除外减少", "exempt loss", "#9970ab"),
    BalanceDirection(
        "out_other", "其他减少（不计入进出平衡）", "other loss (outside the balance)", "#bf812d"
    ),
    BalanceDirection(
        "in_other", "其他增加（不计入进出平衡）", "other gain (outside the balance)", "#80cdc1"
    ),
    BalanceDirection("gap", "新图层未覆盖", "not covered by the new vintage", "#404040"),
)
#: Darker fills of paddy (水田, 0101) turned out and turned in, by direction.
BALANCE_PADDY_COLOURS: Mapping[str, str] = MappingProxyType({"out": "#b2182b", "in": "#2166ac"})

#: 三调 land class of paddy (水田), counted apart in the balance (转进水田不少于转出水田).
PADDY = "0101"


@dataclass(frozen=True)
class BalanceCategory(_Labelled):
    """A category of the balance map: a direction's pieces, or its paddy or other farmland.

    Attributes
    ----------
    code
        ``out_paddy``, ``out``, ``in_paddy``, ``in``, ``excluded``, ``out_other``,
        ``in_other`` or ``gap``.
    zh
        Chinese label (legends, QGIS rules).
    en
        English label.
    colour
        Fill colour, ``#RRGGBB``.
    direction
        The pieces' ``direction``.
    paddy
        True: only paddy (:data:`PADDY`: the old class of a piece turned out, the
        new class of one turned in, as the plan counts 转进水田 and 转出水田);
        False: only other farmland; None: every piece of the direction.
    """

    direction: str
    paddy: bool | None


def _balance_categories() -> tuple[BalanceCategory, ...]:
    """Out and in split into paddy (darker) and other farmland, the other directions whole."""
    farmland_zh = {True: "（水田）", False: "（水浇地、旱地）"}
    farmland_en = {True: " (paddy)", False: " (irrigated and dry land)"}
    out = []
    for d in BALANCE_DIRECTIONS:
        if d.code in BALANCE_PADDY_COLOURS:
            for paddy in (True, False):
                out.append(
                    BalanceCategory(
                        f"{d.code}_paddy" if paddy else d.code,
                        d.zh + farmland_zh[paddy],
                        d.en + farmland_en[paddy],
                        BALANCE_PADDY_COLOURS[d.code] if paddy else d.colour,
                        d.code,
                        paddy,
                    )
                )
        else:
            out.append(BalanceCategory(d.code, d.zh, d.en, d.colour, d.code, None))
    return tuple(out)


#: Categories of the balance map, in legend order (the first drawn on top).
BALANCE_CATEGORIES: tuple[BalanceCategory, ...] = _balance_categories()

#: Chinese display names of the balance map layer's fields (QGIS aliases).
BALANCE_ALIASES_ZH: Mapping[str, str] = MappingProxyType(
    {
        "county": "县级代码",
        "direction": "流向",
        "direction_zh": "流向名称",
        "cause": "除外原因",
        "class_old": "原地类编码",
        "class_old_name": "原地类名称",
        "class_new": "现地类编码",
        "class_new_name": "现地类名称",
        "bsm_old": "原图斑标识码",
        "bsm_new": "现图斑标识码",
        "area_m2": "面积(平方米)",
        "counted_m2": "计入面积(平方米)",
        "counted_mu": "计入面积(亩)",
    }
)


#: Recovery-candidate priority bands, first (dark) to last (light): the QGIS style and plots.
PRIORITY_RAMP: tuple[str, ...] = ("#08306b", "#2171b5", "#6baed6", "#c6dbef")


def priority_colours(n: int) -> list[str]:
    """*n* colours of :data:`PRIORITY_RAMP`, first band darkest.

    Parameters
    ----------
    n
        Number of priority bands.

    Returns
    -------
    list of str
        ``#RRGGBB`` colours spread evenly over the ramp, one per band (a
        single colour when *n* ≤ 1); with more than four bands colours repeat.

    Examples
    --------
    >>> priority_colours(2)
    ['#08306b', '#c6dbef']
    """
    if n <= 1:
        return list(PRIORITY_RAMP[:1])
    picks = [round(i * (len(PRIORITY_RAMP) - 1) / (n - 1)) for i in range(n)]
    return [PRIORITY_RAMP[i] for i in picks]


#: Chinese display names of landplan's output fields (QGIS aliases, table headers).
_OUTPUT_ALIASES_ZH = {
    "lp_class": "分类",
    "lp_reasons": "触发规则",
    "lp_county": "县级代码",
    "lp_area_ha": "面积(公顷)",
    "lp_prio": "优先序",
    "lp_area_m2": "椭球面积(平方米)",
    "lp_dlmj_m2": "地类面积(平方米)",
    "lp_tbmjdif": "面积与TBMJ相对差",
    "lp_slope": "平均坡度(度)",
    "lp_s15": "坡度>15°占比",
    "lp_s25": "坡度>25°占比",
    "lp_sgrade": "坡度级别",
    "lp_scells": "坡度像元数",
    "lp_scover": "DEM覆盖率",
    "lp_parent": "原图斑",
    "lp_piece": "分割序号",
}
_ROLE_ALIASES_ZH = {
    column: f"{role.zh}{suffix}"
    for role in ROLES.values()
    for column, suffix in (
        (role.overlap_column, "重叠面积(平方米)"),
        (role.share_column, "重叠占比"),
    )
}
#: Chinese display names of landplan's output fields (QGIS aliases, table headers).
FIELD_ALIASES_ZH: Mapping[str, str] = MappingProxyType({**_OUTPUT_ALIASES_ZH, **_ROLE_ALIASES_ZH})
