"""Attribute validation of a 三调 parcel layer, as findings rather than crashes.

Each check is a named, vectorised predicate over the canonical attributes
(:func:`~landplan.survey.schema.survey_attributes`) and the measures; failures are
collected into one long table, one row per parcel and check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landplan.core.errors import Severity
from landplan.survey.schema import LAND_CLASSES, TBMJ_TOLERANCE, per_value

__all__ = [
    "CHECKS",
    "FINDING_COLUMNS",
    "PLANTING_CODES",
    "RECOVERY_CODES",
    "REFINEMENT_CODES",
    "Check",
    "blocking_findings",
    "finding_rows",
    "validate_attributes",
]

#: Planting attributes (``ZZSXDM``) allowed on farmland.
PLANTING_CODES = frozenset({"LS", "FLS", "LYFL", "XG", "LLJZ", "WG"})
#: Recovery attributes (``ZZSXDM``) allowed on other land (it may also have none).
RECOVERY_CODES = frozenset({"JKHF", "GCHF", "YM", "LM", "KT"})  # with legacy codes
#: Refinement codes (``TBXHDM``) allowed; the field may also be empty.
REFINEMENT_CODES = frozenset(
    {"HDGD", "HQGD", "LQGD", "MQGD", "SHGD", "HHGD", "SMGD", "YJGD", "LQYD", "GCCD", "FQ", "LJTM"}
)
#: Columns of a findings table, in order.
FINDING_COLUMNS = [
    "parcel",
    "bsm",
    "county",
    "check_id",
    "category",
    "severity",
    "value",
    "unit",
    "message",
]


@dataclass(frozen=True)
class Check:
    """A named validation: which parcels fail, the value shown, and what it means.

    Attributes
    ----------
    id
        Stable identifier, e.g. ``"V_KCXS_RANGE"``.
    severity
        Severity of its findings.
    message
        What a failure means.
    unit
        Unit of the value shown (``"m2"``, ``"grade"`` ...), or ``""``.
    test
        Given the canonical attributes and the measures, the failing parcels
        (bool array) and the value shown for each parcel (float array, NaN
        where there is none).
    """

    id: str
    severity: Severity
    message: str
    unit: str
    test: Callable[[pd.DataFrame, pd.DataFrame], tuple[np.ndarray, np.ndarray]]


def _text(attrs: pd.DataFrame, name: str) -> pd.Series:
    return _stripped(attrs[name])


def _stripped(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().fillna("")


def _dlbm(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (~a["DLBM_BASE"].isin(list(LAND_CLASSES))).to_numpy(), np.full(len(a), np.nan)


def _gdpdjb(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    grade = a["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    bad = a["IS_FARMLAND"].to_numpy(bool) & ~np.isin(grade, [1, 2, 3, 4, 5])
    return bad, grade


def _zzsxdm(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    code = _text(a, "ZZSXDM")
    farm = a["IS_FARMLAND"].to_numpy(bool)
    bad_farm = farm & ~code.isin(list(PLANTING_CODES)).to_numpy()
    bad_other = ~farm & (code != "").to_numpy() & ~code.isin(list(RECOVERY_CODES)).to_numpy()
    return bad_farm | bad_other, np.full(len(a), np.nan)


def _tbxhdm(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    code = _text(a, "TBXHDM")
    return ((code != "") & ~code.isin(list(REFINEMENT_CODES))).to_numpy(), np.full(len(a), np.nan)


def _kcxs(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    k = a["KCXS"].to_numpy(dtype=float, na_value=np.nan)
    return ~np.isnan(k) & ((k < 0) | (k >= 1)), k


def _tbdlmj(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    tbmj, kcmj, tbdlmj = (
        a[c].to_numpy(dtype=float, na_value=np.nan) for c in ("TBMJ", "KCMJ", "TBDLMJ")
    )
    diff = tbdlmj - (tbmj - kcmj)
    return np.abs(diff) > 0.011, diff  # values are kept to 2 decimals


def _zldwdm_format(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    length = per_value(a["ZLDWDM"], lambda v: _stripped(v).str.len())
    digits = per_value(a["ZLDWDM"], lambda v: _stripped(v).str.fullmatch(r"\d+"))
    bad = (length != 19).to_numpy() | ~digits.fillna(False).to_numpy(dtype=bool)
    return bad, length.to_numpy(dtype=float)


def _zldwdm_county(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A county prefix that is not a county code, or another county's in a one-county file.

    A county code is 6 digits, province 11-82, county part not 00; a file
    is taken as delivered by one county when ≥ 90 % of its parcels are in it.
    """
    county = a["COUNTY"].astype(str)
    if not len(county):
        return np.zeros(0, bool), np.zeros(0)
    malformed = ~per_value(
        county,
        lambda c: c.str.fullmatch(
            r"(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|8[12])"
            r"\d{2}(?!00)\d{2}"
        ).fillna(False),
    ).astype(bool)
    shares = county.value_counts(normalize=True)
    foreign = (county != shares.index[0]) if shares.iloc[0] >= 0.9 else county != county
    return (malformed | foreign).to_numpy(dtype=bool), np.full(len(a), np.nan)


def _bsm(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    bsm = _text(a, "BSM")
    return ((bsm != "") & bsm.duplicated(keep=False)).to_numpy(), np.full(len(a), np.nan)


def _tbmj_area(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    rel = m["tbmj_rel_diff"].to_numpy(dtype=float)
    return np.abs(np.nan_to_num(rel)) > TBMJ_TOLERANCE, rel


def _empty(a: pd.DataFrame, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    area = m["area_m2"].to_numpy(dtype=float)
    return area <= 0, area


#: The attribute checks, in the order their findings are listed.
CHECKS: tuple[Check, ...] = (
    Check("V_DLBM_DOMAIN", "error", "DLBM is not a 三调 land-class code", "", _dlbm),
    Check(
        "V_GDPDJB_DOMAIN", "error", "farmland without a slope grade GDPDJB of 1-5", "grade", _gdpdjb
    ),
    Check(
        "V_ZZSXDM_DOMAIN",
        "warning",
        "planting attribute ZZSXDM outside its domain (farmland: "
        "LS, FLS, LYFL, XG, LLJZ, WG; other land: JKHF, GCHF or empty)",
        "",
        _zzsxdm,
    ),
    Check("V_TBXHDM_DOMAIN", "warning", "refinement code TBXHDM outside its domain", "", _tbxhdm),
    Check("V_KCXS_RANGE", "error", "KCXS outside [0, 1)", "", _kcxs),
    # a warning: landplan measures the land-class area itself and never uses TBDLMJ
    Check("V_TBDLMJ_BALANCE", "warning", "TBDLMJ differs from TBMJ − KCMJ", "m2", _tbdlmj),
    Check("V_ZLDWDM_FORMAT", "error", "ZLDWDM is not 19 digits", "chars", _zldwdm_format),
    Check(
        "V_ZLDWDM_COUNTY",
        "warning",
        "ZLDWDM county prefix differs from the rest of the file",
        "",
        _zldwdm_county,
    ),
    Check("V_BSM_DUPLICATE", "error", "BSM is not unique", "", _bsm),
    Check(
        "V_TBMJ_AREA",
        "warning",
        f"ellipsoidal area differs from TBMJ by more than {TBMJ_TOLERANCE:.1%}",
        "share",
        _tbmj_area,
    ),
    Check("V_GEOMETRY_EMPTY", "error", "parcel has no geometry (area 0)", "m2", _empty),
)


def validate_attributes(
    attributes: pd.DataFrame, measures: pd.DataFrame, *, checks: Sequence[Check] = CHECKS
) -> pd.DataFrame:
    """Findings of the validation checks: one row per failing parcel and check.

    Parameters
    ----------
    attributes
        Canonical attributes (:func:`~landplan.survey.schema.survey_attributes`).
    measures
        Measures of the same parcels in the same order, with ``area_m2`` and
        ``tbmj_rel_diff`` (the latter only for ``V_TBMJ_AREA``).
    checks
        The checks to run, in order; all of :data:`CHECKS` by default.

    Returns
    -------
    pandas.DataFrame
        :data:`FINDING_COLUMNS`, check by check in the order of :data:`CHECKS`;
        empty when every parcel passes.

    Examples
    --------
    >>> a = pd.DataFrame({"DLBM_BASE": ["0101", "9999"], "IS_FARMLAND": [True, False],
    ...     "GDPDJB": pd.array([2, pd.NA], dtype="Int64"), "ZZSXDM": ["LS", None],
    ...     "TBXHDM": [None, None], "KCXS": [0.05, 0.0], "TBMJ": [100.0, 50.0],
    ...     "KCMJ": [5.0, 0.0], "TBDLMJ": [95.0, 50.0], "BSM": ["1", "1"],
    ...     "ZLDWDM": ["4304210010010000000"] * 2, "COUNTY": ["430421"] * 2})
    >>> m = pd.DataFrame({"tbmj_rel_diff": [0.0, 0.0], "area_m2": [100.0, 50.0]})
    >>> validate_attributes(a, m)[["parcel", "check_id"]].values.tolist()
    [[1, 'V_DLBM_DOMAIN'], [0, 'V_BSM_DUPLICATE'], [1, 'V_BSM_DUPLICATE']]
    """
    rows = []
    for check in checks:
        failed, value = check.test(attributes, measures)
        if failed.any():
            rows.append(
                finding_rows(
                    failed,
                    attributes,
                    check_id=check.id,
                    category="属性校验",
                    severity=check.severity,
                    value=value,
                    unit=check.unit,
                    message=check.message,
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=FINDING_COLUMNS)


def blocking_findings(
    attributes: pd.DataFrame, empty: np.ndarray, *, has_dem: bool
) -> pd.DataFrame:
    """Findings of error severity: parcels whose figures cannot be trusted in a quota.

    Runs only the error-severity checks of :data:`CHECKS`.  A farmland parcel
    without a slope grade (``V_GDPDJB_DOMAIN``) blocks only when no DEM is
    given: with one, the DEM gives the slope the grade would have given.

    Parameters
    ----------
    attributes
        Canonical attributes (:func:`~landplan.survey.schema.survey_attributes`).
    empty
        Whether each parcel's geometry is missing or empty, in the same order
        (an invalid geometry is not empty: measuring repairs it).
    has_dem
        Whether a DEM gives the parcels' slope.

    Returns
    -------
    pandas.DataFrame
        :data:`FINDING_COLUMNS`; empty when no parcel fails an error check.
    """
    checks = [
        c for c in CHECKS if c.severity == "error" and not (has_dem and c.id == "V_GDPDJB_DOMAIN")
    ]
    # before measuring, an area is known only for empty geometries (0)
    measures = pd.DataFrame({"area_m2": np.where(empty, 0.0, np.nan)}, index=attributes.index)
    return validate_attributes(attributes, measures, checks=checks)


def finding_rows(
    mask: np.ndarray,
    attributes: pd.DataFrame,
    *,
    check_id: str,
    category: str,
    severity: str,
    value: np.ndarray,
    unit: str,
    message: str,
) -> pd.DataFrame:
    """Findings of one check: a row per parcel where *mask* holds, in FINDING_COLUMNS.

    Parameters
    ----------
    mask
        Whether each parcel fails, in the order of *attributes*.
    attributes
        Canonical attributes; the index gives ``parcel``, ``COUNTY`` the
        county (``BSM`` must be present too).
    check_id
        Identifier of the check.
    category
        Category of the findings (``"属性校验"`` for attribute checks).
    severity
        Severity of the findings.
    value
        Value shown for each parcel, in the order of *attributes*.
    unit
        Unit of the value, or ``""``.
    message
        What a failure means.

    Returns
    -------
    pandas.DataFrame
        One row per failing parcel, columns :data:`FINDING_COLUMNS`.
    """
    idx = np.flatnonzero(mask)
    return pd.DataFrame(
        {
            "parcel": attributes.index.to_numpy()[idx],
            "bsm": attributes["BSM"].to_numpy()[idx],
            "county": attributes["COUNTY"].to_numpy()[idx],
            "check_id": check_id,
            "category": category,
            "severity": severity,
            "value": np.asarray(value, dtype=float)[idx],
            "unit": unit,
            "message": message,
        },
        columns=FINDING_COLUMNS,
    )
