"""Synthetic data: deterministic, exact tessellation, consistent attributes, every role."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Geod

from landplan.core.crs import CGCS2000_A, CGCS2000_RF
from landplan.core.roles import ROLES
from landplan.io.reference import reference_table
from landplan.measure.terrain import slope_statistics
from landplan.survey.schema import FIELDS, LAND_CLASSES, survey_attributes
from landplan.synthetic import generate


@pytest.fixture(scope="module")
def parcels(small_synthetic: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(small_synthetic / "parcels.gpkg", layer="DLTB")


def test_exact_parcel_count_and_same_seed_same_data(tmp_path: Path, parcels) -> None:
    assert len(parcels) == 1500
    again = generate(tmp_path, n_parcels=1500, seed=7, dem_resolution_m=20.0)
    other = gpd.read_file(again / "parcels.gpkg")
    pd.testing.assert_frame_equal(
        pd.DataFrame(parcels.drop(columns="geometry")), pd.DataFrame(other.drop(columns="geometry"))
    )
    assert parcels.geometry.geom_equals_exact(other.geometry, tolerance=0).all()


def test_parcels_tessellate_each_county(parcels) -> None:
    assert parcels.is_valid.all()
    county = parcels["ZLDWDM"].str[:6]
    for code, group in parcels.groupby(county):
        union = shapely.union_all(group.geometry.to_numpy())
        x0, y0, x1, y1 = union.bounds
        assert union.area == pytest.approx((x1 - x0) * (y1 - y0), rel=1e-9), code  # no gaps
        assert group.area.sum() == pytest.approx(union.area, rel=1e-9), code  # no overlaps


def test_real_county_codes_and_zldwdm(parcels) -> None:
    real = set(reference_table("hengyang_county_targets")["county_code"])
    assert set(parcels["ZLDWDM"].str[:6]) == real
    assert (parcels["ZLDWDM"].str.len() == 19).all()


def test_schema_and_land_classes(parcels) -> None:
    assert {
        "DLBM",
        "ZLDWDM",
        "TBMJ",
        "KCXS",
        "KCMJ",
        "TBDLMJ",
        "GDPDJB",
        "GDLX",
        "GDDB",
        "ZZSXDM",
        "TBXHDM",
        "CZCSXM",
        "FRDBS",
        "BSM",
    } <= set(parcels.columns)
    attrs = survey_attributes(parcels)
    assert set(attrs["DLBM_BASE"]) <= set(LAND_CLASSES)
    assert set(attrs["DLBM_SUFFIX"]) <= {"", "K", "A"}
    assert set(FIELDS) - set(parcels.columns) == {"DLMC"} - set(parcels.columns)


def test_land_use_mix_follows_the_reference(parcels) -> None:
    landuse = reference_table("hengyang_landuse_2020_ha")
    expected = landuse["cultivated_ha"].sum() / landuse["total_ha"].sum()
    farm = parcels["DLBM"].str[:4].isin(["0101", "0102", "0103"])
    share = parcels.loc[farm, "TBMJ"].sum() / parcels["TBMJ"].sum()
    assert share == pytest.approx(expected, abs=0.05)
    paddy = (parcels["DLBM"] == "0101")[farm].mean()
    assert paddy > 0.6  # paddy-dominated, as in Hengyang


def test_areas_are_ellipsoidal_and_consistent(parcels) -> None:
    geod = Geod(a=CGCS2000_A, rf=CGCS2000_RF)
    sample = parcels.sample(60, random_state=1)
    lonlat = sample.geometry.segmentize(1.0).to_crs(4490)
    reference = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in lonlat])
    assert np.allclose(sample["TBMJ"], reference, atol=0.01)
    assert np.allclose(parcels["KCMJ"], (parcels["TBMJ"] * parcels["KCXS"]).round(2), atol=0.011)
    assert np.allclose(parcels["TBDLMJ"], parcels["TBMJ"] - parcels["KCMJ"], atol=0.011)


def test_attributes_where_they_belong(parcels) -> None:
    farm = parcels["DLBM"].str[:4].isin(["0101", "0102", "0103"])
    assert parcels.loc[farm, "GDPDJB"].between(1, 5).all()
    assert parcels.loc[~farm, "GDPDJB"].isna().all()
    assert parcels.loc[farm, "GDDB"].between(1, 15).all()
    assert set(parcels.loc[farm, "ZZSXDM"]) <= {"LS", "FLS", "LYFL", "XG", "WG", "LLJZ"}
    recovery = parcels.loc[~farm, "ZZSXDM"]
    assert set(recovery) <= {"", "JKHF", "GCHF", None}
    assert recovery.isin(["JKHF", "GCHF"]).sum() > 0
    assert set(parcels.loc[farm & (parcels["GDPDJB"] >= 2), "GDLX"]) <= {"TT", "PD"}


def test_gdpdjb_agrees_with_the_dem(small_synthetic: Path, parcels) -> None:
    farm = parcels[parcels["GDPDJB"].notna()]
    stats = slope_statistics(farm, str(small_synthetic / "dem.tif"))
    agree = (stats["slope_grade"].astype(int) == farm["GDPDJB"].astype(int)).mean()
    assert agree > 0.9


def test_dem_has_slopes_over_25_degrees(small_synthetic: Path, parcels) -> None:
    stats = slope_statistics(parcels, str(small_synthetic / "dem.tif"))
    assert (stats["slope_gt25_share"] > 0.5).mean() > 0.02
    with rasterio.open(small_synthetic / "dem.tif") as src:
        assert src.crs.to_epsg() == 4546


def test_a_layer_for_every_role(small_synthetic: Path) -> None:
    layers = {name for name, _ in pyogrio.list_layers(small_synthetic / "constraints.gpkg")}
    assert layers == set(ROLES)
    for name in layers:
        layer = gpd.read_file(small_synthetic / "constraints.gpkg", layer=name)
        assert len(layer) > 0, name
        assert layer.crs.to_epsg() == 4546


def test_abandoned_land_holds_pond_parcels_and_mining_ground(
    small_synthetic: Path, parcels
) -> None:
    """废弃坑塘 features are pond parcels (1104 without a suffix), one in six of them, whole."""
    layer = gpd.read_file(small_synthetic / "constraints.gpkg", layer="abandoned_land")
    ponds = layer[layer["NAME"] == "废弃坑塘"]
    by_bsm = parcels.set_index("BSM")
    assert set(by_bsm.loc[ponds["BSM"], "DLBM"]) == {"1104"}
    per_county = parcels["DLBM"].eq("1104").groupby(parcels["ZLDWDM"].str[:6]).sum()
    assert len(ponds) == sum(math.ceil(n / 6) for n in per_county)  # the 1st, 7th ... of each
    drawn = shapely.equals_exact(ponds.geometry.to_numpy(), by_bsm.loc[ponds["BSM"]].geometry, 0)
    assert drawn.all()
    assert (layer["NAME"] != "废弃坑塘").sum() >= 1  # the mines' ground


def test_targets_have_the_reference_shape(small_synthetic: Path) -> None:
    targets = pd.read_csv(small_synthetic / "targets.csv", dtype={"county_code": str})
    reference = reference_table("hengyang_county_targets")
    assert list(targets.columns) == list(reference.columns)
    has_farmland = targets["farmland_2020_wanmu"] > 0
    ratio = targets["pbf_2035_wanmu"] / targets["farmland_2020_wanmu"]
    expected = reference["pbf_2035_wanmu"] / reference["farmland_2020_wanmu"]
    assert has_farmland.sum() >= 10
    assert np.allclose(ratio[has_farmland], expected[has_farmland], rtol=1e-9)
