"""Priority criteria (专栏 4-1, 4-2, 8-1): the sort keys a profile's priorities name.

Each criterion is a small registered function giving a sort key per parcel,
lower first.  Profiles refer to criteria by name; :mod:`landplan.rules.check`
checks those names and parameters against this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from landplan.measure.parcels import layer_share
from landplan.rules.kinds import Context, Param, _attribute_hits
from landplan.survey.schema import per_value

__all__ = [
    "CRITERIA",
    "Criterion",
    "SelectContext",
    "adjacent_to_class",
    "area_descending",
    "attribute_ascending",
    "attribute_in",
    "block_area_descending",
    "criterion",
    "in_layer",
    "slope_grade_ascending",
]


@dataclass(frozen=True)
class SelectContext:
    """What priority criteria can look at.

    Attributes
    ----------
    rules
        The rules' evaluation context: attributes, columns and measures of each parcel.
    adjacent_to
        Given a class code, a boolean mask of the parcels touching a parcel of
        that class (as classes stand when it is called); by default an empty
        array, meaning adjacency is unknown.
    """

    rules: Context
    adjacent_to: Callable[[str], np.ndarray] = field(default=lambda cls: np.array([]))


@dataclass(frozen=True)
class Criterion:
    """A registered priority criterion.

    Attributes
    ----------
    name
        The name profiles refer to it by.
    func
        The function: ``func(ctx, **params)`` gives a sort key per parcel.
    params
        Its declared parameters by name.
    """

    name: str
    func: Callable[..., np.ndarray]
    params: Mapping[str, Param]


CRITERIA: dict[str, Criterion] = {}


def criterion(
    name: str, **params: Param
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register a priority criterion: a function returning a sort key per parcel (lower first).

    Parameters
    ----------
    name
        The name profiles refer to the criterion by.
    **params
        Its parameters, each declared with its type, whether it is required and
        its default.

    Returns
    -------
    Callable
        A decorator that adds the function to :data:`CRITERIA` and returns it unchanged.
    """

    def wrap(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        """Add *func* to :data:`CRITERIA` under the criterion's name.

        Parameters
        ----------
        func
            The criterion: ``func(ctx, **params)`` gives a sort key per parcel.

        Returns
        -------
        Callable
            *func* itself.
        """
        CRITERIA[name] = Criterion(name, func, params)
        return func

    return wrap


@criterion("in_layer", role=Param(str), min_share=Param((int, float), False, 0.5))
def in_layer(ctx: SelectContext, *, role: str, min_share: float = 0.5) -> np.ndarray:
    """Parcels covered by a constraint layer (share ≥ min_share) first.

    Parameters
    ----------
    ctx
        What the criterion looks at.
    role
        Constraint layer role, e.g. ``"eco_redline"``.
    min_share
        Share of the parcel's area (0-1) the layer must cover.

    Returns
    -------
    numpy.ndarray
        0 for covered parcels, 1 for the others; all 0 when the layer is not given.
    """
    share = layer_share(ctx.rules.measures, role)
    if share is None:
        return np.zeros(len(ctx.rules.measures))
    return (share < min_share).astype(float)


@criterion("attribute_in", fields=Param(list), values=Param(list))
def attribute_in(ctx: SelectContext, *, fields: list[str], values: list[str]) -> np.ndarray:
    """Parcels whose fields hold one of the values first.

    Parameters
    ----------
    ctx
        What the criterion looks at.
    fields
        Parcel fields, canonical 三调 names or the layer's own; absent ones are skipped.
    values
        Values (compared as stripped text) that put a parcel first.

    Returns
    -------
    numpy.ndarray
        0 for parcels where any of the fields holds one of the values, 1 for the others.
    """
    hit, _ = _attribute_hits(ctx.rules, fields, values)
    return (~hit).astype(float)


@criterion("attribute_ascending", field=Param(str))
def attribute_ascending(ctx: SelectContext, *, field: str) -> np.ndarray:
    """Smaller values of a numeric field first (e.g. GDDB: better grade first); missing last.

    Parameters
    ----------
    ctx
        What the criterion looks at.
    field
        A numeric parcel field, canonical 三调 name or the layer's own.

    Returns
    -------
    numpy.ndarray
        The field's values, infinity where missing or not a number; all 0 when
        the field is absent.
    """
    column = ctx.rules.field(field, as_text=False)
    if column is None:
        return np.zeros(len(ctx.rules.attributes))
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)  # typed already: nothing to parse
    else:
        parsed = per_value(
            column, lambda v: pd.to_numeric(v.astype("string").str.strip(), errors="coerce")
        )
        values = parsed.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), np.inf, values)


@criterion("slope_grade_ascending")
def slope_grade_ascending(ctx: SelectContext) -> np.ndarray:
    """Lower slope grade first, the grade chosen as the slope rules choose it.

    Parameters
    ----------
    ctx
        What the criterion looks at.

    Returns
    -------
    numpy.ndarray
        Slope grade (1-5) per parcel: GDPDJB on farmland (the profile's
        ``farmland_slope_source`` = ``"survey"``), else the DEM's where it has
        one, else GDPDJB; infinity where neither is known.
    """
    rules = ctx.rules
    grade = rules.attributes["GDPDJB"].to_numpy(dtype=float, na_value=np.nan)
    if rules.has_dem and "slope_grade" in rules.measures:
        dem = rules.measures["slope_grade"].to_numpy(dtype=float, na_value=np.nan)
        grade = np.where(rules.survey_grade_decides(~np.isnan(dem)), grade, dem)
    return np.where(np.isnan(grade), np.inf, grade)


@criterion("area_descending")
def area_descending(ctx: SelectContext) -> np.ndarray:
    """Larger parcels first (large contiguous blocks).

    Parameters
    ----------
    ctx
        What the criterion looks at.

    Returns
    -------
    numpy.ndarray
        Minus the land-class area (``dlmj_m2``, m²) of each parcel.
    """
    return -ctx.rules.measures["dlmj_m2"].to_numpy(dtype=float)


@criterion("block_area_descending")
def block_area_descending(ctx: SelectContext) -> np.ndarray:
    """Parcels of larger contiguous farmland blocks first (集中连片, 大面积).

    Parameters
    ----------
    ctx
        What the criterion looks at.

    Returns
    -------
    numpy.ndarray
        Minus the farmland area (m²) of each parcel's block (``block_m2``,
        :mod:`landplan.measure.blocks`); 0 for parcels in no block.
    """
    if "block_m2" not in ctx.rules.measures:
        return np.zeros(len(ctx.rules.measures))
    return -np.nan_to_num(ctx.rules.measures["block_m2"].to_numpy(dtype=float))


@criterion("adjacent_to_class", lp_class=Param(str))
def adjacent_to_class(ctx: SelectContext, *, lp_class: str) -> np.ndarray:
    """Parcels touching a parcel already given the class first (e.g. next to PBF).

    Parameters
    ----------
    ctx
        What the criterion looks at.
    lp_class
        Class code, e.g. ``"PBF"``.

    Returns
    -------
    numpy.ndarray
        0 for parcels touching a parcel of class *lp_class*, 1 for the others;
        all 0 when adjacency is unknown.
    """
    touching = ctx.adjacent_to(lp_class)
    if not len(touching):
        return np.zeros(len(ctx.rules.attributes))
    return (~touching).astype(float)
