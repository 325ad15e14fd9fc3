"""Audit of an existing PBF layer (003 专栏 4-3 核实, 004 ch.4 §2) and survey validation.

PBF parcels are the parcels covered by the ``pbf_existing`` layer (at least
the profile's ``pbf_existing_min_share`` of their area), or every parcel when no such layer
is given (the file is itself a PBF layer).  Findings, one row per parcel
and check, come in three categories:

- 划定不实 (not actually farmland): land class not 01xx (``A_NOT_FARMLAND``),
  or the planting attribute / refinement code says otherwise
  (``R_NOT_ACTUAL_FARMLAND``);
- 质量不优 (poor quality): slope over 25° without terraces (``P_SLOPE_GT25``),
  strict-control pollution (``P_STRICT_POLLUTION``), small fragments
  (``A_SMALL_FRAGMENT``), low quality grade (``A_LOW_GRADE``);
- 违反划定规则: any other stage-P rule that fired;

plus the attribute checks of :mod:`landplan.survey.validate` (属性校验) on every parcel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from landplan.core.errors import worst_severity
from landplan.engines.pipeline import ClassifyJob, evaluate_frame
from landplan.measure.parcels import Measurement, layer_share
from landplan.outputs.aggregate import county_table
from landplan.rules.evaluate import Evidence
from landplan.rules.model import DEFAULT_PROFILE, Profile
from landplan.rules.profiles import load_profile
from landplan.survey.validate import FINDING_COLUMNS, finding_rows, validate_attributes

__all__ = [
    "BREAKS_RULE",
    "NOT_ACTUAL",
    "POOR_QUALITY",
    "Audit",
    "audit_pbf",
    "pbf_parcels",
]

#: Finding category (``category`` column): PBF that is not actually farmland.
NOT_ACTUAL = "划定不实"
#: Finding category: PBF of poor quality.
POOR_QUALITY = "质量不优"
#: Finding category: PBF breaking another delineation (stage P) rule.
BREAKS_RULE = "违反划定规则"
_QUALITY_RULES = {"P_SLOPE_GT25", "P_STRICT_POLLUTION"}


@dataclass(frozen=True)
class Audit:
    """Findings (one row per parcel and check) and a per-county summary."""

    findings: pd.DataFrame
    summary: pd.DataFrame
    measurement: Measurement
    evidence: Evidence

    def worst(self) -> str | None:
        """The most severe severity among the findings, if any.

        Returns
        -------
        str or None
            The most severe severity, or None when there are no findings.
        """
        return worst_severity(self.findings["severity"])


def pbf_parcels(measures: pd.DataFrame, min_share: float) -> np.ndarray:
    """Parcels in the existing PBF layer, or all parcels when no such layer was measured.

    Parameters
    ----------
    measures
        Measurement table of the parcels.
    min_share
        Least share (0-1) of a parcel's area covered by ``pbf_existing``.

    Returns
    -------
    numpy.ndarray
        Whether each parcel is PBF (bool).
    """
    share = layer_share(measures, "pbf_existing")
    return np.ones(len(measures), dtype=bool) if share is None else share >= min_share


def audit_pbf(
    parcels: gpd.GeoDataFrame,
    *,
    dem: str | None = None,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries] | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    fields: Mapping[str, str] | None = None,
    source: str = "parcels",
) -> Audit:
    """Audit the PBF among *parcels* and validate every parcel's attributes.

    Parameters
    ----------
    parcels
        三调 land parcels (DLTB).
    dem
        DEM path for slope; without one, slope rules use ``GDPDJB``.
    layers
        Constraint layers by role; ``pbf_existing`` marks the PBF to audit
        (without it every parcel is PBF).
    profile
        A shipped profile name, a TOML path or a loaded profile; its
        parameters ``pbf_existing_min_share``, ``audit_fragment_m2`` and
        ``audit_low_grade_min`` set the audit's thresholds.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.
    source
        Name of the parcels in problems.

    Returns
    -------
    Audit
        The findings sorted by parcel and check, the per-county summary, the
        measurement and the evidence.
    """
    loaded = load_profile(profile)
    params = loaded.parameters
    done = evaluate_frame(
        parcels, layers or {}, ClassifyJob(loaded, dem=dem, fields=fields, source=source)
    )
    attrs, measurement, evidence = done.context.attributes, done.measurement, done.evidence
    pbf = pbf_parcels(measurement.table, float(params["pbf_existing_min_share"]))
    area = measurement.table["dlmj_m2"].to_numpy(dtype=float)
    grade = attrs["GDDB"].to_numpy(dtype=float, na_value=np.nan)
    farm = attrs["IS_FARMLAND"].to_numpy(dtype=bool)
    parts = [
        finding_rows(
            pbf & ~farm,
            attrs,
            check_id="A_NOT_FARMLAND",
            category=NOT_ACTUAL,
            severity="error",
            value=np.full(len(attrs), np.nan),
            unit="",
            message="PBF parcel whose land class (DLBM) is not farmland 01xx",
        ),
        finding_rows(
            pbf & farm & (area < float(params["audit_fragment_m2"])),
            attrs,
            check_id="A_SMALL_FRAGMENT",
            category=POOR_QUALITY,
            severity="warning",
            value=area,
            unit="m2",
            message=f"PBF fragment below {float(params['audit_fragment_m2']):.0f} m²",
        ),
        finding_rows(
            pbf & farm & (grade >= float(params["audit_low_grade_min"])),
            attrs,
            check_id="A_LOW_GRADE",
            category=POOR_QUALITY,
            severity="warning",
            value=grade,
            unit="grade",
            message=f"PBF of low quality grade (GDDB ≥ {params['audit_low_grade_min']}, 低等地)",
        ),
    ]
    for rule in loaded.rules:
        if rule.stage != "P" and rule.id != "R_NOT_ACTUAL_FARMLAND":
            continue
        category = (
            NOT_ACTUAL
            if rule.stage == "R"
            else POOR_QUALITY
            if rule.id in _QUALITY_RULES
            else BREAKS_RULE
        )
        parts.append(
            finding_rows(
                pbf & evidence.hits[rule.id].to_numpy(),
                attrs,
                check_id=rule.id,
                category=category,
                severity="error",
                value=evidence.values[rule.id].to_numpy(),
                unit=evidence.units[rule.id],
                message=f"{rule.zh} ({rule.source})",
            )
        )
    parts.append(validate_attributes(attrs, measurement.table))
    findings = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else pd.DataFrame(columns=FINDING_COLUMNS)
    )
    findings = findings.sort_values(["parcel", "check_id"], kind="stable", ignore_index=True)
    summary = _summary(attrs, area, pbf, findings)
    return Audit(findings, summary, measurement, evidence)


def _summary(
    attrs: pd.DataFrame, area: np.ndarray, pbf: np.ndarray, findings: pd.DataFrame
) -> pd.DataFrame:
    county = attrs["COUNTY"].astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "county_code": county,
            "parcels": 1,
            "pbf_parcels": pbf.astype(int),
            "pbf_m2": np.where(pbf, np.nan_to_num(area), 0.0),
        }
    )
    for category in (NOT_ACTUAL, POOR_QUALITY, BREAKS_RULE, "属性校验"):
        hit = attrs.index.isin(findings.loc[findings["category"] == category, "parcel"])
        frame[f"{category}_parcels"] = hit.astype(int)
        frame[f"{category}_m2"] = np.where(hit, np.nan_to_num(area), 0.0)
    return county_table(frame)
