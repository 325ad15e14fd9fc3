"""The result of a classification: parcels, evidence, tables, files."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .aggregate import CITY_TOTAL, class_totals, target_delineation
from .errors import Problem
from .io import check_writable, write_layer, write_table
from .manifest import manifest_json
from .measure import Measurement
from .palette import BY_CODE, CLASS_CODES
from .qgis import (
    class_style_qml,
    recovery_priority_breaks,
    recovery_style_qml,
    write_gpkg_style,
)
from .rules.evaluate import Evidence
from .rules.model import Profile
from .timing import stage


@dataclass(frozen=True)
class Result:
    """Classified parcels with the evidence behind every class.

    ``parcels`` holds every input field plus ``lp_class``, ``lp_reasons``,
    ``lp_county``, ``lp_area_ha``, ``lp_prio`` and the measures.
    """

    parcels: gpd.GeoDataFrame
    evidence: Evidence
    measurement: Measurement
    profile: Profile
    quotas: pd.DataFrame
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    manifest: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """County × class: parcels, area in m², ha, mu and 万亩, with city total rows."""
        return class_totals(
            self.parcels["lp_county"], self.parcels["lp_class"], self.parcels["lp_area_ha"] * 1e4
        )

    @cached_property
    def delineation(self) -> pd.DataFrame:
        """附录 2: protection-target delineation with the exclusion breakdown by T rule."""
        t_columns = [r.id for r in self.profile.stage_rules("T")]
        farmland = self.parcels["lp_class"].isin(["PBF", "RESERVE", "GENERAL", "NON_TARGET"])
        return target_delineation(
            self.parcels["lp_county"],
            farmland,
            self.measurement.table["dlmj_m2"],
            self.evidence.hits[t_columns],
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the result by its name in the output GeoPackage."""
        fired = self.evidence.long(fired_only=True)
        return {
            "county_summary": self.summary,
            "target_delineation": self.delineation,
            "county_quotas": self.quotas,
            "rule_hits": fired[fired["hit"]].drop(columns="hit"),
        }

    def to_file(
        self,
        path: str | Path,
        *,
        overwrite: bool = False,
        layer: str = "parcels",
        summary_csv: str | Path | None = None,
    ) -> Path:
        """Write the parcels, the tables and a QGIS default style.

        A GeoPackage gets layer *layer*, the tables of :meth:`tables`, a
        categorised style on ``lp_class`` and table ``manifest``; a shapefile gets
        a ``.qml`` beside it and the tables as UTF-8 (BOM) CSV files next to it.
        Every run also writes ``<output>.manifest.json``.
        """
        out = check_writable(path, overwrite=overwrite)
        with stage("write parcels"):
            write_layer(self.parcels, out, layer=layer)
        with stage("write tables and styles"):
            self._write_extras(out, layer)
        if summary_csv is not None:
            write_csv(self.summary, summary_csv)
        out.with_name(out.name + ".manifest.json").write_text(
            manifest_json(self.manifest), encoding="utf-8"
        )
        return out

    def _write_extras(self, out: Path, layer: str) -> None:
        qml = class_style_qml(list(self.parcels.columns))
        if out.suffix.lower() == ".gpkg":
            for name, table in self.tables().items():
                write_table(table, out, layer=name)
            write_gpkg_style(out, layer, qml, geometry_column="geom")
            recovery = self.parcels["lp_prio"].where(self.parcels["lp_class"] == "RECOVERY", 0)
            write_gpkg_style(
                out,
                layer,
                recovery_style_qml(
                    recovery_priority_breaks(recovery.to_numpy()), list(self.parcels.columns)
                ),
                name="landplan recovery priority",
                geometry_column="geom",
                default=False,
                description="可恢复耕地候选 by priority rank (专栏 8-1)",
            )
            write_table(
                pd.DataFrame({"manifest_json": [manifest_json(self.manifest)]}),
                out,
                layer="manifest",
            )
        else:
            out.with_suffix(".qml").write_text(qml, encoding="utf-8")
            for name, table in self.tables().items():
                write_csv(table, out.with_name(f"{out.stem}_{name}.csv"))

    def _repr_html_(self) -> str:
        city = self.summary[self.summary["county_code"] == CITY_TOTAL].set_index("lp_class")
        rows = "".join(
            f"<tr><td>{code}</td><td>{html.escape(BY_CODE[code].zh)}</td>"
            f"<td style='text-align:right'>{int(city.loc[code, 'parcels']):,}</td>"
            f"<td style='text-align:right'>{city.loc[code, 'area_ha']:,.2f}</td>"
            f"<td style='text-align:right'>{city.loc[code, 'area_wanmu']:,.2f}</td></tr>"
            for code in CLASS_CODES
        )
        return (
            f"<div><b>landplan result</b> — profile {html.escape(self.profile.id)}, "
            f"{len(self.parcels):,} parcels, {len(self.problems)} problem(s)"
            "<table><tr><th>class</th><th></th><th>parcels</th><th>ha</th><th>万亩</th></tr>"
            f"{rows}</table></div>"
        )

    def __repr__(self) -> str:
        counts = self.parcels["lp_class"].value_counts()
        parts = ", ".join(f"{c}={int(counts.get(c, 0))}" for c in CLASS_CODES)
        return f"<Result {self.profile.id}: {len(self.parcels)} parcels ({parts})>"


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """CSV in UTF-8 with a BOM, so that Excel shows Chinese correctly."""
    table.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.6f")
