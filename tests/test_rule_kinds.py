"""Rule kind ``slope_between_in_layer`` at its band edges; priority criteria, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landplan.core.roles import get_role
from landplan.rules import load_profile
from landplan.rules.criteria import SelectContext, attribute_in, in_layer, slope_grade_ascending
from landplan.rules.kinds import Context, slope_between_in_layer

ROLE = "water_source_important"
OV, OS = get_role(ROLE).overlap_column, get_role(ROLE).share_column


def context(
    *,
    slope_deg: list[float] | None = None,
    grade: list[object] | None = None,
    farmland: list[bool] | None = None,
    overlap_m2: list[float] | None = None,
    share: list[float] | None = None,
    slope_source: str = "survey",
) -> Context:
    """A Context of n parcels: DEM slopes and/or GDPDJB grades, overlap with the role."""
    n = len(slope_deg if slope_deg is not None else grade)
    attributes = pd.DataFrame(
        {
            "GDPDJB": pd.array(grade if grade is not None else [pd.NA] * n, dtype="Int64"),
            "IS_FARMLAND": farmland if farmland is not None else [True] * n,
        }
    )
    measures = pd.DataFrame(
        {
            OV: overlap_m2 if overlap_m2 is not None else [1000.0] * n,
            OS: share if share is not None else [1.0] * n,
        }
    )
    if slope_deg is not None:
        measures["slope_mean_deg"] = slope_deg
    return Context(
        attributes,
        pd.DataFrame(index=attributes.index),
        measures,
        has_dem=slope_deg is not None,
        slope_source=slope_source,
    )


def band() -> dict[str, float]:
    """The band of R_WATER_SOURCE_SLOPE_15_25 as the Hengyang profile gives it."""
    rule = next(
        r for r in load_profile("hunan-hengyang").rules if r.id == "R_WATER_SOURCE_SLOPE_15_25"
    )
    assert rule.kind == "slope_between_in_layer" and rule.params["role"] == ROLE
    return {"above_deg": rule.params["above_deg"], "up_to_deg": rule.params["up_to_deg"]}


def test_the_profile_band_is_15_to_25_degrees() -> None:
    """003 专栏 4-2 严禁划为永久基本农田储备区: 重要水源地 15-25 度的坡耕地."""
    assert band() == {"above_deg": 15.0, "up_to_deg": 25.0}


def test_dem_slopes_at_the_band_edges() -> None:
    """003 专栏 4-2: 重要水源地 15-25 度的坡耕地 — above 15°, up to and including 25°.

    At exactly 15° a parcel is still "15 度以下" (grade 3 ends at 15° inclusive), so it is
    outside the band; at exactly 25° it is not yet "25 度以上", so it is inside.
    """
    slopes = [14.9999, 15.0, 15.0001, 20.0, 24.9999, 25.0, 25.0001, 40.0, 0.0]
    ctx = context(slope_deg=slopes, farmland=[False] * len(slopes))  # the DEM decides
    out = slope_between_in_layer(ctx, role=ROLE, **band())
    assert out.hit.tolist() == [False, False, True, True, True, True, False, False, False]
    assert out.value.tolist() == slopes and out.unit == "deg"
    assert out.missing == "" and out.unevaluated is None


def test_the_band_follows_its_parameters() -> None:
    """The same kind with the band moved to (6, 15]: the edges move with it."""
    ctx = context(slope_deg=[6.0, 6.0001, 15.0, 15.0001], farmland=[False] * 4)
    out = slope_between_in_layer(ctx, role=ROLE, above_deg=6.0, up_to_deg=15.0)
    assert out.hit.tolist() == [False, True, True, False]


def test_gdpdjb_grades_fire_only_when_the_whole_grade_is_in_the_band() -> None:
    """Without a DEM: grade 4 is 15-25°, the band exactly; 3 (6-15°) and 5 (> 25°) are not.

    003 专栏 4-2: 重要水源地 15-25 度的坡耕地.
    """
    ctx = context(grade=[1, 2, 3, 4, 5, None])
    out = slope_between_in_layer(ctx, role=ROLE, **band())
    assert out.hit.tolist() == [False, False, False, True, False, False]
    assert out.unit == "grade"
    # the parcel without grade and without DEM is reported, never silently passed
    assert out.unevaluated is not None and out.unevaluated.tolist() == [False] * 5 + [True]


def test_a_grade_straddling_an_edge_does_not_fire() -> None:
    """Grade 4 is not inside (20, 25], nor inside (15, 20]: it stands for slopes on both sides."""
    ctx = context(grade=[4, 4])
    assert slope_between_in_layer(ctx, role=ROLE, above_deg=20.0, up_to_deg=25.0).hit.tolist() == [
        False,
        False,
    ]
    assert slope_between_in_layer(ctx, role=ROLE, above_deg=15.0, up_to_deg=20.0).hit.tolist() == [
        False,
        False,
    ]
    # a band covering grades 3 and 4 entirely holds both
    wide = slope_between_in_layer(
        context(grade=[3, 4, 5]), role=ROLE, above_deg=6.0, up_to_deg=25.0
    )
    assert wide.hit.tolist() == [True, True, False]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("survey", [True, False, True]),  # farmland: grade 4 decides over the DEM's 30°
        ("dem", [False, False, True]),  # farmland: the DEM's 30° decides over grade 4
    ],
)
def test_which_slope_decides_on_farmland(source: str, expected: list[bool]) -> None:
    ctx = context(
        slope_deg=[30.0, 30.0, 20.0],
        grade=[4, 4, None],  # parcel 2 has no grade: the DEM decides whatever the source
        farmland=[True, False, True],  # parcel 1 is not farmland: the DEM always decides
        slope_source=source,
    )
    assert slope_between_in_layer(ctx, role=ROLE, **band()).hit.tolist() == expected


def test_dem_gaps_fall_back_on_the_grade() -> None:
    ctx = context(slope_deg=[np.nan, np.nan, 20.0], grade=[4, 3, None], farmland=[True] * 3)
    out = slope_between_in_layer(ctx, role=ROLE, **band())
    assert out.hit.tolist() == [True, False, True]
    assert out.unevaluated is None


def test_the_parcel_must_be_in_the_layer() -> None:
    """重要水源地: only parcels overlapping the important water-source layer by more than 1 m²."""
    ctx = context(
        slope_deg=[20.0] * 5,
        farmland=[False] * 5,
        overlap_m2=[0.0, 1.0, 1.0001, 500.0, np.nan],
        share=[0.0, 0.001, 0.001, 0.5, np.nan],
    )
    out = slope_between_in_layer(ctx, role=ROLE, min_overlap_m2=1.0, **band())
    assert out.hit.tolist() == [False, False, True, True, False]
    shared = slope_between_in_layer(ctx, role=ROLE, min_overlap_m2=1.0, min_share=0.5, **band())
    assert shared.hit.tolist() == [False, False, False, True, False]


def test_without_the_layer_the_rule_is_not_evaluable() -> None:
    ctx = context(slope_deg=[20.0, 20.0], farmland=[False, False])
    bare = Context(ctx.attributes, ctx.columns, ctx.measures.drop(columns=[OV, OS]), has_dem=True)
    out = slope_between_in_layer(bare, role=ROLE, **band())
    assert out.hit.tolist() == [False, False]
    assert ROLE in out.missing


def test_in_layer_puts_parcels_covered_by_at_least_min_share_first() -> None:
    """专栏 8-1 (2): 优先整治 2017 年划定的永久基本农田地块 — covered (share >= 0.5) first."""
    ctx = context(slope_deg=[0.0] * 5, share=[0.0, 0.49, 0.5, 1.0, np.nan])
    key = in_layer(SelectContext(ctx), role=ROLE, min_share=0.5)
    # an unknown share counts as not covered, as it does for the rules
    assert key.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]
    bare = Context(ctx.attributes, ctx.columns, ctx.measures.drop(columns=[OV, OS]), has_dem=True)
    assert in_layer(SelectContext(bare), role=ROLE).tolist() == [0.0] * 5  # no layer: no order


def test_attribute_in_puts_parcels_holding_a_value_in_any_field_first() -> None:
    attributes = pd.DataFrame({"ZZSXDM": [" JKHF", "GCHF", "", None], "IS_FARMLAND": False})
    columns = pd.DataFrame({"MARK": ["", "", "yes", "no"]})
    ctx = SelectContext(Context(attributes, columns, pd.DataFrame(index=attributes.index), False))
    key = attribute_in(ctx, fields=["ZZSXDM", "MARK", "ABSENT"], values=["JKHF", "yes"])
    assert key.tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("survey", [2.0, 4.0, 3.0, np.inf, 4.0]),  # farmland with a grade: GDPDJB decides
        ("dem", [4.0, 4.0, 3.0, np.inf, 4.0]),  # the DEM's grade decides where it has one
    ],
)
def test_slope_grade_ascending_chooses_the_grade_as_the_slope_rules_do(
    source: str, expected: list[float]
) -> None:
    attributes = pd.DataFrame(
        {
            "GDPDJB": pd.array([2, 2, None, None, 4], dtype="Int64"),
            "IS_FARMLAND": [True, False, True, True, True],  # parcel 1: the DEM always decides
        }
    )
    measures = pd.DataFrame({"slope_grade": [4.0, 4.0, 3.0, np.nan, np.nan]})
    ctx = Context(attributes, pd.DataFrame(index=attributes.index), measures, True, source)
    assert slope_grade_ascending(SelectContext(ctx)).tolist() == expected
