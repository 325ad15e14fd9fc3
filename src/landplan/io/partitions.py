"""County partitions as GeoParquet: the Dask engine's exchange, and a province on disk.

:func:`partition_layer` streams a parcel layer of any size, in batches of
Arrow records (:func:`pyogrio.open_arrow`), into one GeoParquet file per
county (``ZLDWDM[:6]``), hive-style: ``DIR/county=430421/part.parquet``.  Each
county's file stays open and receives its rows of every batch as a new row
group, so memory holds one batch whatever the layer's size.  The feature id
is kept (as the column ``fid``, read back as the index), so a county read with
:func:`read_partition` is indexed as :func:`~landplan.io.layers.read_parcels`
indexes the whole layer.  :func:`county_partitions` lists such a folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyogrio
from pyproj import CRS

from landplan.core.errors import InputError, OutputExistsError, Problem, ReadError
from landplan.io.encoding import shapefile_encoding
from landplan.io.layers import PARCEL_LAYER_NAMES, _choose_layer, _crs_missing, split_layer_spec
from landplan.survey.schema import check_fields, resolve_fields

__all__ = [
    "COUNTY_KEY",
    "NO_COUNTY",
    "CountyFile",
    "county_partitions",
    "feature_count",
    "is_partitioned",
    "partition_layer",
    "read_partition",
    "rows_by_key",
    "write_partition",
]

#: Hive key of a county folder: ``county=430421``.
COUNTY_KEY = "county"
#: Folder name of the parcels without a county code (hive's name for a missing key).
NO_COUNTY = "__HIVE_DEFAULT_PARTITION__"
#: Name of each county's file in its folder.
PART_NAME = "part.parquet"
#: Schema metadata key naming the column that holds the parcels' index.
_INDEX_KEY = b"landplan_index"
#: Rows per Parquet row group of a classified county (what a reader holds at once).
ROW_GROUP_ROWS = 65_536


def write_partition(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write one partition (a GeoDataFrame, or landplan's columns only) as Parquet.

    Parameters
    ----------
    frame
        The partition's rows.
    path
        The file; its folder is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, row_group_size=ROW_GROUP_ROWS)
    return path


def read_partition(path: str | Path, *, geometry: bool) -> pd.DataFrame:
    """Read a partition written by :func:`write_partition` or :func:`partition_layer`.

    Parameters
    ----------
    path
        The file.
    geometry
        Whether it holds a geometry column (read as a GeoDataFrame).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The partition's rows with their index (the feature id for a county
        written by :func:`partition_layer`).
    """
    frame = gpd.read_parquet(path) if geometry else pd.read_parquet(path)
    index = (pq.read_schema(path).metadata or {}).get(_INDEX_KEY)
    if index is not None:
        frame = frame.set_index(index.decode("utf-8"))
    return frame


@dataclass(frozen=True)
class CountyFile:
    """One county's GeoParquet file in a partitioned folder."""

    county: str
    path: Path
    parcels: int


def is_partitioned(path: str | Path) -> bool:
    """Whether *path* is a folder of county partitions (``county=CODE/part.parquet``).

    Parameters
    ----------
    path
        Any path.

    Returns
    -------
    bool
        True when it is a folder holding at least one county partition.
    """
    path = Path(path)
    return path.is_dir() and any(path.glob(f"{COUNTY_KEY}=*/{PART_NAME}"))


def county_partitions(folder: str | Path) -> list[CountyFile]:
    """The county files of a partitioned folder, largest county first.

    Parameters
    ----------
    folder
        A folder written by :func:`partition_layer`.

    Returns
    -------
    list of CountyFile
        County code (``""`` for parcels without one), file and row count
        (from the file's footer; nothing else is read).

    Raises
    ------
    ReadError
        The folder does not exist or holds no county partition.
    """
    folder = Path(folder)
    files = sorted(folder.glob(f"{COUNTY_KEY}=*/{PART_NAME}")) if folder.is_dir() else []
    if not files:
        raise ReadError(
            f"{folder}: holds no county partitions ({COUNTY_KEY}=CODE/{PART_NAME}); "
            "write them with `landplan partition PARCELS.gpkg "
            f"{folder}` (API landplan.partition_parcels)",
            code="PARTITIONS_MISSING",
        )
    out = []
    for file in files:
        code = file.parent.name.split("=", 1)[1]
        rows = pq.ParquetFile(file).metadata.num_rows
        out.append(CountyFile("" if code == NO_COUNTY else code, file, rows))
    return sorted(out, key=lambda c: (-c.parcels, c.county))


def partition_layer(
    path: str | Path,
    folder: str | Path,
    *,
    layer: str | None = None,
    fields: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: Any = None,
    batch_size: int = 65_536,
    overwrite: bool = False,
    advance: Callable[[int], None] | None = None,
) -> list[CountyFile]:
    """Stream a parcel layer into one GeoParquet file per county, in bounded memory.

    Parameters
    ----------
    path
        A parcel file GDAL reads (GeoPackage, Shapefile, FileGDB ...),
        optionally ``"path|layername=NAME"``; in a multi-layer file ``DLTB``
        (or ``地类图斑``) is taken unless *layer* says otherwise.
    folder
        The folder to write ``county=CODE/part.parquet`` into.
    layer
        Layer inside a multi-layer file.
    fields
        Canonical 三调 field name → column, for non-standard schemas.
    encoding
        Text encoding of a shapefile, when it cannot be decided from the file.
    crs
        CRS to assume when the file declares none.
    batch_size
        Features read (and held) at once.
    overwrite
        Replace the county partitions already in *folder*.
    advance
        Called with the number of parcels of each batch once it is written.

    Returns
    -------
    list of CountyFile
        The files written, largest county first.

    Raises
    ------
    ReadError
        The file cannot be read.
    InputError
        No CRS, or required fields (``ZLDWDM`` ...) missing.
    OutputExistsError
        *folder* holds county partitions and *overwrite* is False.

    Examples
    --------
    >>> import tempfile
    >>> from landplan.io.sample import sample_path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = partition_layer(sample_path("parcels"), tmp)
    ...     sum(f.parcels for f in files)
    12000
    """
    path, spec_layer = split_layer_spec(path)
    folder = Path(folder)
    _clear_partitions(folder, overwrite=overwrite)
    options = _read_options(path, layer or spec_layer, encoding)
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        with pyogrio.open_arrow(
            path, return_fids=True, batch_size=batch_size, use_pyarrow=True, **options
        ) as (meta, reader):
            plan = _plan_schema(meta, reader.schema, fields=fields, crs=crs, source=str(path))
            for batch in reader:
                table = plan.convert(pa.Table.from_batches([batch]))
                for code, rows in _by_county(table, plan.county_column):
                    if code not in writers:
                        writers[code] = pq.ParquetWriter(_county_path(folder, code), plan.schema)
                    writers[code].write_table(rows)
                if advance is not None:
                    advance(batch.num_rows)
    except (InputError, OutputExistsError):
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ReadError(
            f"{path}: cannot read as a vector layer: {exc}; give a GeoPackage, Shapefile "
            "(with its .shx and .dbf), GeoJSON or FileGDB",
            code="VECTOR_UNREADABLE",
        ) from exc
    finally:
        for writer in writers.values():
            writer.close()
    return county_partitions(folder) if writers else []


def feature_count(path: str | Path, layer: str | None = None) -> int | None:
    """The feature count of the layer :func:`partition_layer` reads, when GDAL knows it cheaply.

    Parameters
    ----------
    path
        A parcel file, optionally ``"path|layername=NAME"``.
    layer
        Layer inside a multi-layer file, as :func:`partition_layer` takes it.

    Returns
    -------
    int or None
        The count (for a progress total), or None when GDAL cannot tell it
        without a scan or the file cannot be read (:func:`partition_layer`
        reports that clearly).
    """
    path, spec_layer = split_layer_spec(path)
    try:
        chosen = _choose_layer(path, layer or spec_layer, PARCEL_LAYER_NAMES)
        count = pyogrio.read_info(path, layer=chosen)["features"]
    except Exception:  # only the progress total is lost; partition_layer reports it
        return None
    return int(count) if count is not None and count >= 0 else None


def _clear_partitions(folder: Path, *, overwrite: bool) -> None:
    existing = sorted(folder.glob(f"{COUNTY_KEY}=*")) if folder.is_dir() else []
    if existing and not overwrite:
        raise OutputExistsError(
            f"{folder} already holds {len(existing)} county partition(s); pass overwrite=True "
            "(CLI --overwrite) to replace them, or choose another folder"
        )
    for old in existing:
        shutil.rmtree(old)
    folder.mkdir(parents=True, exist_ok=True)


def _read_options(path: Path, layer: str | None, encoding: str | None) -> dict[str, Any]:
    if not path.exists():
        raise ReadError(f"{path}: no such file or directory; check the path", code="FILE_MISSING")
    options: dict[str, Any] = {"layer": _choose_layer(path, layer, PARCEL_LAYER_NAMES)}
    if path.suffix.lower() == ".shp":
        options["encoding"] = shapefile_encoding(path, encoding)
    elif encoding:
        options["encoding"] = encoding
    return options


@dataclass(frozen=True)
class _SchemaPlan:
    """How each Arrow batch of the layer becomes the rows of a county file."""

    schema: pa.Schema
    names: list[str]
    county_column: str

    def convert(self, table: pa.Table) -> pa.Table:
        """The batch under the county files' schema (renamed columns, GeoParquet metadata).

        Parameters
        ----------
        table
            One batch of the layer, as read.

        Returns
        -------
        pyarrow.Table
            The same columns under :attr:`schema`.
        """
        return pa.Table.from_arrays(table.columns, schema=self.schema)


def _plan_schema(
    meta: Mapping[str, Any],
    schema: pa.Schema,
    *,
    fields: Mapping[str, str] | None,
    crs: Any,
    source: str,
) -> _SchemaPlan:
    """Check the layer (CRS, 三调 fields) and make the GeoParquet schema of its county files."""
    columns = [str(c) for c in meta["fields"]]
    layer_crs = meta.get("crs") or crs
    problems = [] if layer_crs else [_crs_missing(source, source)]
    problems.extend(check_fields(pd.Index(columns), fields, source))
    county_column = resolve_fields(columns, fields).get("ZLDWDM")
    if not problems and county_column not in columns:
        problems.append(
            Problem(
                "FIELD_MISSING",
                "ZLDWDM is needed to partition parcels by county; map it with "
                "fields={'ZLDWDM': '<column>'} (CLI: --field ZLDWDM=<column>).",
                source,
            )
        )
    if problems:
        raise InputError(problems)
    geometry_name = meta.get("geometry_name") or "wkb_geometry"
    fid_name = "fid" if "fid" not in columns else "lp_fid"
    renamed = {geometry_name: "geometry", schema.field(0).name: fid_name}
    out_fields = [
        pa.field(renamed.get(f.name, f.name), f.type if f.name != geometry_name else pa.binary())
        for f in schema
    ]
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": [],
                "crs": CRS.from_user_input(layer_crs).to_json_dict(),
            }
        },
    }
    metadata = {b"geo": json.dumps(geo).encode("utf-8"), _INDEX_KEY: fid_name.encode("utf-8")}
    out = pa.schema(out_fields, metadata=metadata)
    return _SchemaPlan(out, out.names, str(county_column))


def _by_county(table: pa.Table, county_column: str) -> list[tuple[str, pa.Table]]:
    """The rows of *table* by county code (``ZLDWDM[:6]``, blanks trimmed), in input order."""
    column = table.column(county_column)
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    codes = pc.fill_null(pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(column), 0, 6), "")
    values = np.asarray(codes.to_numpy(zero_copy_only=False), dtype=object)
    return [(code, table.take(pa.array(rows))) for code, rows in rows_by_key(values)]


def rows_by_key(keys: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The positions of each distinct key (compared as text), keys sorted, rows in input order.

    Parameters
    ----------
    keys
        One key per row (county codes); missing ones (None, NaN) are one key,
        ``"nan"``.

    Returns
    -------
    list of tuple of (str, numpy.ndarray)
        Each key as text and the positions of its rows, ascending.

    Examples
    --------
    >>> [(k, rows.tolist()) for k, rows in rows_by_key(np.array(["b", "a", "b", ""]))]
    [('', [3]), ('a', [1]), ('b', [0, 2])]
    """
    # hashed, not sorted: a city has a million keys and a dozen distinct ones
    codes, distinct = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=False)
    names, named = np.unique(np.asarray(distinct, dtype=object).astype(str), return_inverse=True)
    inverse = named.ravel()[codes]
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(names) + 1))
    return [(str(name), order[bounds[i] : bounds[i + 1]]) for i, name in enumerate(names)]


def _county_path(folder: Path, code: str) -> Path:
    target = folder / f"{COUNTY_KEY}={code or NO_COUNTY}" / PART_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def append_partitions(
    files: list[Path], path: str | Path, *, layer: str, advance: Callable[[int], None] | None = None
) -> list[str]:
    """Copy classified county files into one GeoPackage layer, a row group at a time.

    Parameters
    ----------
    files
        GeoParquet files of the same columns (classified counties).
    path
        The GeoPackage (created as version 1.2 when it does not exist).
    layer
        The layer name.
    advance
        Called with the number of parcels of each row group once written.

    Returns
    -------
    list of str
        The layer's attribute columns, in order (for its QGIS style).
    """
    from landplan.io.layers import write_layer

    columns: list[str] = []
    for file in files:
        source = pq.ParquetFile(file)
        index = (source.schema_arrow.metadata or {}).get(_INDEX_KEY)
        crs = json.loads(source.schema_arrow.metadata[b"geo"])["columns"]["geometry"]["crs"]
        for group in range(source.num_row_groups):
            frame = source.read_row_group(group).to_pandas()
            if index is not None:
                frame = frame.set_index(index.decode("utf-8"))
            geometry = gpd.GeoSeries.from_wkb(frame.pop("geometry"), crs=CRS.from_json_dict(crs))
            rows = gpd.GeoDataFrame(frame, geometry=geometry)
            write_layer(rows, path, layer=layer, append=Path(path).exists())
            columns = list(frame.columns)
            if advance is not None:
                advance(len(rows))
    return columns
