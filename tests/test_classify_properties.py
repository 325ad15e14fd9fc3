"""Properties of classification on random parcels and layers (hypothesis)."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from landplan.api import classify
from landplan.core.palette import CLASS_CODES
from landplan.measure.parcels import measure_parcels
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


FARMLAND = {"0101", "0102", "0103", "011"}  # 011: the 二调 code of 水田
RECOVERY_CLASSES = {"0201", "0301", "0404", "1104"}  # of CODES, 003 ch.8 §1


def protection_target_m2(parcels: gpd.GeoDataFrame) -> dict[str, float]:
    """Farmland area of each county after KCXS, without the fragments (< 400 m², 附录 2).

    The scenarios give no layer of a T rule, so the fragment rule is the only one that
    can take farmland out of the protection target.
    """
    dlmj = measure_parcels(parcels).table["dlmj_m2"]
    target = parcels["DLBM"].isin(FARMLAND) & (dlmj >= 400.0)
    return dlmj[target].groupby(parcels["ZLDWDM"].str[:6][target]).sum().to_dict()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), target_share=st.floats(0, 1.2))
def test_pbf_is_the_smallest_prefix_reaching_the_county_target(
    scenario, target_share: float
) -> None:
    """专栏 4-1 (selection from scratch, no existing-PBF layer): PBF is the smallest prefix of the
    eligible parcels' priority order whose farmland area reaches the county's target.
    """
    parcels, layers = scenario
    assert "pbf_existing" not in layers
    protection = protection_target_m2(parcels)
    # every county gets a target: a county with no protection target gets 0
    targets = {c: target_share * protection.get(c, 0.0) for c in parcels["ZLDWDM"].str[:6]}
    result = classify(parcels, layers=layers, targets=targets)
    out = result.parcels
    dlmj = result.measurement.table["dlmj_m2"]
    county = parcels["ZLDWDM"].str[:6]
    farmland = parcels["DLBM"].isin(FARMLAND)
    eligible = farmland & ~result.evidence.stage_hit("T") & ~result.evidence.stage_hit("P")
    for code in county.unique():
        target = targets.get(code, 0.0)
        here = county == code
        pbf = here & (out["lp_class"] == "PBF")
        pool = here & eligible
        if target <= 0:
            assert not pbf.any()
            continue
        # quota size: the target is reached, or every eligible parcel is PBF (a shortfall)
        reached = dlmj[pbf].sum() >= target * (1 - 1e-12)
        assert reached or pbf.equals(pool), (code, dlmj[pbf].sum(), target)
        if not pbf.any():
            assert dlmj[pool].sum() == 0
            continue
        # a prefix: the PBF parcels hold ranks 1..k of the PBF order, the other eligible
        # parcels left GENERAL rank after them
        ranks = sorted(out.loc[pbf, "lp_prio"])
        assert ranks == list(range(1, len(ranks) + 1))
        general = pool & (out["lp_class"] == "GENERAL")
        assert (out.loc[general, "lp_prio"] > len(ranks)).all()
        # minimal: without its last parcel in priority order the PBF falls short
        last = out.loc[pbf, "lp_prio"].idxmax()
        assert dlmj[pbf].drop(last).sum() < target


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_classes_and_tables_follow_the_inputs(scenario) -> None:
    parcels, layers = scenario
    result = classify(parcels, layers=layers)
    out = result.parcels
    # nothing lost, nothing added, same order and index
    assert out.index.equals(parcels.index)
    # a reason is present iff its rule fired
    for rule_id in result.evidence.hits.columns:
        listed = out["lp_reasons"].str.split(";").apply(lambda ids, r=rule_id: r in ids)
        assert (listed == result.evidence.hits[rule_id]).all()
    # the class follows the land class and the evidence (RULES.md stages T, P, C)
    farmland = parcels["DLBM"].isin(FARMLAND)
    t_hit = result.evidence.stage_hit("T")
    assert (out.loc[farmland & t_hit, "lp_class"] == "NON_TARGET").all()
    target_classes = {"PBF", "RESERVE", "GENERAL"}
    assert out.loc[farmland & ~t_hit, "lp_class"].isin(target_classes).all()
    assert not (out.loc[result.evidence.stage_hit("P"), "lp_class"] == "PBF").any()
    assert not (out.loc[result.evidence.stage_hit("R"), "lp_class"] == "RESERVE").any()
    recovery = (
        parcels["DLBM"].isin(RECOVERY_CLASSES)
        & parcels["ZZSXDM"].isin(["JKHF", "GCHF"])
        & ~result.evidence.stage_hit("C")
    )
    assert (out.loc[recovery, "lp_class"] == "RECOVERY").all()
    assert (out.loc[~farmland & ~recovery, "lp_class"] == "OTHER").all()
    # the county table, recomputed from the inputs: each parcel is a square of side
    # `size` on the central meridian, whose ellipsoidal area is size² to 1e-7; farmland
    # counts its land-class area size² × (1 − KCXS), other land its whole area
    size = parcels.geometry.iloc[0].bounds[2] - parcels.geometry.iloc[0].bounds[0]
    area = size**2 * np.where(farmland, 1 - parcels["KCXS"].to_numpy(), 1.0)
    by_hand = pd.DataFrame(
        {"county": parcels["ZLDWDM"].str[:6], "lp_class": out["lp_class"], "area": area}
    )
    by_hand = pd.concat([by_hand, by_hand.assign(county=CITY_TOTAL)])
    expected = by_hand.groupby(["county", "lp_class"])["area"].agg(["size", "sum"])
    summary = result.summary.set_index(["county_code", "lp_class"])
    for county in by_hand["county"].unique():
        for cls in CLASS_CODES:
            n, m2 = expected.loc[(county, cls)] if (county, cls) in expected.index else (0, 0.0)
            assert summary.loc[(county, cls), "parcels"] == n
            assert summary.loc[(county, cls), "area_m2"] == pytest.approx(m2, rel=1e-6)


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
