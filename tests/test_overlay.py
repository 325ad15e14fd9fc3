"""Overlaps: squares with known answers, and a random check against plain shapely."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon, box

from landplan.core.crs import EQUAL_AREA_CRS
from landplan.measure import overlay
from landplan.measure.overlay import MAX_PART_VERTICES, overlap_areas, prepare_constraint

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0


def layer(*geoms: shapely.Geometry) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=GK38)


def test_known_shares_on_a_grid_of_squares() -> None:
    parcels = square_parcels(3, 1)  # x 0-100, 100-200, 200-300
    # covers all of square 0, 30 % of square 1, nothing of square 2
    eco = prepare_constraint(layer(box(X0 - 50, Y0 - 50, X0 + 130, Y0 + 150)), name="eco")
    share = overlap_areas(parcels.geometry, eco)["overlap_share"]
    assert share.round(6).tolist() == [1.0, 0.3, 0.0]


@pytest.mark.parametrize("tolerance_m", [0.0, 1.0])
@pytest.mark.parametrize("chunk", [1, 10**9])
def test_a_parcel_covered_by_a_part_of_a_later_chunk_counts_its_area_once(
    monkeypatch, chunk: int, tolerance_m: float
) -> None:
    """Squares of 100 m: square 0 lies half in the first feature and wholly in the
    second (features that overlap, as in a layer merged from two sources), square 1
    lies 30 m deep in the first.  Looked up one part at a time, square 0 meets the first
    part before the part covering it is seen; it must still count 10,000 m², not 15,000."""
    monkeypatch.setattr(overlay, "QUERY_CHUNK", chunk)
    parcels = square_parcels(2, 1)  # x 0-100, 100-200
    eco = prepare_constraint(
        layer(box(X0 + 50, Y0, X0 + 130, Y0 + 100), box(X0 - 10, Y0 - 10, X0 + 110, Y0 + 110)),
        name="eco",
    )
    out = overlap_areas(parcels.geometry, eco, tolerance_m=tolerance_m)
    assert out["overlap_m2"].tolist() == pytest.approx([10_000.0, 3_000.0], rel=1e-6)


def test_overlapping_constraint_polygons_are_not_counted_twice() -> None:
    parcels = square_parcels(1, 1)
    # two polygons each covering 60 % of the square, overlapping on 20 %
    eco = prepare_constraint(
        layer(box(X0, Y0, X0 + 60, Y0 + 100), box(X0 + 40, Y0, X0 + 100, Y0 + 100)), name="eco"
    )
    out = overlap_areas(parcels.geometry, eco)
    assert out["overlap_share"].iloc[0] == pytest.approx(1.0)


def test_overlap_m2_is_ellipsoidal() -> None:
    parcels = square_parcels(1, 1, x0=650_000.0)  # 150 km east of the central meridian
    eco = prepare_constraint(layer(box(649_000, Y0 - 1000, 651_000, Y0 + 1000)), name="eco")
    out = overlap_areas(parcels.geometry, eco)
    expected = parcels.to_crs(EQUAL_AREA_CRS).area.iloc[0]
    assert out["overlap_m2"].iloc[0] == pytest.approx(expected, rel=1e-9)
    assert out["overlap_m2"].iloc[0] < 10_000 * (1 - 4e-4)  # smaller than the planar 1 ha


def test_invalid_constraint_geometries_are_repaired_and_counted() -> None:
    parcels = square_parcels(2, 1)
    # a bow-tie over square 0: two triangles of 2,500 m² each
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    assert not bowtie.is_valid
    eco = prepare_constraint(layer(bowtie, box(X0 + 100, Y0, X0 + 150, Y0 + 100)), name="eco")
    assert eco.n_repaired == 1
    share = overlap_areas(parcels.geometry, eco)["overlap_share"]
    assert share.round(6).tolist() == [0.5, 0.5]


def test_empty_and_missing_constraints_are_skipped() -> None:
    parcels = square_parcels(1, 1)
    eco = prepare_constraint(layer(None, Polygon(), box(X0, Y0, X0 + 10, Y0 + 100)), name="eco")
    assert eco.n_empty == 2
    assert overlap_areas(parcels.geometry, eco)["overlap_share"].iloc[0] == pytest.approx(0.1)


def test_large_polygons_are_subdivided_without_changing_the_answer() -> None:
    circle = shapely.Point(X0 + 150, Y0 + 150).buffer(140, quad_segs=256)  # 1,024 vertices
    parcels = square_parcels(3, 3)
    prepared = prepare_constraint(layer(circle), name="big")
    assert len(prepared.parts) > 1
    assert (shapely.get_num_coordinates(prepared.parts) <= MAX_PART_VERTICES + 8).all()
    ea_parcels = parcels.geometry.to_crs(EQUAL_AREA_CRS).to_numpy()
    ea_circle = layer(circle).to_crs(EQUAL_AREA_CRS).iloc[0]
    expected = shapely.area(shapely.intersection(ea_parcels, ea_circle))
    assert np.allclose(
        overlap_areas(parcels.geometry, prepared)["overlap_m2"], expected, rtol=1e-9, atol=1e-6
    )


def test_random_sample_agrees_with_plain_shapely(small_synthetic) -> None:
    parcels = gpd.read_file(small_synthetic / "parcels.gpkg")
    for role in ("eco_redline", "town_village", "pbf_2017", "high_standard_farmland"):
        constraint = gpd.read_file(small_synthetic / "constraints.gpkg", layer=role)
        out = overlap_areas(parcels.geometry, prepare_constraint(constraint, name=role))
        rng = np.random.default_rng(0)
        sample = rng.choice(len(parcels), size=300, replace=False)
        union = shapely.union_all(constraint.to_crs(EQUAL_AREA_CRS).geometry.to_numpy())
        ea = parcels.geometry.iloc[sample].to_crs(EQUAL_AREA_CRS).to_numpy()
        expected = shapely.area(shapely.intersection(ea, union))
        assert np.allclose(out["overlap_m2"].to_numpy()[sample], expected, rtol=1e-7, atol=1e-4)
        assert out.index.equals(parcels.index)


def test_an_empty_constraint_layer_overlaps_nothing() -> None:
    parcels = square_parcels(2, 1)
    empty = prepare_constraint(gpd.GeoSeries([], crs=parcels.crs), name="eco_redline")
    result = overlap_areas(parcels.geometry, empty)
    assert result["overlap_m2"].tolist() == [0.0, 0.0]
    assert result.index.equals(parcels.index)


def test_a_layer_already_in_the_equal_area_crs_is_left_as_given() -> None:
    """Preparing a layer for overlay never prepares (changes) the caller's own geometries."""
    given = gpd.GeoSeries([box(0, 0, 100, 100), box(200, 0, 300, 100)], crs=EQUAL_AREA_CRS)
    prepared = prepare_constraint(given, name="eco")
    assert not shapely.is_prepared(given.to_numpy()).any()
    assert shapely.is_prepared(prepared.parts).all()
    assert shapely.equals(prepared.parts, given.to_numpy()).all()


def test_multipolygon_parts_keep_the_layer_order_and_their_source() -> None:
    """Single polygons are used as they are, multi-polygons split, in the layer's order."""
    multi = shapely.MultiPolygon(
        [box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 20, Y0, X0 + 30, Y0 + 10)]
    )
    prepared = prepare_constraint(
        layer(box(X0 - 50, Y0, X0 - 40, Y0 + 10), multi, box(X0 + 50, Y0, X0 + 60, Y0 + 10)),
        name="eco",
    )
    assert prepared.source.tolist() == [0, 1, 1, 2]
    # the parts' western edges, projected: west to east as given
    west = shapely.bounds(prepared.parts)[:, 0]
    assert (np.diff(west) > 0).all()


def test_pairs_found_chunk_by_chunk_give_the_same_overlaps(small_synthetic, monkeypatch) -> None:
    """Candidate pairs are found a chunk of parts at a time (to bound memory): chunks of 7
    parts give the overlaps of one chunk to the bit, copy layers and tolerance included; a
    parcel covered by a part of a later chunk is still measured once, by its whole area."""
    parcels = gpd.read_file(small_synthetic / "parcels.gpkg").geometry
    layers = {
        role: gpd.read_file(small_synthetic / "constraints.gpkg", layer=role)
        for role in ("eco_redline", "pbf_2017", "farmland_2009", "town_village")
    }

    prepared = [prepare_constraint(layer, name=role) for role, layer in layers.items()]
    assert all(len(layer.parts) > 2 * 7 for layer in prepared)  # several chunks each

    def measure(chunk: int) -> list[pd.DataFrame]:
        monkeypatch.setattr(overlay, "QUERY_CHUNK", chunk)
        index = overlay.index_parcels(parcels)  # the pair cache is shared across layers
        return [overlap_areas(parcels, layer, tolerance_m=1.0, index=index) for layer in prepared]

    whole, chunked = measure(10**9), measure(7)
    for one, many in zip(whole, chunked, strict=True):
        pd.testing.assert_frame_equal(one, many, check_exact=True)
    assert any((one["overlap_m2"] > 0).sum() > 100 for one in whole)
