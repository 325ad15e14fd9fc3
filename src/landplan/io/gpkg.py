"""Large GeoPackage layers handed to GDAL in Arrow batches, in one write.

``pyogrio.write_dataframe`` turns the whole frame into one Arrow table first,
a second copy of every column (about 95 MB for the output of a county of
200 k parcels, gigabytes for a city's).  Here a layer is written from frames
:data:`WRITE_BATCH` rows at a time, in one ``pyogrio.write_arrow`` session, so
the layer and its spatial index are made as in one write:

- :func:`write_in_batches` writes one frame so;
- :class:`LayerWriter` writes frames given one after another, on a thread of
  its own, while the caller makes the next ones (the county engines write
  each county's parcels as it finishes).
"""

from __future__ import annotations

import itertools
import queue
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

__all__ = ["WRITE_BATCH", "LayerWriter", "arrow_ready", "multi_part_wkb", "write_in_batches"]

#: Rows turned into Arrow at a time when a large GeoPackage layer is written.
WRITE_BATCH = 50_000

#: Single-part geometry types and the WKB type code of their multi-part type.
_MULTI_CODE: dict[str, int] = {"Point": 4, "LineString": 5, "Polygon": 6}

#: Geometry type names (``GeoSeries.geom_type``'s) by shapely's type id.
_GEOMETRY_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                   "MultiLineString", "MultiPolygon", "GeometryCollection")  # fmt: skip

#: The flag of a geometry with Z in shapely's (extended, PostGIS-style) WKB.
_WKB_Z = 0x80000000


def multi_part_wkb(geoms: np.ndarray, single: str) -> pa.Array:
    """Little-endian WKB of *geoms*, those of type *single* as one-part multi-geometries.

    What ``shapely.to_wkb`` gives for ``shapely.multipolygons`` (-points,
    -linestrings) of each one, as pyogrio writes a layer that mixes both
    kinds, without making a geometry: a multi-geometry of one part is the
    part's own WKB after a header (byte order, multi type, count 1).

    Parameters
    ----------
    geoms
        Geometries, a 1-D object array (missing ones give nulls).
    single
        ``"Point"``, ``"LineString"`` or ``"Polygon"``.

    Returns
    -------
    pyarrow.Array
        Binary WKB, one per geometry.

    Examples
    --------
    >>> from shapely.geometry import MultiPolygon, box
    >>> square = box(0, 0, 1, 1)
    >>> wkb = multi_part_wkb(np.array([square, MultiPolygon([square])]), "Polygon")
    >>> wkb[0].as_py() == shapely.to_wkb(MultiPolygon([square]), byte_order=1)
    True
    """
    wkb = pa.array(shapely.to_wkb(geoms, byte_order=1), pa.binary())
    single_part = shapely.get_type_id(geoms) == shapely.GeometryType[single.upper()]
    if not single_part.any():
        return wkb
    code = _MULTI_CODE[single]
    has_z = shapely.has_z(geoms)
    for flag, which in ((0, single_part & ~has_z), (_WKB_Z, single_part & has_z)):
        if which.any():
            header = pa.scalar(struct.pack("<BII", 1, code | flag, 1), pa.binary())
            joined = pc.binary_join_element_wise(header, wkb, pa.scalar(b"", pa.binary()))
            wkb = pc.if_else(pa.array(which), joined, wkb)
    return wkb


def arrow_ready(frame: gpd.GeoDataFrame) -> bool:
    """Whether every column's Arrow type follows from its dtype alone (not from its values).

    Numbers, booleans and text (pandas' string dtypes) do; object columns,
    dates and the like are left to pyogrio, which looks at their values.

    Parameters
    ----------
    frame
        A layer.

    Returns
    -------
    bool
        True when the layer can be written in batches with one schema.
    """
    return all(
        name == frame.geometry.name
        or isinstance(dtype, pd.StringDtype)
        or (isinstance(dtype, np.dtype) and dtype.kind in "biuf")
        or (pd.api.types.is_extension_array_dtype(dtype) and dtype.kind in "biuf")
        for name, dtype in frame.dtypes.items()
    )


def _geometry_type(geometry: gpd.GeoSeries) -> tuple[str, str | None]:
    """The layer's geometry type, and the single-part type to make multi-part, if any.

    As pyogrio decides it for a GeoPackage written at once, so that writing in
    batches gives the same layer: one type as it is; polygons mixed with
    multi-polygons (or lines, points with theirs) all as the multi type;
    anything else ``Unknown``; `` Z`` added when any geometry has a Z.
    """
    geoms = geometry.to_numpy()
    present = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    kinds = {_GEOMETRY_NAMES[k] for k in np.unique(shapely.get_type_id(present))}
    single = next((k for k in _MULTI_CODE if kinds == {k, f"Multi{k}"}), None)
    kind = f"Multi{single}" if single else kinds.pop() if len(kinds) == 1 else "Unknown"
    if kind != "Unknown" and bool(shapely.has_z(present).any()):
        kind = f"{kind} Z"
    return kind, single


def write_in_batches(
    frame: gpd.GeoDataFrame, path: Path, layer: str | None, dataset_options: Any
) -> None:
    """Write *frame* as a new GeoPackage layer, :data:`WRITE_BATCH` rows made Arrow at a time.

    Parameters
    ----------
    frame
        The layer; :func:`arrow_ready`.
    path
        The GeoPackage.
    layer
        The layer's name (GDAL's default when None).
    dataset_options
        GDAL dataset creation options, or None.
    """
    _write_frames(iter([frame]), path, layer, frame.geometry, dataset_options)


def _write_frames(
    frames: Iterator[gpd.GeoDataFrame],
    path: Path,
    layer: str | None,
    geometry: gpd.GeoSeries,
    dataset_options: Any,
) -> None:
    """Write *frames*, one after another, as one new layer whose geometries are *geometry*.

    The schema is the first frame's (its columns' types follow from their
    dtypes, :func:`arrow_ready`); every batch is cast to it.
    """
    kind, single = _geometry_type(geometry)
    first = next(frames, None)
    if first is None:
        return
    name = first.geometry.name
    columns = [c for c in first.columns if c != name]

    def table(rows: gpd.GeoDataFrame) -> pa.Table:
        """Some rows as Arrow, column by column (selecting columns would copy the frame)."""
        geoms = rows.geometry.to_numpy()
        wkb = (  # as pyogrio does: every single part made multi-part
            pa.array(shapely.to_wkb(geoms, byte_order=1), pa.binary())
            if single is None
            else multi_part_wkb(geoms, single)
        )
        arrays = {c: pa.array(rows[c], from_pandas=True) for c in columns}
        return pa.table({**arrays, name: wkb})

    schema = table(first.iloc[:1]).schema  # the types follow from the dtypes alone

    failed: list[BaseException] = []  # GDAL reports a failed batch without its cause

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for frame in itertools.chain([first], frames):
                for start in range(0, len(frame), WRITE_BATCH):
                    rows = frame.iloc[start : start + WRITE_BATCH]
                    yield from table(rows).cast(schema).to_batches()
        except BaseException as error:
            failed.append(error)
            raise

    crs = geometry.crs
    epsg = crs.to_epsg() if crs is not None else None
    try:
        pyogrio.write_arrow(
            pa.RecordBatchReader.from_batches(schema, batches()),
            path,
            layer=layer,
            driver="GPKG",
            geometry_name=name,
            geometry_type=kind,
            crs=None if crs is None else (f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")),
            dataset_options=dataset_options,
        )
    except Exception as error:
        if failed:
            raise failed[0] from error
        raise


class LayerWriter:
    """A new GeoPackage layer written on a thread of its own from frames given in order.

    GDAL writes a batch while the caller makes the next frame.  pyogrio holds
    the GIL while GDAL writes, so the caller's own Python work waits for a
    batch at a time; work in other processes (the county workers) goes on.

    Parameters
    ----------
    path
        The GeoPackage, which must not exist yet; it is removed when the
        write is abandoned (:meth:`abandon`) or fails.
    layer
        The layer's name.
    geometry
        Every geometry the layer will hold, in any order: the layer's type
        is decided from all of them before the first is written, as a write
        of the whole layer at once decides it.
    dataset_options
        GDAL dataset creation options, or None.

    Examples
    --------
    ::

        writer = LayerWriter(out, "parcels", frame.geometry)
        for part in parts:  # each an arrow_ready frame with the same columns
            writer.put(part)
        writer.close()  # waits for GDAL; raises what the write raised
    """

    _END = object()
    _STOP = object()

    def __init__(
        self, path: Path, layer: str, geometry: gpd.GeoSeries, dataset_options: Any = None
    ) -> None:
        self.path = path
        self._frames: queue.Queue[Any] = queue.Queue()
        self._error: BaseException | None = None
        self._ended = False  # the writer has taken the end of the frames
        self._thread = threading.Thread(
            target=self._write, args=(layer, geometry, dataset_options), daemon=True
        )
        self._thread.start()

    def _given(self) -> Iterator[gpd.GeoDataFrame]:
        while (frame := self._frames.get()) is not self._END:  # by identity: frames have no ==
            if frame is self._STOP:
                raise _AbandonedError
            yield frame
        self._ended = True

    def _write(self, layer: str, geometry: gpd.GeoSeries, dataset_options: Any) -> None:
        try:
            _write_frames(self._given(), self.path, layer, geometry, dataset_options)
        except BaseException as error:  # handed to the caller by put() or close()
            self._error = error
            # before the last frame, the caller may still be putting: take all it puts;
            # after it (GDAL failed finishing the layer), close() waits on nothing more
            while not self._ended and self._frames.get() is not self._END:
                pass

    def put(self, frame: gpd.GeoDataFrame) -> None:
        """Queue the next rows of the layer.

        Parameters
        ----------
        frame
            Rows with the columns (and dtypes) of the first frame given.

        Raises
        ------
        Exception
            What the write raised, if it has failed already; the file is then removed.
        """
        if self._error is not None:
            self.close()
        self._frames.put(frame)

    def close(self) -> None:
        """Wait until every row is written.

        Raises
        ------
        Exception
            What the write raised; the file is then removed.
        """
        self._frames.put(self._END)
        self._thread.join()
        if self._error is not None:
            self.path.unlink(missing_ok=True)
            raise self._error

    def abandon(self) -> None:
        """Stop writing and remove the file (the run that fed the layer failed)."""
        self._frames.put(self._STOP)
        self._frames.put(self._END)
        self._thread.join()
        self.path.unlink(missing_ok=True)


class _AbandonedError(Exception):
    """Raised in the writer's batches when the caller abandons the layer: GDAL gives up."""
