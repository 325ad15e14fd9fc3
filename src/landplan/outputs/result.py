"""The result of a classification: parcels, evidence, tables, files."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landplan.core.errors import Problem
from landplan.core.palette import BY_CODE, CLASS_CODES
from landplan.core.timing import stage
from landplan.core.units import M2_PER_HA, M2_PER_MU
from landplan.io.files import write_csv, write_text
from landplan.io.layers import check_writable, write_layer, write_table
from landplan.io.manifest import manifest_json
from landplan.io.qgis_style import (
    class_style_qml,
    recovery_priority_breaks,
    recovery_style_qml,
    write_gpkg_style,
)
from landplan.measure.blocks import area_in_blocks
from landplan.measure.parcels import Measurement
from landplan.outputs.aggregate import (
    CITY_TOTAL,
    class_totals,
    pbf_change_table,
    stage_b_table,
    stage_d_table,
    target_delineation,
)
from landplan.rules.evaluate import Evidence
from landplan.rules.model import Profile
from landplan.survey.validate import FINDING_COLUMNS

__all__ = ["Result"]


@dataclass(frozen=True)
class Result:
    """Classified parcels with the evidence behind every class.

    ``parcels`` holds every input field plus ``lp_class``, ``lp_reasons``,
    ``lp_county``, ``lp_area_ha``, ``lp_prio`` and the measures; ``invalid``
    the error-severity findings of the parcels set aside (``skip_invalid``),
    which are ``OTHER`` with their ``V_*`` codes as reasons and in no total;
    ``stages`` the areas of the class-defined stages B and D
    (:func:`~landplan.outputs.aggregate.stage_totals`).
    """

    parcels: gpd.GeoDataFrame
    evidence: Evidence
    measurement: Measurement
    profile: Profile
    quotas: pd.DataFrame
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    manifest: Mapping[str, Any] = field(default_factory=dict)
    invalid: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS))
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """County × class: parcels, area in m², ha, mu and 万亩, with city total rows.

        Returns
        -------
        pandas.DataFrame
            :func:`~landplan.outputs.aggregate.class_totals` of ``lp_county``,
            ``lp_class`` and ``lp_area_ha``.
        """
        return class_totals(
            self.parcels["lp_county"],
            self.parcels["lp_class"],
            self.parcels["lp_area_ha"] * M2_PER_HA,
        )

    @cached_property
    def delineation(self) -> pd.DataFrame:
        """附录 2: protection-target delineation with the exclusion breakdown by T rule.

        Returns
        -------
        pandas.DataFrame
            :func:`~landplan.outputs.aggregate.target_delineation`: one row per
            county and the city total row, areas in m² and 万亩.
        """
        t_columns = [r.id for r in self.profile.stage_rules("T")]
        farmland = self.parcels["lp_class"].isin(["PBF", "RESERVE", "GENERAL", "NON_TARGET"])
        return target_delineation(
            self.parcels["lp_county"],
            farmland,
            self.measurement.table["dlmj_m2"],
            self.evidence.hits[t_columns],
        )

    @cached_property
    def pbf_changes(self) -> pd.DataFrame | None:
        """Existing PBF kept, removed by rule and added, per county; None without that layer.

        Returns
        -------
        pandas.DataFrame or None
            :func:`~landplan.outputs.aggregate.pbf_change_table` of the
            parcels' ``lp_pbf_change``, or None when no parcel has a change
            (no ``pbf_existing`` layer was given).
        """
        change = self.parcels["lp_pbf_change"].fillna("")
        if not (change != "").any():
            return None
        exits = [r.id for r in self.profile.stage_rules("T")] + [
            r.id for r in self.profile.stage_rules("P") if r.existing_pbf == "exit"
        ]
        return pbf_change_table(
            self.parcels["lp_county"],
            change,
            self.parcels["lp_area_ha"].to_numpy(dtype=float) * M2_PER_HA,
            self.evidence.hits[exits],
        )

    @cached_property
    def contiguity(self) -> pd.DataFrame:
        """集中连片 per county: farmland and PBF area in blocks of at least 3, 5, 15 and 20 亩.

        003 ch.3 §4 reports 5 亩 and 20 亩 以上集中连片; 004 ch.1 §1 3, 5 and 15 亩.

        Returns
        -------
        pandas.DataFrame
            One row per county and a city total row (``county_code`` 全市):
            ``farmland_m2`` and ``farmland_ge{t}mu_m2`` / ``_share``, and the
            same for ``pbf``; areas after KCXS, blocks of farmland.
        """
        p = self.parcels
        county = p["lp_county"].astype(str)
        block = p["lp_block_mu"].to_numpy(dtype=float) * M2_PER_MU
        area = p["lp_area_ha"].to_numpy(dtype=float) * M2_PER_HA
        pbf = np.where(np.asarray(p["lp_class"] == "PBF", dtype=bool), area, 0.0)
        farm = area_in_blocks(county, block, area, total=CITY_TOTAL).add_prefix("farmland_")
        prot = area_in_blocks(county, block, pbf, total=CITY_TOTAL).add_prefix("pbf_")
        table = farm.join(prot).rename(
            columns={"farmland_area_m2": "farmland_m2", "pbf_area_m2": "pbf_m2"}
        )
        return table.rename_axis("county_code").reset_index()

    @cached_property
    def stage_b(self) -> pd.DataFrame | None:
        """耕地后备资源 (stage B) per county: 宜耕林地, 宜耕非林地, by class; None without it.

        Returns
        -------
        pandas.DataFrame or None
            :func:`~landplan.outputs.aggregate.stage_b_table`, or None when no
            parcel is of the stage's classes.
        """
        if not len(self.stages) or not (self.stages["stage"] == "B").any():
            return None
        return stage_b_table(self.stages, self.profile.parameters["stage_b_classes"])

    @cached_property
    def stage_d(self) -> pd.DataFrame | None:
        """旱改水 (stage D) potential per county; None when no parcel is dry land.

        Returns
        -------
        pandas.DataFrame or None
            :func:`~landplan.outputs.aggregate.stage_d_table`, or None.
        """
        if not len(self.stages) or not (self.stages["stage"] == "D").any():
            return None
        return stage_d_table(self.stages)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the result by its name in the output GeoPackage.

        Returns
        -------
        dict of str to pandas.DataFrame
            ``county_summary`` (:attr:`summary`), ``target_delineation``
            (:attr:`delineation`), ``county_quotas`` (:attr:`quotas`) and
            ``rule_hits`` (one row per parcel and rule that fired: ``parcel``,
            ``rule_id``, ``value``, ``unit``); ``contiguity``
            (:attr:`contiguity`); ``pbf_changes``
            (:attr:`pbf_changes`) with an existing-PBF layer, ``stage_b`` and
            ``stage_d`` (:attr:`stage_b`, :attr:`stage_d`), ``invalid_parcels``
            when parcels were set aside.
        """
        fired = self.evidence.long(fired_only=True)
        return {
            "county_summary": self.summary,
            "target_delineation": self.delineation,
            "county_quotas": self.quotas,
            "contiguity": self.contiguity,
            "rule_hits": fired[fired["hit"]].drop(columns="hit"),
            **({"pbf_changes": self.pbf_changes} if self.pbf_changes is not None else {}),
            **({"stage_b": self.stage_b} if self.stage_b is not None else {}),
            **({"stage_d": self.stage_d} if self.stage_d is not None else {}),
            **({"invalid_parcels": self.invalid} if len(self.invalid) else {}),
        }

    def to_file(
        self,
        path: str | Path,
        *,
        overwrite: bool = False,
        output_layer: str = "parcels",
        summary_csv: str | Path | None = None,
    ) -> Path:
        """Write the parcels, the tables and a QGIS default style.

        A GeoPackage gets layer *output_layer*, the tables of :meth:`tables`, a
        categorised style on ``lp_class`` and table ``manifest``; a shapefile gets
        a ``.qml`` beside it and the tables as UTF-8 (BOM) CSV files next to it.
        Every run also writes ``<output>.manifest.json``.

        Parameters
        ----------
        path
            The output file: a GeoPackage (``.gpkg``) or a shapefile.
        overwrite
            Replace *path* if it exists.
        output_layer
            Name of the parcel layer in a GeoPackage.
        summary_csv
            Also write :attr:`summary` to this CSV file.

        Returns
        -------
        pathlib.Path
            The output file.

        Raises
        ------
        OutputExistsError
            *path* exists and *overwrite* is False.
        """
        out = check_writable(path, overwrite=overwrite)
        with stage("write parcels"):
            write_layer(self.parcels, out, layer=output_layer)
        self.write_beside(out, output_layer=output_layer, summary_csv=summary_csv)
        return out

    def write_beside(
        self,
        path: str | Path,
        *,
        output_layer: str = "parcels",
        summary_csv: str | Path | None = None,
    ) -> None:
        """Write what :meth:`to_file` writes beside the parcel layer, once that layer is written.

        The tables, the QGIS styles and the manifest, as :meth:`to_file`
        describes them; for a run that wrote its parcel layer itself
        (:func:`landplan.classify` with ``output=``).

        Parameters
        ----------
        path
            The output file holding the parcel layer.
        output_layer
            Name of the parcel layer in a GeoPackage.
        summary_csv
            Also write :attr:`summary` to this CSV file.
        """
        out = Path(path)
        with stage("write tables and styles"):
            self._write_extras(out, output_layer)
        if summary_csv is not None:
            write_csv(self.summary, summary_csv)
        write_text(manifest_json(self.manifest), out.with_name(out.name + ".manifest.json"))

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
            write_text(qml, out.with_suffix(".qml"))
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
        """Profile, number of parcels and parcels per class, on one line."""
        counts = self.parcels["lp_class"].value_counts()
        parts = ", ".join(f"{c}={int(counts.get(c, 0))}" for c in CLASS_CODES)
        return f"<Result {self.profile.id}: {len(self.parcels)} parcels ({parts})>"
