"""``landplan.classify``: the whole job, from parcels to a :class:`~landplan.result.Result`.

Data flow: read inputs → measure (areas, slope, overlaps) → evaluate the
profile's rules (evidence) → fill quotas in priority order → classes →
result (parcels, evidence, tables).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd

from .classify import assign_classes
from .io import ReadOptions, read_layer, read_parcels
from .manifest import build_manifest
from .measure import measure_parcels
from .palette import FIELD_ALIASES_ZH
from .pipeline import OUTPUT_COLUMNS
from .result import Result
from .roles import get_role
from .rules.evaluate import evaluate_rules
from .rules.kinds import Context
from .rules.model import DEFAULT_PROFILE, Profile, load_profile
from .schema import survey_attributes
from .select import read_targets
from .split import conserve_piece_areas, parcel_areas_of, split_parcels

log = logging.getLogger(__name__)

#: A constraint layer: a path (``file.gpkg|layername=X`` allowed) or a GeoDataFrame/GeoSeries.
LayerInput: TypeAlias = "str | Path | gpd.GeoDataFrame | gpd.GeoSeries"


def _layers(layers: Mapping[str, LayerInput] | None) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries]:
    out: dict[str, gpd.GeoDataFrame | gpd.GeoSeries] = {}
    for role, value in (layers or {}).items():
        get_role(role)
        out[role] = (
            value
            if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries)
            else read_layer(value, preferred_layers=(role,))
        )
    return out


def _targets(
    targets: str | Path | pd.DataFrame | Mapping[str, float] | None, column: str
) -> dict[str, float] | None:
    if targets is None:
        return None
    if isinstance(targets, str | Path):
        return read_targets(targets, column=column)
    if isinstance(targets, pd.DataFrame):
        from .aggregate import M2_PER_WANMU

        return {
            str(c): float(v) * M2_PER_WANMU
            for c, v in zip(targets["county_code"], targets[column], strict=True)
        }
    return {str(k): float(v) for k, v in targets.items()}


def classify(
    parcels: str | Path | gpd.GeoDataFrame,
    *,
    dem: str | Path | None = None,
    layers: Mapping[str, LayerInput] | None = None,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    targets: str | Path | pd.DataFrame | Mapping[str, float] | None = None,
    targets_column: str = "pbf_2035_wanmu",
    split: bool = False,
    fields: Mapping[str, str] | None = None,
    read: ReadOptions | None = None,
) -> Result:
    """Classify every parcel by the rules of a profile.

    Parameters
    ----------
    parcels
        三调 land parcels (DLTB): a path or a GeoDataFrame.
    dem
        DEM path; without one, slope rules use ``GDPDJB``.
    layers
        Constraint layers by role (``{"eco_redline": "redline.shp", ...}``).
    profile
        A shipped profile name (``hunan-hengyang``, ``hunan-xiangtan``), a
        TOML path or a loaded :class:`~landplan.rules.Profile`.
    targets
        Per-county PBF targets: a CSV path or DataFrame with ``county_code``
        and *targets_column* (万亩), or a mapping county → m².  Without it, a
        profile share of each county's protection target.
    split
        Cut parcels along constraint boundaries and judge each piece.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.
    read
        Encoding and CRS for reading a parcel file that needs them (its
        ``fields`` are used when *fields* is not given).

    Examples
    --------
    >>> from landplan.datasets import load_sample
    >>> s = load_sample()
    >>> result = classify(s.parcels, layers=s.layers, targets=s.targets)
    >>> sorted(result.parcels["lp_class"].unique())
    ['GENERAL', 'NON_TARGET', 'OTHER', 'PBF', 'RECOVERY', 'RESERVE']
    >>> len(result.parcels) == len(s.parcels)
    True
    """
    read = read or ReadOptions()
    fields = fields if fields is not None else read.fields
    frame = (
        parcels
        if isinstance(parcels, gpd.GeoDataFrame)
        else read_parcels(parcels, fields=fields, encoding=read.encoding, crs=read.crs)
    )
    source = str(parcels) if not isinstance(parcels, gpd.GeoDataFrame) else "parcels"
    loaded = load_profile(profile)
    role_layers = _layers(layers)
    whole_areas = parcel_areas_of(frame) if split else None
    if split:
        frame = split_parcels(frame, role_layers)
    attrs = survey_attributes(frame, fields=fields, source=source)
    measurement = measure_parcels(
        frame,
        dem=None if dem is None else str(dem),
        layers=role_layers,
        fields=fields,
        source=source,
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
        has_dem=dem is not None,
    )
    evidence = evaluate_rules(loaded, ctx)
    assignment = assign_classes(
        evidence, ctx, loaded, frame.geometry, _targets(targets, targets_column)
    )
    out = _output_frame(
        frame, attrs, measurement.table, evidence.reasons(), assignment.lp_class, assignment.lp_prio
    )
    problems = (*measurement.problems, *evidence.problems(), *assignment.problems)
    for problem in problems:
        log.warning("%s", problem)
    inputs: dict[str, Any] = {"parcels": parcels}
    if dem is not None:
        inputs["dem"] = dem
    if isinstance(targets, str | Path):
        inputs["targets"] = targets
    inputs.update({f"layer:{role}": value for role, value in (layers or {}).items()})
    manifest = build_manifest(
        inputs,
        profile_id=loaded.id,
        profile_sha256=loaded.sha256,
        parameters={
            "split": split,
            "targets_column": targets_column,
            "fields": dict(fields or {}),
            "encoding": read.encoding,
            "crs": None if read.crs is None else str(read.crs),
            "profile_parameters": dict(loaded.parameters),
        },
    )
    return Result(out, evidence, measurement, loaded, assignment.quotas, problems, manifest)


def _output_frame(
    frame: gpd.GeoDataFrame,
    attrs: pd.DataFrame,
    measures: pd.DataFrame,
    reasons: pd.Series,
    lp_class: np.ndarray,
    lp_prio: np.ndarray,
) -> gpd.GeoDataFrame:
    farmland = attrs["IS_FARMLAND"].to_numpy(dtype=bool)
    area_m2 = np.where(farmland, measures["dlmj_m2"], measures["area_m2"])
    added: dict[str, Any] = {
        "lp_class": lp_class,
        "lp_reasons": reasons.to_numpy(),
        "lp_county": attrs["COUNTY"].to_numpy(),
        "lp_area_ha": area_m2 / 1e4,
        "lp_prio": lp_prio,
    }
    extra = pd.DataFrame(added, index=frame.index)
    renamed = measures.rename(columns=OUTPUT_COLUMNS)
    clash = [
        c
        for c in (*extra.columns, *renamed.columns)
        if c in frame.columns and c not in ("lp_parent", "lp_piece")
    ]
    base = frame.drop(columns=clash)
    if clash:
        log.warning("input columns %s are replaced by landplan's output columns", clash)
    out = pd.concat([base, extra, renamed], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)


__all__ = ["FIELD_ALIASES_ZH", "classify"]
