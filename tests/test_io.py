"""Reading real files: formats, shapefile encodings, Chinese names, CRS handling."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from landplan.api import classify
from landplan.core.errors import (
    CRSError,
    EncodingError,
    EncodingGuessWarning,
    InputError,
    ReadError,
)
from landplan.io.layers import list_layers, read_layer, read_parcels, write_layer
from landplan.survey.schema import survey_attributes

from .conftest import square_parcels

TEXT = ["水田", "旱地", "衡阳县"]
OUTSIDE_GBK = "䶮𠀀"  # in GB18030, not in GBK


def chinese_parcels() -> gpd.GeoDataFrame:
    frame = square_parcels(3, 1)
    frame["DLMC"] = TEXT
    return frame


def write_shp(
    frame: gpd.GeoDataFrame, path: Path, encoding: str, *, cpg: str | None, ldid: int | None = 0
) -> Path:
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    cpg_path = path.with_suffix(".cpg")
    if cpg is None:
        cpg_path.unlink(missing_ok=True)
    else:
        cpg_path.write_text(cpg)
    if ldid is not None:
        dbf = path.with_suffix(".dbf")
        data = bytearray(dbf.read_bytes())
        data[29] = ldid
        dbf.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet", ".geojson", ".gdb"])
def test_every_format_round_trips(tmp_path: Path, suffix: str) -> None:
    frame = chinese_parcels()
    path = tmp_path / f"dltb{suffix}"
    if suffix == ".gdb":
        pyogrio.write_dataframe(frame, path, layer="DLTB", driver="OpenFileGDB")
    else:
        write_layer(frame, path, layer="DLTB" if suffix == ".gpkg" else None)
    parcels = read_parcels(path)
    assert parcels["DLMC"].tolist() == TEXT
    assert parcels.crs.to_epsg() == 4547
    assert len(parcels) == 3


def test_gbk_with_cpg(tmp_path: Path) -> None:
    path = write_shp(chinese_parcels(), tmp_path / "a.shp", "GBK", cpg="GBK")
    assert read_layer(path)["DLMC"].tolist() == TEXT


def test_gbk_without_cpg_is_sniffed_with_a_warning(tmp_path: Path) -> None:
    path = write_shp(chinese_parcels(), tmp_path / "a.shp", "GBK", cpg=None, ldid=0)
    with pytest.warns(EncodingGuessWarning, match="GB18030"):
        frame = read_layer(path)
    assert frame["DLMC"].tolist() == TEXT


def test_gbk_without_cpg_but_with_code_page_byte(tmp_path: Path) -> None:
    path = write_shp(chinese_parcels(), tmp_path / "a.shp", "GBK", cpg=None, ldid=0x4D)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_layer(path)["DLMC"].tolist() == TEXT


def test_utf8_without_cpg(tmp_path: Path) -> None:
    path = write_shp(chinese_parcels(), tmp_path / "a.shp", "UTF-8", cpg=None, ldid=0)
    with pytest.warns(EncodingGuessWarning, match="UTF-8"):
        assert read_layer(path)["DLMC"].tolist() == TEXT


def test_gb18030_characters_outside_gbk_survive_a_gbk_cpg(tmp_path: Path) -> None:
    frame = chinese_parcels()
    frame["DLMC"] = [OUTSIDE_GBK, *TEXT[1:]]
    path = write_shp(frame, tmp_path / "a.shp", "GB18030", cpg="GBK")
    assert read_layer(path)["DLMC"].tolist() == [OUTSIDE_GBK, *TEXT[1:]]


def test_undecidable_bytes_are_refused(tmp_path: Path) -> None:
    path = write_shp(chinese_parcels(), tmp_path / "a.shp", "GBK", cpg=None, ldid=0)
    dbf = path.with_suffix(".dbf")
    data = dbf.read_bytes()
    needle = "水田".encode("gbk")
    dbf.write_bytes(data.replace(needle, b"\xff\xfe\xff\xfe"))
    with pytest.raises(EncodingError, match=r"cannot decide.*encoding="):
        read_layer(path)
    assert read_layer(path, encoding="latin-1")["DLMC"].iloc[1] == "旱地".encode("gbk").decode(
        "latin-1"
    )


def test_chinese_field_names_and_non_ascii_paths(tmp_path: Path) -> None:
    frame = square_parcels(2, 1).rename(
        columns={"DLBM": "地类编码", "ZLDWDM": "坐落单位代码", "KCXS": "扣除地类系数"}
    )
    folder = tmp_path / "衡阳市"
    folder.mkdir()
    gpkg = folder / "县级_地块.gpkg"
    write_layer(frame, gpkg, layer="县级_地块")
    # DBF field names hold 10 bytes: real GBK shapefiles carry names cut to 5 characters
    truncated = frame.rename(columns={"坐落单位代码": "坐落单位代", "扣除地类系数": "扣除地类系"})
    shp = write_shp(truncated, folder / "地类图斑.shp", "GBK", cpg=None, ldid=0x4D)
    for path in (gpkg, shp):
        parcels = read_parcels(path)
        attrs = survey_attributes(parcels)
        assert attrs["DLBM_BASE"].tolist() == ["0101", "0101"]
        assert attrs["COUNTY"].tolist() == ["430421", "430421"]
        assert "地类编码" in parcels.columns  # input fields are kept as they are


def test_erdiao_names_and_user_mapping(tmp_path: Path) -> None:
    frame = square_parcels(2, 1).drop(columns="GDPDJB").rename(columns={"KCXS": "TKXS"})
    frame["DLBM"] = ["011", "013"]
    frame["GDPDJ"] = [2, 5]
    frame["MY_CODE"] = frame.pop("ZLDWDM")
    attrs = survey_attributes(frame, fields={"ZLDWDM": "MY_CODE"})
    assert attrs["DLBM_BASE"].tolist() == ["0101", "0103"]
    assert attrs["GDPDJB"].tolist() == [2, 5]
    assert attrs["KCXS"].tolist() == [0.0, 0.0]
    with pytest.raises(InputError, match=r"ZLDWDM.*columns are.*MY_CODE.*fields="):
        survey_attributes(frame)


def test_missing_fields_are_all_listed() -> None:
    frame = square_parcels(1, 1).drop(columns=["DLBM", "ZLDWDM"])
    with pytest.raises(InputError) as info:
        survey_attributes(frame)
    assert {p.code for p in info.value.problems} == {"FIELD_MISSING"}
    assert len(info.value.problems) == 2


def test_missing_prj(tmp_path: Path) -> None:
    path = write_shp(chinese_parcels(), tmp_path / "a.shp", "UTF-8", cpg="UTF-8", ldid=None)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"CRS_MISSING.*\.prj"):
        read_parcels(path)
    assert read_parcels(path, crs="EPSG:4547").crs.to_epsg() == 4547
    # crs= is the CRS of files that declare none: a file that declares one keeps it
    with_prj = tmp_path / "b.gpkg"
    write_layer(chinese_parcels(), with_prj)
    assert read_parcels(with_prj, crs="EPSG:4546").crs.to_epsg() == 4547
    with pytest.raises(CRSError, match="CRS_INVALID"):
        read_parcels(path, crs="EPSG:1")


def test_constraint_layers_without_prj_take_the_crs_given(tmp_path: Path) -> None:
    from landplan.io.layers import read_role_layers

    redline = write_shp(chinese_parcels(), tmp_path / "红线.shp", "UTF-8", cpg="UTF-8", ldid=None)
    redline.with_suffix(".prj").unlink()
    dev = tmp_path / "dev.gpkg"
    write_layer(chinese_parcels().to_crs(4546), dev)
    layers = {"eco_redline": str(redline), "dev_boundary": str(dev)}
    with pytest.raises(CRSError) as info:
        read_role_layers(layers)
    assert [p.code for p in info.value.problems] == ["CRS_MISSING"]
    assert "红线.prj" in info.value.problems[0].message
    assert "eco_redline=" in info.value.problems[0].source
    read = read_role_layers(layers, crs="EPSG:4547")
    assert read["eco_redline"].crs.to_epsg() == 4547
    assert read["dev_boundary"].crs.to_epsg() == 4546  # declared: kept


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        read_parcels(tmp_path / "missing.gpkg")
    fake = tmp_path / "not_really.gpkg"
    fake.write_text("just some text")
    with pytest.raises(ReadError, match=r"not_really\.gpkg"):
        read_parcels(fake)


def test_multi_layer_files(tmp_path: Path) -> None:
    path = tmp_path / "db.gpkg"
    write_layer(chinese_parcels(), path, layer="XZQ")
    write_layer(chinese_parcels(), path, layer="LSYD")
    with pytest.raises(ReadError, match=r"2 layers.*layername="):
        read_parcels(path)
    write_layer(chinese_parcels(), path, layer="DLTB")
    assert len(read_parcels(path)) == 3
    assert len(read_layer(f"{path}|layername=XZQ")) == 3


def test_layers_are_listed_again_when_the_file_changes(tmp_path: Path) -> None:
    """The layer names are kept per version of a file: a layer added later is seen."""
    path = tmp_path / "layers.gpkg"
    write_layer(square_parcels(1, 1), path, layer="first")
    assert list_layers(path) == ["first"]
    write_layer(square_parcels(1, 1), path, layer="second")
    assert list_layers(path) == ["first", "second"]
    assert read_layer(f"{path}|layername=second").shape[0] == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_unreadable_inputs_are_named_in_order_however_the_layers_are_read(
    tmp_path: Path, workers: int
) -> None:
    """With two workers the layers are read while the parcels are; the parcels' error still
    comes first, and a layer's error still reaches the caller."""
    parcels = tmp_path / "parcels.gpkg"
    write_layer(square_parcels(2, 1), parcels, layer="parcels")
    layers = {"eco_redline": tmp_path / "missing_redline.gpkg"}
    with pytest.raises(ReadError, match=r"missing_parcels\.gpkg"):
        classify(tmp_path / "missing_parcels.gpkg", layers=layers, workers=workers)
    with pytest.raises(ReadError, match=r"missing_redline\.gpkg"):
        classify(parcels, layers=layers, workers=workers)


def _mixed_frame(n: int, *, with_object: bool = False) -> gpd.GeoDataFrame:
    """Parcels whose first rows are all polygons and later ones multi-polygons, with gaps."""
    import numpy as np
    import pandas as pd
    from shapely.geometry import MultiPolygon, box

    x = 500_000 + 10.0 * np.arange(n)
    geoms = [box(v, 3_000_000, v + 8, 3_000_008) for v in x]
    for i in range(n // 2, n, 3):
        geoms[i] = MultiPolygon([geoms[i], box(x[i], 3_000_009, x[i] + 1, 3_000_010)])
    geoms[n - 2] = None
    frame = gpd.GeoDataFrame(
        {
            "DLMC": pd.array(["水田", None, "旱地"] * (n // 3) + ["林地"] * (n % 3), dtype="str"),
            "TBMJ": np.where(np.arange(n) % 7 == 0, np.nan, np.arange(n) * 1.5),
            "lp_prio": np.arange(n, dtype=np.int64),
            "lp_stage_b": np.arange(n) % 2 == 0,
            "GDDB": pd.array([None if i % 5 == 0 else i % 15 for i in range(n)], dtype="Int64"),
        },
        geometry=geoms,
        crs=4546,
    )
    if with_object:
        frame["note"] = [{"a": i} if i % 2 else None for i in range(n)]
    return frame


def test_a_large_layer_written_in_batches_equals_one_written_at_once(tmp_path, monkeypatch) -> None:
    """Written 40 rows at a time, a layer whose first batch holds only polygons has the
    layer type, features, attributes and CRS that pyogrio gives it written at once."""
    import landplan.io.gpkg as gpkg

    monkeypatch.setattr(gpkg, "WRITE_BATCH", 40)
    batches: list[int] = []
    in_batches = gpkg.write_in_batches
    monkeypatch.setattr(
        gpkg,
        "write_in_batches",
        lambda frame, *args: batches.append(len(frame)) or in_batches(frame, *args),
    )
    frame = _mixed_frame(130)
    assert set(frame.geometry.iloc[:40].geom_type) == {"Polygon"}
    batched, whole = tmp_path / "batched.gpkg", tmp_path / "whole.gpkg"
    write_layer(frame, batched, layer="parcels")
    assert batches == [130]  # the batched path, not pyogrio's whole-frame write
    pyogrio.write_dataframe(frame, whole, layer="parcels", use_arrow=True)
    info = [pyogrio.read_info(p, layer="parcels") for p in (batched, whole)]
    for key in ("features", "geometry_type", "crs", "fields", "dtypes", "geometry_name"):
        assert str(info[0][key]) == str(info[1][key]), key
    assert info[0]["geometry_type"] == "MultiPolygon"
    got, want = (pyogrio.read_dataframe(p, layer="parcels") for p in (batched, whole))
    assert got.drop(columns="geometry").equals(want.drop(columns="geometry"))
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).sum() == len(frame) - 1
    assert got.geometry.isna().sum() == 1
    assert pyogrio.read_info(batched, layer="parcels")["capabilities"]["fast_spatial_filter"]


@pytest.mark.parametrize("single", ["Polygon", "LineString", "Point"])
def test_single_parts_become_the_wkb_of_one_part_multi_geometries(single: str) -> None:
    """The header written before each single part's WKB gives the bytes shapely gives for
    the one-part multi-geometry it makes (2D and Z), nulls staying null."""
    import numpy as np
    import shapely
    from shapely.geometry import LineString, Point, box

    from landplan.io.gpkg import multi_part_wkb

    make = {"Polygon": shapely.multipolygons, "LineString": shapely.multilinestrings,
            "Point": shapely.multipoints}[single]  # fmt: skip
    flat = {"Polygon": box(0, 0, 1, 2), "LineString": LineString([(0, 0), (1, 2)]),
            "Point": Point(1, 2)}[single]  # fmt: skip
    raised = shapely.force_3d(flat, 5.0)
    multi = make([flat, shapely.affinity.translate(flat, 3)])
    geoms = np.array([flat, raised, multi, None, flat], dtype=object)
    want = [
        None if g is None else shapely.to_wkb(g, byte_order=1)
        for g in [make([flat]), make([raised]), multi, None, make([flat])]
    ]
    assert multi_part_wkb(geoms, single).to_pylist() == want


def test_a_layer_with_object_columns_is_written_at_once(tmp_path, monkeypatch) -> None:
    import landplan.io.gpkg as gpkg

    monkeypatch.setattr(gpkg, "WRITE_BATCH", 40)
    monkeypatch.setattr(gpkg, "write_in_batches", None)  # would fail if called
    frame = _mixed_frame(130, with_object=True)
    assert not gpkg.arrow_ready(frame)
    assert gpkg.arrow_ready(frame.drop(columns="note"))
    write_layer(frame, tmp_path / "out.gpkg", layer="parcels")
    assert pyogrio.read_info(tmp_path / "out.gpkg", layer="parcels")["features"] == 130


def test_one_parcel_field_is_read_alone_by_its_canonical_or_mapped_name(tmp_path) -> None:
    from shapely.geometry import box

    from landplan.io.layers import read_parcel_field

    frame = gpd.GeoDataFrame(
        {"DLBM": ["0101", "0201"], "ZLDM": ["4304210010010000000", "4304220010010000000"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=4546,
    )
    for name in ("p.gpkg", "p.shp", "p.parquet"):
        path = tmp_path / name
        if name.endswith(".parquet"):
            frame.to_parquet(path)
        else:
            frame.to_file(path)
        got = read_parcel_field(path, "ZLDWDM", fields={"ZLDWDM": "ZLDM"})
        assert got is not None and got.tolist() == frame["ZLDM"].tolist(), name
        assert read_parcel_field(path, "ZLDWDM") is None, name  # not mapped: not found
        assert read_parcel_field(path, "DLBM").tolist() == ["0101", "0201"], name
    with pytest.raises(ReadError, match="no such file"):
        read_parcel_field(tmp_path / "missing.gpkg", "ZLDWDM")
