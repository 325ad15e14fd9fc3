"""Audit of an existing PBF layer (003 专栏 4-3 核实, 004 ch.4 §2) and survey validation.

PBF parcels are the parcels covered by the ``pbf_existing`` layer (at least
``audit_pbf_min_share`` of their area), or every parcel when no such layer
is given (the file is itself a PBF layer).  Findings, one row per parcel
and check, come in three categories:

- 划定不实 (not actually farmland): land class not 01xx (``A_NOT_FARMLAND``),
  or the planting attribute / refinement code says otherwise
  (``R_NOT_ACTUAL_FARMLAND``);
- 质量不优 (poor quality): slope over 25° without terraces (``P_SLOPE_GT25``),
  strict-control pollution (``P_STRICT_POLLUTION``), small fragments
  (``A_SMALL_FRAGMENT``), low quality grade (``A_LOW_GRADE``);
- 违反划定规则: any other stage-P rule that fired;

plus the attribute checks of :mod:`landplan.validate` (属性校验) on every parcel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .aggregate import M2_PER_WANMU, add_total_row, county_names
from .measure import Measurement, measure_parcels
from .roles import get_role
from .rules.evaluate import Evidence, evaluate_rules
from .rules.kinds import Context
from .rules.model import DEFAULT_PROFILE, Profile, load_profile
from .schema import survey_attributes
from .validate import FINDING_COLUMNS, finding_rows, validate_attributes

SEVERITIES = ("info", "warning", "error")
NOT_ACTUAL = "划定不实"
POOR_QUALITY = "质量不优"
BREAKS_RULE = "违反划定规则"
_QUALITY_RULES = {"P_SLOPE_GT25", "P_STRICT_POLLUTION"}
AUDIT_DEFAULTS = {
    "audit_pbf_min_share": 0.5,
    "audit_fragment_m2": 10_000 / 15,
    "audit_low_grade_min": 13,
}


@dataclass(frozen=True)
class Audit:
    """Findings (one row per parcel and check) and a per-county summary."""

    findings: pd.DataFrame
    summary: pd.DataFrame
    measurement: Measurement
    evidence: Evidence

    def worst(self) -> str | None:
        """The most severe severity among the findings, if any."""
        present = set(self.findings["severity"])
        return next((s for s in reversed(SEVERITIES) if s in present), None)


def pbf_parcels(measures: pd.DataFrame, min_share: float) -> np.ndarray:
    """Parcels in the existing PBF layer, or all parcels when no such layer was measured."""
    column = get_role("pbf_existing").share_column
    if column not in measures:
        return np.ones(len(measures), dtype=bool)
    return measures[column].to_numpy(dtype=float) >= min_share


def audit_pbf(
    parcels: gpd.GeoDataFrame,
    *,
    dem: str | None = None,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries] | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    fields: Mapping[str, str] | None = None,
    source: str = "parcels",
) -> Audit:
    """Audit the PBF among *parcels* and validate every parcel's attributes."""
    loaded = load_profile(profile)
    params = {**AUDIT_DEFAULTS, **loaded.parameters}
    attrs = survey_attributes(parcels, fields=fields, source=source)
    measurement = measure_parcels(
        parcels, dem=dem, layers=layers, fields=fields, source=source, attributes=attrs
    )
    ctx = Context(
        attrs,
        pd.DataFrame(parcels.drop(columns=parcels.geometry.name)),
        measurement.table,
        has_dem=dem is not None,
    )
    evidence = evaluate_rules(loaded, ctx)
    pbf = pbf_parcels(measurement.table, float(params["audit_pbf_min_share"]))
    area = measurement.table["dlmj_m2"].to_numpy(dtype=float)
    grade = attrs["GDDB"].to_numpy(dtype=float, na_value=np.nan)
    farm = attrs["IS_FARMLAND"].to_numpy(dtype=bool)
    parts = [
        finding_rows(
            pbf & ~farm,
            attrs,
            "A_NOT_FARMLAND",
            NOT_ACTUAL,
            "error",
            np.full(len(attrs), np.nan),
            "",
            "PBF parcel whose land class (DLBM) is not farmland 01xx",
        ),
        finding_rows(
            pbf & farm & (area < float(params["audit_fragment_m2"])),
            attrs,
            "A_SMALL_FRAGMENT",
            POOR_QUALITY,
            "warning",
            area,
            "m2",
            f"PBF fragment below {float(params['audit_fragment_m2']):.0f} m²",
        ),
        finding_rows(
            pbf & farm & (grade >= float(params["audit_low_grade_min"])),
            attrs,
            "A_LOW_GRADE",
            POOR_QUALITY,
            "warning",
            grade,
            "grade",
            f"PBF of low quality grade (GDDB ≥ {params['audit_low_grade_min']}, 低等地)",
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
                rule.id,
                category,
                "error",
                evidence.values[rule.id].to_numpy(),
                evidence.units[rule.id],
                f"{rule.zh} ({rule.source})",
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
    table = frame.groupby("county_code", sort=True).sum().reset_index()
    table.insert(1, "county_name", table["county_code"].map(county_names()).fillna(""))
    table = add_total_row(table)
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table[column[:-3] + "_wanmu"] = table[column] / M2_PER_WANMU
    return table
