"""QGIS styles: a categorised QML on ``lp_class`` stored as the layer's default style.

The classified parcels get the classes (default) and the recovery priority;
the in/out balance's changed pieces get their map's categories
(:func:`balance_style_qml`).

QGIS reads a GeoPackage's ``layer_styles`` table on load and applies the row
whose ``f_table_name`` and ``f_geometry_column`` match the layer (schema the
empty string), preferring ``useAsDefault``.  A ``.qml`` beside a shapefile
with the same base name is applied too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from landplan.core.palette import (
    BALANCE_ALIASES_ZH,
    BALANCE_CATEGORIES,
    BY_CODE,
    CLASSES,
    FIELD_ALIASES_ZH,
    PADDY,
    priority_colours,
)

__all__ = [
    "balance_style_qml",
    "class_style_qml",
    "recovery_priority_breaks",
    "recovery_style_qml",
    "write_gpkg_style",
]


def _rgba(colour: str) -> str:
    value = colour.lstrip("#")
    return ",".join(str(int(value[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _fill_symbol(name: int, colour: str) -> str:
    return f'''      <symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="color" value="{_rgba(colour)}"/>
            <Option type="QString" name="outline_color" value="120,120,120,255"/>
            <Option type="QString" name="outline_width" value="0.1"/>
            <Option type="QString" name="style" value="solid"/>
          </Option>
        </layer>
      </symbol>'''


def _aliases(fields: list[str] | None, aliases: Mapping[str, str]) -> str:
    wanted = fields if fields is not None else list(aliases)
    return "\n".join(
        f'    <alias field={quoteattr(f)} index="{i}" name={quoteattr(aliases[f])}/>'
        for i, f in enumerate(wanted)
        if f in aliases
    )


def _qml(renderer: str, fields: list[str] | None, aliases: Mapping[str, str]) -> str:
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Fields">
{renderer}
  <aliases>
{_aliases(fields, aliases)}
  </aliases>
</qgis>
"""


def _rule_renderer(rules: list[tuple[str, str, str, str]]) -> str:
    """A rule-based renderer: one rule per (key, label, filter expression, fill colour)."""
    rule_list = "\n".join(
        f'      <rule key="{key}" symbol="{i}" label={quoteattr(label)} '
        f"filter={quoteattr(expression)}/>"
        for i, (key, label, expression, _) in enumerate(rules)
    )
    symbols = "\n".join(_fill_symbol(i, colour) for i, (*_, colour) in enumerate(rules))
    return f"""  <renderer-v2 type="RuleRenderer" enableorderby="0" forceraster="0"
               symbollevels="0">
    <rules key="root">
{rule_list}
    </rules>
    <symbols>
{symbols}
    </symbols>
  </renderer-v2>"""


def class_style_qml(
    fields: list[str] | None = None, aliases: Mapping[str, str] = FIELD_ALIASES_ZH
) -> str:
    """QML of a categorised renderer on ``lp_class`` with Chinese labels and field aliases.

    Parameters
    ----------
    fields
        The layer's fields in order (alias indices follow it); None for every
        field of *aliases*.
    aliases
        Field → display name; fields without one get no alias.

    Returns
    -------
    str
        The QML document.
    """
    categories = "\n".join(
        f'      <category render="true" symbol="{i}" value="{c.code}" label={quoteattr(c.zh)}/>'
        for i, c in enumerate(CLASSES)
    )
    symbols = "\n".join(_fill_symbol(i, c.colour) for i, c in enumerate(CLASSES))
    renderer = f"""  <renderer-v2 type="categorizedSymbol" attr="lp_class" enableorderby="0"
               forceraster="0" symbollevels="0">
    <categories>
{categories}
    </categories>
    <symbols>
{symbols}
    </symbols>
  </renderer-v2>"""
    return _qml(renderer, fields, aliases)


def recovery_priority_breaks(lp_prio: np.ndarray, bands: int = 4) -> list[int]:
    """Upper rank of each priority band of the recovery candidates (quantiles of ``lp_prio``).

    Parameters
    ----------
    lp_prio
        Each parcel's rank in its county (1 first); 0 or less for parcels
        that are not candidates.
    bands
        Number of bands wanted.

    Returns
    -------
    list of int
        Ascending upper ranks, one per band; fewer than *bands* when bands
        would coincide, ``[1]`` when there are no candidates.

    Examples
    --------
    >>> recovery_priority_breaks(np.arange(1, 101))
    [25, 50, 75, 100]
    >>> recovery_priority_breaks(np.array([], dtype=int))
    [1]
    """
    ranks = np.asarray(lp_prio)[np.asarray(lp_prio) > 0]
    if not len(ranks):
        return [1]
    edges = np.quantile(ranks, np.linspace(0, 1, bands + 1)[1:], method="inverted_cdf")
    return sorted({int(e) for e in edges})


def recovery_style_qml(
    breaks: list[int],
    fields: list[str] | None = None,
    aliases: Mapping[str, str] = FIELD_ALIASES_ZH,
) -> str:
    """QML of a rule-based renderer: recovery candidates by priority band, the rest unfilled.

    ``lp_prio`` is the candidate's rank in its county (1 first); band *k* holds
    ranks up to ``breaks[k]``.  Colours come from :data:`~landplan.core.palette.PRIORITY_RAMP`.

    Parameters
    ----------
    breaks
        Ascending upper rank of each band, as from :func:`recovery_priority_breaks`.
    fields
        The layer's fields in order (alias indices follow it); None for every
        field of *aliases*.
    aliases
        Field → display name; fields without one get no alias.

    Returns
    -------
    str
        The QML document.
    """
    rules, lower = [], 0
    for i, (upper, colour) in enumerate(zip(breaks, priority_colours(len(breaks)), strict=True)):
        expression = f'"lp_class" = \'RECOVERY\' AND "lp_prio" > {lower} AND "lp_prio" <= {upper}'
        label = f"{BY_CODE['RECOVERY'].zh} 优先序 {lower + 1}–{upper}"
        rules.append((f"band{i}", label, expression, colour))
        lower = upper
    return _qml(_rule_renderer(rules), fields, aliases)


def balance_style_qml(
    fields: list[str] | None = None, aliases: Mapping[str, str] = BALANCE_ALIASES_ZH
) -> str:
    """QML of a rule-based renderer of the balance's changed pieces, as the balance map draws them.

    One rule per :data:`~landplan.core.palette.BALANCE_CATEGORIES` entry, in
    legend order: pieces by ``direction``; farmland turned out (in) split into
    paddy, by ``class_old`` (``class_new``), in a darker colour, and the rest.

    Parameters
    ----------
    fields
        The layer's fields in order (alias indices follow it); None for every
        field of *aliases*.
    aliases
        Field → display name; fields without one get no alias.

    Returns
    -------
    str
        The QML document.
    """
    rules = []
    for category in BALANCE_CATEGORIES:
        expression = f"\"direction\" = '{category.direction}'"
        if category.paddy is not None:
            side = "class_new" if category.direction == "in" else "class_old"
            test = "=" if category.paddy else "<>"
            expression += f" AND coalesce(\"{side}\", '') {test} '{PADDY}'"
        rules.append((category.code, category.zh, expression, category.colour))
    return _qml(_rule_renderer(rules), fields, aliases)


def write_gpkg_style(
    path: str | Path,
    layer: str,
    qml: str,
    *,
    name: str = "landplan classes",
    geometry_column: str = "geom",
    default: bool = True,
    description: str = "",
) -> None:
    """Store *qml* as a style of *layer* in the GeoPackage's ``layer_styles`` table.

    The table is created (and registered in ``gpkg_contents``) if needed;
    each call adds a row.

    Parameters
    ----------
    path
        The GeoPackage.
    layer
        The layer the style is for.
    qml
        The style, as from :func:`class_style_qml` or :func:`recovery_style_qml`.
    name
        Style name shown in QGIS.
    geometry_column
        The layer's geometry column.
    default
        Whether QGIS applies the style when the layer is loaded.
    description
        Style description shown in QGIS.
    """
    with sqlite3.connect(path) as db:
        db.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
                f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
                styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
                description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""
        )
        # GDAL, and QGIS through it, only sees tables registered in gpkg_contents
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles' WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')"
        )
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # GeoPackage DATETIME
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
            "ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, 'landplan', '', ?)",
            (layer, geometry_column, name, qml, 1 if default else 0, description, now),
        )
