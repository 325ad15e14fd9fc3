"""Every engine gives the same answers: single process, local processes, Dask."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import landplan
from landplan.engines.partition import layers_near, plan_counties
from landplan.io.layers import list_layers
from landplan.io.sample import load_sample
from landplan.outputs.result import Result
from landplan.synthetic import generate


def assert_same_answers(a: Result, b: Result) -> None:
    assert a.parcels.index.equals(b.parcels.index)
    for column in ("lp_class", "lp_reasons", "lp_prio", "lp_county"):
        assert a.parcels[column].tolist() == b.parcels[column].tolist(), column
    np.testing.assert_allclose(a.parcels["lp_area_ha"], b.parcels["lp_area_ha"], rtol=1e-12)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.quotas, b.quotas)
    pd.testing.assert_frame_equal(a.evidence.hits, b.evidence.hits)


@pytest.fixture(scope="module")
def sample_single() -> Result:
    s = load_sample()
    return landplan.classify(s.parcels, dem=s.dem, layers=s.layers, targets=s.targets)


@pytest.mark.parametrize("engine", ["processes", "dask"])
def test_engines_agree_on_the_sample(engine: str, sample_single: Result) -> None:
    s = load_sample()
    other = landplan.classify(
        s.parcels, dem=s.dem, layers=s.layers, targets=s.targets, engine=engine, workers=2
    )
    assert_same_answers(sample_single, other)


def test_engines_agree_in_split_mode() -> None:
    s = load_sample()
    roles = ("eco_redline", "dev_boundary", "high_standard_farmland")
    layers = {r: s.layers[r] for r in roles}
    single = landplan.classify(s.parcels, layers=layers, targets=s.targets, split=True)
    dask = landplan.classify(
        s.parcels, layers=layers, targets=s.targets, split=True, engine="dask", workers=2
    )
    assert len(single.parcels) > len(s.parcels)  # some parcels were cut
    assert_same_answers(single, dask)
    assert single.parcels["lp_parent"].tolist() == dask.parcels["lp_parent"].tolist()


@pytest.mark.slow
def test_engines_agree_on_50k_synthetic_parcels(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = generate(tmp_path_factory.mktemp("synth50k"), n_parcels=50_000, seed=7)
    constraints = data / "constraints.gpkg"
    layers = {name: f"{constraints}|layername={name}" for name in list_layers(constraints)}
    kwargs = {"layers": layers, "targets": data / "targets.csv"}
    single = landplan.classify(data / "parcels.gpkg", **kwargs)  # type: ignore[arg-type]
    for engine in ("processes", "dask"):
        other = landplan.classify(
            data / "parcels.gpkg",
            engine=engine,  # type: ignore[arg-type]
            workers=2,
            **kwargs,  # type: ignore[arg-type]
        )
        assert_same_answers(single, other)


def test_partitions_cover_every_parcel_once() -> None:
    s = load_sample()
    plans = plan_counties(s.parcels)
    positions = np.sort(np.concatenate([p.positions for p in plans]))
    assert positions.tolist() == list(range(len(s.parcels)))
    for plan in plans:
        assert set(s.parcels["ZLDWDM"].iloc[plan.positions].str[:6]) == {plan.county}


def test_layers_near_keeps_whole_features_in_any_crs() -> None:
    x, y = 500_000.0, 3_000_000.0
    parcels = gpd.GeoDataFrame(geometry=[box(x, y, x + 100, y + 100)], crs=4547)
    layer = gpd.GeoDataFrame(
        {"name": ["crosses", "far", "inside"]},
        geometry=[
            box(x - 500, y - 500, x + 50, y + 50),
            box(x + 5000, y, x + 5100, y + 100),
            box(x + 10, y + 10, x + 20, y + 20),
        ],
        crs=4547,
    )
    near = layers_near({"eco_redline": layer}, parcels)["eco_redline"]
    assert near["name"].tolist() == ["crosses", "inside"]
    assert shapely.equals(near.geometry.iloc[0], layer.geometry.iloc[0])  # not clipped
    geographic = layers_near({"eco_redline": layer.to_crs(4490)}, parcels)["eco_redline"]
    assert geographic["name"].tolist() == ["crosses", "inside"]


def test_unknown_engine_is_refused() -> None:
    s = load_sample()
    with pytest.raises(landplan.InputError, match="engine 'spark' is not one of"):
        landplan.classify(s.parcels.head(10), engine="spark")  # type: ignore[arg-type]


def test_cli_workers_runs_on_a_local_dask_cluster(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from landplan.cli import main
    from landplan.io.sample import sample_path

    out = tmp_path / "out.gpkg"
    run = CliRunner().invoke(
        main, ["classify", sample_path("parcels"), "-o", str(out), "--workers", "2"]
    )
    assert run.exit_code == 0, run.output
    assert len(gpd.read_file(out, layer="parcels")) == len(load_sample().parcels)


def test_dask_engine_runs_on_a_scheduler_given_by_address(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    s = load_sample()
    parcels = s.parcels[s.parcels["ZLDWDM"].str[:6].isin(["430405", "430406"])]
    layers = {"eco_redline": s.layers["eco_redline"]}
    single = landplan.classify(parcels, layers=layers)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = landplan.classify(
            parcels, layers=layers, scheduler=cluster.scheduler_address, scratch=tmp_path
        )
    assert_same_answers(single, remote)
    assert not list(tmp_path.iterdir())  # the scratch partitions are cleaned up


def test_parcels_set_aside_alike_on_every_engine() -> None:
    """Invalid parcels are screened once, before the counties are shipped: same answers."""
    s = load_sample()
    parcels = s.parcels.copy()
    farm = np.flatnonzero(parcels["DLBM"].str.startswith("01").to_numpy())
    bad = parcels.index[farm[[0, 500, 1500]]]  # in different places of the city
    parcels.loc[bad, "KCXS"] = 8.0
    runs = {
        engine: landplan.classify(
            parcels, layers=s.layers, targets=s.targets, engine=engine, skip_invalid=True
        )
        for engine in ("single", "processes")
    }
    assert_same_answers(runs["single"], runs["processes"])
    for result in runs.values():
        assert result.parcels.loc[bad, "lp_class"].tolist() == ["OTHER"] * 3
        assert result.parcels.loc[bad, "lp_reasons"].tolist() == ["V_KCXS_RANGE"] * 3
        assert sorted(result.invalid["parcel"]) == sorted(bad)
        assert not result.quotas.select_dtypes(float).isna().any().any()
