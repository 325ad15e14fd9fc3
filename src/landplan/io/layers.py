"""Reading and writing layers: GeoPackage, Shapefile, GeoParquet, GeoJSON, FileGDB.

Paths only live here and in the CLI; analysis functions take in-memory
objects.  A layer inside a multi-layer file is named QGIS-style,
``"file.gpkg|layername=eco_redline"``, or with ``layer=``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
from pyproj import CRS

from landplan.core.errors import CRSError, InputError, OutputExistsError, Problem, ReadError
from landplan.core.roles import get_role
from landplan.core.threads import map_threads
from landplan.io import gpkg
from landplan.io.encoding import shapefile_encoding
from landplan.survey.schema import check_fields, resolve_fields

__all__ = [
    "PARCEL_LAYER_NAMES",
    "PARCEL_SUFFIXES",
    "SHAPEFILE_NAMES",
    "LayerInput",
    "LayerSource",
    "LayerTarget",
    "PathLike",
    "ReadOptions",
    "check_writable",
    "layer_sources",
    "list_layers",
    "parcel_files",
    "read_layer",
    "read_parcel_field",
    "read_parcels",
    "read_role_layers",
    "read_table",
    "split_layer_spec",
    "write_layer",
    "write_table",
]

log = logging.getLogger(__name__)

#: A file path, as text or :class:`pathlib.Path`.
PathLike = str | Path
_PARQUET = {".parquet", ".geoparquet"}
#: Layer names a 三调 database uses for the land-parcel layer.
PARCEL_LAYER_NAMES = ("DLTB", "地类图斑")


#: Suffixes of files taken as parcel layers in a directory (a .gdb folder counts too).
PARCEL_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".gdb")


def parcel_files(path: PathLike) -> list[Path]:
    """The parcel layers a path stands for: itself, or the files in a directory, sorted.

    Parameters
    ----------
    path
        A parcel file, a FileGDB folder, or a folder of parcel files.

    Returns
    -------
    list of pathlib.Path
        The files, sorted by name.

    Raises
    ------
    ReadError
        The path does not exist, or a folder holds no parcel file.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError(
            f"{path}: no such file or directory; check the path (relative paths start in "
            f"the current folder, {Path.cwd()})",
            code="FILE_MISSING",
        )
    if not path.is_dir() or path.suffix.lower() == ".gdb":
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in PARCEL_SUFFIXES)
    if not files:
        raise ReadError(
            f"{path}: no parcel files ({', '.join(PARCEL_SUFFIXES)}) in it; give the folder "
            "holding the delivered parcel files, or one file",
            code="NO_PARCEL_FILES",
        )
    return files


def split_layer_spec(spec: PathLike) -> tuple[Path, str | None]:
    """Split ``"path|layername=NAME"`` into the path and the layer name.

    Parameters
    ----------
    spec
        A path, optionally followed by ``|layername=NAME``.

    Returns
    -------
    tuple
        The path (:class:`pathlib.Path`) and the layer name, or None when
        *spec* names none.

    Examples
    --------
    >>> split_layer_spec("c.gpkg|layername=eco_redline")
    (PosixPath('c.gpkg'), 'eco_redline')
    >>> split_layer_spec("dltb.shp")
    (PosixPath('dltb.shp'), None)
    """
    text = str(spec)
    if "|layername=" in text:
        path, layer = text.split("|layername=", 1)
        return Path(path), layer
    return Path(text), None


def list_layers(path: PathLike) -> list[str]:
    """Names of the vector layers in a file (one name for single-layer formats).

    Parameters
    ----------
    path
        A vector file or FileGDB folder.

    Returns
    -------
    list of str
        The layer names, in the file's order; for GeoParquet the file's stem.

    Raises
    ------
    ReadError
        When GDAL cannot open the file as a vector dataset.
    """
    path = Path(path)
    if path.suffix.lower() in _PARQUET:
        return [path.stem]
    try:
        stat = path.stat()
        return list(_layer_names(path.resolve(), stat.st_mtime_ns, stat.st_size))
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise _unreadable(path, exc) from exc


@functools.lru_cache(maxsize=64)
def _layer_names(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    """The file's layer names, asked of GDAL once per version of the file.

    Listing a GeoPackage's layers costs ~10 ms; every role read from one
    file would ask again.  *mtime_ns* and *size* make a changed file a new key.
    """
    return tuple(str(name) for name in pyogrio.list_layers(path)[:, 0])


def _unreadable(source: object, exc: Exception) -> ReadError:
    """``VECTOR_UNREADABLE``: *source* is not a vector layer GDAL reads."""
    return ReadError(
        f"{source}: cannot read as a vector layer: {exc}; give a GeoPackage, Shapefile "
        "(with its .shx and .dbf), GeoParquet, GeoJSON or FileGDB",
        code="VECTOR_UNREADABLE",
    )


def _choose_layer(path: Path, layer: str | None, preferred: tuple[str, ...]) -> str | None:
    if path.suffix.lower() in _PARQUET or path.suffix.lower() in {".shp", ".geojson", ".json"}:
        return layer
    names = list_layers(path)
    if layer is not None:
        if layer not in names:
            raise ReadError(f"{path}: no layer {layer!r}; layers are {names}", code="LAYER_MISSING")
        return layer
    if len(names) == 1:
        return names[0]
    for want in preferred:
        for name in names:
            if name.upper() == want.upper():
                return name
    raise ReadError(
        f"{path}: holds {len(names)} layers {names}; say which with layer= "
        f"or '{path}|layername=NAME'",
        code="LAYER_AMBIGUOUS",
    )


def read_layer(
    path: PathLike,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    crs: Any = None,
    columns: list[str] | None = None,
    preferred_layers: tuple[str, ...] = (),
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer with its CRS, deciding shapefile encodings safely.

    Parameters
    ----------
    path
        A file (``.gpkg``, ``.shp``, ``.parquet``, ``.geojson``, ``.gdb`` folder
        ...), optionally ``"path|layername=NAME"``.
    layer
        Layer inside a multi-layer file.
    encoding
        Text encoding of a shapefile, when it cannot be decided from the file.
    crs
        CRS to assume when the file declares none (e.g. a shapefile without
        ``.prj``); a file that declares a CRS keeps it.
    columns
        Read only these attribute columns.
    preferred_layers
        Layer names to take, first match wins (case-insensitive), from a
        multi-layer file when no layer is named.
    bbox
        ``(minx, miny, maxx, maxy)`` in the layer's CRS: read only the
        features that GDAL's spatial filter passes for it (at least every
        feature whose geometry meets the box), in feature id order.  Ignored
        for GeoParquet, which is read whole.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the file's feature id where it has one.

    Raises
    ------
    ReadError
        The file does not exist or cannot be read, the layer named is not in
        it, several layers and none chosen, or no geometry column;
        :class:`~landplan.core.errors.EncodingError` when a shapefile's
        encoding cannot be decided.
    CRSError
        ``CRS_INVALID`` when *crs* is not a CRS.

    Examples
    --------
    >>> from landplan.io.sample import sample_path
    >>> eco = read_layer(sample_path("constraints") + "|layername=eco_redline")
    >>> eco.crs.to_epsg()
    4546
    """
    path, spec_layer = split_layer_spec(path)
    layer = layer or spec_layer
    source = f"{path}" + (f"|layername={layer}" if layer else "")
    frame = _read_frame(
        path,
        layer,
        encoding=encoding,
        columns=columns,
        preferred_layers=preferred_layers,
        bbox=bbox,
    )
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        raise ReadError(f"{source}: has no geometry column", code="GEOMETRY_MISSING")
    if bbox is not None and not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()  # a spatial index may give another order than the file's
    return _apply_crs(frame, crs, source)


def _read_frame(
    path: Path,
    layer: str | None,
    *,
    encoding: str | None,
    columns: list[str] | None,
    preferred_layers: tuple[str, ...],
    bbox: tuple[float, float, float, float] | None = None,
    geometry: bool = True,
) -> pd.DataFrame:
    """A layer's features as the file holds them: the reading shared by every reader here."""
    source = f"{path}" + (f"|layername={layer}" if layer else "")
    _require_file(path)
    suffix = path.suffix.lower()
    if suffix in _PARQUET:
        if not geometry:
            return _read_parquet_columns(path, columns)
        return _read_parquet(path, columns)
    layer = _choose_layer(path, layer, preferred_layers)
    options: dict[str, Any] = {}
    if suffix == ".shp":
        options["encoding"] = shapefile_encoding(path, encoding)
    elif encoding:
        options["encoding"] = encoding
    try:
        return pyogrio.read_dataframe(
            path,
            layer=layer,
            columns=columns,
            bbox=bbox,
            read_geometry=geometry,
            use_arrow=True,
            fid_as_index=True,
            **options,
        )
    except Exception as exc:  # DataSourceError, DataLayerError, FieldError ...
        raise _unreadable(source, exc) from exc


def _require_file(path: Path) -> None:
    if not path.exists():
        raise ReadError(
            f"{path}: no such file or directory; check the path (a layer inside a file is "
            "named 'file.gpkg|layername=NAME')",
            code="FILE_MISSING",
        )


def _field_names(path: Path, layer: str | None, preferred_layers: tuple[str, ...]) -> list[str]:
    """The attribute fields of a layer, read from its schema alone."""
    _require_file(path)
    try:
        if path.suffix.lower() in _PARQUET:
            return [n for n in pq.read_schema(path).names if n != "geometry"]
        chosen = _choose_layer(path, layer, preferred_layers)
        return list(pyogrio.read_info(path, layer=chosen)["fields"])
    except ReadError:
        raise
    except Exception as exc:  # DataSourceError, ArrowInvalid ...
        raise _unreadable(str(path), exc) from exc


def _read_parquet_columns(path: Path, columns: list[str] | None) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:
        raise ReadError(
            f"{path}: cannot read as Parquet: {exc}", code="PARQUET_UNREADABLE"
        ) from exc


def _read_parquet(path: Path, columns: list[str] | None) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path, columns=None if columns is None else [*columns, "geometry"])
    except Exception as exc:
        raise ReadError(
            f"{path}: cannot read as GeoParquet: {exc}", code="PARQUET_UNREADABLE"
        ) from exc


def _apply_crs(frame: gpd.GeoDataFrame, crs: Any, source: str) -> gpd.GeoDataFrame:
    """The file's CRS, or *crs* when the file declares none."""
    if crs is None:
        return frame
    try:
        wanted = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj.exceptions.CRSError and TypeError
        raise CRSError(
            Problem(
                "CRS_INVALID",
                f"{crs!r} is not a coordinate reference system ({exc}); give an EPSG code "
                "such as EPSG:4546 (CGCS2000 3° Gauss-Krüger CM 111E) or EPSG:4490.",
                "--crs",
            )
        ) from None
    if frame.crs is None:
        log.info("%s: no CRS in the file, using %s as given", source, wanted.name)
        return frame.set_crs(wanted)
    if not CRS.from_user_input(frame.crs).equals(wanted):
        log.info("%s: keeps the CRS it declares, %s", source, frame.crs.name)
    return frame


def _crs_missing(source: str, spec: PathLike) -> Problem:
    """How to give the CRS of the file *spec* (named *source*), which declares none."""
    path, _ = split_layer_spec(spec)
    fix = f"add {path.with_suffix('.prj').name} beside it" if path.suffix.lower() == ".shp" else ""
    return Problem(
        "CRS_MISSING",
        "the file declares no coordinate reference system. "
        + (f"{fix[0].upper()}{fix[1:]}, or give" if fix else "Give")
        + " the CRS with --crs EPSG:NNNN (API ReadOptions(crs=...)): it is the CRS of every "
        "input file that declares none, parcels and constraint layers alike. 三调 data use "
        "CGCS2000: EPSG:4490 geographic, or a Gauss-Krüger zone EPSG:4513-4554.",
        source,
    )


@dataclass(frozen=True)
class ReadOptions:
    """How to read a parcel layer whose schema, encoding or CRS needs help.

    Attributes
    ----------
    fields
        Canonical 三调 field name → column, for non-standard schemas.
    encoding
        Text encoding of a shapefile, when it cannot be decided from the file.
    crs
        CRS of every input file that declares none (parcels and constraint
        layers); files that declare one keep theirs.
    """

    fields: Mapping[str, str] | None = None  # canonical 三调 name -> column
    encoding: str | None = None  # shapefile text encoding
    crs: Any = None  # CRS of every input file that declares none


def read_parcels(
    path: PathLike,
    *,
    layer: str | None = None,
    fields: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read a 三调 land-parcel layer (DLTB) and check it can be analysed.

    In a multi-layer file the layer ``DLTB`` (or ``地类图斑``) is taken unless
    ``layer`` says otherwise.  Every input column is kept as it is.

    Parameters
    ----------
    path
        A file or FileGDB folder, optionally ``"path|layername=NAME"``.
    layer
        Layer inside a multi-layer file.
    fields
        Canonical 三调 field name → column, for non-standard schemas; only
        checked here, the columns are not renamed.
    encoding
        Text encoding of a shapefile, when it cannot be decided from the file.
    crs
        CRS to assume when the file declares none.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer, indexed by the file's feature id where it has one.

    Raises
    ------
    ReadError
        The file cannot be read.
    InputError
        No CRS, required fields missing or mapped to absent columns (every
        problem listed), or a *crs* that is not a CRS.

    Examples
    --------
    >>> from landplan.io.sample import sample_path
    >>> parcels = read_parcels(sample_path("parcels"))
    >>> {"DLBM", "ZLDWDM", "KCXS"} <= set(parcels.columns)
    True
    """
    frame = read_layer(
        path, layer=layer, encoding=encoding, crs=crs, preferred_layers=PARCEL_LAYER_NAMES
    )
    source = str(path)
    problems = [] if frame.crs is not None else [_crs_missing(source, path)]
    problems.extend(check_fields(frame.columns, fields, source))
    if problems:
        raise InputError(problems)
    return frame


def read_parcel_field(
    path: PathLike,
    name: str,
    *,
    fields: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> pd.Series | None:
    """One 三调 field of a parcel file, read alone (no geometry, no other column).

    Parameters
    ----------
    path
        A parcel file, as :func:`read_parcels` takes it.
    name
        A canonical 三调 field name (``ZLDWDM`` ...).
    fields
        Canonical 三调 field name → column, for non-standard schemas.
    encoding
        Text encoding of a shapefile, when it cannot be decided from the file.

    Returns
    -------
    pandas.Series or None
        The field's values, or None when the file has no such field.

    Raises
    ------
    ReadError
        The file cannot be read.
    """
    path, layer = split_layer_spec(path)
    names = _field_names(path, layer, PARCEL_LAYER_NAMES)
    column = resolve_fields(names, fields).get(name)
    if column is None or column not in names:
        return None
    frame = _read_frame(
        path,
        layer,
        encoding=encoding,
        columns=[column],
        preferred_layers=PARCEL_LAYER_NAMES,
        geometry=False,
    )
    return frame[column]


#: A layer given as a path (``file.gpkg|layername=X`` allowed) or in memory.
LayerInput: TypeAlias = "str | Path | gpd.GeoDataFrame | gpd.GeoSeries"


def read_role_layers(
    layers: Mapping[str, LayerInput] | None, *, crs: Any = None, threads: int = 1
) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries]:
    """Constraint layers by role: in-memory layers kept, paths read (their geometries).

    When a file holds several layers and none is named, the layer named
    after the role is taken.  Only a layer's geometry counts (where it
    overlaps parcels), so a file's attribute fields are not read: layers
    copied from parcels carry the survey's fields, read, held and sent to
    every county for nothing.

    Parameters
    ----------
    layers
        Role → path (``path|layername=NAME`` allowed) or GeoDataFrame/GeoSeries.
    crs
        CRS of every file that declares none; files that declare one keep it.
    threads
        Files read at once (:func:`~landplan.core.threads.map_threads`).

    Returns
    -------
    dict
        Role → layer.

    Raises
    ------
    InputError
        An unknown role (the known ones listed), or files without a CRS when
        *crs* is not given (every one listed).
    ReadError
        A file that cannot be read.
    """
    given_layers = dict(layers or {})
    roles = {given: get_role(given).name for given in given_layers}  # one key per role

    def _read_one(given: str) -> gpd.GeoDataFrame | gpd.GeoSeries:
        value = given_layers[given]
        if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries):
            return value
        return read_layer(value, crs=crs, preferred_layers=(roles[given], given), columns=[])

    # each file read on its own GDAL handle, so files can be read on threads
    frames = map_threads(_read_one, given_layers, threads=threads)
    read = {roles[given]: frame for given, frame in zip(given_layers, frames, strict=True)}
    problems = [
        _crs_missing(f"{given}={value}", value)
        for (given, value), frame in zip(given_layers.items(), frames, strict=True)
        if not isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries) and frame.crs is None
    ]
    if problems:
        raise CRSError(problems)
    return read


@dataclass(frozen=True)
class LayerSource:
    """A constraint layer in a file, opened and checked but not read.

    Small enough to send to every worker, each of which reads only the part
    it needs (:meth:`read`).

    Attributes
    ----------
    path
        The file.
    layer
        The layer inside it (None for single-layer formats).
    crs
        The layer's CRS: the one the file declares, or the one given for
        files that declare none (WKT).
    given_crs
        The CRS given for files that declare none, passed on to
        :func:`read_layer`.
    encoding
        The text encoding of a shapefile, decided once.
    """

    path: str
    layer: str | None
    crs: str
    given_crs: Any = None
    encoding: str | None = None

    def read(self, bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
        """Read the layer's geometries, or only those of the features near *bbox*.

        Parameters
        ----------
        bbox
            ``(minx, miny, maxx, maxy)`` in :attr:`crs`; the whole layer when None.

        Returns
        -------
        geopandas.GeoDataFrame
            As :func:`read_layer` reads it (no attribute fields), in feature id order.
        """
        return read_layer(
            self.path,
            layer=self.layer,
            encoding=self.encoding,
            crs=self.given_crs,
            bbox=bbox,
            columns=[],
        )


def _layer_source(spec: PathLike, crs: Any, preferred: tuple[str, ...]) -> LayerSource | None:
    """*spec* opened and checked, or None when its CRS is unknown (neither declared nor given)."""
    path, layer = split_layer_spec(spec)
    if not path.exists():
        read_layer(spec)  # raises FILE_MISSING with the fix
    layer = _choose_layer(path, layer, preferred)
    encoding = shapefile_encoding(path, None) if path.suffix.lower() == ".shp" else None
    try:
        declared = pyogrio.read_info(path, layer=layer, encoding=encoding)["crs"]
    except Exception as exc:  # DataSourceError, DataLayerError ...
        raise _unreadable(spec, exc) from exc
    if declared is None and crs is None:
        return None
    # the CRS read_layer gives the features: the declared one, else the given one
    wanted = _apply_crs(gpd.GeoDataFrame(geometry=[], crs=declared), crs, str(spec)).crs
    return LayerSource(str(path), layer, wanted.to_wkt(), crs, encoding)


def layer_sources(
    layers: Mapping[str, LayerInput] | None, *, crs: Any = None
) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries | LayerSource]:
    """Constraint layers by role as :func:`read_role_layers` takes them, files opened not read.

    Every file is checked as :func:`read_role_layers` checks it (it exists,
    the layer is chosen the same way, its CRS is known) but its features are
    left for whoever needs them (:meth:`LayerSource.read`, with a bounding
    box).  In-memory layers and GeoParquet files, which GDAL may not read
    by box, are kept or read whole.

    Parameters
    ----------
    layers
        Role → path (``path|layername=NAME`` allowed) or GeoDataFrame/GeoSeries.
    crs
        CRS of every file that declares none; files that declare one keep it.

    Returns
    -------
    dict
        Role → layer or :class:`LayerSource`.

    Raises
    ------
    InputError
        As :func:`read_role_layers`.
    ReadError
        A file that cannot be opened.
    """
    for role in layers or {}:
        get_role(role)
    out: dict[str, gpd.GeoDataFrame | gpd.GeoSeries | LayerSource] = {}
    whole: dict[str, LayerInput] = {}
    problems = []
    for given, value in (layers or {}).items():
        role = get_role(given).name
        if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries) or (
            split_layer_spec(value)[0].suffix.lower() in _PARQUET
        ):
            whole[given] = value
            out[role] = value  # placeholder, keeps the given order
            continue
        source = _layer_source(value, crs, (role, given))
        if source is None:
            problems.append(_crs_missing(f"{given}={value}", value))
            continue
        out[role] = source
    if problems:
        raise CRSError(problems)
    for role, layer in read_role_layers(whole, crs=crs).items():
        out[role] = layer
    return out


def check_writable(path: PathLike, *, overwrite: bool) -> Path:
    """Refuse to replace an existing output unless *overwrite*.

    Parameters
    ----------
    path
        The output file.
    overwrite
        Whether an existing file may be replaced; it is then deleted here.

    Returns
    -------
    pathlib.Path
        The path, whose folder now exists and which names no file.

    Raises
    ------
    OutputExistsError
        The file exists and *overwrite* is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} exists; pass overwrite=True (CLI --overwrite) to replace it"
        )
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class LayerTarget:
    """Where a layer is written: a file and, in a GeoPackage, the layer's name."""

    path: Path
    layer: str = "parcels"


#: Shapefile (DBF, at most 10 characters) names of output columns with longer names.
SHAPEFILE_NAMES = {
    "lp_pbf_change": "lp_pbfchg",
    "lp_block_id": "lp_blockid",
    "lp_block_mu": "lp_blockmu",
}


def write_layer(
    frame: gpd.GeoDataFrame,
    path: PathLike,
    *,
    layer: str | None = None,
    append: bool = False,
) -> None:
    """Write a layer as GeoPackage, Shapefile or GeoParquet, by the path's suffix.

    A new GeoPackage is version 1.2 (read by QGIS 3.22 without warnings); a
    new GeoPackage layer of more than :data:`~landplan.io.gpkg.WRITE_BATCH`
    features whose columns are numbers, booleans and text is handed to GDAL in
    batches (:mod:`landplan.io.gpkg`), so that no second copy of the whole
    layer is made.  A shapefile is written in
    UTF-8 with a ``.cpg``, columns longer than a DBF field name renamed by
    :data:`SHAPEFILE_NAMES`.

    Parameters
    ----------
    frame
        The layer.
    path
        The file; its suffix chooses the format (GDAL's, other than GeoParquet).
    layer
        Layer name inside the file (GDAL's default: the file's stem); ignored
        for GeoParquet.
    append
        Add the features to an existing layer; ignored for GeoParquet.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _PARQUET:
        frame.to_parquet(path)
        return
    options: dict[str, Any] = {}
    if suffix == ".gpkg":
        options["dataset_options"] = {"VERSION": "1.2"} if not path.exists() else None
        if not append and len(frame) > gpkg.WRITE_BATCH and gpkg.arrow_ready(frame):
            gpkg.write_in_batches(frame, path, layer, options["dataset_options"])
            return
    elif suffix == ".shp":
        options["encoding"] = "UTF-8"
        frame = frame.rename(columns=SHAPEFILE_NAMES)
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer,
        append=append,
        use_arrow=True,
        **{k: v for k, v in options.items() if v is not None},
    )


def read_table(path: PathLike, layer: str) -> pd.DataFrame:
    """Read a non-spatial table of a GeoPackage, county codes as text.

    Parameters
    ----------
    path
        The GeoPackage.
    layer
        The table's name.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    if "county_code" in frame:
        frame["county_code"] = frame["county_code"].astype(str)
    return pd.DataFrame(frame)


def write_table(table: pd.DataFrame, path: PathLike, *, layer: str) -> None:
    """Write a non-spatial table into a GeoPackage (GDAL ``attributes`` table).

    Parameters
    ----------
    table
        The table; its index is not written.
    path
        The GeoPackage.
    layer
        The table's name.
    """
    pyogrio.write_dataframe(table.reset_index(drop=True), path, layer=layer, driver="GPKG")
