"""Slope from planar DEMs whose answer is known exactly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from landplan.measure.terrain import (
    MIN_BLOCK_CACHE,
    block_cache_bytes,
    horn_slope,
    slope_problems,
    slope_statistics,
)
from landplan.survey.grades import slope_grade

from .conftest import GK38, square_parcels

# the DEMs of conftest.write_plane_dem span 600 m east and south of (500000, 3000600)
INSIDE = square_parcels(3, 3, size=100.0, x0=500_150.0, y0=3_000_150.0)


@pytest.mark.parametrize("degrees", [10.0, 25.0, 30.0])
@pytest.mark.parametrize("direction", ["east", "north"])
def test_projected_plane(plane_dem, degrees: float, direction: str) -> None:
    stats = slope_statistics(INSIDE, str(plane_dem(degrees, direction=direction)))
    assert np.allclose(stats["slope_mean_deg"], degrees, atol=1e-6)
    assert stats.index.equals(INSIDE.index)


@pytest.mark.parametrize("degrees", [10.0, 25.0, 30.0])
@pytest.mark.parametrize("direction", ["east", "north"])
def test_geographic_plane(plane_dem, degrees: float, direction: str) -> None:
    # 60 cells of 0.0002° (~20 m) from 112.0°E 27.012°N, a plane built on the ellipsoid
    dem = plane_dem(degrees, crs=4490, cell=0.0002, x0=112.0, y0=27.012, direction=direction)
    parcels = gpd.GeoSeries([box(112.003, 27.003, 112.009, 27.009)], crs=4490).to_crs(4547)
    stats = slope_statistics(parcels, str(dem))
    assert stats["slope_mean_deg"].iloc[0] == pytest.approx(degrees, abs=0.5)
    assert stats["slope_mean_deg"].iloc[0] == pytest.approx(degrees, abs=0.05)


@pytest.mark.parametrize(("degrees", "gt25"), [(24.9, 0.0), (25.1, 1.0)])
def test_share_steeper_than_25_is_strict(plane_dem, degrees: float, gt25: float) -> None:
    stats = slope_statistics(INSIDE, str(plane_dem(degrees)))
    assert (stats["slope_gt25_share"] == gt25).all()
    assert (stats["slope_gt15_share"] == 1.0).all()
    assert (stats["slope_grade"] == (4 if degrees < 25 else 5)).all()


def test_grade_boundaries_are_inclusive_upper_bounds() -> None:
    assert slope_grade(np.array([2.0, 6.0, 15.0, 25.0, 25.0001])).tolist() == [1, 2, 3, 4, 5]


def test_horn_on_a_hand_computed_window() -> None:
    z = np.array([[0, 0, 0], [0, 0, 0], [10, 10, 10]], dtype=float)  # rises 10 m over 2 cells south
    # dz/dy = ((10 + 20 + 10) - 0) / (8 * 5) = 1.0 -> 45°
    assert horn_slope(z, 5.0, 5.0)[1, 1] == pytest.approx(45.0)
    assert np.isnan(horn_slope(z, 5.0, 5.0)[0, 0])


def test_parcels_outside_the_dem_get_nan_and_a_problem(plane_dem) -> None:
    parcels = square_parcels(2, 1, size=100.0, x0=500_150.0, y0=3_000_150.0)
    parcels.loc[1, "geometry"] = box(510_000, 3_010_000, 510_100, 3_010_100)
    stats = slope_statistics(parcels, str(plane_dem(10.0)))
    assert stats["slope_mean_deg"].iloc[0] == pytest.approx(10.0)
    assert np.isnan(stats["slope_mean_deg"].iloc[1])
    assert stats["slope_grade"].isna().tolist() == [False, True]
    problems = slope_problems(stats)
    assert [p.code for p in problems] == ["SLOPE_NO_DATA"]
    assert problems[0].parcels == (1,)


def test_nodata_is_respected(plane_dem) -> None:
    # nodata over rows 20-39 / cols 20-39 = x 500200-500400, y 3000200-3000400
    dem = plane_dem(30.0, nodata_block=(slice(20, 40), slice(20, 40)))
    inside_hole = gpd.GeoSeries([box(500_230, 3_000_230, 500_370, 3_000_370)], crs=GK38)
    half_over = gpd.GeoSeries([box(500_100, 3_000_250, 500_300, 3_000_350)], crs=GK38)
    assert np.isnan(slope_statistics(inside_hole, str(dem))["slope_mean_deg"].iloc[0])
    stats = slope_statistics(half_over, str(dem))
    assert stats["slope_mean_deg"].iloc[0] == pytest.approx(30.0)  # nodata cells never count as 0
    assert 0.2 < stats["slope_cover"].iloc[0] < 0.6


def test_tiles_give_the_same_answer_as_one_window(plane_dem, tmp_path) -> None:
    from landplan.synthetic import generate

    data = generate(tmp_path / "d", n_parcels=200, seed=3, dem_resolution_m=25.0)
    parcels = gpd.read_file(data / "parcels.gpkg")
    whole = slope_statistics(parcels, str(data / "dem.tif"), tile_size=100_000)
    tiled = slope_statistics(parcels, str(data / "dem.tif"), tile_size=37)
    assert np.allclose(whole["slope_mean_deg"], tiled["slope_mean_deg"], equal_nan=True)
    assert whole["slope_grade"].equals(tiled["slope_grade"])


def test_tiny_parcel_takes_the_cell_under_it(plane_dem) -> None:
    tiny = gpd.GeoSeries([box(500_301, 3_000_301, 500_304, 3_000_304)], crs=GK38)
    stats = slope_statistics(tiny, str(plane_dem(30.0)))
    assert stats["slope_mean_deg"].iloc[0] == pytest.approx(30.0)
    assert stats["slope_grade"].iloc[0] == 5


def test_statistics_of_a_subset_match_those_taken_with_every_parcel() -> None:
    # each county is measured on its own by the county engines: the windows read around a
    # subset must give the same cells, slopes and grades as the whole layer's tiles
    from landplan.io.layers import read_parcels
    from landplan.io.sample import sample_path

    parcels = read_parcels(sample_path("parcels"))
    whole = slope_statistics(parcels, sample_path("dem"), tile_size=256)
    county = parcels[parcels["ZLDWDM"].str[:6] == "430421"]
    alone = slope_statistics(county, sample_path("dem"), tile_size=256)
    pd.testing.assert_frame_equal(alone, whole.loc[county.index])


def test_a_dem_covering_no_parcel_names_the_right_count(plane_dem) -> None:
    """Issue 13 item 6: 1,200 parcels off a DEM were reported as "parcels 0, 1, …, 9 and
    990 more" (the list was cut at 1,000).  The count must be 1,200 - 10 = 1,190, and the
    message says the DEM covers none of them."""
    far = square_parcels(40, 30, size=10.0, x0=520_000.0, y0=3_020_000.0)  # 1,200, 20 km away
    stats = slope_statistics(far, str(plane_dem(10.0)))
    (problem,) = slope_problems(stats)
    assert problem.code == "SLOPE_NO_DATA"
    assert len(problem.parcels) == 1200
    text = str(problem)
    assert "parcels 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 1190 more" in text
    assert "covers none of the parcels" in text


def test_some_parcels_off_the_dem_are_counted_among_all(plane_dem) -> None:
    """1,005 of 1,010 parcels off the DEM: the message gives 1,005 of 1,010 and the
    list holds all 1,005 (995 more than the ten it names)."""
    on = square_parcels(5, 1, size=100.0, x0=500_050.0, y0=3_000_150.0)
    off = square_parcels(67, 15, size=10.0, x0=520_000.0, y0=3_020_000.0)
    parcels = pd.concat([on, off], ignore_index=True)
    stats = slope_statistics(parcels, str(plane_dem(10.0)))
    (problem,) = slope_problems(stats)
    assert len(problem.parcels) == 1005 and "and 995 more" in str(problem)
    assert problem.parcels == tuple(range(5, 1010))
    assert str(problem).endswith("and 995 more)")


@pytest.mark.parametrize(("width", "expected"), [(5000, (512 + 4 * 256) * 5000 * 4), (300, None)])
def test_the_block_cache_holds_a_row_of_tiles_and_two_rows_of_blocks_more(
    tmp_path, width: int, expected: int | None
) -> None:
    """A row of 512-cell tiles touches 512 rows of cells and two rows of 256-cell blocks."""
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "dem.tif"
    profile = {"driver": "GTiff", "width": width, "height": 16, "count": 1, "dtype": "float32",
               "crs": GK38, "transform": from_origin(500_000, 3_000_000, 10, 10),
               "tiled": True, "blockxsize": 256, "blockysize": 256}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.zeros((1, 16, width), dtype="float32"))
    with rasterio.open(path) as src:
        assert src.block_shapes[0] == (256, 256)
        assert block_cache_bytes(src, 512) == (expected or MIN_BLOCK_CACHE)


def test_the_block_cache_is_bounded_while_reading_and_given_back_after(plane_dem) -> None:
    """GDAL's cache size is process-wide: the slope bounds it, keeps a smaller one the user
    chose, and leaves it as it found it."""
    import rasterio.env

    from landplan.measure import terrain

    before = rasterio.env.get_gdal_config("GDAL_CACHEMAX")
    parcels = gpd.GeoSeries([box(500_300, 3_000_300, 500_400, 3_000_400)], crs=GK38)
    seen: list[int] = []  # the cache size while the slope reads its tiles
    bounded = terrain._block_cache

    @contextmanager
    def watched(nbytes: int) -> Iterator[None]:
        with bounded(nbytes):
            seen.append(rasterio.env.get_gdal_config("GDAL_CACHEMAX"))
            yield

    try:
        for chosen, inside in ((300 * 2**20, 20 * 2**20), (4 * 2**20, 4 * 2**20)):
            rasterio.env.set_gdal_config("GDAL_CACHEMAX", chosen)
            with terrain._block_cache(20 * 2**20):
                assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == inside
            assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == chosen
            seen.clear()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(terrain, "_block_cache", watched)
                slope_statistics(parcels, str(plane_dem(10.0)))
            assert seen == [min(chosen, terrain.MIN_BLOCK_CACHE)]  # a small DEM: the least cache
            assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == chosen
    finally:
        rasterio.env.set_gdal_config("GDAL_CACHEMAX", before)
