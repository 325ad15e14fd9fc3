"""Ellipsoidal areas against an independent geodesic computation (pyproj.Geod)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from landplan.core.crs import (
    CGCS2000_A,
    CGCS2000_RF,
    EQUAL_AREA_CRS,
    ellipsoidal_area,
    gauss_kruger_zone_crs,
    measuring_crs,
)
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


@pytest.mark.parametrize("epsg", [4547, 4526, 32649])  # GK without and with zone prefix, UTM
def test_transverse_mercator_parcels_are_measured_where_they_are(epsg: int) -> None:
    assert measuring_crs(epsg).to_epsg() == epsg


@pytest.mark.parametrize("epsg", [4490, 3857])  # geographic; conformal but not Transverse Mercator
def test_other_crss_are_measured_in_the_equal_area_projection(epsg: int) -> None:
    assert measuring_crs(epsg) == EQUAL_AREA_CRS


@pytest.mark.parametrize("offset_km", [150, -150])
def test_gauss_kruger_areas_equal_equal_area_projection_areas(offset_km: int) -> None:
    """Planar area over the areal scale at the centroid, against Albers equal-area to 1e-8.

    Two methods: the parcels measured in their Gauss-Krüger zone (0.05 % of
    planar error 150 km from the meridian, corrected by the scale factor), and
    the parcels densified to 1 m and projected to the equal-area CRS.  The
    scale varies across a parcel at second order only (size / earth radius,
    squared), far below 1e-8 for parcels up to 160 m across.
    """
    parcels = random_parcels(np.random.default_rng(abs(offset_km) + 7), 500_000 + offset_km * 1000)
    albers = parcels.segmentize(1.0).to_crs(EQUAL_AREA_CRS).area.to_numpy()
    assert np.all(np.abs(parcels.area.to_numpy() / albers - 1) > 4.5e-4)  # planar is off
    assert np.all(np.abs(ellipsoidal_area(parcels).to_numpy() / albers - 1) < 1e-8)


def test_overlap_is_in_ellipsoidal_square_metres_150km_from_the_meridian() -> None:
    """The west half of a parcel 150 km east of zone 38's meridian: its ellipsoidal area.

    The overlap is divided by the areal scale at the *parcel's* centroid, 25 m
    east of the half's own; the scale grows by 2x/R² ≈ 7.4e-9 per metre there,
    so the overlap is within 1.9e-7 of the half's area (1e-6 asserted), while
    its planar area is 5.6e-4 too large.
    """
    x, y = 650_000.0, 3_000_000.0
    parcel = gpd.GeoDataFrame(
        square_parcels(1, 1).drop(columns="geometry"),
        geometry=[box(x, y, x + 100, y + 100)],
        crs=GK38,
    )
    half = gpd.GeoSeries([box(x - 10, y - 10, x + 50, y + 110)], crs=GK38)
    table = measure_parcels(parcel, layers={"eco_redline": half}).table
    west = gpd.GeoSeries([box(x, y, x + 50, y + 100)], crs=GK38)
    assert table["ov_eco"].iloc[0] == pytest.approx(geodesic_area(west)[0], rel=1e-6)
    assert table["ov_eco"].iloc[0] < 5000 * (1 - 4.5e-4)  # the planar 5,000 m² is too large
    assert table["area_m2"].iloc[0] == pytest.approx(geodesic_area(parcel.geometry)[0], rel=1e-6)
    assert table["os_eco"].iloc[0] == pytest.approx(0.5, abs=1e-12)


def test_gauss_kruger_and_geographic_parcels_measure_alike() -> None:
    """The same parcels and layer, measured in their zone and (projected to Albers) in 4490."""
    gk = random_parcels(np.random.default_rng(11), 620_000).segmentize(2.0)
    frame = gpd.GeoDataFrame(
        square_parcels(len(gk), 1).drop(columns="geometry"), geometry=gk.to_numpy(), crs=GK38
    )
    layer = gpd.GeoSeries([box(618_000, 2_998_000, 620_500, 3_001_000)], crs=GK38)
    in_zone = measure_parcels(frame, layers={"eco_redline": layer}).table
    geographic = measure_parcels(frame.to_crs(4490), layers={"eco_redline": layer}).table
    assert np.allclose(in_zone["area_m2"], geographic["area_m2"], rtol=1e-6, atol=0)
    assert np.allclose(in_zone["ov_eco"], geographic["ov_eco"], rtol=1e-5, atol=1e-3)
    assert (in_zone["ov_eco"] > 0).sum() >= 5  # the layer cuts some parcels
