"""Property tests: results stay aligned with the input and nothing is dropped."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from landplan.measure.parcels import measure_parcels

from .conftest import GK38

X0, Y0 = 500_000.0, 3_000_000.0


@st.composite
def parcel_frames(draw: st.DrawFn) -> gpd.GeoDataFrame:
    n = draw(st.integers(1, 25))
    geoms = []
    for _ in range(n):
        kind = draw(st.sampled_from(["box", "bowtie", "empty", "none", "multi"]))
        x = X0 + draw(st.floats(0, 2000))
        y = Y0 + draw(st.floats(0, 2000))
        w = draw(st.floats(0.5, 300))
        if kind == "box":
            geoms.append(box(x, y, x + w, y + w))
        elif kind == "bowtie":
            geoms.append(Polygon([(x, y), (x + w, y + w), (x + w, y), (x, y + w)]))
        elif kind == "empty":
            geoms.append(Polygon())
        elif kind == "none":
            geoms.append(None)
        else:
            geoms.append(box(x, y, x + w, y + w).union(box(x + 2 * w, y, x + 3 * w, y + w)))
    labels = draw(st.lists(st.integers(-(10**6), 10**6), min_size=n, max_size=n, unique=True))
    index = pd.Index(labels) if draw(st.booleans()) else pd.Index([f"p{v}" for v in labels])
    return gpd.GeoDataFrame(
        {
            "DLBM": draw(
                st.lists(
                    st.sampled_from(["0101", "0103", "0301", "011", "1104A"]),
                    min_size=n,
                    max_size=n,
                )
            ),
            "ZLDWDM": ["4304210010010000000"] * n,
            "KCXS": draw(st.lists(st.floats(0, 0.5), min_size=n, max_size=n)),
        },
        geometry=geoms,
        crs=GK38,
        index=index,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parcels=parcel_frames(), redline_w=st.floats(1, 3000))
def test_measures_are_aligned_and_complete(parcels: gpd.GeoDataFrame, redline_w: float) -> None:
    redline = gpd.GeoSeries([box(X0, Y0, X0 + redline_w, Y0 + 1000)], crs=GK38)
    before = parcels.copy()
    table = measure_parcels(parcels, layers={"eco_redline": redline}).table
    assert table.index.equals(parcels.index)  # same parcels, same order, nothing dropped
    assert (table["area_m2"] >= 0).all()
    assert table["os_eco"].between(0, 1).all()
    assert (table["ov_eco"] <= table["area_m2"] * (1 + 1e-9) + 1e-9).all()
    assert np.allclose(table["dlmj_m2"], table["area_m2"] * (1 - parcels["KCXS"]))
    pd.testing.assert_frame_equal(pd.DataFrame(parcels), pd.DataFrame(before))  # not mutated
