"""Screening before classifying: parcels whose data would put a wrong figure into a quota.

Error-severity findings (:func:`~landplan.survey.validate.blocking_findings`)
stop the run, named by BSM, unless they are set aside (``skip_invalid``).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landplan.core.errors import Problem
from landplan.engines.pipeline import ClassifyJob
from landplan.survey.validate import blocking_findings

__all__ = ["invalid_problems", "screen_parcels", "set_aside"]


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
