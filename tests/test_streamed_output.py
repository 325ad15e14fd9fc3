"""The parcel layer written county by county as counties finish (``classify(output=...)``).

The layer written while the processes engine runs must be the layer
``Result.to_file`` writes afterwards: same features in input order, same
columns, types and geometry type; a run that fails leaves no file behind.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

import landplan
import landplan.io.gpkg as gpkg
from landplan.engines.output import consecutive
from landplan.engines.partition import CountyPlan
from landplan.io.sample import load_sample


def _same_layers(a: Path, b: Path) -> None:
    info = [pyogrio.read_info(p, layer="parcels") for p in (a, b)]
    for key in ("features", "geometry_type", "crs", "fields", "dtypes", "geometry_name"):
        assert str(info[0][key]) == str(info[1][key]), key
    got, want = (pyogrio.read_dataframe(p, layer="parcels", fid_as_index=True) for p in (a, b))
    pd.testing.assert_frame_equal(got.drop(columns="geometry"), want.drop(columns="geometry"))
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()
    assert info[0]["capabilities"]["fast_spatial_filter"]


def test_the_layer_written_as_counties_finish_is_the_layer_to_file_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_sample()
    puts: list[int] = []
    put = gpkg.LayerWriter.put
    monkeypatch.setattr(
        gpkg.LayerWriter, "put", lambda self, frame: puts.append(len(frame)) or put(self, frame)
    )
    streamed = tmp_path / "streamed.gpkg"
    result = landplan.classify(
        s.parcels, layers=s.layers, targets=s.targets, workers=2, output=streamed
    )
    counties = s.parcels["ZLDWDM"].str[:6]
    runs = counties.groupby((counties != counties.shift()).cumsum(), sort=False).size()
    assert puts == runs.tolist()  # one county at a time, in input order
    assert counties.nunique() == len(runs) > 1  # the sample's counties are consecutive
    after = tmp_path / "after.gpkg"
    result.to_file(after)
    _same_layers(streamed, after)
    tables = [name for name, _ in pyogrio.list_layers(streamed)]
    assert tables == [name for name, _ in pyogrio.list_layers(after)]
    assert (tmp_path / "streamed.gpkg.manifest.json").exists()


def test_counties_that_interleave_are_written_after_the_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_sample()
    order = np.random.default_rng(3).permutation(len(s.parcels))
    parcels = s.parcels.iloc[order].reset_index(drop=True)
    monkeypatch.setattr(gpkg.LayerWriter, "put", None)  # would fail if called
    out = tmp_path / "out.gpkg"
    result = landplan.classify(parcels, layers=s.layers, targets=s.targets, workers=2, output=out)
    written = pyogrio.read_dataframe(out, layer="parcels")
    assert written["BSM"].tolist() == parcels["BSM"].tolist()
    assert written["lp_class"].tolist() == result.parcels["lp_class"].tolist()


def test_consecutive_counties_are_recognised_only_when_they_cover_the_input_in_runs() -> None:
    a, b = CountyPlan("a", np.arange(0, 3)), CountyPlan("b", np.arange(3, 5))
    assert consecutive([b, a], 5) == [a, b]
    assert consecutive([a, CountyPlan("b", np.array([3, 5]))], 5) is None  # a gap
    assert (
        consecutive([CountyPlan("a", np.array([0, 2])), CountyPlan("b", np.array([1]))], 3) is None
    )


def _frame(n: int, start: int = 0) -> gpd.GeoDataFrame:
    x = np.arange(start, start + n, dtype=float)
    return gpd.GeoDataFrame(
        {"v": x, "name": pd.Series([f"p{i}" for i in range(n)], dtype="str")},
        geometry=[box(i, 0, i + 1, 1) for i in x],
        crs=4546,
    )


def test_a_write_given_up_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.gpkg"
    whole = pd.concat([_frame(5), _frame(5, 5)])
    writer = gpkg.LayerWriter(out, "parcels", whole.geometry)
    writer.put(_frame(5))
    writer.abandon()
    assert not out.exists()


def test_a_write_that_fails_raises_on_close_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.gpkg"
    writer = gpkg.LayerWriter(out, "parcels", _frame(10).geometry)
    writer.put(_frame(5))
    writer.put(_frame(5, 5).rename(columns={"v": "w"}))  # not the first frame's columns
    with pytest.raises(KeyError):
        writer.close()
    assert not out.exists()


def test_frames_written_one_after_another_make_one_layer(tmp_path: Path) -> None:
    out = tmp_path / "out.gpkg"
    parts = [_frame(3), _frame(4, 3)]
    writer = gpkg.LayerWriter(out, "parcels", pd.concat(parts).geometry)
    for part in parts:
        writer.put(part)
    writer.close()
    got = pyogrio.read_dataframe(out, layer="parcels")
    assert got["v"].tolist() == list(range(7))
    assert got["name"].tolist() == ["p0", "p1", "p2", "p0", "p1", "p2", "p3"]


def test_parcels_with_dates_are_written_after_the_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A date column's Arrow type is not known from its dtype alone: the county writer
    declines, and the merged parcels are written as to_file writes them."""
    s = load_sample()
    parcels = s.parcels.copy()
    parcels["GXSJ"] = pd.Timestamp("2020-12-31") + pd.to_timedelta(np.arange(len(parcels)), "D")
    monkeypatch.setattr(gpkg.LayerWriter, "put", None)  # would fail if called
    out = tmp_path / "out.gpkg"
    result = landplan.classify(parcels, layers=s.layers, targets=s.targets, workers=2, output=out)
    after = tmp_path / "after.gpkg"
    result.to_file(after)
    _same_layers(out, after)


def test_a_write_that_fails_after_its_last_frame_raises_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GDAL failing as it finishes the layer (disk full while the index is built): close()
    raises that error instead of waiting for frames that will never come."""
    import threading

    def fails_at_the_end(reader, *args, **kwargs):  # type: ignore[no-untyped-def]
        reader.read_all()  # every batch taken, the end of the frames included
        raise OSError("no space left on device")

    monkeypatch.setattr(gpkg.pyogrio, "write_arrow", fails_at_the_end)
    writer = gpkg.LayerWriter(tmp_path / "out.gpkg", "parcels", _frame(3).geometry)
    writer.put(_frame(3))
    raised: list[BaseException] = []

    def close() -> None:
        try:
            writer.close()
        except OSError as error:
            raised.append(error)

    closing = threading.Thread(target=close, daemon=True)
    closing.start()
    closing.join(timeout=20)
    assert not closing.is_alive(), "close() waits forever"
    assert [str(e) for e in raised] == ["no space left on device"]
