"""The registry of rule kinds: small, reviewed, tested functions.

Each kind takes the evaluation :class:`Context` and its parameters and
returns, for every parcel, whether the condition holds and the value it
measured.  Parameters carry their units in their names.  A kind may not be
evaluable (its layer or field is missing); it then says so and never fires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landplan.core.roles import get_role
from landplan.survey.grades import grade_bounds

__all__ = [
    "KINDS",
    "Context",
    "Kind",
    "Outcome",
    "Param",
    "area_below",
    "attribute_in",
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
    """

    attributes: pd.DataFrame  # canonical 三调 attributes (schema.survey_attributes)
    columns: pd.DataFrame  # the parcels' own columns, for fields outside the 三调 profile
    measures: pd.DataFrame  # measure.measure_parcels table
    has_dem: bool

    def field(self, name: str) -> pd.Series | None:
        """A field by canonical or raw name, as stripped text; None when absent.

        Parameters
        ----------
        name
            A canonical 三调 field name, or the name of one of the parcels' own
            columns (canonical names win).

        Returns
        -------
        pandas.Series or None
            The field's values as stripped ``string`` dtype, or None when
            there is no such field.
        """
        if name in self.attributes:
            values = self.attributes[name]
        elif name in self.columns:
            values = self.columns[name]
        else:
            return None
        return values.astype("string").str.strip()


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
    """

    hit: np.ndarray
    value: np.ndarray
    unit: str
    missing: str = ""  # why the rule could not be evaluated, if it could not


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


def _slope(ctx: Context) -> tuple[np.ndarray, np.ndarray, str]:
    """Slope in degrees from the DEM (NaN where unknown) and GDPDJB grades."""
    grade = ctx.attributes["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    if ctx.has_dem and "slope_mean_deg" in ctx.measures:
        return ctx.measures["slope_mean_deg"].to_numpy(dtype=float), grade, "deg"
    return np.full(len(grade), np.nan), grade, "grade"


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
    """Slope above a threshold: mean DEM slope, or the GDPDJB grade without a DEM.

    With a DEM the value is the parcel's mean slope in degrees; where the DEM
    has no data, and without a DEM, GDPDJB is used: a grade fires when every
    slope it stands for exceeds the threshold (grade 5 is > 25°, grade ≥ 4 is
    > 15°), and the value is the grade.

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
        Value in degrees (``"deg"``, the grade where the DEM has no data) with
        a DEM, else the GDPDJB grade (``"grade"``); not evaluable without a DEM
        and without any GDPDJB.
    """
    slope, grade, unit = _slope(ctx)
    floor, _ = grade_bounds(grade)
    by_grade = floor >= threshold_deg
    hit = np.where(np.isnan(slope), by_grade, slope > threshold_deg)
    value = np.where(np.isnan(slope), grade, slope) if unit == "deg" else grade
    exempt, _ = _attribute_hits(ctx, [exempt_field] if exempt_field else [], exempt_values)
    missing = "" if unit == "deg" or not np.isnan(grade).all() else "no DEM and no GDPDJB"
    return Outcome(hit & ~exempt, value, unit if unit == "grade" else "deg", missing)


@register(
    "slope_between_in_layer",
    role=Param(str, doc="constraint role"),
    above_deg=Param(_NUMBER, doc="fires when slope > above_deg ..."),
    up_to_deg=Param(_NUMBER, doc="... and slope <= up_to_deg ..."),
    min_overlap_m2=Param(_NUMBER, False, 1.0, "... and overlap with the role > this"),
)
def slope_between_in_layer(
    ctx: Context, *, role: str, above_deg: float, up_to_deg: float, min_overlap_m2: float = 1.0
) -> Outcome:
    """Slope within (above_deg, up_to_deg] inside a constraint layer; value: slope.

    Without a DEM, or where it has no data, a GDPDJB grade fires when every
    slope it stands for lies within the band.

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

    Returns
    -------
    Outcome
        Value: slope in degrees, or the GDPDJB grade where there is none; not
        evaluable (and never fires) when the layer is not given.
    """
    slope, grade, unit = _slope(ctx)
    floor, ceil = grade_bounds(grade)
    in_band = np.where(
        np.isnan(slope),
        (floor >= above_deg) & (ceil <= up_to_deg),
        (slope > above_deg) & (slope <= up_to_deg),
    )
    column = get_role(role).overlap_column
    if column not in ctx.measures:
        return Outcome(
            np.zeros(len(slope), bool),
            np.where(np.isnan(slope), grade, slope),
            unit,
            f"no {role} layer",
        )
    inside = ctx.measures[column].to_numpy(dtype=float) > min_overlap_m2
    return Outcome(in_band & inside, np.where(np.isnan(slope), grade, slope), unit)


@register(
    "overlaps_layer",
    role=Param(str, doc="constraint role"),
    min_overlap_m2=Param(_NUMBER, False, 1.0, "fires when overlap > min_overlap_m2"),
    fields=Param(_TEXTS, False, None, "parcel fields that may say so instead of a layer"),
    values=Param(_TEXTS, False, None, "values of those fields that fire the rule"),
    exempt_field=Param(str, False, None, "field whose values exempt a parcel"),
    exempt_values=Param(_TEXTS, False, None, "values of exempt_field that exempt"),
)
def overlaps_layer(
    ctx: Context,
    *,
    role: str,
    min_overlap_m2: float = 1.0,
    fields: list[str] | None = None,
    values: list[str] | None = None,
    exempt_field: str | None = None,
    exempt_values: list[str] | None = None,
) -> Outcome:
    """Overlap with a constraint layer above min_overlap_m2 (or a field saying so); value: m².

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    role
        Constraint layer role, e.g. ``"eco_redline"``.
    min_overlap_m2
        Fires when the overlap is above this, in m².
    fields
        Parcel fields that may say a parcel is in the layer instead.
    values
        Values of those fields that fire the rule.
    exempt_field
        A parcel field whose values can exempt a parcel.
    exempt_values
        Values of *exempt_field* that exempt a parcel.

    Returns
    -------
    Outcome
        Value: the overlap in m² (NaN when the layer is not given); not
        evaluable when neither the layer nor any of *fields* is there.
    """
    n = len(ctx.attributes)
    column = get_role(role).overlap_column
    by_field, absent = _attribute_hits(ctx, fields, values)
    have_layer = column in ctx.measures
    overlap = ctx.measures[column].to_numpy(dtype=float) if have_layer else np.full(n, np.nan)
    hit = (np.nan_to_num(overlap) > min_overlap_m2) | by_field
    exempt, _ = _attribute_hits(ctx, [exempt_field] if exempt_field else [], exempt_values)
    usable_fields = [f for f in (fields or []) if f not in absent]
    missing = (
        ""
        if have_layer or usable_fields
        else f"no {role} layer" + (f" and no field {', '.join(fields)}" if fields else "")
    )
    return Outcome(hit & ~exempt, overlap, "m2", missing)


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
    """Land-class area (after KCXS) below a threshold; value: m².

    Parameters
    ----------
    ctx
        What the rule is evaluated on.
    threshold_m2
        Fires when the land-class area (``dlmj_m2``) is below this, in m².

    Returns
    -------
    Outcome
        Value: the land-class area in m².
    """
    area = ctx.measures["dlmj_m2"].to_numpy(dtype=float)
    return Outcome(area < threshold_m2, area, "m2")
