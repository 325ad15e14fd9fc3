"""The pipeline on in-memory parcels: measure them, evaluate the rules, classify.

:func:`classify_frame` is the data flow of the plans on one set of parcels:
measure (areas, slope, overlaps) → evaluate the profile's rules (evidence) →
fill quotas in priority order → classes → :class:`~landplan.outputs.result.Result`.
Every engine (:mod:`landplan.engines`) runs it, on all parcels at once or on
one county at a time; :func:`evaluate_frame`, its first half, also serves the
PBF audit.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landplan.allocate.classes import Assignment, assign_classes
from landplan.core.memory import release_freed_memory
from landplan.core.timing import stage
from landplan.core.units import M2_PER_HA, M2_PER_MU
from landplan.io.targets import CountyTargets
from landplan.measure.blocks import Blocks, Neighbours, contiguous_blocks
from landplan.measure.parcels import (
    Measurement,
    layer_share,
    measure_parcels,
    without_layer_shares,
)
from landplan.measure.split import conserve_piece_areas, parcel_areas_of, split_parcels
from landplan.outputs.aggregate import quota_table, stage_totals
from landplan.outputs.result import Result
from landplan.rules.evaluate import Evidence, evaluate_rules
from landplan.rules.kinds import Context
from landplan.rules.model import Profile
from landplan.survey.schema import survey_attributes

__all__ = [
    "OUTPUT_COLUMNS",
    "ClassifyJob",
    "Evaluated",
    "classify_frame",
    "evaluate_frame",
    "farmland_blocks",
    "join_output",
    "measure_columns",
    "measured_frame",
    "output_columns",
]

log = logging.getLogger(__name__)

#: Output names (≤ 10 characters, shapefile-safe) of the measure columns.
OUTPUT_COLUMNS = {
    "area_m2": "lp_area_m2",
    "dlmj_m2": "lp_dlmj_m2",
    "parcel_dlmj_m2": "lp_pdlmj",
    "tbmj_rel_diff": "lp_tbmjdif",
    "slope_mean_deg": "lp_slope",
    "slope_gt15_share": "lp_s15",
    "slope_gt25_share": "lp_s25",
    "slope_grade": "lp_sgrade",
    "slope_cells": "lp_scells",
    "slope_cover": "lp_scover",
}


def measured_frame(parcels: gpd.GeoDataFrame, measures: pd.DataFrame) -> gpd.GeoDataFrame:
    """Input columns followed by the measures under their output names.

    Parameters
    ----------
    parcels
        The parcels as read.
    measures
        The measurement table, indexed like *parcels*.

    Returns
    -------
    geopandas.GeoDataFrame
        The parcels with the measure columns of :data:`OUTPUT_COLUMNS` added.
    """
    renamed = measures.rename(columns=OUTPUT_COLUMNS)
    return gpd.GeoDataFrame(
        pd.concat([parcels, renamed], axis=1), crs=parcels.crs, geometry=parcels.geometry.name
    )


@dataclass(frozen=True)
class ClassifyJob:
    """Everything but the parcels and layers that a classification needs; picklable."""

    profile: Profile
    dem: str | None = None
    targets: CountyTargets | None = None
    split: bool = False
    fields: Mapping[str, str] | None = None
    source: str = "parcels"
    #: Parcels set aside as invalid (index label → their ``V_*`` codes, ``;``-joined).
    invalid: Mapping[object, str] = field(default_factory=dict)
    #: Threads measuring one county (:mod:`landplan.core.threads`); answers do not depend on it.
    threads: int = 1
    #: Each county screens its own parcels before classifying them (the driver has not).
    screen: bool = False


@dataclass(frozen=True)
class Evaluated:
    """Parcels measured and judged by every rule: the first half of the pipeline."""

    frame: gpd.GeoDataFrame
    context: Context
    measurement: Measurement
    evidence: Evidence
    neighbours: Neighbours  # of the farmland blocks, kept for the other block sets


def evaluate_frame(
    frame: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries],
    job: ClassifyJob,
    *,
    attributes: pd.DataFrame | None = None,
) -> Evaluated:
    """Split (if asked), read the survey attributes, measure and evaluate the rules.

    Parameters
    ----------
    frame
        The parcels.
    layers
        Constraint layers by role.
    job
        Profile, DEM and options.
    attributes
        The parcels' survey attributes when already parsed (ignored in split
        mode, where the pieces get their own).

    Returns
    -------
    Evaluated
        The parcels (pieces in split mode), the rule context, measures and evidence.
    """
    whole_areas = parcel_areas_of(frame) if job.split else None
    if job.split:
        with stage("split"):
            frame = split_parcels(
                frame, layers, tolerance_m=float(job.profile.parameters["position_tolerance_m"])
            )
    attrs = attributes if attributes is not None and not job.split else None
    if attrs is None:
        with stage("attributes"):
            attrs = survey_attributes(frame, fields=job.fields, source=job.source)
    measurement = measure_parcels(
        frame,
        dem=job.dem,
        layers=layers,
        fields=job.fields,
        source=job.source,
        attributes=attrs,
        tolerance_m=float(job.profile.parameters["position_tolerance_m"]),
        threads=job.threads,
    )
    if whole_areas is not None:
        measurement = dataclasses.replace(
            measurement,
            table=conserve_piece_areas(
                measurement.table, frame["lp_parent"].to_numpy(), whole_areas
            ),
        )
    release_freed_memory()  # projected parcels, layers' parts, DEM tiles: before what follows
    with stage("blocks", total=len(frame), unit="parcels"):
        neighbours = _neighbours(frame, attrs, job)
        table = measurement.table.join(
            farmland_blocks(frame, attrs, measurement.table, job, neighbours=neighbours)
        )
    measurement = dataclasses.replace(measurement, table=table)
    ctx = Context(
        attrs,
        pd.DataFrame(frame.drop(columns=frame.geometry.name)),
        measurement.table,
        has_dem=job.dem is not None,
        slope_source=str(job.profile.parameters["farmland_slope_source"]),
    )
    with stage("rules"):
        evidence = evaluate_rules(job.profile, ctx)
    return Evaluated(frame, ctx, measurement, evidence, neighbours)


def _neighbours(frame: gpd.GeoDataFrame, attrs: pd.DataFrame, job: ClassifyJob) -> Neighbours:
    """The parcels' neighbours within the profile's gap, for every block set of a run."""
    return Neighbours(
        frame.geometry,
        attrs["COUNTY"].to_numpy(dtype=object),
        gap_m=float(job.profile.parameters["block_gap_m"]),
    )


def _blocks_of(
    frame: gpd.GeoDataFrame,
    attrs: pd.DataFrame,
    measures: pd.DataFrame,
    member: np.ndarray,
    *,
    neighbours: Neighbours,
) -> Blocks:
    """Contiguous blocks of the *member* parcels, by land-class area, within the neighbours' gap."""
    return contiguous_blocks(
        frame.geometry,
        attrs["COUNTY"].to_numpy(dtype=object),
        member,
        np.nan_to_num(measures["dlmj_m2"].to_numpy(dtype=float)),
        gap_m=neighbours.gap_m,
        neighbours=neighbours,
    )


def farmland_blocks(
    frame: gpd.GeoDataFrame,
    attrs: pd.DataFrame,
    measures: pd.DataFrame,
    job: ClassifyJob,
    *,
    neighbours: Neighbours | None = None,
) -> pd.DataFrame:
    """Contiguous farmland blocks (集中连片) of the parcels, as measure columns.

    Parameters
    ----------
    frame
        The parcels (or pieces).
    attrs
        Their survey attributes (``COUNTY``, ``IS_FARMLAND``).
    measures
        Their measures (``dlmj_m2``: a block's area is its land-class area).
    job
        The job; the profile's ``block_gap_m`` joins parcels across field roads.
    neighbours
        The parcels' neighbours, kept for other block sets of the same run;
        found here when not given.

    Returns
    -------
    pandas.DataFrame
        Indexed like *frame*: ``block_id`` (the index label of the block's first
        parcel when the index holds integers, else its position; -1 off farmland)
        and ``block_m2`` (the block's farmland area, NaN off farmland).
    """
    farmland = attrs["IS_FARMLAND"].to_numpy(dtype=bool)
    near = neighbours or _neighbours(frame, attrs, job)
    blocks = _blocks_of(frame, attrs, measures, farmland, neighbours=near)
    ids = blocks.block_id
    if pd.api.types.is_integer_dtype(frame.index.dtype):
        ids = np.where(ids >= 0, frame.index.to_numpy()[np.maximum(ids, 0)], -1)
    return pd.DataFrame({"block_id": ids, "block_m2": blocks.block_area_m2}, index=frame.index)


def classify_frame(
    frame: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries],
    job: ClassifyJob,
    *,
    join: bool = True,
    attributes: pd.DataFrame | None = None,
) -> Result:
    """Classify in-memory parcels with in-memory constraint layers (no manifest).

    Parameters
    ----------
    frame
        The parcels.
    layers
        Constraint layers by role.
    job
        Profile, DEM, targets and options.
    join
        With False (not in split mode), the result's ``parcels`` hold only the
        columns landplan adds, without the measures, indexed like *frame*: what
        an engine ships back from a county, beside the measurement table
        (without the layer shares, :func:`~landplan.measure.parcels.without_layer_shares`),
        before :func:`join_output` puts them and :func:`measure_columns` beside
        the input columns.
    attributes
        The parcels' survey attributes when already parsed.

    Returns
    -------
    Result
        Classes, evidence, measures and quotas.
    """
    done = evaluate_frame(frame, layers, job, attributes=attributes)
    frame, ctx, measurement, evidence = done.frame, done.context, done.measurement, done.evidence
    attrs = ctx.attributes
    parcel = frame["lp_parent"] if job.split else frame.index.to_series(index=frame.index)
    invalid_reasons = parcel.map(job.invalid)
    excluded = invalid_reasons.notna().to_numpy()
    if excluded.any():  # set aside: their land-class area is untrusted, counted nowhere
        measures = measurement.table.assign(
            dlmj_m2=np.where(excluded, 0.0, measurement.table["dlmj_m2"])
        )
        measurement = dataclasses.replace(measurement, table=measures)
        ctx = dataclasses.replace(ctx, measures=measures)
        # the same layer overlaps: one table for the evidence too, shipped once
        evidence = dataclasses.replace(evidence, measures=measures)
    measures = measurement.table
    with stage("quotas and classes"):
        assignment = assign_classes(
            evidence,
            ctx,
            job.profile,
            frame.geometry,
            job.targets,
            excluded=excluded,
            threads=job.threads,
        )
        quotas = quota_table(
            attrs["COUNTY"].to_numpy(dtype=object),
            measures["dlmj_m2"].to_numpy(dtype=float),
            measures["area_m2"].to_numpy(dtype=float),
            assignment,
            evidence.hits[[r.id for r in job.profile.stage_rules("P")]],
        )
    with stage("output columns"):
        reasons = evidence.reasons()
        if excluded.any():
            reasons = reasons.where(~excluded, invalid_reasons.to_numpy())
        whole = join or job.split
        added = output_columns(attrs, measures, reasons, assignment, with_measures=whole)
        out = join_output(frame, added) if whole else added
        stages = stage_totals(
            attrs["COUNTY"].to_numpy(dtype=object),
            attrs["DLBM_BASE"].to_numpy(dtype=object),
            assignment.pools,
            measures["dlmj_m2"].to_numpy(dtype=float),
            parts={
                **_dry_land_grades(frame, ctx, assignment, job, neighbours=done.neighbours),
                "adjacent": _next_to_farmland(
                    frame, attrs, measures, assignment, neighbours=done.neighbours
                ),
            },
        )
    problems = (*measurement.problems, *evidence.problems(), *assignment.problems)
    if not whole:  # shipped to the driver, which computes the shares again
        slim = without_layer_shares(measurement.table)
        measurement = dataclasses.replace(measurement, table=slim)
        evidence = dataclasses.replace(evidence, measures=slim)
    return Result(out, evidence, measurement, job.profile, quotas, problems, stages=stages)


def _dry_land_grades(
    frame: gpd.GeoDataFrame,
    ctx: Context,
    assignment: Assignment,
    job: ClassifyJob,
    *,
    neighbours: Neighbours,
) -> dict[str, np.ndarray]:
    """旱改水 candidates by 连片程度 (blocks of 15 and 30 亩), 水源 and 坡度 (003/004 ch.7 §1)."""
    candidate = assignment.pools["stage_d_candidate"]
    attrs, measures = ctx.attributes, ctx.measures
    blocks = _blocks_of(frame, attrs, measures, candidate, neighbours=neighbours)
    size = np.nan_to_num(blocks.block_area_m2) / M2_PER_MU
    grades = {
        f"block_ge{float(mu):g}mu": candidate & (size >= float(mu) * (1 - 1e-9))
        for mu in job.profile.parameters["stage_d_block_mu"]
    }
    water = layer_share(measures, "irrigation")
    if water is not None:
        grades["water"] = candidate & (water >= 0.5)
    grade = attrs["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    grades["flat"] = candidate & (grade <= 2)
    return grades


def _next_to_farmland(
    frame: gpd.GeoDataFrame,
    attrs: pd.DataFrame,
    measures: pd.DataFrame,
    assignment: Assignment,
    *,
    neighbours: Neighbours,
) -> np.ndarray:
    """耕地后备资源 candidates in one contiguous block with existing farmland."""
    farmland = assignment.pools["farmland"]
    candidate = assignment.pools["stage_b_candidate"]
    blocks = _blocks_of(frame, attrs, measures, farmland | candidate, neighbours=neighbours)
    ids = blocks.block_id
    with_farmland = np.zeros(len(ids) + 1, dtype=bool)
    with_farmland[ids[farmland] + 1] = True  # block ids are positions; -1 for none
    return candidate & with_farmland[ids + 1]


def output_columns(
    attrs: pd.DataFrame,
    measures: pd.DataFrame,
    reasons: pd.Series,
    assignment: Assignment,
    *,
    with_measures: bool = True,
) -> pd.DataFrame:
    """The output contract (``lp_class`` ...) followed by the measures, indexed like *attrs*.

    Parameters
    ----------
    attrs
        Survey attributes of every parcel (``COUNTY``).
    measures
        Measurement table in the same row order.
    reasons
        ``lp_reasons`` of every parcel.
    assignment
        Class, priority rank and pools of every parcel.
    with_measures
        Whether the measures follow (:func:`measure_columns`); a county
        engine leaves them out, as its driver has them in the measurement
        table and adds them after merging, so they travel once.

    Returns
    -------
    pandas.DataFrame
        ``lp_class``, ``lp_reasons``, ``lp_county``, ``lp_area_ha`` (land-class
        area after KCXS for the farmland pool, whole area otherwise, so a
        parcel set aside as invalid keeps its measured area), ``lp_prio`` and
        ``lp_pbf_change`` (KEPT, REMOVED, ADDED or empty), ``lp_block_id`` and
        ``lp_block_mu`` (the farmland parcel's contiguous block and its area in
        亩, after KCXS; -1 and NaN off farmland), ``lp_stage_b`` and
        ``lp_stage_d`` (CANDIDATE, EXCLUDED, or empty outside the stage's
        classes), then the measures under their names of :data:`OUTPUT_COLUMNS`.
    """
    farmland = assignment.pools["farmland"]
    area_m2 = np.where(farmland, measures["dlmj_m2"], measures["area_m2"])
    added: dict[str, Any] = {
        "lp_class": assignment.lp_class,
        "lp_reasons": reasons.to_numpy(),
        "lp_county": attrs["COUNTY"].to_numpy(),
        "lp_area_ha": area_m2 / M2_PER_HA,
        "lp_prio": assignment.lp_prio,
        "lp_pbf_change": assignment.pbf_change,
        "lp_block_id": measures["block_id"].to_numpy(),
        "lp_block_mu": measures["block_m2"].to_numpy(dtype=float) / M2_PER_MU,
        "lp_stage_b": _stage_status(assignment, "stage_b"),
        "lp_stage_d": _stage_status(assignment, "stage_d"),
    }
    extra = pd.DataFrame(added, index=attrs.index)
    return pd.concat([extra, measure_columns(measures)], axis=1) if with_measures else extra


def measure_columns(measures: pd.DataFrame) -> pd.DataFrame:
    """The measures as output columns: names of :data:`OUTPUT_COLUMNS`, blocks left out.

    Parameters
    ----------
    measures
        The measurement table.

    Returns
    -------
    pandas.DataFrame
        Its columns, ``block_id`` and ``block_m2`` dropped (the output carries
        them as ``lp_block_id`` and ``lp_block_mu``), renamed.
    """
    shown = measures.drop(columns=["block_id", "block_m2"], errors="ignore")
    return shown.rename(columns=OUTPUT_COLUMNS)


def _stage_status(assignment: Assignment, pool: str) -> np.ndarray:
    """``CANDIDATE``, ``EXCLUDED`` (a rule of the stage fired) or empty (not in its classes)."""
    pools = assignment.pools
    return np.where(
        pools[f"{pool}_candidate"], "CANDIDATE", np.where(pools[pool], "EXCLUDED", "")
    ).astype(object)


def join_output(frame: gpd.GeoDataFrame, added: pd.DataFrame) -> gpd.GeoDataFrame:
    """Input columns, then landplan's; an input column of the same name is replaced.

    Parameters
    ----------
    frame
        The input parcels.
    added
        landplan's columns, indexed like *frame* (:func:`output_columns`).

    Returns
    -------
    geopandas.GeoDataFrame
        The joined parcels, in the CRS of *frame*.
    """
    clash = [c for c in added.columns if c in frame.columns and c not in ("lp_parent", "lp_piece")]
    if clash:
        log.warning("input columns %s are replaced by landplan's output columns", clash)
    out = pd.concat([frame.drop(columns=clash), added], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
