"""The measurement job from files to files: read, measure, write, summarise."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .aggregate import summarize_measures_by_county
from .io import (
    ReadOptions,
    check_writable,
    read_layer,
    read_parcels,
    write_layer,
    write_table,
)
from .measure import Measurement, measure_parcels
from .roles import get_role
from .schema import survey_attributes

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
