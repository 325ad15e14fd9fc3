"""Split mode: pieces judged on their own, fields kept, areas adding up."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
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


def _pieces_area(parcels: gpd.GeoDataFrame, layers: dict, tol: float) -> list[float]:
    pieces = split_parcels(parcels, layers, tolerance_m=tol)
    assert pieces.is_valid.all()
    return sorted(pieces.area.round(6).tolist())


def test_a_boundary_decimetres_from_the_edge_cuts_no_sliver() -> None:
    """A layer drawn along the square's edge but 0.4 m off cuts a 40 m² sliver without
    a tolerance; with 1 m the parcel stays whole, whichever side of it is inside."""
    parcels = square_parcels(1, 1)
    inside_most = {
        "eco_redline": gpd.GeoSeries([box(X0 + 0.4, Y0 - 5, X0 + 200, Y0 + 105)], crs=GK38)
    }
    inside_sliver = {
        "eco_redline": gpd.GeoSeries([box(X0 - 50, Y0 - 5, X0 + 0.4, Y0 + 105)], crs=GK38)
    }
    for layers in (inside_most, inside_sliver):
        assert _pieces_area(parcels, layers, 0.0) == [40.0, 9_960.0]
        assert _pieces_area(parcels, layers, 1.0) == [10_000.0]


def test_a_thin_part_joins_the_piece_it_shares_its_longest_edge_with() -> None:
    """Square 100 × 100 m.  C covers x 0.4-60, so outside C is a 0.4 m strip along the
    left edge plus the block x 60-100.  A covers y >= 70.  The strip (0.4 × 100 m) shares
    30 m of edge with the piece in C and A, 70 m with the piece in C and not A: it
    joins the latter.  Hand-worked pieces: 59.6 × 30 = 1,788; 59.6 × 70 + 0.4 × 100 =
    4,212; 40 × 30 = 1,200; 40 × 70 = 2,800 (10,000 m² in all)."""
    parcels = square_parcels(1, 1)
    layers = {
        "eco_redline": gpd.GeoSeries([box(X0 + 0.4, Y0 - 5, X0 + 60, Y0 + 105)], crs=GK38),
        "dev_boundary": gpd.GeoSeries([box(X0 - 5, Y0 + 70, X0 + 105, Y0 + 105)], crs=GK38),
    }
    assert _pieces_area(parcels, layers, 1.0) == [1_200.0, 1_788.0, 2_800.0, 4_212.0]
    # without a tolerance the strip stays with the blocks outside C: 1,200 + 12, 2,800 + 28
    assert _pieces_area(parcels, layers, 0.0) == [1_212.0, 1_788.0, 2_828.0, 4_172.0]


def test_split_with_tolerance_on_the_sample_conserves_every_parcel(small_synthetic) -> None:
    """Every parcel's pieces add up to it (second method: planar areas per lp_parent), and
    no piece is thinner than the tolerance (an erosion by 0.5 m leaves something)."""
    parcels = gpd.read_file(small_synthetic / "parcels.gpkg")
    layers = {
        role: gpd.read_file(small_synthetic / "constraints.gpkg", layer=role).translate(0.2, -0.2)
        for role in ("eco_redline", "dev_boundary", "pbf_existing", "high_standard_farmland")
    }
    pieces = split_parcels(parcels, layers, tolerance_m=1.0)
    by_parent = pieces.area.groupby(pieces["lp_parent"].to_numpy()).sum()
    assert np.allclose(by_parent.to_numpy(), parcels.area.loc[by_parent.index], rtol=1e-9)
    assert set(pieces["lp_parent"]) == set(parcels.index)
    cut = pieces[pieces["lp_parent"].duplicated(keep=False)]
    assert not shapely.is_empty(shapely.buffer(cut.geometry.to_numpy(), -0.5)).any()
    assert pieces.is_valid.all()


def test_size_rules_read_the_survey_parcels_land_class_area() -> None:
    """parcel_dlmj_m2: for every piece, its parcel's area × (1 − KCXS); without split,
    equal to dlmj_m2."""
    parcels = square_parcels(2, 1, KCXS=[0.1, 0.0])
    eco = gpd.GeoSeries([box(X0 + 70, Y0 - 10, X0 + 150, Y0 + 110)], crs=GK38)
    whole = classify(parcels, layers={"eco_redline": eco}).measurement.table
    assert np.allclose(whole["parcel_dlmj_m2"], whole["dlmj_m2"], rtol=0)
    split = classify(parcels, layers={"eco_redline": eco}, split=True)
    table, parent = split.measurement.table, split.parcels["lp_parent"].to_numpy()
    expected = (whole["area_m2"] * np.array([0.9, 1.0])).to_numpy()[parent]
    assert np.allclose(table["parcel_dlmj_m2"], expected, rtol=1e-12)
    assert (table["dlmj_m2"] < table["parcel_dlmj_m2"]).all()  # the pieces are smaller
