"""Every engine gives the same answers: single process, local processes, Dask."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import landplan
from landplan.core.errors import InvalidParcelsError, Problem, SchemaError
from landplan.engines import _county_codes, _started_workers, resolve_engine
from landplan.engines.partition import layers_near, merge_county_problems, plan_counties
from landplan.engines.pipeline import ClassifyJob, measure_columns
from landplan.io.layers import list_layers
from landplan.io.sample import load_sample
from landplan.measure.parcels import with_layer_shares, without_layer_shares
from landplan.outputs.result import Result
from landplan.rules.model import DEFAULT_PROFILE
from landplan.rules.profiles import load_profile
from landplan.synthetic import generate


def problem_list(
    result: Result,
) -> list[tuple[str, str, str, str, tuple[object, ...], tuple[str, ...]]]:
    return [
        (p.code, p.severity, p.source, p.message, p.parcels, p.counties) for p in result.problems
    ]


def assert_same_answers(a: Result, b: Result, *, problems: bool = True) -> None:
    assert a.parcels.index.equals(b.parcels.index)
    if problems:
        assert problem_list(a) == problem_list(b)
        assert [(p.code, p.message) for p in a.measurement.problems] == [
            (p.code, p.message) for p in b.measurement.problems
        ]
    for column in ("lp_class", "lp_reasons", "lp_prio", "lp_county"):
        assert a.parcels[column].tolist() == b.parcels[column].tolist(), column
    np.testing.assert_allclose(a.parcels["lp_area_ha"], b.parcels["lp_area_ha"], rtol=1e-12)
    # the same columns in the same order, the measures among them (counties ship them once)
    assert a.parcels.columns.tolist() == b.parcels.columns.tolist()
    shown = measure_columns(a.measurement.table).columns
    pd.testing.assert_frame_equal(a.parcels[shown], b.parcels[shown], rtol=1e-9)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.quotas, b.quotas)
    pd.testing.assert_frame_equal(a.evidence.hits, b.evidence.hits)
    pd.testing.assert_frame_equal(a.evidence.values, b.evidence.values, rtol=1e-9)
    assert a.evidence.units == b.evidence.units


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
    assert sample_single.manifest["parameters"]["engine"] == "single"
    assert other.manifest["parameters"]["engine"] == engine


THREE_COUNTIES = ("430405", "430406", "430407")


def three_counties() -> gpd.GeoDataFrame:
    parcels = load_sample().parcels
    return parcels[parcels["ZLDWDM"].str[:6].isin(THREE_COUNTIES)]


def test_counties_whose_parcels_interleave_come_back_in_input_order() -> None:
    """The sample's counties are consecutive, so the merge keeps their order as joined;
    with the rows shuffled, it must put every parcel back where the input had it."""
    s = load_sample()
    parcels = three_counties().sample(frac=1.0, random_state=3)
    county = parcels["ZLDWDM"].str[:6].to_numpy()
    assert (county[1:] != county[:-1]).sum() > 100  # the counties interleave
    layers = {"eco_redline": s.layers["eco_redline"]}
    single = landplan.classify(parcels, layers=layers, targets=s.targets)
    other = landplan.classify(parcels, layers=layers, targets=s.targets, engine="processes")
    assert single.parcels.index.equals(parcels.index)
    assert_same_answers(single, other)


@pytest.fixture(scope="module")
def one_layer_runs() -> dict[str, Result]:
    """Three counties, one constraint layer: every rule of the other layers cannot be evaluated."""
    layers = {"eco_redline": load_sample().layers["eco_redline"]}
    return {
        engine: landplan.classify(three_counties(), layers=layers, engine=engine, workers=2)
        for engine in ("single", "processes", "dask")
    }


@pytest.mark.parametrize("engine", ["processes", "dask"])
def test_engines_report_each_problem_once(engine: str, one_layer_runs: dict[str, Result]) -> None:
    runs = one_layer_runs
    single = runs["single"]
    # what the single engine must report, from the evidence: one problem per missing cause,
    # one per rule and county with parcels it could not judge
    causes = set(single.evidence.missing.values())
    unjudged = [(r, c) for r, (_, counts) in single.evidence.unevaluated.items() for c in counts]
    codes = [p.code for p in single.problems]
    assert codes.count("RULE_NOT_EVALUATED") == len(causes) > 1
    assert codes.count("RULE_NOT_EVALUATED_ON_PARCELS") == len(unjudged)
    assert len(set(problem_list(single))) == len(single.problems)
    assert_same_answers(single, runs[engine])
    assert runs[engine].evidence.unevaluated == single.evidence.unevaluated
    assert runs[engine].manifest["parameters"]["engine"] == engine


def test_a_rule_measured_in_one_county_and_on_no_parcel_of_another_merges_as_one_run() -> None:
    """Without a DEM only farmland has a slope (its grade GDPDJB): in a county left with no
    farmland, the slope rule is measured on no parcel and its county ships no column of
    NaN; merged with counties that measured it, its values are those of one run."""
    parcels = three_counties()
    county = parcels["ZLDWDM"].str[:6]
    farmland = parcels["DLBM"].str[:2] == "01"
    parcels = parcels[~((county == THREE_COUNTIES[0]) & farmland)]
    bare = landplan.classify(parcels[parcels["ZLDWDM"].str[:6] == THREE_COUNTIES[0]])
    assert "P_SLOPE_GT25" not in bare.evidence.own_values  # nothing to ship
    assert np.isnan(bare.evidence.value("P_SLOPE_GT25")).all()
    runs = [landplan.classify(parcels, engine=e, workers=2) for e in ("single", "processes")]
    assert_same_answers(*runs)
    slope = runs[1].evidence.values["P_SLOPE_GT25"]
    in_bare = (parcels["ZLDWDM"].str[:6] == THREE_COUNTIES[0]).to_numpy()
    assert slope[in_bare].isna().all()
    # the grades of the other counties' farmland, as the survey gives them
    grade = parcels["GDPDJB"].astype(float)
    farm = (parcels["DLBM"].str[:2] == "01").to_numpy()
    assert farm.sum() > 10
    np.testing.assert_array_equal(slope[farm], grade[farm])


def test_engines_list_counties_without_target_in_one_problem() -> None:
    targets = {THREE_COUNTIES[0]: 1e6}  # m²; the other two counties have none
    runs = {
        engine: landplan.classify(three_counties(), targets=targets, engine=engine, workers=2)
        for engine in ("single", "processes")
    }
    for result in runs.values():
        (missing,) = [p for p in result.problems if p.code == "TARGET_MISSING"]
        assert set(missing.counties) == set(THREE_COUNTIES[1:])
    assert problem_list(runs["single"]) == problem_list(runs["processes"])


@pytest.mark.parametrize("engine", ["single", "processes", "dask"])
def test_targets_of_other_counties_are_refused_by_every_engine(engine: str) -> None:
    targets = {"110101": 1e6, "110102": 2e6}  # Beijing's counties, parcels are in Xiangtan
    with pytest.raises(landplan.InputError, match="TARGETS_NO_COUNTY") as caught:
        landplan.classify(three_counties(), targets=targets, engine=engine, workers=2)  # type: ignore[arg-type]
    assert [p.code for p in caught.value.problems] == ["TARGETS_NO_COUNTY"]


@pytest.mark.parametrize(
    ("engine", "workers", "scheduler", "expected"),
    [
        (None, None, None, "single"),
        (None, 1, None, "processes"),
        (None, 3, None, "processes"),
        ("dask", 2, None, "dask"),
        (None, None, "tcp://127.0.0.1:8786", "dask"),
        ("single", None, None, "single"),
    ],
)
def test_resolve_engine(
    engine: str | None, workers: int | None, scheduler: str | None, expected: str
) -> None:
    assert resolve_engine(engine, workers, scheduler) == expected


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_workers_must_be_a_positive_whole_number(workers: object) -> None:
    with pytest.raises(landplan.InputError, match="ENGINE_WORKERS"):
        resolve_engine(None, workers)  # type: ignore[arg-type]


def test_problems_of_counties_merge_into_one() -> None:
    a = Problem("P", "bad", "f", "warning", parcels=(7, 2), counties=("430406",))
    b = Problem("P", "bad", "f", "warning", parcels=(3, 7), counties=("430405",))
    c = Problem("E", "worse", "f")
    merged = merge_county_problems([[a, c], [b, c]], pd.Index([9, 7, 5, 3, 2]))
    assert merged == [c, Problem("P", "bad", "f", "warning", (7, 3, 2), ("430405", "430406"))]
    # without counties, a message may count its parcels: only identical problems merge
    d = Problem("Q", "1 parcel(s) bad", parcels=(7,))
    e = Problem("Q", "1 parcel(s) bad", parcels=(3,))
    assert merge_county_problems([[d], [e, d]], pd.Index([9, 7, 5, 3, 2])) == [d, e]


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


def test_counties_ship_no_shares_and_the_driver_computes_the_same(sample_single: Result) -> None:
    """The layer shares a county engine leaves out are computed again to the bit."""
    table = sample_single.measurement.table
    slim = without_layer_shares(table)
    shares = [c for c in table.columns if c.startswith("os_")]
    assert len(shares) > 5 and not set(shares) & set(slim.columns)
    pd.testing.assert_frame_equal(with_layer_shares(slim), table, check_exact=True)
    # a split run ships its shares, taken before its piece areas were scaled: they are kept
    scaled = table.assign(area_m2=table["area_m2"] * 1.01)
    pd.testing.assert_frame_equal(with_layer_shares(scaled), scaled, check_exact=True)


def test_workers_start_early_only_for_several_counties() -> None:
    """The processes engine starts its workers before screening for several counties only:
    one county runs on threads in the driver, and without ZLDWDM the fields' check speaks."""
    job = ClassifyJob(profile=load_profile(DEFAULT_PROFILE))
    parcels = load_sample().parcels
    assert parcels["ZLDWDM"].str[:6].nunique() > 1
    pool = _started_workers(_county_codes(parcels, job), "processes", 2)
    assert pool is not None
    try:
        assert pool.submit(sum, [1, 2]).result(timeout=120) == 3
    finally:
        pool.shutdown()
    one_county = parcels.assign(ZLDWDM=parcels["ZLDWDM"].iloc[0])
    assert _started_workers(_county_codes(one_county, job), "processes", 2) is None
    no_codes = _county_codes(parcels.drop(columns="ZLDWDM"), job)
    assert no_codes is None and _started_workers(no_codes, "processes", 2) is None
    assert _started_workers(_county_codes(parcels, job), "single", 2) is None


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


@pytest.mark.parametrize(
    ("options", "expected"),
    [([], "single"), (["--workers", "2"], "processes"), (["--engine", "dask"], "dask")],
)
def test_cli_workers_mean_what_the_api_workers_mean(
    tmp_path: Path, options: list[str], expected: str
) -> None:
    from click.testing import CliRunner

    from landplan.cli import main
    from landplan.io.sample import sample_path

    out = tmp_path / "out.gpkg"
    run = CliRunner().invoke(main, ["classify", sample_path("parcels"), "-o", str(out), *options])
    assert run.exit_code == 0, run.output
    assert len(gpd.read_file(out, layer="parcels")) == len(load_sample().parcels)
    manifest = json.loads((tmp_path / "out.gpkg.manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["engine"] == expected
    workers = int(options[1]) if options[:1] == ["--workers"] else None
    assert resolve_engine(None if expected == "processes" else expected, workers) == expected


def test_dask_engine_runs_on_a_scheduler_given_by_address(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    s = load_sample()
    parcels = s.parcels[s.parcels["ZLDWDM"].str[:6].isin(["430405", "430406"])]
    layers = {"eco_redline": s.layers["eco_redline"]}
    single = landplan.classify(parcels, layers=layers)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
        remote = landplan.classify(
            parcels, layers=layers, scheduler=cluster.scheduler_address, scratch=tmp_path
        )
    assert_same_answers(single, remote)
    assert not list(tmp_path.iterdir())  # the scratch partitions are cleaned up


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    """A scheduler address nothing listens on: an input error naming the address and what
    to do, not the network library's own exception."""
    import socket

    import dask

    with socket.socket() as free:  # a port nothing listens on once it is closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(landplan.InputError, match="SCHEDULER_UNREACHABLE") as caught,
    ):
        landplan.classify(three_counties(), scheduler=address)
    assert address in str(caught.value) and "dask scheduler" in str(caught.value)


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


def test_parcels_of_several_counties_in_one_problem() -> None:
    s = load_sample()
    parcels = s.parcels.copy()
    farm = np.flatnonzero(parcels["DLBM"].str.startswith("01").to_numpy())
    bad = parcels.index[farm[[0, 500, 1500]]]
    assert parcels.loc[bad, "ZLDWDM"].str[:6].nunique() == 3
    parcels.loc[bad, "KCXS"] = 8.0
    runs = [
        landplan.classify(parcels, engine=engine, skip_invalid=True)
        for engine in ("single", "processes")
    ]
    assert problem_list(runs[0]) == problem_list(runs[1])


def test_pools_left_unjudged_merge_across_counties(one_layer_runs: dict[str, Result]) -> None:
    """Without an abandoned_land layer, stage B leaves ponds out in every county that has them."""
    single = one_layer_runs["single"].evidence.unjudged_pools
    assert single and set(single) == {"B"}
    for engine in ("processes", "dask"):
        assert one_layer_runs[engine].evidence.unjudged_pools == single


def _counting_driver_attributes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every frame whose attributes the driver parses."""
    import landplan.engines as engines

    parsed: list[int] = []
    original = engines.survey_attributes

    def counted(frame, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(len(frame))
        return original(frame, **kwargs)

    monkeypatch.setattr(engines, "survey_attributes", counted)
    return parsed


def test_counties_screen_their_own_parcels_on_the_processes_engine(
    monkeypatch: pytest.MonkeyPatch, sample_single: Result
) -> None:
    """Valid parcels: the driver parses no parcel's attributes (the workers do), and the
    answers and the (empty) table of invalid parcels are the single engine's."""
    s = load_sample()
    parsed = _counting_driver_attributes(monkeypatch)
    result = landplan.classify(s.parcels, dem=s.dem, layers=s.layers, targets=s.targets, workers=2)
    assert parsed == [0]  # only the empty frame that shapes the table of findings
    assert_same_answers(sample_single, result)
    pd.testing.assert_frame_equal(result.invalid, sample_single.invalid)


@pytest.mark.parametrize("engine", ["processes", "dask"])
def test_the_driver_finds_the_county_codes_once(
    engine: str, monkeypatch: pytest.MonkeyPatch, sample_single: Result
) -> None:
    """The county codes decide the workers, the targets' check and the partitions: one pass."""
    import landplan.engines as engines

    s = load_sample()
    found: list[int] = []
    original = engines.county_codes

    def counted(frame, fields=None):  # type: ignore[no-untyped-def]
        found.append(len(frame))
        return original(frame, fields)

    monkeypatch.setattr(engines, "county_codes", counted)
    monkeypatch.setattr(landplan.engines.partition, "county_codes", counted)
    result = landplan.classify(
        s.parcels, dem=s.dem, layers=s.layers, targets=s.targets, engine=engine, workers=2
    )
    assert found == [len(s.parcels)]
    assert_same_answers(sample_single, result)


@pytest.mark.parametrize("problem", ["KCXS", "BSM", "text"])
def test_a_county_with_invalid_parcels_stops_the_run_as_the_single_engine_does(
    problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KCXS out of range in two counties, a BSM shared by two counties, text in a number:
    the processes engine raises the single engine's error, naming every parcel."""
    s = load_sample()
    parcels = s.parcels.copy()
    county = parcels["ZLDWDM"].str[:6]
    first, last = parcels.index[county == county.iloc[0]][3], parcels.index[-5]
    assert county[first] != county[last]
    if problem == "KCXS":
        parcels.loc[[first, last], "KCXS"] = 8.0
    elif problem == "BSM":
        parcels.loc[last, "BSM"] = parcels.loc[first, "BSM"]
    else:
        parcels["KCXS"] = parcels["KCXS"].astype(object)
        parcels.loc[last, "KCXS"] = "abc"
    errors = []
    parsed = _counting_driver_attributes(monkeypatch)
    for workers in (None, 2):
        with pytest.raises((InvalidParcelsError, SchemaError)) as stopped:
            landplan.classify(parcels, layers=s.layers, targets=s.targets, workers=workers)
        errors.append(
            (type(stopped.value), [(p.code, p.message, p.parcels) for p in stopped.value.problems])
        )
    assert errors[0] == errors[1]
    assert parsed[-1] == len(parcels)  # the processes engine screened every parcel at the end
    if problem != "text":
        named = {p for _, _, parcels_named in errors[0][1] for p in parcels_named}
        assert any(str(first) in n for n in named) and any(str(last) in n for n in named)


def test_the_fork_server_starts_while_parcels_of_several_counties_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The county codes, read alone on a thread, decide: several counties start the
    server the workers fork from; one county (threads in this process) does not."""
    import landplan.engines.processes as processes
    from landplan.io.sample import sample_path

    started: list[bool] = []
    monkeypatch.setattr(processes, "_start_server", lambda: started.append(True))
    processes.prepare_workers(sample_path("parcels")).join()
    assert started == [True]
    one = tmp_path / "one.gpkg"
    s = load_sample()
    s.parcels[s.parcels["ZLDWDM"].str[:6] == "430421"].to_file(one, layer="DLTB")
    processes.prepare_workers(one).join()
    assert started == [True]  # no second start
    processes.prepare_workers(tmp_path / "missing.gpkg").join()  # a hint only: no error
    assert started == [True]


def test_a_run_pauses_garbage_collection_and_restores_it_even_when_it_fails(monkeypatch) -> None:
    """Automatic collection is off while parcels are classified (every shapely geometry
    would set it off), and as it was afterwards: on, or off where the caller had it off."""
    import gc

    import landplan.engines.pipeline as pipeline

    seen: list[bool] = []
    evaluate = pipeline.evaluate_rules
    monkeypatch.setattr(
        pipeline, "evaluate_rules", lambda *a, **k: seen.append(gc.isenabled()) or evaluate(*a, **k)
    )
    assert gc.isenabled()
    landplan.classify(three_counties())
    assert seen == [False] and gc.isenabled()
    with pytest.raises(landplan.InputError):
        landplan.classify(three_counties(), targets={"110101": 1e6}, engine="processes")
    assert gc.isenabled()
    gc.disable()
    try:
        landplan.classify(three_counties())
        assert not gc.isenabled()
    finally:
        gc.enable()
