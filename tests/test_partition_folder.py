"""A province on Dask: county partitions on disk, classified by workers that read their own.

Every answer (classes, reasons, quotas, the merged tables) is compared with the
single engine on the bundled sample; bad inputs get a clear error.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

import landplan
from landplan.cli import main
from landplan.core.errors import CRSError, InputError, OutputExistsError, ReadError
from landplan.engines.partition import layers_near, read_layers_near
from landplan.io.layers import LayerSource, layer_sources
from landplan.io.partitions import county_partitions, feature_count, read_partition
from landplan.io.sample import load_sample, sample_path
from landplan.outputs.result import Result

pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def sample_single() -> Result:
    s = load_sample()
    return landplan.classify(sample_path("parcels"), layers=s.layers, targets=s.targets, dem=s.dem)


@pytest.fixture(scope="module")
def partitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("province") / "parts"
    landplan.partition_parcels(sample_path("parcels"), folder, batch_size=1000)
    return folder


def _classified(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("county=*/part.parquet"))
    return pd.concat([read_partition(f, geometry=True) for f in files]).sort_index()


def test_partitions_hold_every_parcel_once_as_read(partitions: Path) -> None:
    whole = landplan.read_parcels(sample_path("parcels"))
    files = county_partitions(partitions)
    parts = pd.concat([read_partition(f.path, geometry=True) for f in files]).sort_index()
    pd.testing.assert_frame_equal(parts, whole)
    for f in files:  # each county in its own file, in input order
        frame = read_partition(f.path, geometry=True)
        assert set(frame["ZLDWDM"].str[:6]) == {f.county}
        assert frame.index.is_monotonic_increasing


def test_partitioned_run_gives_the_single_engine_answers(
    partitions: Path, sample_single: Result, tmp_path: Path
) -> None:
    s = load_sample()
    result = landplan.classify_partitioned(
        partitions, tmp_path / "out", layers=s.layers, targets=s.targets, dem=s.dem, workers=2
    )
    out = _classified(tmp_path / "out")
    single = sample_single.parcels
    assert out.index.equals(single.index)
    assert out["lp_class"].tolist() == single["lp_class"].tolist()
    assert out["lp_reasons"].tolist() == single["lp_reasons"].tolist()
    assert out["lp_prio"].tolist() == single["lp_prio"].tolist()
    pd.testing.assert_frame_equal(result.quotas, sample_single.quotas)
    expected = sample_single.tables()
    for name, table in result.tables.items():
        pd.testing.assert_frame_equal(table, expected[name].reset_index(drop=True))
    assert set(expected) - set(result.tables) == {"rule_hits"}
    assert (tmp_path / "out" / "county_quotas.csv").exists()
    assert result.counties["parcels"].sum() == len(single)


def _layer_files() -> dict[str, str]:
    return {role: f"{sample_path('constraints')}|layername={role}" for role in load_sample().layers}


def test_layer_files_travel_as_paths_and_give_the_single_engine_answers(
    partitions: Path, sample_single: Result, tmp_path: Path
) -> None:
    s = load_sample()
    opened = layer_sources(_layer_files())
    assert list(opened) == list(s.layers)  # every role, in the given order
    assert all(isinstance(layer, LayerSource) for layer in opened.values())
    result = landplan.classify_partitioned(
        partitions, tmp_path / "out", layers=_layer_files(), targets=s.targets, dem=s.dem, workers=2
    )
    out = _classified(tmp_path / "out")
    single = sample_single.parcels
    assert out.index.equals(single.index)
    for column in ("lp_class", "lp_reasons", "lp_prio"):
        assert out[column].tolist() == single[column].tolist(), column
    pd.testing.assert_frame_equal(result.quotas, sample_single.quotas)
    expected = sample_single.tables()
    for name, table in result.tables.items():
        pd.testing.assert_frame_equal(table, expected[name].reset_index(drop=True))


def test_a_county_reads_by_box_exactly_the_features_near_it(partitions: Path) -> None:
    s = load_sample()
    opened = layer_sources(_layer_files())
    kept = 0
    for county in county_partitions(partitions):
        frame = read_partition(county.path, geometry=True)
        by_box, whole = read_layers_near(opened, frame), layers_near(s.layers, frame)
        assert list(by_box) == list(whole)
        for role, layer in whole.items():
            # only the geometries are read: a layer's fields do not take part
            assert list(by_box[role].columns) == [layer.geometry.name]
            geometry_only = layer[[layer.geometry.name]]
            pd.testing.assert_frame_equal(by_box[role], geometry_only, check_dtype=False, obj=role)
            kept += len(layer)
        empty = read_layers_near(opened, frame.iloc[:0])  # no parcel: no feature, same columns
        assert all(not len(layer) for layer in empty.values())
        assert all(list(empty[r].columns) == [whole[r].geometry.name] for r in whole)
    assert kept  # the sample's layers do meet its counties


def test_a_layer_file_without_crs_is_refused_before_any_worker(tmp_path: Path) -> None:
    layer = load_sample().layers["eco_redline"].set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="crs"):
        layer.to_file(tmp_path / "no_crs.shp")
    (tmp_path / "no_crs.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match="eco_redline"):
        layer_sources({"eco_redline": tmp_path / "no_crs.shp"})
    assert layer_sources({"eco_redline": tmp_path / "no_crs.shp"}, crs="EPSG:4546")


def test_gpkg_output_holds_every_classified_parcel(
    partitions: Path, sample_single: Result, tmp_path: Path
) -> None:
    s = load_sample()
    out = tmp_path / "province.gpkg"
    landplan.classify_partitioned(
        partitions, out, layers=s.layers, targets=s.targets, output_format="gpkg", workers=2
    )
    written = gpd.read_file(out, layer="parcels").sort_values("BSM")
    single = landplan.classify(sample_path("parcels"), layers=s.layers, targets=s.targets)
    expected = single.parcels.sort_values("BSM")
    assert written["lp_class"].tolist() == expected["lp_class"].tolist()
    quotas = pd.read_csv(out.with_name(out.name + ".manifest.json"), nrows=0)  # readable
    assert quotas is not None
    assert "county_quotas" in landplan.io.layers.list_layers(out)


def test_cli_partition_then_classify_a_folder(tmp_path: Path) -> None:
    s = load_sample()
    runner = CliRunner()
    parts = tmp_path / "parts"
    done = runner.invoke(main, ["-q", "partition", sample_path("parcels"), str(parts)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(main, ["-q", "partition", sample_path("parcels"), str(parts)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    layers = [f"--layer={role}={sample_path('constraints')}|layername={role}" for role in s.layers]
    args = ["-q", "classify", str(parts), "-o", str(tmp_path / "out"), "--workers", "2"]
    run = runner.invoke(main, [*args, *layers, "--targets", s.targets])
    assert run.exit_code == 0, run.output
    assert "PBF and reserve quotas" in run.output
    wrong = runner.invoke(main, [*args, "--engine", "processes", "--overwrite"])
    assert wrong.exit_code == 2 and "dask" in wrong.output


def test_a_folder_without_partitions_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="landplan partition"):
        landplan.classify_partitioned(tmp_path, tmp_path / "out")


def test_a_layer_without_zldwdm_names_the_field(tmp_path: Path) -> None:
    parcels = landplan.read_parcels(sample_path("parcels")).drop(columns="ZLDWDM")
    parcels.iloc[:10].to_file(tmp_path / "no_code.gpkg", layer="DLTB")
    with pytest.raises(InputError, match="ZLDWDM"):
        landplan.partition_parcels(tmp_path / "no_code.gpkg", tmp_path / "parts")


def test_existing_partitions_are_kept_without_overwrite(partitions: Path) -> None:
    with pytest.raises(OutputExistsError, match="overwrite"):
        landplan.partition_parcels(sample_path("parcels"), partitions)


def test_classify_refuses_a_partition_folder_with_the_fix(partitions: Path) -> None:
    with pytest.raises(InputError, match="classify_partitioned"):
        landplan.classify(partitions)


def test_progress_counts_the_parcel_layer_of_a_multi_layer_file(tmp_path: Path) -> None:
    """The progress total is that of the layer partitioned (DLTB), not of the file's first."""
    path = tmp_path / "survey.gpkg"
    whole = landplan.read_parcels(sample_path("parcels"))
    whole.head(3).to_file(path, layer="AAA_OTHER")
    whole.to_file(path, layer="DLTB")
    assert feature_count(path) == len(whole)
    assert feature_count(f"{path}|layername=AAA_OTHER") == 3
    assert feature_count(tmp_path / "missing.gpkg") is None
    counties = landplan.partition_parcels(path, tmp_path / "parts")
    assert sum(c.parcels for c in counties) == len(whole)


@pytest.mark.parametrize("targets", [None, {"430405": 1e6}], ids=["none", "in-memory"])
def test_a_province_runs_without_target_files_and_its_manifest_hashes_only_files(
    partitions: Path, tmp_path: Path, targets: dict[str, float] | None
) -> None:
    """Targets are optional, or given in memory, as for classify: the manifest lists the
    files the run read (parcels, layers), never a target that is no file."""
    import json

    layers = {"eco_redline": f"{sample_path('constraints')}|layername=eco_redline"}
    landplan.classify_partitioned(
        partitions, tmp_path / "out", layers=layers, targets=targets, workers=2
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) == {"parcels", "layer:eco_redline"}
    assert all(entry["kind"] == "file" for entry in manifest["inputs"].values())


def test_a_province_runs_without_constraint_layers(partitions: Path, tmp_path: Path) -> None:
    """No layer is given (every layer rule is reported not evaluable): the counties' classes
    and reasons are the single engine's on the same parcels."""
    result = landplan.classify_partitioned(partitions, tmp_path / "out", workers=2)
    single = landplan.classify(sample_path("parcels"))
    out = _classified(tmp_path / "out")
    assert out.index.equals(single.parcels.index)
    assert out["lp_class"].tolist() == single.parcels["lp_class"].tolist()
    assert out["lp_reasons"].tolist() == single.parcels["lp_reasons"].tolist()
    assert sorted(p.code for p in result.problems) == sorted(p.code for p in single.problems)


def test_a_county_without_any_slope_merges_as_one_run(tmp_path: Path) -> None:
    """Without a DEM, a county left with no farmland has no slope: it misses the slope rules,
    which the other counties judge. The province reports what one run over all reports."""
    parcels = landplan.read_parcels(sample_path("parcels"))
    county = parcels["ZLDWDM"].str[:6]
    parcels = parcels[county.isin(["430405", "430406", "430407"])]
    bare = (parcels["ZLDWDM"].str[:6] == "430405") & (parcels["DLBM"].str[:2] == "01")
    parcels = parcels[~bare]
    parcels.to_file(tmp_path / "parcels.gpkg", layer="parcels")
    landplan.partition_parcels(tmp_path / "parcels.gpkg", tmp_path / "parts")
    result = landplan.classify_partitioned(tmp_path / "parts", tmp_path / "out", workers=2)
    single = landplan.classify(parcels)
    assert [(p.code, p.message) for p in result.problems] == [
        (p.code, p.message) for p in single.problems
    ]
    assert any(p.code == "RULE_NOT_EVALUATED_ON_PARCELS" for p in single.problems)
