"""Properties of classification on random parcels and layers (hypothesis)."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from landplan.api import classify
from landplan.core.palette import CLASS_CODES
from landplan.outputs.aggregate import CITY_TOTAL
from landplan.rules import load_profile

from .conftest import GK38

X0, Y0 = 500_000.0, 3_000_000.0
CODES = ["0101", "0102", "0103", "0201", "0301", "0404", "1104", "0702", "011"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoSeries]]:
    n = draw(st.integers(1, 30))
    cols = int(np.ceil(np.sqrt(n)))
    size = draw(st.floats(5, 200))
    geoms = [
        box(
            X0 + (i % cols) * size,
            Y0 + (i // cols) * size,
            X0 + (i % cols + 1) * size,
            Y0 + (i // cols + 1) * size,
        )
        for i in range(n)
    ]
    ints = st.integers(1, 5)
    frame = gpd.GeoDataFrame(
        {
            "DLBM": draw(st.lists(st.sampled_from(CODES), min_size=n, max_size=n)),
            "ZLDWDM": draw(
                st.lists(
                    st.sampled_from(["4304210010010000000", "4304820020020000000"]),
                    min_size=n,
                    max_size=n,
                )
            ),
            "KCXS": draw(st.lists(st.floats(0, 0.3), min_size=n, max_size=n)),
            "GDPDJB": draw(st.lists(ints, min_size=n, max_size=n)),
            "GDLX": draw(st.lists(st.sampled_from(["", "TT", "PD"]), min_size=n, max_size=n)),
            "ZZSXDM": draw(
                st.lists(st.sampled_from(["", "LS", "WG", "JKHF", "GCHF"]), min_size=n, max_size=n)
            ),
        },
        geometry=geoms,
        crs=GK38,
        index=pd.Index(draw(st.permutations(range(100, 100 + n)))),
    )
    layers = {}
    for role in draw(
        st.lists(
            st.sampled_from(
                [
                    "eco_redline",
                    "dev_boundary",
                    "river_lake",
                    "high_standard_farmland",
                    "town_village",
                ]
            ),
            unique=True,
            max_size=4,
        )
    ):
        x, y, w = draw(st.floats(-50, 800)), draw(st.floats(-50, 800)), draw(st.floats(1, 600))
        layers[role] = gpd.GeoSeries([box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + w)], crs=GK38)
    return frame, layers


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), target_share=st.floats(0, 1.2))
def test_classification_properties(scenario, target_share: float) -> None:
    parcels, layers = scenario
    first = classify(parcels, layers=layers)
    farmland_m2 = first.measurement.table["dlmj_m2"].groupby(first.parcels["lp_county"]).sum()
    result = classify(
        parcels, layers=layers, targets={c: target_share * a for c, a in farmland_m2.items()}
    )
    out = result.parcels
    # nothing lost, nothing added, same order and index
    assert out.index.equals(parcels.index)
    # exactly one class per parcel
    assert out["lp_class"].isin(CLASS_CODES).all()
    # a reason is present iff its rule fired
    for rule_id in result.evidence.hits.columns:
        listed = out["lp_reasons"].str.split(";").apply(lambda ids, r=rule_id: r in ids)
        assert (listed == result.evidence.hits[rule_id]).all()
    # classes follow the evidence
    t_hit = result.evidence.stage_hit("T")
    assert (out.loc[t_hit, "lp_class"] == "NON_TARGET").all()
    assert (~out.loc[result.evidence.stage_hit("P"), "lp_class"].isin(["PBF"])).all()
    # county rows add up to the city total
    summary = result.summary
    city = summary[summary["county_code"] == CITY_TOTAL].set_index("lp_class")
    counties = (
        summary[summary["county_code"] != CITY_TOTAL].groupby("lp_class").sum(numeric_only=True)
    )
    assert np.allclose(city.loc[counties.index, "area_m2"], counties["area_m2"])
    assert city["parcels"].sum() == len(parcels)
    assert np.isclose(city["area_m2"].sum(), (out["lp_area_ha"] * 1e4).sum())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), raise_by=st.floats(0.1, 30))
def test_raising_a_threshold_never_adds_hits(scenario, raise_by: float) -> None:
    parcels, layers = scenario
    base = load_profile("hunan-hengyang")
    rules = []
    for rule in base.rules:
        params = dict(rule.params)
        for key in ("threshold_deg", "min_overlap_m2"):
            if key in params:
                params[key] = params[key] + raise_by
        rules.append(dataclasses.replace(rule, params=params))
    raised = dataclasses.replace(base, rules=tuple(rules))
    before = classify(parcels, layers=layers, profile=base).evidence.hits
    after = classify(parcels, layers=layers, profile=raised).evidence.hits
    for rule in base.rules:
        if "threshold_deg" in rule.params or "min_overlap_m2" in rule.params:
            assert not (after[rule.id] & ~before[rule.id]).any(), rule.id
