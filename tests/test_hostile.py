"""Hostile inputs: each gives a correct result or a clear error, and conserves parcels and area."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from landplan.api import classify
from landplan.cli import main
from landplan.core.crs import ellipsoidal_area
from landplan.core.errors import InvalidParcelsError, LandplanError
from landplan.io.layers import read_parcels, write_layer

from .conftest import GK38, square_parcels, write_plane_dem

X0, Y0 = 500_000.0, 3_000_000.0


def conserved(result, parcels: gpd.GeoDataFrame) -> None:
    """Every input parcel once, and the total area of the output equals the input's."""
    out = result.parcels
    assert len(out) == len(parcels) and out.index.is_unique
    valid = shapely.make_valid(parcels.geometry.to_numpy())
    expected = ellipsoidal_area(gpd.GeoSeries(valid, crs=parcels.crs)).sum()
    assert result.measurement.table["area_m2"].sum() == pytest.approx(expected, rel=1e-9)


def test_bowtie_self_intersection_empty_null_and_multipolygons() -> None:
    parcels = square_parcels(5, 1)
    parcels.loc[0, "geometry"] = Polygon(
        [(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)]
    )  # bow-tie
    parcels.loc[1, "geometry"] = Polygon(
        [(X0 + 100, Y0), (X0 + 200, Y0), (X0 + 100, Y0 + 100), (X0 + 200, Y0 + 100)]
    )  # self-intersecting ring
    parcels.loc[2, "geometry"] = Polygon()
    parcels.loc[3, "geometry"] = None
    parcels.loc[4, "geometry"] = MultiPolygon(
        [box(X0 + 400, Y0, X0 + 450, Y0 + 100), box(X0 + 460, Y0, X0 + 500, Y0 + 100)]
    )
    with pytest.raises(InvalidParcelsError) as stopped:  # nothing is classified
        classify(parcels)
    (problem,) = stopped.value.problems
    assert problem.code == "V_GEOMETRY_EMPTY" and len(problem.parcels) == 2
    assert "BSM 4304210000000002" in str(stopped.value)
    result = classify(parcels, skip_invalid=True)
    conserved(result, parcels)
    codes = {p.code: p for p in result.problems}
    assert "2 invalid parcel geometries" in codes["GEOMETRY_REPAIRED"].message
    assert codes["GEOMETRY_EMPTY"].parcels == (2, 3)
    assert result.measurement.table["area_m2"].iloc[0] == pytest.approx(5000, rel=1e-3)
    set_aside = result.parcels.loc[[2, 3]]
    assert set_aside["lp_class"].tolist() == ["OTHER", "OTHER"]
    assert set_aside["lp_reasons"].tolist() == ["V_GEOMETRY_EMPTY"] * 2
    assert result.invalid["parcel"].tolist() == [2, 3]


def test_z_and_m_coordinates(tmp_path: Path) -> None:
    parcels = square_parcels(2, 1)
    parcels["geometry"] = shapely.force_3d(parcels.geometry.to_numpy(), z=55.0)
    path = tmp_path / "z.gpkg"
    write_layer(parcels, path)
    read = read_parcels(path)
    assert shapely.has_z(read.geometry.to_numpy()).all()
    result = classify(read)
    conserved(result, parcels)
    measured = tmp_path / "zm.shp"
    pyogrio.write_dataframe(parcels, measured, layer_options={"SHPT": "POLYGONZM"})
    conserved(classify(read_parcels(measured)), parcels)


def test_parcels_on_both_sides_of_a_zone_boundary() -> None:
    # 112.5°E is the boundary of zones 37 (EPSG:4546) and 38 (EPSG:4547)
    lonlat = gpd.GeoSeries(
        [box(112.49, 27.0, 112.4995, 27.005), box(112.4995, 27.0, 112.51, 27.005)], crs=4490
    )
    parcels = gpd.GeoDataFrame(
        {
            "DLBM": ["0101"] * 2,
            "ZLDWDM": ["4304210010010000000"] * 2,
            "KCXS": [0.0, 0.0],
            "GDPDJB": [1, 1],
        },
        geometry=lonlat.segmentize(0.0002),
        crs=4490,
    )
    in37, in38 = parcels.to_crs(4546), parcels.to_crs(4547)
    redline = gpd.GeoSeries([box(112.4995, 26.9, 112.6, 27.1)], crs=4490).to_crs(4547)
    results = [classify(p, layers={"eco_redline": redline}) for p in (parcels, in37, in38)]
    areas = [r.measurement.table["area_m2"].to_numpy() for r in results]
    assert np.allclose(areas[0], areas[1], rtol=1e-6) and np.allclose(areas[0], areas[2], rtol=1e-6)
    for r in results:
        assert r.evidence.hits["P_ECO_REDLINE"].tolist() == [False, True]


def test_dem_with_holes_and_not_covering_every_parcel(tmp_path: Path) -> None:
    dem = write_plane_dem(tmp_path / "d.tif", 30.0, nodata_block=(slice(0, 60), slice(0, 20)))
    parcels = square_parcels(3, 1, x0=500_050.0, y0=3_000_150.0, GDPDJB=[1, 1, 1])
    parcels.loc[2, "geometry"] = box(510_000, 3_010_000, 510_100, 3_010_100)  # off the DEM
    result = classify(parcels, dem=dem)
    conserved(result, parcels)
    slope = result.measurement.table["slope_mean_deg"]
    assert slope.iloc[1] == pytest.approx(30.0)
    assert np.isnan(slope.iloc[2])
    assert any(p.code == "SLOPE_NO_DATA" and 2 in p.parcels for p in result.problems)
    # where the DEM says nothing, GDPDJB decides: grade 1 is not steep
    assert not result.evidence.hits["P_SLOPE_GT25"].iloc[2]
    assert result.evidence.hits["P_SLOPE_GT25"].iloc[1]


def test_dem_in_a_geographic_crs(tmp_path: Path) -> None:
    dem = write_plane_dem(tmp_path / "g.tif", 30.0, crs=4490, cell=0.0002, x0=112.0, y0=27.012)
    parcels = gpd.GeoDataFrame(
        {"DLBM": ["0101"], "ZLDWDM": ["4304210010010000000"], "KCXS": [0.0]},
        geometry=[box(112.004, 27.004, 112.006, 27.006)],
        crs=4490,
    )
    result = classify(parcels.to_crs(4546), dem=dem)
    assert result.measurement.table["slope_mean_deg"].iloc[0] == pytest.approx(30.0, abs=0.05)
    assert result.evidence.hits["P_SLOPE_GT25"].iloc[0]


def test_runs_are_reproducible_and_write_a_manifest(tmp_path: Path) -> None:
    from landplan.io.sample import sample_path

    args = [
        "classify",
        sample_path("parcels"),
        "--targets",
        sample_path("targets"),
        "--layer",
        f"eco_redline={sample_path('constraints')}",
        "--overwrite",
    ]
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.gpkg"
        result = CliRunner().invoke(
            main, [*args, "-o", str(out), "--summary", str(tmp_path / f"{name}.csv")]
        )
        assert result.exit_code == 0, result.output
        outputs.append(out)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    manifest = json.loads((tmp_path / "a.gpkg.manifest.json").read_text(encoding="utf-8"))
    assert (
        manifest["profile"]["id"] == "hunan-hengyang" and len(manifest["profile"]["sha256"]) == 64
    )
    assert (
        manifest["inputs"]["parcels"]["sha256"]
        == json.loads((tmp_path / "b.gpkg.manifest.json").read_text(encoding="utf-8"))["inputs"][
            "parcels"
        ]["sha256"]
    )
    assert {"landplan", "gdal", "proj", "shapely", "geopandas"} <= set(manifest["versions"])
    inside = gpd.read_file(outputs[0], layer="manifest")["manifest_json"].iloc[0]
    assert json.loads(inside) == manifest


GEOMETRIES = st.sampled_from(
    ["box", "bowtie", "empty", "none", "multi", "spike", "tiny", "collection"]
)


@st.composite
def hostile_frames(draw: st.DrawFn) -> gpd.GeoDataFrame:
    n = draw(st.integers(1, 12))
    geoms = []
    for i in range(n):
        kind = draw(GEOMETRIES)
        x, y = X0 + 300 * i, Y0
        w = draw(st.floats(0.01, 250))
        geoms.append(
            {
                "box": box(x, y, x + w, y + w),
                "bowtie": Polygon([(x, y), (x + w, y + w), (x + w, y), (x, y + w)]),
                "empty": Polygon(),
                "none": None,
                "multi": MultiPolygon(
                    [box(x, y, x + w, y + w), box(x + w / 2, y, x + 2 * w, y + w)]
                ),
                "spike": Polygon(
                    [
                        (x, y),
                        (x + w, y),
                        (x + w, y + w),
                        (x + w, y + 2 * w),
                        (x + w, y + w),
                        (x, y + w),
                    ]
                ),
                "tiny": box(x, y, x + 1e-4, y + 1e-4),
                "collection": shapely.GeometryCollection(
                    [box(x, y, x + w, y + w), shapely.LineString([(x, y), (x + 1, y)])]
                ),
            }[kind]
        )
    text = st.one_of(
        st.none(),
        st.text(max_size=6),
        st.sampled_from(["0101", "0103K", "011", "0201", "1104A", "0301", "", " ", "水田", "NaN"]),
    )
    number = st.one_of(
        st.none(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=4),
        st.integers(-5, 20),
    )
    column = lambda strategy: draw(st.lists(strategy, min_size=n, max_size=n))  # noqa: E731
    return gpd.GeoDataFrame(
        {
            "DLBM": column(text),
            "ZLDWDM": column(st.one_of(text, st.just("4304210010010000000"))),
            "KCXS": column(number),
            "GDPDJB": column(number),
            "GDDB": column(number),
            "ZZSXDM": column(text),
            "TBMJ": column(number),
        },
        geometry=geoms,
        crs=GK38,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parcels=hostile_frames())
def test_fuzz_never_crashes_without_a_landplan_error(parcels: gpd.GeoDataFrame) -> None:
    redline = gpd.GeoSeries([box(X0 - 10, Y0 - 10, X0 + 1000, Y0 + 100)], crs=GK38)
    try:
        result = classify(parcels, layers={"eco_redline": redline})
    except LandplanError:
        return
    assert result.parcels.index.equals(parcels.index)
    assert result.parcels["lp_class"].notna().all()
    assert np.isfinite(result.measurement.table["area_m2"]).all()
