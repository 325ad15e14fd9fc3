"""Sums by county (:mod:`landplan.core.groups`) against pandas' groupby, the second method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landplan.core.groups import groups_of
from landplan.measure.blocks import area_in_blocks

MU = 10_000 / 15


@pytest.mark.parametrize("arrow", [True, False])
def test_sums_by_key_equal_pandas_groupby_with_missing_keys_left_out(arrow: bool) -> None:
    rng = np.random.default_rng(5)
    codes = np.array(["430422", "430421", "430481", "", None], dtype=object)
    keys = codes[rng.integers(0, len(codes), 5_000)]
    values = rng.random(5_000) * 1e4
    given = pd.Series(keys, dtype="str") if arrow else keys
    groups = groups_of(given)
    expected = pd.Series(values).groupby(pd.Series(keys, dtype=object), sort=True).sum()
    assert groups.keys.tolist() == ["", "430421", "430422", "430481"]
    assert groups.keys.tolist() == expected.index.tolist()
    np.testing.assert_allclose(groups.sum(values), expected.to_numpy(), rtol=1e-12)
    counts = pd.Series(keys, dtype=object).value_counts().sort_index()
    assert groups.sum(np.ones(len(keys))).tolist() == counts.tolist()
    assert (groups.row[pd.isna(keys)] == -1).all()


def test_keys_are_sorted_as_text_not_as_numbers() -> None:
    groups = groups_of(np.array([10, 9, 10], dtype=object))
    assert groups.keys.tolist() == ["10", "9"]
    assert groups.row.tolist() == [0, 1, 0]


def test_the_city_row_of_areas_in_blocks_is_the_whole_city_measured_as_one_county() -> None:
    rng = np.random.default_rng(9)
    county = rng.choice(["430421", "430422", "430423"], 400)
    block = np.where(rng.random(400) < 0.2, np.nan, rng.random(400) * 30 * MU)
    area = rng.random(400) * 3 * MU
    county[block != block] = "430423"  # parcels in no block ...
    county[(county == "430423") & (block == block)] = "430422"  # ... make up one county
    table = area_in_blocks(county, block, area, total="全市")
    city = area_in_blocks(np.full(400, "全市", dtype=object), block, area)
    assert table.index.tolist() == ["430421", "430422", "全市"]  # 430423 has no block
    pd.testing.assert_frame_equal(table.loc[["全市"]], city, rtol=1e-12)
    pd.testing.assert_frame_equal(table.iloc[:2], area_in_blocks(county, block, area), rtol=1e-12)
