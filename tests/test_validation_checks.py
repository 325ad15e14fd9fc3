"""Attribute checks by hand: exactly which parcels each check flags, at its boundaries.

Each test builds a small GeoDataFrame, reads it as landplan reads any parcel
layer (:func:`~landplan.survey.schema.survey_attributes`, measured by
:func:`~landplan.measure.parcels.measure_parcels`) and runs one check of
:data:`~landplan.survey.validate.CHECKS`; the expected parcels are worked out by
hand from the 三调 domains.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from landplan.api import classify
from landplan.core.errors import InvalidParcelsError, SchemaError
from landplan.measure.parcels import measure_parcels
from landplan.survey.schema import survey_attributes
from landplan.survey.validate import CHECKS, blocking_findings, validate_attributes

from .conftest import square_parcels

X0, Y0 = 500_000.0, 3_000_000.0


def flagged(parcels: gpd.GeoDataFrame, check_id: str) -> pd.DataFrame:
    """Findings of one check on *parcels*, read and measured as landplan does."""
    (check,) = [c for c in CHECKS if c.id == check_id]
    attrs = survey_attributes(parcels)
    return validate_attributes(
        attrs, measure_parcels(parcels, attributes=attrs).table, checks=[check]
    )


def codes(county: str, n: int) -> list[str]:
    return [f"{county}0010010000000"] * n


# ---------------------------------------------------------------- V_ZLDWDM_COUNTY


def test_zldwdm_county_flags_prefixes_that_are_no_county_code() -> None:
    zldwdm = [
        "4304210010010000000",  # 0 衡阳县: a county code
        "4304000010010000000",  # 1 430400 is the city of 衡阳, not a county (county part 00)
        "9904210010010000000",  # 2 province 99 does not exist
        "4304A10010010000000",  # 3 not digits
        "1101010010010000000",  # 4 北京 东城区 (province 11, the first): a county code
        "8200010010010000000",  # 5 澳门 (province 82, the last): a county code
        "4604210010010000000",  # 6 province 46 (海南, the last of the 4x): a county code
        "4704210010010000000",  # 7 province 47 does not exist
    ]
    found = flagged(square_parcels(8, 1, ZLDWDM=zldwdm), "V_ZLDWDM_COUNTY")
    # a file of eight counties has no majority county, so only malformed prefixes count
    assert found["parcel"].tolist() == [1, 2, 3, 7]
    assert set(found["severity"]) == {"warning"}
    assert found["bsm"].tolist() == [f"43042100{i:08d}" for i in (1, 2, 3, 7)]


@pytest.mark.parametrize(
    ("n_home", "n_other", "expected"),
    [
        (9, 1, [9]),  # 90 %: the file is 430421's, the one parcel of 430422 is foreign
        (19, 1, [19]),  # 95 %
        (8, 2, []),  # 80 %: no county holds 90 %, so no county is foreign
        (1, 1, []),  # two counties, half each
    ],
)
def test_zldwdm_county_flags_another_county_in_a_one_county_file(
    n_home: int, n_other: int, expected: list[int]
) -> None:
    """A county delivers its own file (003 专栏 4-3 核实 by county); ≥ 90 % decides whose."""
    n = n_home + n_other
    parcels = square_parcels(n, 1, ZLDWDM=codes("430421", n_home) + codes("430422", n_other))
    assert flagged(parcels, "V_ZLDWDM_COUNTY")["parcel"].tolist() == expected


# ---------------------------------------------------------------- V_TBXHDM_DOMAIN


def test_tbxhdm_domain() -> None:
    tbxhdm = [
        "",  # 0 no refinement: allowed
        None,  # 1 missing: allowed
        "HDGD",  # 2 河道耕地
        " SMGD ",  # 3 石漠化耕地, padded: stripped
        "HHGD",  # 4 the other spelling of 沙化耕地 (SHGD)
        "LJTM",  # 5 the last code of the domain
        "XXXX",  # 6 not a refinement code
        "HDG",  # 7 cut short
        "0",  # 8 a number
    ]
    found = flagged(square_parcels(9, 1, TBXHDM=tbxhdm), "V_TBXHDM_DOMAIN")
    assert found["parcel"].tolist() == [6, 7, 8]
    assert set(found["severity"]) == {"warning"}


# ---------------------------------------------------------------- V_KCXS_RANGE


def test_kcxs_range_is_zero_inclusive_one_exclusive() -> None:
    """KCXS is a fraction of the parcel in [0, 1); the README's 8-for-0.08 typo is caught."""
    kcxs = [0.0, 0.9999, 1.0, -0.01, 0.08, 8.0, None, 1.0001, -0.0]
    found = flagged(square_parcels(9, 1, KCXS=kcxs), "V_KCXS_RANGE")
    assert found["parcel"].tolist() == [2, 3, 5, 7]
    assert found["value"].tolist() == [1.0, -0.01, 8.0, 1.0001]  # the value found is shown
    assert set(found["severity"]) == {"error"}


def test_kcxs_as_text_is_read_as_a_number() -> None:
    found = flagged(square_parcels(3, 1, KCXS=["0.05", "1", " 0.9999 "]), "V_KCXS_RANGE")
    assert found["parcel"].tolist() == [1]


def test_kcxs_out_of_range_stops_classify_naming_the_parcel() -> None:
    parcels = square_parcels(3, 1, KCXS=[0.0, 8.0, 0.9999])
    with pytest.raises(InvalidParcelsError) as stopped:
        classify(parcels)
    (problem,) = stopped.value.problems
    assert problem.code == "V_KCXS_RANGE"
    (name,) = problem.parcels  # named by BSM, with the value found
    assert "BSM 4304210000000001" in name and "value 8" in name


# ---------------------------------------------------------------- V_GEOMETRY_EMPTY


def test_geometry_empty_flags_missing_and_empty_geometries_only() -> None:
    parcels = square_parcels(6, 1)
    parcels.loc[1, "geometry"] = None
    parcels.loc[2, "geometry"] = Polygon()
    parcels.loc[3, "geometry"] = Polygon(  # bow-tie: invalid but repaired, 2 × 25 m²
        [(X0 + 300, Y0), (X0 + 310, Y0 + 10), (X0 + 310, Y0), (X0 + 300, Y0 + 10)]
    )
    parcels.loc[4, "geometry"] = box(X0 + 400, Y0, X0 + 400.01, Y0 + 0.01)  # 1 cm², not empty
    found = flagged(parcels, "V_GEOMETRY_EMPTY")
    assert found["parcel"].tolist() == [1, 2]
    assert found["value"].tolist() == [0.0, 0.0]
    assert set(found["severity"]) == {"error"}


def test_geometry_empty_blocks_before_measuring() -> None:
    parcels = square_parcels(4, 1)
    parcels.loc[0, "geometry"] = None
    parcels.loc[3, "geometry"] = Polygon()
    geoms = parcels.geometry
    empty = (geoms.isna() | geoms.is_empty).to_numpy()
    found = blocking_findings(survey_attributes(parcels), empty, has_dem=False)
    assert found[["parcel", "check_id"]].values.tolist() == [
        [0, "V_GEOMETRY_EMPTY"],
        [3, "V_GEOMETRY_EMPTY"],
    ]


def test_a_collapsed_polygon_is_flagged_as_having_no_area() -> None:
    """Three collinear points: a polygon with no area, which repair turns into nothing."""
    parcels = square_parcels(3, 1)
    parcels.loc[1, "geometry"] = Polygon([(X0 + 100, Y0), (X0 + 150, Y0), (X0 + 200, Y0)])
    assert flagged(parcels, "V_GEOMETRY_EMPTY")["parcel"].tolist() == [1]


def test_classify_stops_on_a_collapsed_polygon_as_check_reports_it() -> None:
    parcels = square_parcels(3, 1)
    parcels.loc[1, "geometry"] = Polygon([(X0 + 100, Y0), (X0 + 150, Y0), (X0 + 200, Y0)])
    with pytest.raises(InvalidParcelsError) as stopped:
        classify(parcels)
    assert [p.code for p in stopped.value.problems] == ["V_GEOMETRY_EMPTY"]


def test_every_check_passes_a_clean_file() -> None:
    """The controls: the same hand-made parcels without planted errors give no finding."""
    parcels = square_parcels(4, 1, TBXHDM=["", "HDGD", "", "LQGD"], KCXS=[0.0, 0.1, 0.2, 0.0])
    parcels["ZZSXDM"] = "LS"
    attrs = survey_attributes(parcels)
    found = validate_attributes(attrs, measure_parcels(parcels, attributes=attrs).table)
    assert found.empty, found[["parcel", "check_id"]]


def _attributes_of(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"DLBM": ["0101"] * n, "ZLDWDM": codes("430421", n)}
    return survey_attributes(pd.DataFrame({**base, **columns}, index=range(10, 10 + n)))


def test_numbers_held_as_text_are_read_value_by_value() -> None:
    """Each distinct text is parsed once and given back to every parcel that holds it."""
    attrs = _attributes_of(
        KCXS=["0.1", " 0.25 ", "", None, "0.1", "1e-1"],
        GDPDJB=["2", "2.6", " ", None, "2", "5"],
        FRDBS=[True, False, True, False, True, False],
    )
    assert attrs["KCXS"].tolist()[:2] == [0.1, 0.25]
    assert attrs["KCXS"].isna().tolist() == [False, False, True, True, False, False]
    assert attrs["KCXS"].tolist()[4:] == [0.1, 0.1]
    assert attrs["GDPDJB"].tolist() == [2, 3, pd.NA, pd.NA, 2, 5]
    assert str(attrs["GDPDJB"].dtype) == "Int64"
    assert attrs["FRDBS"].tolist() == [1, 0, 1, 0, 1, 0]


@pytest.mark.parametrize(
    ("values", "bad_rows", "example"),
    [
        (["0.1", "abc", "", "abc", "inf"], (11, 13, 14), "'abc'"),
        ([0.1, float("inf"), float("nan"), 0.2, float("-inf")], (11, 14), "inf"),
    ],
)
def test_a_number_that_is_not_finite_names_every_parcel_holding_it(
    values: list[object], bad_rows: tuple[int, ...], example: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        _attributes_of(KCXS=values)
    (problem,) = caught.value.problems
    assert problem.code == "FIELD_NOT_NUMERIC"
    assert problem.parcels == bad_rows
    assert example in problem.message


def test_a_code_too_large_to_be_a_grade_is_out_of_range() -> None:
    with pytest.raises(SchemaError) as caught:
        _attributes_of(GDDB=[1.0, 2.5, float("nan"), 1e10])
    (problem,) = caught.value.problems
    assert (problem.code, problem.parcels) == ("FIELD_OUT_OF_RANGE", (13,))


def test_land_codes_and_county_codes_are_split_value_by_value() -> None:
    attrs = _attributes_of(DLBM=[" 0101", "011", None, "0201k", "", "011"])
    assert attrs["DLBM_BASE"].tolist() == ["0101", "0101", "", "0201", "", "0101"]
    assert attrs["DLBM_SUFFIX"].tolist() == ["", "", "", "K", "", ""]
    assert attrs["IS_FARMLAND"].tolist() == [True, True, False, False, False, True]
    assert attrs["COUNTY"].tolist() == ["430421"] * 6


def test_zldwdm_format_is_judged_per_code_for_every_parcel_holding_it() -> None:
    zldwdm = ["4304210010010000000", "43042100100100000x0", None, "43042100100100000x0"]
    attrs = survey_attributes(
        pd.DataFrame({"DLBM": ["0101"] * 4, "ZLDWDM": zldwdm}, index=[3, 1, 4, 2])
    )
    found = blocking_findings(attrs, np.zeros(4, dtype=bool), has_dem=True)
    rows = found[found["check_id"] == "V_ZLDWDM_FORMAT"]
    assert rows["parcel"].tolist() == [1, 4, 2]
    assert rows["value"].tolist() == [19.0, 0.0, 19.0]
