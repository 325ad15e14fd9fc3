"""Ellipsoidal areas against an independent geodesic computation (pyproj.Geod)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from landplan.core.crs import CGCS2000_A, CGCS2000_RF, ellipsoidal_area, gauss_kruger_zone_crs
from landplan.core.errors import CRSError
from landplan.measure.parcels import measure_parcels

from .conftest import GK38, square_parcels

GEOD = Geod(a=CGCS2000_A, rf=CGCS2000_RF)


def geodesic_area(geoms: gpd.GeoSeries) -> np.ndarray:
    """Karney's geodesic polygon area of each geometry, edges densified to 1 m first."""
    lonlat = geoms.segmentize(1.0).to_crs(4490) if not geoms.crs.is_geographic else geoms
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in lonlat])


def random_parcels(rng: np.random.Generator, x_centre: float, n: int = 40) -> gpd.GeoSeries:
    """Irregular star-shaped parcels of 200-20,000 m² around an easting."""
    geoms = []
    for _ in range(n):
        cx = x_centre + rng.uniform(-2000, 2000)
        cy = 3_000_000 + rng.uniform(-2000, 2000)
        k = rng.integers(5, 12)
        t = (np.arange(k) + rng.uniform(0, 0.8, k)) * 2 * np.pi / k  # star-shaped: simple
        r = rng.uniform(8, 80) * rng.uniform(0.6, 1.0, k)
        geoms.append(shapely.Polygon(np.c_[cx + r * np.cos(t), cy + r * np.sin(t)]))
    out = gpd.GeoSeries(geoms, crs=GK38)
    assert out.is_valid.all()
    return out


@pytest.mark.parametrize("offset_km", [0, 50, 150, -150])
def test_area_matches_geodesic_within_0_001_percent(offset_km: int) -> None:
    parcels = random_parcels(np.random.default_rng(offset_km + 1000), 500_000 + offset_km * 1000)
    ours = ellipsoidal_area(parcels).to_numpy()
    reference = geodesic_area(parcels)
    assert np.all(np.abs(ours / reference - 1) <= 1e-5)


def test_planar_area_150km_from_meridian_is_off_by_about_0_05_percent() -> None:
    parcels = random_parcels(np.random.default_rng(3), 650_000)
    planar_error = parcels.area.to_numpy() / geodesic_area(parcels) - 1
    # scale factor k ≈ 1 + x²/2R² at x = 150 km: area grows by ≈ x²/R² ≈ 0.055 %
    assert np.all((planar_error > 4.5e-4) & (planar_error < 6.5e-4))
    assert np.all(np.abs(ellipsoidal_area(parcels).to_numpy() / geodesic_area(parcels) - 1) < 1e-5)


def test_geographic_parcels_have_the_same_area_as_projected() -> None:
    gk = random_parcels(np.random.default_rng(5), 600_000).segmentize(5.0)
    geographic = gk.to_crs(4490)
    assert np.allclose(ellipsoidal_area(geographic), ellipsoidal_area(gk), rtol=1e-6)
    assert np.allclose(ellipsoidal_area(geographic), geodesic_area(geographic), rtol=1e-5, atol=0)


def test_farmland_area_deducts_kcxs() -> None:
    parcels = square_parcels(2, 1, KCXS=[0.1, 0.0])
    table = measure_parcels(parcels).table
    expected = geodesic_area(parcels.geometry) * np.array([0.9, 1.0])
    assert np.allclose(table["dlmj_m2"], expected, rtol=1e-5, atol=0)


def test_parcels_far_from_tbmj_are_reported() -> None:
    parcels = square_parcels(3, 1)
    true = geodesic_area(parcels.geometry)
    parcels["TBMJ"] = [true[0], true[1] * 1.0005, true[2] * 1.002]  # 0 %, 0.05 %, 0.2 % off
    problems = [p for p in measure_parcels(parcels).problems if p.code == "TBMJ_MISMATCH"]
    assert len(problems) == 1
    assert problems[0].parcels == (2,)


def test_missing_crs_is_an_error_that_says_how_to_fix_it() -> None:
    parcels = square_parcels(1, 1).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"no coordinate reference system.*EPSG"):
        measure_parcels(parcels)


def test_zone_lookup_follows_the_112_5_degree_boundary() -> None:
    assert gauss_kruger_zone_crs(112.49).to_epsg() == 4546
    assert gauss_kruger_zone_crs(112.51).to_epsg() == 4547


def test_constraint_layer_in_another_crs_is_reprojected() -> None:
    parcels = square_parcels(2, 1)
    half = gpd.GeoSeries([box(500_000, 3_000_000, 500_050, 3_000_100)], crs=GK38)
    in_4490 = half.to_crs(4490)
    in_zone37 = half.to_crs(4546)
    for layer in (half, in_4490, in_zone37):
        share = measure_parcels(parcels, layers={"eco_redline": layer}).table["os_eco"]
        assert share.iloc[0] == pytest.approx(0.5, abs=1e-4)
        assert share.iloc[1] == 0.0


def test_empty_geometry_gets_zero_area_and_a_problem() -> None:
    parcels = square_parcels(2, 1)
    parcels.loc[1, "geometry"] = Point(0, 0).buffer(0)  # empty polygon
    m = measure_parcels(parcels)
    assert m.table["area_m2"].iloc[1] == 0.0
    assert any(p.code == "GEOMETRY_EMPTY" and p.parcels == (1,) for p in m.problems)
