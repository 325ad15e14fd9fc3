"""Constraint-layer roles (RULES.md §1).

Each role has the snake_case name used on the command line
(``--layer eco_redline=redline.shp``), a Chinese name, and a short code that
names its measure columns (``ov_eco`` overlap m², ``os_eco`` overlap share),
short enough for shapefile field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from landplan.core.errors import InputError, Problem

__all__ = ["ROLES", "Role", "get_role"]


@dataclass(frozen=True)
class Role:
    """A kind of constraint layer.

    Attributes
    ----------
    name
        snake_case name used on the command line and in profiles.
    zh
        Chinese name.
    code
        Short code naming the role's measure columns.
    """

    name: str
    zh: str
    code: str

    @property
    def overlap_column(self) -> str:
        """Column holding the overlap area in m².

        Returns
        -------
        str
            ``ov_<code>``.
        """
        return f"ov_{self.code}"

    @property
    def share_column(self) -> str:
        """Column holding the overlap share of the parcel's area (0-1).

        Returns
        -------
        str
            ``os_<code>``.
        """
        return f"os_{self.code}"


_ROLES = [
    Role("eco_redline", "生态保护红线", "eco"),
    Role("dev_boundary", "城镇开发边界", "dev"),
    Role("nature_reserve", "自然保护地", "nr"),
    Role("nature_core", "自然保护地核心保护区", "ncore"),
    Role("water_source_l1", "饮用水水源一级保护区", "ws1"),
    Role("water_source_important", "重要水源地", "wsimp"),
    Role("river_lake", "河湖管理范围", "rl"),
    Role("river_channel", "河湖主河槽", "rlmc"),
    Role("flood_10yr", "十年一遇洪水位以下", "fl10"),
    Role("polder_double_return", "“双退”圩垸", "dpol"),
    Role("reservoir_expropriation", "水库征地线以下", "resv"),
    Role("farmland_2009", "“二调”耕地", "gd09"),
    Role("river_dike", "河道堤防之间", "dike"),
    Role("town_village", "城镇村范围", "tv"),
    Role("approved_construction", "已批建设用地", "appr"),
    Role("high_standard_farmland", "高标准农田", "hsf"),
    Role("two_zones", "粮食生产功能区和重要农产品生产保护区(两区)", "twoz"),
    Role("pbf_existing", "现状永久基本农田", "pbfe"),
    Role("pbf_2017", "2017年永久基本农田", "pbf17"),
    Role("strict_pollution", "严格管控类耕地", "spol"),
    Role("return_forest", "国家规定退耕还林还草还湖范围", "rtf"),
    Role("return_forest_2014", "2014—2020年退耕还林还草计划范围", "rtf14"),
    Role("returned_forest", "退耕还林形成的林地", "rtdf"),
    Role("public_forest", "生态公益林", "pubf"),
    Role("natural_forest", "天然林", "natf"),
    Role("desertified", "严重沙化石漠化", "des"),
    Role("damaged", "损毁难以复垦", "dmg"),
    Role("green_heart", "长株潭绿心", "gh"),
    Role("major_project", "省级及以上重大建设项目选址", "mproj"),
    Role("former_plan_construction", "原规划建设用地范围（一致性处理）", "fcon"),
    Role("strategic_mining", "战略性矿产露天采矿区", "smin"),
    Role("irrigation", "灌溉水源保障范围（灌区）", "irr"),
    Role("abandoned_land", "废弃坑塘/废弃采矿用地范围", "aban"),
]

#: Roles by name, in the order of RULES.md §1.
ROLES: Mapping[str, Role] = MappingProxyType({r.name: r for r in _ROLES})


def get_role(name: str) -> Role:
    """The role called *name*, or an error listing the known roles.

    Names are matched ignoring case, surrounding blanks and ``-`` for ``_``:
    ``"ECO_REDLINE"`` and ``"Eco-Redline"`` are ``eco_redline``.

    Parameters
    ----------
    name
        Role name, e.g. ``"eco_redline"``.

    Returns
    -------
    Role
        The role.

    Raises
    ------
    InputError
        When no role has that name; the message lists the known ones.

    Examples
    --------
    >>> get_role("eco_redline").share_column
    'os_eco'
    >>> get_role(" ECO_REDLINE ").name
    'eco_redline'
    >>> get_role("redline")
    Traceback (most recent call last):
    ...
    landplan.core.errors.InputError: [ROLE_UNKNOWN] unknown layer role 'redline'; known roles: ...
    """
    try:
        return ROLES[str(name).strip().lower().replace("-", "_")]
    except KeyError:
        raise InputError(
            [
                Problem(
                    "ROLE_UNKNOWN", f"unknown layer role {name!r}; known roles: {', '.join(ROLES)}"
                )
            ]
        ) from None
