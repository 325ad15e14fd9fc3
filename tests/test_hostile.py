"""Hostile inputs: each gives a correct result or a clear error, and conserves parcels and area."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from landplan.api import classify
from landplan.cli import main
from landplan.core.crs import CGCS2000_A, CGCS2000_RF
from landplan.core.errors import InvalidParcelsError, SchemaError
from landplan.io.layers import read_parcels, write_layer

from .conftest import GK38, square_parcels, write_plane_dem

X0, Y0 = 500_000.0, 3_000_000.0


GEOD = Geod(a=CGCS2000_A, rf=CGCS2000_RF)


def geodesic_areas(geoms: gpd.GeoSeries) -> np.ndarray:
    """Karney's geodesic area of each geometry (0 where missing), edges densified to 1 m."""
    lonlat = geoms.segmentize(1.0).to_crs(4490) if not geoms.crs.is_geographic else geoms
    return np.array(
        [
            0.0 if g is None or g.is_empty else abs(GEOD.geometry_area_perimeter(g)[0])
            for g in lonlat
        ]
    )


def conserved(result, parcels: gpd.GeoDataFrame) -> None:
    """Every input parcel once, and the total area of the output equals the input's.

    The reference is the geodesic area of the repaired input (shapely's make_valid),
    independent of landplan's equal-area projection.
    """
    out = result.parcels
    assert len(out) == len(parcels) and out.index.is_unique
    valid = shapely.make_valid(parcels.geometry.to_numpy())
    expected = geodesic_areas(gpd.GeoSeries(valid, crs=parcels.crs)).sum()
    assert result.measurement.table["area_m2"].sum() == pytest.approx(expected, rel=1e-5)


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
    # parcel 1 has no slope grade, so the DEM decides (with a grade, the profile's
    # farmland_slope_source "survey" would let the grade decide)
    parcels = square_parcels(3, 1, x0=500_050.0, y0=3_000_150.0, GDPDJB=[1, None, 1])
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

#: Values of each field, with whether they pass the error-severity checks (by hand).
DLBM = {
    "0101": "farmland",
    "0103K": "farmland",  # 旱地, suffix K kept apart
    "011": "farmland",  # 二调 水田
    "0201": "other",
    "1104A": "other",
    "0301": "other",
    "": "invalid",
    " ": "invalid",
    "水田": "invalid",
    "NaN": "invalid",
    None: "invalid",
}
ZLDWDM = {
    "4304210010010000000": True,
    " 4304210010010000000 ": True,  # padded: stripped
    "43042100100100": False,  # 14 characters
    "430421001001000000X": False,
    "": False,
    None: False,
}
#: KCXS as stored (numbers, text or missing) → its value, None when missing.
KCXS = {
    0.0: 0.0,
    0.9999: 0.9999,
    1.0: 1.0,
    -0.01: -0.01,
    0.08: 0.08,
    8.0: 8.0,
    None: None,
    "0.1": 0.1,
    " 1 ": 1.0,
    "": None,
}
#: GDPDJB as stored → the grade read (after rounding), None when missing.
GDPDJB = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 0: 0, 7: 7, None: None, "3": 3, "": None, 2.4: 2}


def expected_shape(kind: str, x: float, y: float, w: float) -> BaseGeometry | None:
    """The valid shape each hostile geometry stands for, worked out by hand."""
    c = (x + w / 2, y + w / 2)
    return {
        "box": box(x, y, x + w, y + w),
        "bowtie": MultiPolygon(
            [Polygon([(x, y), c, (x, y + w)]), Polygon([(x + w, y), (x + w, y + w), c])]
        ),
        "empty": None,
        "none": None,
        "multi": box(x, y, x + 2 * w, y + w),  # two overlapping boxes: their union
        "spike": box(x, y, x + w, y + w),  # the spike has no area
        "tiny": box(x, y, x + 1e-4, y + 1e-4),
        "collection": box(x, y, x + w, y + w),  # the line has no area
    }[kind]


@st.composite
def hostile_frames(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, list, dict[int, set[str]]]:
    """Parcels with hostile geometries and attributes the schema accepts.

    Returns the frame, the valid shape of each parcel (by hand) and, by hand, the
    error-severity checks each parcel fails.
    """
    n = draw(st.integers(1, 12))
    geoms, shapes, kinds = [], [], []
    for i in range(n):
        kind = draw(GEOMETRIES)
        x, y = X0 + 600 * i, Y0
        w = draw(st.floats(0.01, 250))
        kinds.append(kind)
        shapes.append(expected_shape(kind, x, y, w))
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

    def column(values: dict, clean: list) -> list:
        """One value per parcel: a third of them from every value, the rest from *clean*."""
        return [
            draw(st.sampled_from(list(values) if draw(st.integers(0, 2)) == 0 else clean))
            for _ in range(n)
        ]

    dlbm = column(DLBM, ["0101", "0103K", "011", "0201", "1104A", "0301"])
    zldwdm = column(ZLDWDM, ["4304210010010000000", " 4304210010010000000 "])
    kcxs = column(KCXS, [0.0, 0.9999, 0.08, None, "0.1", ""])
    gdpdjb = column(GDPDJB, [1, 2, 3, 4, 5, "3", 2.4])
    bsm = column({"B1": 0, "B2": 0, "": 0, None: 0}, [None])  # None: replaced by a unique BSM
    bsm = [f"U{i:03d}" if b is None and draw(st.booleans()) else b for i, b in enumerate(bsm)]
    frame = gpd.GeoDataFrame(
        {
            "BSM": bsm,
            "DLBM": dlbm,
            "ZLDWDM": zldwdm,
            "KCXS": pd.array(kcxs, dtype=object),
            "GDPDJB": pd.array(gdpdjb, dtype=object),
            "GDDB": draw(
                st.lists(st.one_of(st.none(), st.integers(1, 15)), min_size=n, max_size=n)
            ),
            "ZZSXDM": draw(
                st.lists(
                    st.sampled_from(["LS", "WG", "JKHF", "", None, "XX"]), min_size=n, max_size=n
                )
            ),
            "TBMJ": draw(
                st.lists(
                    st.one_of(st.none(), st.floats(0, 1e5, allow_subnormal=False)),
                    min_size=n,
                    max_size=n,
                )
            ),
        },
        geometry=geoms,
        crs=GK38,
    )
    named = [b for b in bsm if b]
    failing: dict[int, set[str]] = {}
    for i in range(n):
        checks = set()
        if DLBM[dlbm[i]] == "invalid":
            checks.add("V_DLBM_DOMAIN")
        if DLBM[dlbm[i]] == "farmland" and GDPDJB[gdpdjb[i]] not in (1, 2, 3, 4, 5):
            checks.add("V_GDPDJB_DOMAIN")
        k = KCXS[kcxs[i]]
        if k is not None and not 0 <= k < 1:
            checks.add("V_KCXS_RANGE")
        if not ZLDWDM[zldwdm[i]]:
            checks.add("V_ZLDWDM_FORMAT")
        if bsm[i] and named.count(bsm[i]) > 1:
            checks.add("V_BSM_DUPLICATE")
        if kinds[i] in ("empty", "none"):
            checks.add("V_GEOMETRY_EMPTY")
        if checks:
            failing[i] = checks
    return frame, shapes, failing


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=hostile_frames())
def test_fuzz_invalid_parcels_stop_or_are_set_aside(drawn) -> None:
    """Hostile geometries and attributes: exactly the invalid parcels stop the run or are
    set aside; every parcel keeps its area, measured against the geodesic area by hand.
    """
    parcels, shapes, failing = drawn
    redline = gpd.GeoSeries([box(X0 - 10, Y0 - 10, X0 + 1000, Y0 + 100)], crs=GK38)
    layers = {"eco_redline": redline}
    if failing:
        with pytest.raises(InvalidParcelsError) as stopped:
            classify(parcels, layers=layers)
        assert {p.code for p in stopped.value.problems} == set().union(*failing.values())
    result = classify(parcels, layers=layers, skip_invalid=True)
    out = result.parcels
    assert out.index.equals(parcels.index)
    # exactly the parcels worked out by hand are set aside, each with its checks
    found = result.invalid.groupby("parcel")["check_id"].agg(set).to_dict()
    assert found == failing
    aside = out.index.isin(list(failing))
    assert (out.loc[aside, "lp_class"] == "OTHER").all()
    for i, checks in failing.items():
        assert set(out.loc[i, "lp_reasons"].split(";")) == checks
    assert (
        out["lp_class"].notna().all() and not out.loc[~aside, "lp_reasons"].str.contains("V_").any()
    )
    # areas: kept for every parcel (0 without geometry), as the geodesic area of the shape
    expected = geodesic_areas(gpd.GeoSeries(shapes, crs=GK38))
    table = result.measurement.table
    assert np.allclose(table["area_m2"], expected, rtol=1e-5, atol=1e-3)
    # no NaN reaches an area column; the parcels set aside count no land-class area
    for name in ("lp_area_ha", "lp_dlmj_m2", "lp_area_m2"):
        assert np.isfinite(out[name].to_numpy(dtype=float)).all(), name
    assert (out.loc[aside, "lp_dlmj_m2"] == 0).all()
    assert np.isfinite(result.quotas.select_dtypes("number").to_numpy(dtype=float)).all()


def test_text_in_a_numeric_field_is_a_schema_error_naming_it() -> None:
    parcels = square_parcels(2, 1, KCXS=[0.0, "abc"])
    with pytest.raises(SchemaError, match=r"KCXS.*'abc'"):
        classify(parcels)
