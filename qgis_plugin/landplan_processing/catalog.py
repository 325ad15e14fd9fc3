"""What the Processing algorithms offer, as plain data, and the mapping of layers to roles.

Nothing here imports QGIS, so the tests of the project's own environment check
these lists against the installed landplan (``tests/test_qgis.py``): the
shipped profiles, the severities and the role names must be landplan's.
"""

import re

#: The profiles shipped with landplan (``landplan.rules.SHIPPED_PROFILES``), the default first.
PROFILES = ("hunan-hengyang", "hunan-xiangtan")

#: Finding severities, least severe first (``landplan.core.errors.SEVERITIES``).
SEVERITIES = ("info", "warning", "error")

#: The roles offered as named layer parameters: parameter name, role, label.
#: Every other role is given through the multi-layer parameter.
MAIN_ROLES = (
    ("ECO_REDLINE", "eco_redline", "生态保护红线 eco_redline"),
    ("DEV_BOUNDARY", "dev_boundary", "城镇开发边界 dev_boundary"),
    ("PBF_EXISTING", "pbf_existing", "现状永久基本农田 pbf_existing"),
    ("HIGH_STANDARD_FARMLAND", "high_standard_farmland", "高标准农田 high_standard_farmland"),
    ("TWO_ZONES", "two_zones", "粮食生产功能区和重要农产品生产保护区(两区) two_zones"),
    ("NATURE_RESERVE", "nature_reserve", "自然保护地 nature_reserve"),
    ("NATURE_CORE", "nature_core", "自然保护地核心保护区 nature_core"),
    ("WATER_SOURCE_L1", "water_source_l1", "饮用水水源一级保护区 water_source_l1"),
)

#: Vector formats landplan reads as they are; other layers are exported to a GeoPackage first.
COMPATIBLE_FORMATS = ("gpkg", "shp")

_OGR_DESTINATION = re.compile(r"ogr:dbname='(?P<path>.*)' table=\"(?P<layer>[^\"]*)\".*")


class RoleError(ValueError):
    """A layer whose role cannot be told, or a role given twice."""


def parse_destination(destination):
    """The file and layer name of a Processing output: a path, or ``ogr:dbname='F' table="L"``.

    >>> parse_destination("/tmp/out.gpkg")
    ('/tmp/out.gpkg', None)
    >>> parse_destination("ogr:dbname='/tmp/a b.gpkg' table=\\"分类\\" (geom)")
    ('/tmp/a b.gpkg', '分类')
    """
    match = _OGR_DESTINATION.fullmatch(destination)
    if match:
        return match["path"], match["layer"]
    return destination, None


def parse_role_table(values):
    """The advanced role table (a flat list: layer, role, layer, role ...) as a dict.

    >>> parse_role_table(["河湖管理范围", "River_Lake", "", ""])
    {'河湖管理范围': 'River_Lake'}
    """
    cells = [str(v).strip() for v in values or []]
    if len(cells) % 2:
        raise RoleError(f"the role table needs pairs of layer and role; got {cells}")
    pairs = (cells[i : i + 2] for i in range(0, len(cells), 2))  # QGIS 3.22 may run Python 3.9
    return {layer: role for layer, role in pairs if layer or role}


def role_of(names, table, roles):
    """The role of a layer known by *names* (its layer name, source, sub-layer, file stem).

    The role table is looked up first, by each name; otherwise a name that is a
    role (in any case) is the role.  Returns None when neither tells it.

    >>> roles = ["eco_redline", "river_lake"]
    >>> role_of(["河湖", "/d/c.gpkg", "rl"], {"河湖": "River_Lake"}, roles)
    'river_lake'
    >>> role_of(["Eco_Redline", "/d/c.gpkg"], {}, roles)
    'eco_redline'
    >>> role_of(["roads"], {}, roles) is None
    True
    """
    by_lower = {r.lower(): r for r in roles}
    for name in names:
        if name in table:
            role = by_lower.get(table[name].strip().lower())
            if role is None:
                raise RoleError(
                    f"the role table gives layer {name!r} the role {table[name]!r}, which is "
                    f"not a role; roles are {', '.join(roles)}"
                )
            return role
    for name in names:
        role = by_lower.get(str(name).strip().lower())
        if role is not None:
            return role
    return None


def assign_roles(named, listed, table, roles):
    """One source per role, from the named parameters and the listed layers.

    *named* maps role → source; *listed* holds ``(names, source)`` per layer of
    the multi-layer parameter.  Raises :class:`RoleError` naming every layer
    whose role cannot be told and every role given twice.

    >>> assign_roles({"eco_redline": "r.shp"}, [(["Dev_Boundary"], "d.gpkg")], {},
    ...              ["eco_redline", "dev_boundary"])
    {'eco_redline': 'r.shp', 'dev_boundary': 'd.gpkg'}
    """
    unknown = [str(k) for k in table if not any(k in names for names, _ in listed)]
    if unknown:
        raise RoleError(
            f"the role table names {', '.join(map(repr, unknown))}, which is not among the "
            "layers given in 'Other constraint layers'"
        )
    assigned = dict(named)
    problems = []
    for names, source in listed:
        role = role_of(names, table, roles)
        if role is None:
            problems.append(
                f"layer {names[0]!r} has no role: name it after its role or give it one in the "
                f"role table (roles: {', '.join(roles)})"
            )
        elif role in assigned:
            problems.append(f"role {role} is given twice ({assigned[role]} and {names[0]!r})")
        else:
            assigned[role] = source
    if problems:
        raise RoleError("; ".join(problems))
    return assigned
