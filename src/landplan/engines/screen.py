"""Screening before classifying: parcels whose data would put a wrong figure into a quota.

Error-severity findings (:func:`~landplan.survey.validate.blocking_findings`)
stop the run, named by BSM, unless they are set aside (``skip_invalid``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landplan.core.errors import Problem, SchemaError
from landplan.core.timing import stage
from landplan.engines.pipeline import ClassifyJob
from landplan.survey.schema import resolve_fields, survey_attributes
from landplan.survey.validate import CHECKS, blocking_findings

__all__ = [
    "CountyDataError",
    "duplicate_bsm",
    "invalid_problems",
    "screen_county",
    "screen_parcels",
    "set_aside",
]


class CountyDataError(Exception):
    """A county's parcels have problems that screening reports; the driver screens them all.

    Raised by a county task that screens its own parcels
    (``ClassifyJob.screen``), so that the run's error names every invalid
    parcel of every county, as one screening of the whole layer does.
    """


def screen_parcels(
    frame: gpd.GeoDataFrame, attributes: pd.DataFrame, *, has_dem: bool
) -> pd.DataFrame:
    """The error-severity findings of the parcels.

    Parameters
    ----------
    frame
        The parcels.
    attributes
        Their canonical attributes (:func:`~landplan.survey.schema.survey_attributes`).
    has_dem
        Whether a DEM gives the parcels' slope.

    Returns
    -------
    pandas.DataFrame
        :data:`~landplan.survey.validate.FINDING_COLUMNS`; empty when every parcel is valid.
    """
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    # collapsed polygons (area 0 even once repaired; a bow-tie's signed area is 0 before)
    flat = np.flatnonzero(~empty & ~(shapely.area(np.where(empty, None, geoms)) > 0))
    empty[flat] = ~(shapely.area(shapely.make_valid(geoms[flat])) > 0)
    return blocking_findings(attributes, empty, has_dem=has_dem)


def screen_county(frame: gpd.GeoDataFrame, job: ClassifyJob) -> pd.DataFrame:
    """A county's survey attributes, once its parcels are screened and found valid.

    Parameters
    ----------
    frame
        The county's parcels.
    job
        The classification job (fields, source, DEM).

    Returns
    -------
    pandas.DataFrame
        The parcels' :func:`~landplan.survey.schema.survey_attributes`.

    Raises
    ------
    CountyDataError
        A field cannot be read, or a parcel has an error-severity finding.
    """
    try:
        with stage("attributes", total=len(frame), unit="parcels"):
            attrs = survey_attributes(frame, fields=job.fields, source=job.source)
    except SchemaError as error:
        raise CountyDataError(str(error)) from None
    with stage("screen", total=len(frame), unit="parcels"):
        findings = screen_parcels(frame, attrs, has_dem=job.dem is not None)
    if len(findings):
        raise CountyDataError(f"{len(findings)} finding(s) of error severity")
    return attrs


def duplicate_bsm(frame: gpd.GeoDataFrame, fields: Mapping[str, str] | None = None) -> bool:
    """Whether two parcels share a BSM (blanks aside), which no single county can see.

    Parameters
    ----------
    frame
        The parcels.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.

    Returns
    -------
    bool
        True when a non-blank BSM occurs twice (``V_BSM_DUPLICATE``).
    """
    column = resolve_fields(frame.columns, fields).get("BSM")
    if column is None or column not in frame.columns:
        return False
    (check,) = [c for c in CHECKS if c.id == "V_BSM_DUPLICATE"]  # the one definition
    failing, _ = check.test(pd.DataFrame({"BSM": frame[column]}), pd.DataFrame(index=frame.index))
    return bool(failing.any())


def set_aside(job: ClassifyJob, findings: pd.DataFrame) -> ClassifyJob:
    """*job* with the parcels of *findings* set aside as invalid.

    Parameters
    ----------
    job
        The classification job.
    findings
        Error-severity findings (:func:`screen_parcels`).

    Returns
    -------
    ClassifyJob
        *job* whose ``invalid`` maps each parcel of *findings* to its ``V_*``
        codes, ``;``-joined in the order found.
    """
    codes = findings.groupby("parcel", sort=False)["check_id"].agg(";".join)
    return dataclasses.replace(job, invalid=codes.to_dict())


def invalid_problems(findings: pd.DataFrame, *, source: str) -> list[Problem]:
    """One problem per failed check, naming its parcels by BSM (and row) with the value found.

    Parameters
    ----------
    findings
        Error-severity findings (:func:`screen_parcels`).
    source
        Name of the parcel file, for the messages.

    Returns
    -------
    list of Problem
        In check order.
    """
    problems = []
    for check_id, rows in findings.groupby("check_id", sort=False):
        names = [
            _name(label, bsm, value)
            for label, bsm, value in zip(rows["parcel"], rows["bsm"], rows["value"], strict=True)
        ]
        problems.append(
            Problem(
                str(check_id),
                f"{len(rows)} parcel(s): {rows['message'].iloc[0]}. Fix them in the parcel "
                "file, or set them aside with skip_invalid=True (CLI --skip-invalid).",
                source,
                parcels=tuple(names),
            )
        )
    return problems


def _name(label: object, bsm: object, value: float) -> str:
    parts = [f"row {label}"]
    if not np.isnan(float(value)):
        parts.append(f"value {float(value):g}")
    if isinstance(bsm, str) and bsm.strip():
        return f"BSM {bsm} ({', '.join(parts)})"
    return ", ".join(parts)
