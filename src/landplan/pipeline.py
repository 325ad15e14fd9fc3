"""The jobs on in-memory parcels: measure them, or classify them end to end.

:func:`classify_frame` is the data flow of the plans on one set of parcels:
measure (areas, slope, overlaps) → evaluate the profile's rules (evidence) →
fill quotas in priority order → classes → :class:`~landplan.result.Result`.
Every engine (:mod:`landplan.engine`) runs it, on all parcels at once or on
one county at a time.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .aggregate import summarize_measures_by_county
from .classify import assign_classes
from .io import (
    ReadOptions,
    check_writable,
    read_layer,
    read_parcels,
    write_layer,
    write_table,
)
from .measure import Measurement, measure_parcels
from .result import Result
from .roles import get_role
from .rules.evaluate import evaluate_rules
from .rules.kinds import Context
from .rules.model import Profile
from .schema import survey_attributes
from .split import conserve_piece_areas, parcel_areas_of, split_parcels
from .timing import stage

log = logging.getLogger(__name__)

#: Output names (≤ 10 characters, shapefile-safe) of the measure columns.
OUTPUT_COLUMNS = {
    "area_m2": "lp_area_m2",
    "dlmj_m2": "lp_dlmj_m2",
    "tbmj_rel_diff": "lp_tbmjdif",
    "slope_mean_deg": "lp_slope",
    "slope_gt15_share": "lp_s15",
    "slope_gt25_share": "lp_s25",
    "slope_grade": "lp_sgrade",
    "slope_cells": "lp_scells",
    "slope_cover": "lp_scover",
}


@dataclass(frozen=True)
class MeasuredLayer:
    """Parcels with their measures, and per-county figures."""

    parcels: gpd.GeoDataFrame
    measurement: Measurement
    by_county: pd.DataFrame


def read_role_layers(specs: Mapping[str, str]) -> dict[str, gpd.GeoDataFrame]:
    """Read constraint layers given as role → path (``path|layername=NAME`` allowed).

    When the file holds several layers and none is named, the layer named
    after the role is taken.
    """
    for role in specs:
        get_role(role)
    return {role: read_layer(spec, preferred_layers=(role,)) for role, spec in specs.items()}


def measured_frame(parcels: gpd.GeoDataFrame, measures: pd.DataFrame) -> gpd.GeoDataFrame:
    """Input columns followed by the measures under their output names."""
    renamed = measures.rename(columns=OUTPUT_COLUMNS)
    return gpd.GeoDataFrame(
        pd.concat([parcels, renamed], axis=1), crs=parcels.crs, geometry=parcels.geometry.name
    )


def measure_files(
    parcels_path: str | Path,
    output: str | Path,
    *,
    dem: str | None = None,
    layers: Mapping[str, str] | None = None,
    overwrite: bool = False,
    read: ReadOptions | None = None,
) -> MeasuredLayer:
    """Read parcels and layers, measure every parcel, write a GeoPackage.

    The GeoPackage holds layer ``parcels`` (input fields plus measures) and
    table ``county_summary``.
    """
    out = check_writable(output, overwrite=overwrite)
    read = read or ReadOptions()
    parcels = read_parcels(parcels_path, fields=read.fields, encoding=read.encoding, crs=read.crs)
    measurement = measure_parcels(
        parcels,
        dem=dem,
        layers=read_role_layers(layers or {}),
        fields=read.fields,
        source=str(parcels_path),
    )
    for problem in measurement.problems:
        log.warning("%s", problem)
    frame = measured_frame(parcels, measurement.table)
    by_county = summarize_measures_by_county(
        survey_attributes(parcels, fields=read.fields), measurement.table
    )
    write_layer(frame, out, layer="parcels")
    write_table(by_county, out, layer="county_summary")
    return MeasuredLayer(frame, measurement, by_county)


@dataclass(frozen=True)
class ClassifyJob:
    """Everything but the parcels and layers that a classification needs; picklable."""

    profile: Profile
    dem: str | None = None
    target_m2: Mapping[str, float] | None = None
    split: bool = False
    fields: Mapping[str, str] | None = None
    source: str = "parcels"


def classify_frame(
    frame: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries],
    job: ClassifyJob,
    *,
    join: bool = True,
) -> Result:
    """Classify in-memory parcels with in-memory constraint layers (no manifest).

    With ``join=False`` (not in split mode), the result's ``parcels`` hold only the
    columns landplan adds, indexed like *frame*: what an engine ships back from a
    county before :func:`join_output` puts them beside the input columns.
    """
    whole_areas = parcel_areas_of(frame) if job.split else None
    if job.split:
        with stage("split"):
            frame = split_parcels(frame, layers)
    with stage("attributes"):
        attrs = survey_attributes(frame, fields=job.fields, source=job.source)
    measurement = measure_parcels(
        frame,
        dem=job.dem,
        layers=layers,
        fields=job.fields,
        source=job.source,
        attributes=attrs,
    )
    if whole_areas is not None:
        measurement = dataclasses.replace(
            measurement,
            table=conserve_piece_areas(
                measurement.table, frame["lp_parent"].to_numpy(), whole_areas
            ),
        )
    ctx = Context(
        attrs,
        pd.DataFrame(frame.drop(columns=frame.geometry.name)),
        measurement.table,
        has_dem=job.dem is not None,
    )
    with stage("rules"):
        evidence = evaluate_rules(job.profile, ctx)
    with stage("quotas and classes"):
        assignment = assign_classes(evidence, ctx, job.profile, frame.geometry, job.target_m2)
    with stage("output columns"):
        added = output_columns(
            attrs, measurement.table, evidence.reasons(), assignment.lp_class, assignment.lp_prio
        )
        out = join_output(frame, added) if join or job.split else added
    problems = (*measurement.problems, *evidence.problems(), *assignment.problems)
    return Result(out, evidence, measurement, job.profile, assignment.quotas, problems)


def output_columns(
    attrs: pd.DataFrame,
    measures: pd.DataFrame,
    reasons: pd.Series,
    lp_class: np.ndarray,
    lp_prio: np.ndarray,
) -> pd.DataFrame:
    """The output contract (``lp_class`` ...) followed by the measures, indexed like *attrs*."""
    farmland = attrs["IS_FARMLAND"].to_numpy(dtype=bool)
    area_m2 = np.where(farmland, measures["dlmj_m2"], measures["area_m2"])
    added: dict[str, Any] = {
        "lp_class": lp_class,
        "lp_reasons": reasons.to_numpy(),
        "lp_county": attrs["COUNTY"].to_numpy(),
        "lp_area_ha": area_m2 / 1e4,
        "lp_prio": lp_prio,
    }
    extra = pd.DataFrame(added, index=attrs.index)
    return pd.concat([extra, measures.rename(columns=OUTPUT_COLUMNS)], axis=1)


def join_output(frame: gpd.GeoDataFrame, added: pd.DataFrame) -> gpd.GeoDataFrame:
    """Input columns, then landplan's; an input column of the same name is replaced."""
    clash = [c for c in added.columns if c in frame.columns and c not in ("lp_parent", "lp_piece")]
    if clash:
        log.warning("input columns %s are replaced by landplan's output columns", clash)
    out = pd.concat([frame.drop(columns=clash), added], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
