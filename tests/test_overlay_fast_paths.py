"""Fast paths of the overlay: layers copied from parcels, and one parcel index for all layers.

Every answer is compared with the general path, made to run by giving the
same shapes with their rings started at another vertex (equal, not identical,
so no part is taken for a copy), and with a brute-force reference computed
here from the definition (the opening of each parcel's whole overlap).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from landplan.core.crs import EQUAL_AREA_CRS
from landplan.measure.overlay import (
    index_parcels,
    open_polygons,
    overlap_areas,
    prepare_constraint,
)

X0, Y0 = 500_000.0, 3_000_000.0  # on the central meridian of EPSG:4546
CRS = 4546


def jittered_grid(n: int = 8, size: float = 20.0, seed: int = 3) -> gpd.GeoSeries:
    """Quadrilateral parcels sharing jittered vertices: neighbours' boxes overlap."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(n + 1) * size, np.arange(n + 1) * size, indexing="ij")
    xs = xs + rng.uniform(-size / 4, size / 4, xs.shape)
    ys = ys + rng.uniform(-size / 4, size / 4, ys.shape)
    cells = [
        Polygon(
            [
                (X0 + xs[i, j], Y0 + ys[i, j]),
                (X0 + xs[i + 1, j], Y0 + ys[i + 1, j]),
                (X0 + xs[i + 1, j + 1], Y0 + ys[i + 1, j + 1]),
                (X0 + xs[i, j + 1], Y0 + ys[i, j + 1]),
            ]
        )
        for i in range(n)
        for j in range(n)
    ]
    return gpd.GeoSeries(cells, crs=CRS)


def restarted(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """The same polygons with each ring started at its second vertex (equal, not identical)."""

    def restart(g: Polygon) -> Polygon:
        ring = list(g.exterior.coords)[:-1]
        return Polygon(ring[1:] + ring[:1])

    return gpd.GeoSeries([restart(g) for g in geoms], index=geoms.index, crs=geoms.crs)


def reference(parcels: gpd.GeoSeries, layer: gpd.GeoSeries, tol: float) -> np.ndarray:
    """Overlap by the definition: whole if covered by one feature, else the opened union."""
    geoms = parcels.to_crs(EQUAL_AREA_CRS).to_numpy()
    features = layer.to_crs(EQUAL_AREA_CRS).to_numpy()
    union = shapely.union_all(features)
    out = np.zeros(len(geoms))
    for k, g in enumerate(geoms):
        if shapely.covers(features, g).any():
            out[k] = g.area
            continue
        raw_geom = shapely.intersection(g, union)
        raw = raw_geom.area
        if raw >= g.area * (1 - 1e-9):
            out[k] = g.area
        elif tol == 0:
            out[k] = raw
        elif raw >= np.pi * tol**2 / 4:
            out[k] = min(shapely.area(open_polygons(np.array([raw_geom]), tol))[0], raw)
    return out


def both_paths(
    parcels: gpd.GeoSeries, layer: gpd.GeoSeries, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Overlap with the layer (copies found) and with its restarted twin (general path)."""
    fast = overlap_areas(parcels, prepare_constraint(layer, name="pbf"), tolerance_m=tol)
    general = overlap_areas(
        parcels, prepare_constraint(restarted(layer), name="pbf"), tolerance_m=tol
    )
    return fast["overlap_m2"].to_numpy(), general["overlap_m2"].to_numpy()


@pytest.mark.parametrize("tol", [0.0, 1.0])
def test_copy_layer_equals_general_path(tol: float) -> None:
    parcels = jittered_grid()
    layer = parcels.iloc[::3]  # a layer drawn from parcels: every third one copied
    fast, general = both_paths(parcels, layer, tol)
    np.testing.assert_array_equal(fast, general)
    np.testing.assert_allclose(fast, reference(parcels, layer, tol), rtol=1e-9, atol=1e-6)
    copied = np.zeros(len(parcels), dtype=bool)
    copied[::3] = True
    # a copied parcel lies wholly in the layer: its overlap is its whole (equal-area) area
    area = parcels.to_crs(EQUAL_AREA_CRS).area.to_numpy()
    np.testing.assert_allclose(fast[copied], area[copied], rtol=1e-9)
    assert (fast[~copied] == 0).all()  # neighbours of copies share only edges


@pytest.mark.parametrize("tol", [0.0, 1.0])
def test_shifted_copy_takes_the_general_path(tol: float) -> None:
    parcels = jittered_grid()
    layer = parcels.iloc[::2].translate(0.3, -0.2)
    fast, general = both_paths(parcels, layer, tol)
    np.testing.assert_allclose(fast, general, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast, reference(parcels, layer, tol), rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("tol", [0.0, 1.0])
def test_partial_copies_and_overlapping_parcels(tol: float) -> None:
    grid = jittered_grid()
    # a parcel lying across four grid parcels (hostile data: parcels that overlap),
    # and a duplicate of a grid parcel: their copies meet other parcels' interiors
    across = shapely.box(X0 + 50, Y0 + 50, X0 + 75, Y0 + 75)
    parcels = gpd.GeoSeries([*grid, across, grid.iloc[10]], crs=CRS)
    halves = [
        shapely.intersection(g, shapely.box(*g.bounds[:2], g.bounds[2], g.centroid.y))
        for g in grid.iloc[20:30]
    ]
    merged = shapely.union_all(grid.iloc[40:42].to_numpy())
    layer = gpd.GeoSeries(
        [*grid.iloc[::4], across, *halves, merged, grid.iloc[10]], crs=CRS
    )  # copies (one of them twice), clipped copies, two parcels merged
    fast, general = both_paths(parcels, layer, tol)
    np.testing.assert_allclose(fast, general, rtol=1e-12, atol=1e-9)
    expected = reference(parcels, layer, tol)
    np.testing.assert_allclose(fast, expected, rtol=1e-9, atol=1e-6)
    assert fast[len(grid)] == pytest.approx(625.0, rel=1e-3)  # the parcel across, copied
    assert (fast[len(grid) + 1] > 0) and (fast[10] == fast[len(grid) + 1])  # duplicates


def test_one_index_for_several_layers_gives_each_layer_s_own_answer() -> None:
    parcels = jittered_grid()
    across = gpd.GeoSeries([shapely.box(X0 + 30, Y0 + 30, X0 + 90, Y0 + 60)], crs=CRS)
    layers = {
        "a": parcels.iloc[::2],
        "b": parcels.iloc[::3],
        "c": across,
        "d": parcels.iloc[1::2].translate(0.4, 0.0),
    }
    index = index_parcels(parcels)
    for name, layer in layers.items():
        prepared = prepare_constraint(layer, name=name)
        shared = overlap_areas(parcels, prepared, tolerance_m=1.0, index=index)
        alone = overlap_areas(parcels, prepared, tolerance_m=1.0)
        np.testing.assert_array_equal(shared.to_numpy(), alone.to_numpy())


def test_interiors_meet_is_the_de9im_test_and_remembers_answers() -> None:
    parcels = jittered_grid(n=3)
    across = shapely.box(X0 + 10, Y0 + 10, X0 + 30, Y0 + 30)
    index = index_parcels(gpd.GeoSeries([*parcels, across], crs=CRS))
    i, j = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    i, j = i.ravel(), j.ravel()
    expected = shapely.relate_pattern(index.geoms[i], index.geoms[j], "T********")
    np.testing.assert_array_equal(index.interiors_meet(i, j), expected)
    np.testing.assert_array_equal(index.interiors_meet(j, i), expected)  # from memory
    assert expected[i == j].all() and expected[(i == 9) & (j < 9)].any()
