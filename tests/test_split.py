"""Split mode: pieces judged on their own, fields kept, areas adding up."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from landplan.api import classify
from landplan.measure.split import split_parcels

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0


def test_pieces_are_judged_on_their_own() -> None:
    parcels = square_parcels(2, 1, KCXS=[0.1, 0.0], BSM=["A", "B"])
    eco = gpd.GeoSeries(
        [box(X0 + 70, Y0 - 10, X0 + 150, Y0 + 110)], crs=GK38
    )  # 30 % of 0, 50 % of 1
    whole = classify(parcels, layers={"eco_redline": eco})
    pieces = classify(parcels, layers={"eco_redline": eco}, split=True)
    assert whole.evidence.hits["P_ECO_REDLINE"].tolist() == [True, True]
    out = pieces.parcels
    assert len(out) == 4
    assert out["BSM"].tolist() == ["A", "A", "B", "B"]  # pieces keep their parcel's fields
    assert out["KCXS"].tolist() == [0.1, 0.1, 0.0, 0.0]
    fired = pieces.evidence.hits["P_ECO_REDLINE"].to_numpy()
    inside_share = np.array([0.3, 0.7, 0.5, 0.5])
    piece_area = pieces.measurement.table["area_m2"].to_numpy()
    parcel_area = whole.measurement.table["area_m2"].to_numpy()[[0, 0, 1, 1]]
    in_redline = np.isclose(piece_area / parcel_area, inside_share, rtol=1e-6)
    assert (
        in_redline.all()
        or np.isclose(piece_area / parcel_area, inside_share[[1, 0, 3, 2]], rtol=1e-6).all()
    )
    assert fired.sum() == 2  # exactly the two pieces inside the redline
    assert (pieces.measurement.table["os_eco"].to_numpy()[fired] > 0.999).all()


def test_piece_areas_add_up_to_the_parcel_and_kcxs_applies_to_each() -> None:
    parcels = square_parcels(3, 3, KCXS=[0.05] * 9)
    layers = {
        "eco_redline": gpd.GeoSeries([box(X0 + 30, Y0 + 30, X0 + 170, Y0 + 250)], crs=GK38),
        "dev_boundary": gpd.GeoSeries([box(X0 + 120, Y0 - 5, X0 + 400, Y0 + 140)], crs=GK38),
    }
    whole = classify(parcels, layers=layers).measurement.table
    split = classify(parcels, layers=layers, split=True)
    table = split.measurement.table
    by_parent = table["area_m2"].groupby(split.parcels["lp_parent"].to_numpy()).sum()
    assert np.allclose(by_parent.to_numpy(), whole["area_m2"].to_numpy(), rtol=1e-12)
    assert np.allclose(table["dlmj_m2"], table["area_m2"] * 0.95)
    assert len(split.parcels) > len(parcels)
    assert not any(p.code == "TBMJ_MISMATCH" for p in split.problems)


def test_split_without_layers_changes_nothing() -> None:
    parcels = square_parcels(2, 2)
    pieces = split_parcels(parcels, {})
    assert len(pieces) == 4
    assert pieces["lp_piece"].tolist() == [1, 1, 1, 1]
    assert pieces.geometry.geom_equals_exact(parcels.geometry.reset_index(drop=True), 0).all()


def test_split_on_the_sample_conserves_area(small_synthetic) -> None:
    parcels = gpd.read_file(small_synthetic / "parcels.gpkg")
    layers = {
        role: gpd.read_file(small_synthetic / "constraints.gpkg", layer=role)
        for role in ("eco_redline", "dev_boundary", "high_standard_farmland")
    }
    pieces = split_parcels(parcels, layers)
    assert set(pieces["lp_parent"]) == set(parcels.index)
    assert pieces.area.sum() == pytest.approx(parcels.area.sum(), rel=1e-9)
    assert pieces.is_valid.all()
