"""One county on every core: threads change the speed, never the answer.

The measurement of one county runs its layers, DEM tiles and projection
chunks on threads (``ClassifyJob.threads``); the processes engine gives a
single county's workers to it as threads.  The cell-centre rasterizer the
slope statistics use is checked against GDAL's, a second implementation.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry import Polygon, box

import landplan
from landplan.core.crs import EQUAL_AREA_CRS, to_equal_area
from landplan.core.threads import available_cores, chunks, imap_threads, map_threads
from landplan.engines import _threads_per_county, cores
from landplan.io.sample import load_sample
from landplan.measure.parcels import measure_parcels
from landplan.measure.rasterize import cell_labels
from landplan.measure.terrain import slope_statistics

from .test_engines import assert_same_answers


def _one_county(parcels: pd.DataFrame) -> pd.DataFrame:
    county = parcels["ZLDWDM"].str[:6].value_counts().index[0]
    return parcels[parcels["ZLDWDM"].str[:6] == county].reset_index(drop=True)


def test_map_threads_keeps_order_and_raises() -> None:
    assert map_threads(lambda x: -x, range(50), threads=4) == [-x for x in range(50)]

    def fail(x: int) -> int:
        if x == 7:
            raise KeyError(x)
        return x

    with pytest.raises(KeyError):
        map_threads(fail, range(10), threads=3)


@pytest.mark.parametrize("threads", [1, 2])
def test_imap_threads_hands_results_over_in_order_without_taking_every_item_first(
    threads: int,
) -> None:
    # an endless supply: map_threads would never return, imap_threads reads a few ahead
    first = itertools.islice(imap_threads(lambda x: x * x, itertools.count(), threads=threads), 6)
    assert list(first) == [0, 1, 4, 9, 16, 25]

    def fail(x: int) -> int:
        if x == 3:
            raise KeyError(x)
        return x

    results = imap_threads(fail, range(10), threads=threads)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(KeyError):
        next(results)


@pytest.mark.parametrize(("n", "parts"), [(0, 3), (1, 4), (10, 3), (10_001, 7)])
def test_chunks_cover_every_position_once(n: int, parts: int) -> None:
    runs = chunks(n, parts)
    joined = np.concatenate(runs) if runs else np.empty(0, int)
    assert joined.tolist() == list(range(n))
    assert len(runs) == min(parts, max(n, 1)) or n == 0


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_all_cores_are_the_cores_the_process_is_given() -> None:
    """A process pinned to one core (``taskset -c 0``, a batch slot) starts one worker.

    Not one per CPU of the machine, each slowed by the others.
    """
    given = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(given)})
        assert available_cores() == 1
        assert cores("processes", None) == 1
        assert cores("processes", 3) == 3  # asked for, whatever the affinity
    finally:
        os.sched_setaffinity(0, given)
    assert available_cores() == len(given)


def test_threaded_projection_equals_one_pass() -> None:
    parcels = load_sample().parcels.geometry
    big = pd.concat([parcels] * 2, ignore_index=True)  # enough for two chunks
    one = big.to_crs(EQUAL_AREA_CRS)
    two = to_equal_area(big, threads=2)
    assert two.index.equals(one.index)
    assert shapely.equals_exact(two.to_numpy(), one.to_numpy(), tolerance=0).all()


def test_measurement_is_identical_on_one_and_two_threads() -> None:
    s = load_sample()
    one = measure_parcels(s.parcels, dem=s.dem, layers=s.layers, tolerance_m=1.0, threads=1)
    two = measure_parcels(s.parcels, dem=s.dem, layers=s.layers, tolerance_m=1.0, threads=2)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    assert one.problems == two.problems


def test_layers_measured_largest_first_are_reported_in_the_order_given(monkeypatch) -> None:
    import landplan.measure.parcels as parcels_module

    s = load_sample()
    roles = sorted(s.layers, key=lambda role: len(s.layers[role]))  # smallest first
    assert len(s.layers[roles[0]]) < len(s.layers[roles[-1]])
    layers = {role: s.layers[role] for role in roles}
    started: list[str] = []
    measure_layer = parcels_module._measure_layer
    monkeypatch.setattr(
        parcels_module,
        "_measure_layer",
        lambda name, *args, **kwargs: started.append(name) or measure_layer(name, *args, **kwargs),
    )
    measure_parcels(s.parcels, layers=layers, tolerance_m=1.0, threads=1)
    sizes = [len(layers[name]) for name in started]
    assert sorted(started) == sorted(roles)
    assert sizes == sorted(sizes, reverse=True)  # one thread: the largest layer first
    both = measure_parcels(s.parcels, layers=layers, tolerance_m=1.0, threads=2).table
    measured = [c for c in both.columns if c.startswith(("ov_", "os_"))]
    expected: list[str] = []
    for role in roles:
        alone = measure_parcels(s.parcels, layers={role: layers[role]}, tolerance_m=1.0).table
        columns = [c for c in alone.columns if c.startswith(("ov_", "os_"))]
        pd.testing.assert_frame_equal(both[columns], alone[columns], check_exact=True)
        expected += columns
    assert measured == expected


def test_threaded_tiles_give_the_statistics_of_one_window() -> None:
    s = load_sample()
    whole = slope_statistics(s.parcels, s.dem, tile_size=100_000)
    tiled = slope_statistics(s.parcels, s.dem, tile_size=97, threads=2)
    pd.testing.assert_frame_equal(whole, tiled, check_exact=False, rtol=1e-12)


def test_one_county_with_two_workers_runs_on_threads_with_the_same_answers() -> None:
    s = load_sample()
    parcels = _one_county(s.parcels)
    single = landplan.classify(parcels, dem=s.dem, layers=s.layers, engine="single")
    two = landplan.classify(parcels, dem=s.dem, layers=s.layers, engine="processes", workers=2)
    assert_same_answers(single, two)
    assert two.manifest["parameters"]["engine"] == "processes"


@pytest.mark.parametrize(
    ("engine", "workers", "counties", "threads"),
    [("single", None, 12, 1), ("single", 2, 12, 2), ("processes", 2, 12, 1),
     ("processes", 8, 3, 2), ("processes", 2, 1, 2), ("dask", 4, 1, 1)],
)  # fmt: skip
def test_threads_per_county(engine: str, workers: int | None, counties: int, threads: int) -> None:
    assert _threads_per_county(engine, workers, counties) == threads  # type: ignore[arg-type]


# ---------------------------------------------------------------- the rasterizer


def _gdal(geoms: np.ndarray, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    labels = np.arange(1, len(geoms) + 1)
    pairs = [(g, int(v)) for g, v in zip(geoms, labels, strict=True)]
    return rasterize(pairs, out_shape=shape, transform=transform, fill=0, dtype="int32")


def test_cell_labels_match_gdal_on_the_sample_parcels() -> None:
    s = load_sample()
    with rasterio.open(s.dem) as src:
        geoms = s.parcels.geometry.to_crs(src.crs).to_numpy()
        transform, shape = src.transform, (src.height, src.width)
    labels = np.arange(1, len(geoms) + 1)
    mine = cell_labels(geoms, labels, transform=transform, shape=shape)
    assert (mine == _gdal(geoms, transform, shape)).all()
    assert (mine > 0).sum() > 0.5 * mine.size  # the comparison covered real parcels


def test_cell_labels_of_holes_multipolygons_and_slanted_edges_match_gdal() -> None:
    rng = np.random.default_rng(3)
    geoms = [
        box(0.3, 0.3, 9.7, 9.7).difference(box(3.1, 3.1, 6.2, 6.9)),  # a hole
        shapely.MultiPolygon([box(11.2, 0.4, 13.9, 4.4), box(15.1, 2.2, 19.6, 8.8)]),
        Polygon([(21.1, 0.2), (29.8, 3.3), (24.4, 9.9)]),  # slanted edges
        Polygon([(0.2, 12.3), (8.7, 10.4), (4.1, 15.2), (9.3, 19.6), (0.6, 18.1)]),  # concave
    ]
    for _ in range(20):  # random quadrilaterals, off the cell centres' grid
        x, y = rng.uniform(10, 28), rng.uniform(10, 28)
        geoms.append(
            shapely.convex_hull(
                shapely.MultiPoint(rng.uniform(-1.7, 1.7, (6, 2)) + np.array([x, y]))
            )
        )
    arr = np.array(geoms, dtype=object)
    grid = Affine(1.0, 0, 0, 0, -1.0, 30.0)
    mine = cell_labels(arr, np.arange(1, len(arr) + 1), transform=grid, shape=(30, 30))
    assert (mine == _gdal(arr, grid, (30, 30))).all()


def test_cell_labels_count_a_centre_on_an_edge_once() -> None:
    """Two parcels share a vertical edge through cell centres: each centre belongs to one."""
    grid = Affine(1.0, 0, 0, 0, -1.0, 4.0)
    left, right = box(0, 0, 2.5, 4), box(2.5, 0, 4, 4)  # x = 2.5 is the centre of column 2
    out = cell_labels(np.array([left, right]), np.array([1, 2]), transform=grid, shape=(4, 4))
    assert out.tolist() == [[1, 1, 2, 2]] * 4


def test_cell_labels_later_parcels_replace_earlier_ones_where_they_overlap() -> None:
    grid = Affine(1.0, 0, 0, 0, -1.0, 2.0)
    out = cell_labels(
        np.array([box(0, 0, 4, 2), box(1, 0, 3, 2)]), np.array([1, 2]), transform=grid,
        shape=(2, 4),
    )  # fmt: skip
    assert out.tolist() == [[1, 2, 2, 1], [1, 2, 2, 1]]
