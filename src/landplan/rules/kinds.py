"""The registry of rule kinds: small, reviewed, tested functions.

Each kind takes the evaluation :class:`Context` and its parameters and
returns, for every parcel, whether the condition holds and the value it
measured.  Parameters carry their units in their names.  A kind may not be
evaluable (its layer or field is missing); it then says so and never fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landplan.core.roles import get_role
from landplan.measure.parcels import layer_share
from landplan.survey.grades import grade_bounds

__all__ = [
    "KINDS",
    "Context",
    "Kind",
    "Outcome",
    "Param",
    "area_below",
    "attribute_in",
    "joined_units",
    "overlaps_layer",
    "register",
    "slope_above",
    "slope_between_in_layer",
]


@dataclass(frozen=True)
class Context:
    """What rules are evaluated on: attributes, raw columns and measures of each parcel.

    Attributes
    ----------
    attributes
        Canonical 三调 attributes
        (:func:`~landplan.survey.schema.survey_attributes`).
    columns
        The parcels' own columns, for fields outside the 三调 schema.
    measures
        The :func:`~landplan.measure.parcels.measure_parcels` table.
    has_dem
        Whether slope was measured from a DEM.
    slope_source
        What decides a farmland parcel's slope where both are known:
        ``"survey"``, the GDPDJB grade (as the plans' statistics do), or
        ``"dem"``, the DEM's mean slope.  Either falls back on the other where
        it is unknown; on other land the DEM decides.
    """

    attributes: pd.DataFrame  # canonical 三调 attributes (schema.survey_attributes)
    columns: pd.DataFrame  # the parcels' own columns, for fields outside the 三调 profile
    measures: pd.DataFrame  # measure.measure_parcels table
    has_dem: bool
    slope_source: str = "survey"

    def survey_grade_decides(self, dem_known: np.ndarray) -> np.ndarray:
        """Where the survey's GDPDJB grade, not the DEM, gives a parcel's slope.

        Where the parcel has a grade and the DEM gives it no slope, or it is
        farmland and ``slope_source`` is ``"survey"``.  The slope rules and the
        slope-grade priority both choose by it.

        Parameters
        ----------
        dem_known
            Boolean per parcel: whether the DEM gives its slope.

        Returns
        -------
        numpy.ndarray
            Boolean per parcel.
        """
        has_grade = self.attributes["GDPDJB"].notna().to_numpy(dtype=bool)
        farmland = self.attributes["IS_FARMLAND"].to_numpy(dtype=bool)
        return has_grade & (~dem_known | ((self.slope_source == "survey") & farmland))

    def field(self, name: str, *, as_text: bool = True) -> pd.Series | None:
        """A field by canonical or raw name, as stripped text; None when absent.

        Parameters
        ----------
        name
            A canonical 三调 field name, or the name of one of the parcels' own
            columns (canonical names win).
        as_text
            False to have the values as they are held (canonical fields typed,
            :func:`~landplan.survey.schema.survey_attributes`).

        Returns
        -------
        pandas.Series or None
            The field's values as stripped ``string`` dtype (or as held), or
            None when there is no such field.
        """
        if name in self.attributes:
            values = self.attributes[name]
        elif name in self.columns:
            values = self.columns[name]
        else:
            return None
        return values.astype("string").str.strip() if as_text else values


@dataclass(frozen=True)
class Outcome:
    """Result of one kind for every parcel.

    Attributes
    ----------
    hit
        Whether the condition holds, a boolean per parcel.
    value
        What was measured, a float per parcel (in *unit*).
    unit
        Unit of *value*, e.g. ``"deg"``, ``"grade"``, ``"m2"`` or ``"flag"``.
    missing
        Why the rule could not be evaluated; empty when it could.
    unevaluated
        Parcels on which it could not be evaluated although it could on
        others (no DEM value and no GDPDJB ...), with *missing_on* saying why;
        None when there are none.  Given with *missing* too when what is
        missing is the parcels' own data (no parcel has a slope): other
        parcels, run apart, may have it.
    missing_on
        Why it could not be evaluated on the *unevaluated* parcels.
    value_column
        The column of ``ctx.measures`` that *value* is, unchanged, if it is one:
        the evidence then reads the values there instead of keeping them twice.
    """

    hit: np.ndarray
    value: np.ndarray
    unit: str
    missing: str = ""  # why the rule could not be evaluated, if it could not
    unevaluated: np.ndarray | None = None
    missing_on: str = ""
    value_column: str = ""


@dataclass(frozen=True)
class Param:
    """A declared parameter of a kind (or of a priority criterion).

    Attributes
    ----------
    type
        Type, or tuple of types, a given value must have.
    required
        Whether a profile must give it.
    default
        Value used when it is not required and not given.
    doc
        What it means, for messages.
    """

    type: type | tuple[type, ...]
    required: bool = True
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    """A registered rule kind.

    Attributes
    ----------
    name
        The name profiles refer to it by.
    func
        The function: ``func(ctx, **params)`` gives an :class:`Outcome`.
    params
        Its declared parameters by name.
    doc
        The first line of the function's docstring.
    """

    name: str
    func: Callable[..., Outcome]
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""


KINDS: dict[str, Kind] = {}
_NUMBER = (int, float)
_TEXTS = (list,)


def register(
    name: str, **params: Param
) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Register a rule kind under *name* with its declared parameters.

    Parameters
    ----------
    name
        The name profiles refer to the kind by.
    **params
        Its parameters, each declared with its type, whether it is required,
        its default and what it means.

    Returns
    -------
    Callable
        A decorator that adds the function to :data:`KINDS` and returns it unchanged.
    """

    def wrap(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
        """Add *func* to :data:`KINDS` under the kind's name.

        Parameters
        ----------
        func
            The kind: ``func(ctx, **params)`` gives an :class:`Outcome`; the first
            line of its docstring describes it.

        Returns
        -------
        Callable
            *func* itself.
        """
        KINDS[name] = Kind(name, func, params, (func.__doc__ or "").strip().splitlines()[0])
        return func

    return wrap


def _attribute_hits(
    ctx: Context, fields: list[str] | None, values: list[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Parcels where any of *fields* holds one of *values*; and the fields that are absent."""
    n = len(ctx.attributes)
    hit = np.zeros(n, dtype=bool)
    absent = []
    for name in fields or []:
        column = ctx.field(name)
        if column is None:
            absent.append(name)
            continue
        hit |= column.isin([str(v) for v in values or []]).fillna(False).to_numpy(dtype=bool)
    return hit, absent


def _slope(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope of every parcel as the band it is known to lie in, and which parcels have none.

    Returns the lower and upper bound in degrees (equal for a DEM slope, the
    grade's bounds for GDPDJB, NaN where neither is known) and the value shown
    (degrees or grade).  ``ctx.slope_source`` says which wins on farmland where
    both exist; elsewhere the DEM wins (the survey fills GDPDJB on farmland only).
    """
    grade = ctx.attributes["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    dem = (
        ctx.measures["slope_mean_deg"].to_numpy(dtype=float)
        if ctx.has_dem and "slope_mean_deg" in ctx.measures
        else np.full(len(grade), np.nan)
    )
    floor, ceil = grade_bounds(grade)
    use_grade = ctx.survey_grade_decides(~np.isnan(dem))
    low = np.where(use_grade, floor, dem)
    high = np.where(use_grade, ceil, dem)
    return low, high, use_grade


def joined_units(units: Iterable[str]) -> str:
    """One unit for values that mix several: each once, sorted, ``or``-joined.

    Units already joined are split first, so the units of several counties'
    values join as one run's would.

    Parameters
    ----------
    units
        Units, each plain (``"deg"``) or already joined (``"deg or grade"``).

    Returns
    -------
    str
        The joined unit.

    Examples
    --------
    >>> joined_units(["grade", "deg"]), joined_units(["deg or grade", "deg"])
    ('deg or grade', 'deg or grade')
    """
    return " or ".join(sorted({u for unit in units for u in unit.split(" or ")}))


def _slope_value(ctx: Context, use_grade: np.ndarray) -> tuple[np.ndarray, str]:
    """The slope value shown for each parcel, and its unit."""
    grade = ctx.attributes["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    have_dem = "slope_mean_deg" in ctx.measures
    dem = (
        ctx.measures["slope_mean_deg"].to_numpy(dtype=float)
        if have_dem
        else np.full(len(grade), np.nan)
    )
    if use_grade.all() or not have_dem:  # without a DEM, a grade or nothing: the unit is grade
        return grade, "grade"
    if not use_grade.any():
        return dem, "deg"
    return np.where(use_grade, grade, dem), joined_units(["deg", "grade"])


def _slope_outcome(
    ctx: Context, hit: np.ndarray, low: np.ndarray, use_grade: np.ndarray
) -> Outcome:
    """Outcome of a slope rule: parcels with no known slope are reported, never passed silently.

    When no parcel has a slope the rule is not evaluable, and the parcels are
    still given as unevaluated: where these parcels are a county's, the other
    counties may have judged the rule.
    """
    value, unit = _slope_value(ctx, use_grade)
    unknown = np.isnan(low)
    return Outcome(
        hit & ~unknown,
        value,
        unit,
        "no DEM and no GDPDJB" if unknown.all() else "",
        unevaluated=unknown if unknown.any() else None,
        missing_on="no DEM slope and no GDPDJB",
    )


@register(
    "slope_above",
    threshold_deg=Param(_NUMBER, doc="fires when slope > threshold_deg"),
    exempt_field=Param(str, False, None, "field whose values exempt a parcel, e.g. GDLX"),
    exempt_values=Param(_TEXTS, False, None, "values of exempt_field that exempt, e.g. [TT]"),
)
def slope_above(
    ctx: Context,
    *,
    threshold_deg: float,
    exempt_field: str | None = None,
    exempt_values: list[str] | None = None,
) -> Outcome:
    """Slope above a threshold: the GDPDJB grade or the parcel's mean DEM slope.

    Which decides where both are known is the profile's
    ``farmland_slope_source`` (``ctx.slope_source``); each falls back on the
    other.  A grade fires when every slope it stands for exceeds the threshold
    (grade 5 is > 25°, grade ≥ 4 is > 15°).  Parcels with neither are reported
    as not evaluated, never silently passed.

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    threshold_deg
        Fires when the slope is above this, in degrees.
    exempt_field
        A parcel field whose values can exempt a parcel, e.g. ``GDLX``.
    exempt_values
        Values of *exempt_field* that exempt a parcel, e.g. ``["TT"]``.

    Returns
    -------
    Outcome
        Value: the slope in degrees or the grade, whichever decided; parcels
        with neither are flagged as unevaluated.
    """
    low, _, use_grade = _slope(ctx)
    exempt, _ = _attribute_hits(ctx, [exempt_field] if exempt_field else [], exempt_values)
    # a grade fires when every slope it stands for is above the threshold
    over = np.where(use_grade, low >= threshold_deg, low > threshold_deg)
    return _slope_outcome(ctx, over & ~exempt, low, use_grade)


@register(
    "slope_between_in_layer",
    role=Param(str, doc="constraint role"),
    above_deg=Param(_NUMBER, doc="fires when slope > above_deg ..."),
    up_to_deg=Param(_NUMBER, doc="... and slope <= up_to_deg ..."),
    min_overlap_m2=Param(_NUMBER, False, 1.0, "... and overlap with the role > this"),
    min_share=Param(_NUMBER, False, 0.0, "... and overlap share of the parcel >= this (0-1)"),
)
def slope_between_in_layer(
    ctx: Context,
    *,
    role: str,
    above_deg: float,
    up_to_deg: float,
    min_overlap_m2: float = 1.0,
    min_share: float = 0.0,
) -> Outcome:
    """Slope within (above_deg, up_to_deg] inside a constraint layer; value: slope.

    Slope as for :func:`slope_above`; a GDPDJB grade fires when every slope it
    stands for lies within the band.

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    role
        Constraint layer role, e.g. ``"eco_redline"``.
    above_deg
        Lower end of the band (exclusive), in degrees.
    up_to_deg
        Upper end of the band (inclusive), in degrees.
    min_overlap_m2
        Fires only for parcels overlapping the layer by more than this, in m².
    min_share
        ... and by at least this share of the parcel's area (0-1).

    Returns
    -------
    Outcome
        Value: slope in degrees or the GDPDJB grade, whichever decided; not
        evaluable (and never fires) when the layer is not given.
    """
    low, high, use_grade = _slope(ctx)
    in_band = np.where(
        use_grade,
        (low >= above_deg) & (high <= up_to_deg),
        (low > above_deg) & (low <= up_to_deg),
    )
    inside, missing = _in_layers(ctx, [role], min_overlap_m2, min_share)
    if missing:
        value, unit = _slope_value(ctx, use_grade)
        return Outcome(np.zeros(len(low), bool), value, unit, missing)
    return _slope_outcome(ctx, in_band & inside, low, use_grade)


def _in_layers(
    ctx: Context, roles: list[str], min_overlap_m2: float, min_share: float
) -> tuple[np.ndarray, str]:
    """Parcels overlapping any of *roles* by more than the area and at least the share.

    Returns the mask and, when none of the layers was given, why not.
    """
    inside = np.zeros(len(ctx.attributes), dtype=bool)
    given = False
    for name in roles:
        share = layer_share(ctx.measures, name)
        if share is None:
            continue
        given = True
        overlap = np.nan_to_num(ctx.measures[get_role(name).overlap_column].to_numpy(dtype=float))
        inside |= (overlap > min_overlap_m2) & (share >= min_share)
    return inside, "" if given else f"no {' or '.join(roles)} layer"


@register(
    "overlaps_layer",
    role=Param((str, list), doc="constraint role, or a list of roles (any of them)"),
    min_overlap_m2=Param(_NUMBER, False, 1.0, "fires when overlap > min_overlap_m2 ..."),
    min_share=Param(_NUMBER, False, 0.0, "... and overlap share of the parcel >= min_share"),
    fields=Param(_TEXTS, False, None, "parcel fields that may say so instead of a layer"),
    values=Param(_TEXTS, False, None, "values of those fields that fire the rule"),
    exempt_field=Param(str, False, None, "field whose values exempt a parcel"),
    exempt_values=Param(_TEXTS, False, None, "values of exempt_field that exempt"),
    exempt_role=Param(str, False, None, "role whose layer exempts the parcels it covers"),
    exempt_min_share=Param(_NUMBER, False, 0.5, "share of a parcel exempt_role must cover"),
)
def overlaps_layer(
    ctx: Context,
    *,
    role: str | list[str],
    min_overlap_m2: float = 1.0,
    min_share: float = 0.0,
    fields: list[str] | None = None,
    values: list[str] | None = None,
    exempt_field: str | None = None,
    exempt_values: list[str] | None = None,
    exempt_role: str | None = None,
    exempt_min_share: float = 0.5,
) -> Outcome:
    """Overlap with a constraint layer (or a field saying so); value: the overlap in m².

    The overlap is the measured one, in which strips thinner than the
    profile's ``position_tolerance_m`` do not count.

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    role
        Constraint layer role, e.g. ``"eco_redline"``, or a list of roles: the
        rule fires for a parcel in any of them.
    min_overlap_m2
        Fires when the overlap is above this, in m² ...
    min_share
        ... and at least this share (0-1) of the parcel's area.
    fields
        Parcel fields that may say a parcel is in the layer instead.
    values
        Values of those fields that fire the rule.
    exempt_field
        A parcel field whose values can exempt a parcel.
    exempt_values
        Values of *exempt_field* that exempt a parcel.
    exempt_role
        A role whose layer exempts the parcels it covers (e.g. ``farmland_2009``:
        farmland in the previous survey as well).
    exempt_min_share
        Share (0-1) of a parcel *exempt_role* must cover to exempt it.

    Returns
    -------
    Outcome
        Value: the largest overlap in m² with any of the roles (NaN when no
        layer is given); not evaluable when neither a layer nor any of *fields*
        is there; parcels that *exempt_role* could exempt are flagged as not
        evaluated when its layer is not given.
    """
    n = len(ctx.attributes)
    roles = [role] if isinstance(role, str) else list(role)
    by_field, absent = _attribute_hits(ctx, fields, values)
    inside, no_layer = _in_layers(ctx, roles, min_overlap_m2, min_share)
    columns = [
        get_role(r).overlap_column for r in roles if get_role(r).overlap_column in ctx.measures
    ]
    overlap = ctx.measures[columns].max(axis=1).to_numpy(float) if columns else np.full(n, np.nan)
    hit = inside | by_field
    exempt, _ = _attribute_hits(ctx, [exempt_field] if exempt_field else [], exempt_values)
    unevaluated = None
    if exempt_role is not None:
        covered, no_exempt = _in_layers(ctx, [exempt_role], 0.0, exempt_min_share)
        exempt |= covered
        if no_exempt and hit.any():
            unevaluated = hit.copy()
    usable_fields = [f for f in (fields or []) if f not in absent]
    missing = (
        ""
        if not no_layer or usable_fields
        else no_layer + (f" and no field {', '.join(fields)}" if fields else "")
    )
    return Outcome(
        hit & ~exempt,
        overlap,
        "m2",
        missing,
        unevaluated=unevaluated,
        missing_on=f"exemption not checked: no {exempt_role} layer"
        if unevaluated is not None
        else "",
        value_column=columns[0] if len(columns) == 1 else "",
    )


@register(
    "attribute_in",
    fields=Param(_TEXTS, doc="parcel fields (canonical 三调 names or the layer's own)"),
    values=Param(_TEXTS, doc="values that fire the rule"),
)
def attribute_in(ctx: Context, *, fields: list[str], values: list[str]) -> Outcome:
    """Any of the fields holds one of the values; value: 1 or 0.

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    fields
        Parcel fields, canonical 三调 names or the layer's own.
    values
        Values (compared as stripped text) that fire the rule.

    Returns
    -------
    Outcome
        Value: 1 where the rule fires, else 0 (``"flag"``); not evaluable when
        none of the fields is there.
    """
    hit, absent = _attribute_hits(ctx, fields, values)
    missing = f"no field {', '.join(absent)}" if len(absent) == len(fields) else ""
    return Outcome(hit, hit.astype(float), "flag", missing)


@register(
    "area_below",
    threshold_m2=Param(_NUMBER, doc="fires when the land-class area < threshold_m2"),
)
def area_below(ctx: Context, *, threshold_m2: float) -> Outcome:
    """Land-class area (after KCXS) of the survey parcel below a threshold; value: m².

    In split mode the survey parcel's area (``parcel_dlmj_m2``) is judged, never
    a piece's: a piece is small only because the parcel was split.

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    threshold_m2
        Fires when the survey parcel's land-class area is below this, in m².

    Returns
    -------
    Outcome
        Value: the land-class area in m².
    """
    column = "parcel_dlmj_m2" if "parcel_dlmj_m2" in ctx.measures else "dlmj_m2"
    area = ctx.measures[column].to_numpy(dtype=float)
    return Outcome(area < threshold_m2, area, "m2")
