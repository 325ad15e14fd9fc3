"""QGIS styles: a categorised QML on ``lp_class`` stored as the layer's default style.

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

from .palette import CLASSES, FIELD_ALIASES_ZH


def _rgba(colour: str) -> str:
    value = colour.lstrip("#")
    return ",".join(str(int(value[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def class_style_qml(
    fields: list[str] | None = None, aliases: Mapping[str, str] = FIELD_ALIASES_ZH
) -> str:
    """QML of a categorised renderer on ``lp_class`` with Chinese labels and field aliases."""
    categories = "\n".join(
        f'      <category render="true" symbol="{i}" value="{c.code}" label={quoteattr(c.zh)}/>'
        for i, c in enumerate(CLASSES)
    )
    symbols = "\n".join(
        f'''      <symbol type="fill" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="color" value="{_rgba(c.colour)}"/>
            <Option type="QString" name="outline_color" value="120,120,120,255"/>
            <Option type="QString" name="outline_width" value="0.1"/>
            <Option type="QString" name="style" value="solid"/>
          </Option>
        </layer>
      </symbol>'''
        for i, c in enumerate(CLASSES)
    )
    wanted = fields if fields is not None else list(aliases)
    alias_xml = "\n".join(
        f'    <alias field={quoteattr(f)} index="{i}" name={quoteattr(aliases[f])}/>'
        for i, f in enumerate(wanted)
        if f in aliases
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Fields">
  <renderer-v2 type="categorizedSymbol" attr="lp_class" enableorderby="0" forceraster="0"
               symbollevels="0">
    <categories>
{categories}
    </categories>
    <symbols>
{symbols}
    </symbols>
  </renderer-v2>
  <aliases>
{alias_xml}
  </aliases>
</qgis>
"""


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
    """Store *qml* as a style of *layer* in the GeoPackage's ``layer_styles`` table."""
    with sqlite3.connect(path) as db:
        db.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
                f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
                styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
                description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""
        )
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
            "ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, 'landplan', '', ?)",
            (layer, geometry_column, name, qml, 1 if default else 0, description, now),
        )
