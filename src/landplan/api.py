"""The jobs users run: :func:`classify`, :func:`measure_files` and :func:`balance`.

Sits on top of every layer but the CLI and may import any of them: it reads the
inputs (:mod:`landplan.io`), runs an engine (:mod:`landplan.engines`) and
attaches the run's manifest.

Data flow: read inputs → measure (areas, slope, overlaps) → evaluate the
profile's rules (evidence) → fill quotas in priority order → classes →
result (parcels, evidence, tables).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import pandas as pd

from landplan.allocate.classes import pbf_mode
from landplan.audit.balance import Balance, Scope, compare_vintages
from landplan.core.errors import InputError, OutputExistsError
from landplan.core.memory import collector_paused
from landplan.core.roles import get_role
from landplan.core.timing import stage
from landplan.engines import Engine, cores, resolve_engine, run
from landplan.engines.dask_cluster import CountyRun, PartitionedResult, run_dask_partitions
from landplan.engines.pipeline import ClassifyJob, measured_frame
from landplan.engines.processes import prepare_workers
from landplan.io.files import write_csv, write_text
from landplan.io.layers import (
    LayerInput,
    LayerTarget,
    ReadOptions,
    check_writable,
    layer_sources,
    read_parcels,
    read_role_layers,
    write_layer,
    write_table,
)
from landplan.io.manifest import build_manifest, hash_files_ahead, manifest_json, run_inputs
from landplan.io.partitions import (
    CountyFile,
    append_partitions,
    county_partitions,
    feature_count,
    is_partitioned,
    partition_layer,
)
from landplan.io.qgis_style import class_style_qml, write_gpkg_style
from landplan.io.targets import PBF_COLUMN, TargetsInput, load_targets
from landplan.measure.parcels import Measurement, measure_parcels
from landplan.outputs.aggregate import summarize_measures_by_county
from landplan.outputs.result import Result
from landplan.rules.model import DEFAULT_PROFILE, Profile
from landplan.rules.profiles import load_profile
from landplan.survey.schema import survey_attributes

__all__ = [
    "LayerInput",
    "MeasuredLayer",
    "OutputFormat",
    "balance",
    "classify",
    "classify_partitioned",
    "measure_files",
    "partition_parcels",
]

log = logging.getLogger(__name__)


@collector_paused()
def classify(
    parcels: str | Path | gpd.GeoDataFrame,
    *,
    dem: str | Path | None = None,
    layers: Mapping[str, LayerInput] | None = None,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    targets: TargetsInput | None = None,
    targets_column: str = PBF_COLUMN,
    targets_county_column: str | None = None,
    split: bool = False,
    fields: Mapping[str, str] | None = None,
    read: ReadOptions | None = None,
    engine: Engine | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scratch: str | Path | None = None,
    skip_invalid: bool = False,
    output: str | Path | None = None,
    output_layer: str = "parcels",
    summary_csv: str | Path | None = None,
    overwrite: bool = False,
) -> Result:
    """Classify every parcel by the rules of a profile.

    Parameters
    ----------
    parcels
        三调 land parcels (DLTB): a path or a GeoDataFrame.
    dem
        DEM path; without one, slope rules use ``GDPDJB``.
    layers
        Constraint layers by role (``{"eco_redline": "redline.shp", ...}``).
    profile
        A shipped profile name (``hunan-hengyang``, ``hunan-xiangtan``), a
        TOML path or a loaded :class:`~landplan.rules.Profile`.
    targets
        Per-county PBF targets: a CSV (UTF-8, GBK ...) or XLSX file or a
        DataFrame with a county-code column and *targets_column* (万亩), or a
        mapping county → m²; Chinese headers (行政区代码, 永久基本农田保护面积
        ...) are recognised, a reserve column (``pbf_reserve_wanmu``, 储备区)
        is read too (:mod:`landplan.io.targets`).  Without it, a profile
        share of each county's protection target.
    targets_column
        Column of the targets file or DataFrame that holds the PBF targets.
    targets_county_column
        Column holding the county codes, when its header is not recognised.
    split
        Cut parcels along constraint boundaries and judge each piece.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.
    read
        Encoding, CRS and field mapping for reading the inputs: the encoding
        and fields apply to the parcel file (its ``fields`` are used when
        *fields* is not given), the CRS to every input file that declares
        none, parcels and constraint layers alike.
    engine
        ``"single"`` (one process), ``"processes"`` (one task per county on
        *workers* local processes) or ``"dask"`` (one task per county on a
        ``dask.distributed`` cluster: a local one of *workers* processes, or
        the scheduler at *scheduler*).  All give the same answers; see
        :mod:`landplan.engines`.  Without it: ``"dask"`` when *scheduler* is
        given, ``"processes"`` when *workers* is, else ``"single"``.
    workers
        Number of worker processes (all cores when not given).
    scheduler
        Address of a running ``dask.distributed`` scheduler.
    scratch
        Folder for the Dask engine's partitioned GeoParquet; on a real cluster,
        shared storage that every worker can read and write.
    skip_invalid
        Parcels with an error-severity problem (KCXS outside [0, 1), unknown
        DLBM, empty geometry, malformed ZLDWDM, duplicate BSM ...) stop the
        run unless this is True; then they are ``OTHER`` with their ``V_*``
        codes in ``lp_reasons``, in no quota or farmland total, and listed in
        ``Result.invalid`` (table ``invalid_parcels``).
    output
        Also write the result there, as :meth:`Result.to_file
        <landplan.outputs.result.Result.to_file>` writes it.  The ``processes``
        engine writes a GeoPackage's parcel layer county by county as the
        counties finish, rather than after the last one.
    output_layer
        Name of the parcel layer in a GeoPackage *output*.
    summary_csv
        With *output*, also write the county summary to this CSV file.
    overwrite
        Replace an existing *output*; it is deleted before the run starts.

    Returns
    -------
    Result
        The classified parcels in input order, with the evidence, tables and
        the run's manifest.

    Raises
    ------
    InvalidParcelsError
        Parcels with error-severity problems, named by BSM, unless *skip_invalid*.
    InputError
        An unknown engine, a scheduler with an engine other than ``dask``,
        (county engines) a parcel index with duplicate labels, or targets
        that are malformed or name none of the parcels' counties.
    ReadError
        An input file that cannot be read.
    OutputExistsError
        *output* exists and *overwrite* is False; before anything is read.

    Examples
    --------
    >>> from landplan.io.sample import load_sample
    >>> s = load_sample()
    >>> result = classify(s.parcels, layers=s.layers, targets=s.targets)
    >>> sorted(result.parcels["lp_class"].unique())
    ['GENERAL', 'NON_TARGET', 'OTHER', 'PBF', 'RECOVERY', 'RESERVE']
    >>> len(result.parcels) == len(s.parcels)
    True
    """
    read = read or ReadOptions()
    fields = fields if fields is not None else read.fields
    engine = resolve_engine(engine, workers, scheduler)
    out = None if output is None else check_writable(output, overwrite=overwrite)
    if not isinstance(parcels, gpd.GeoDataFrame) and is_partitioned(parcels):
        raise InputError(
            f"{parcels} is a folder of county partitions; classify it with "
            "landplan.classify_partitioned(folder, output) (CLI: landplan classify "
            "FOLDER -o OUT --engine dask), which reads each county on its worker.",
            code="PARTITIONED_INPUT",
            source=str(parcels),
        )
    if engine == "processes" and not isinstance(parcels, gpd.GeoDataFrame):
        prepare_workers(parcels, fields=fields, encoding=read.encoding)
    threads = cores(engine, workers)
    # with cores to spare the layers are read while the parcels are; errors keep their
    # order (parcels, profile, targets, then layers)
    with ThreadPoolExecutor(max_workers=1) as background:
        reading = (
            background.submit(read_role_layers, layers, crs=read.crs, threads=threads)
            if threads > 1
            else None
        )
        with stage("read parcels"):
            frame = (
                parcels
                if isinstance(parcels, gpd.GeoDataFrame)
                else read_parcels(parcels, fields=fields, encoding=read.encoding, crs=read.crs)
            )
        source = str(parcels) if not isinstance(parcels, gpd.GeoDataFrame) else "parcels"
        loaded = load_profile(profile)
        job = ClassifyJob(
            profile=loaded,
            dem=None if dem is None else str(dem),
            targets=load_targets(
                targets, column=targets_column, county_column=targets_county_column
            ),
            split=split,
            fields=fields,
            source=source,
        )
        with stage("read layers"):
            role_layers = (
                reading.result()
                if reading is not None
                else read_role_layers(layers, crs=read.crs, threads=threads)
            )
    inputs = run_inputs({"parcels": parcels, "targets": targets}, dem=dem, layers=layers)
    hashing = hash_files_ahead(inputs)
    result = run(
        frame,
        role_layers,
        job,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        scratch=scratch,
        skip_invalid=skip_invalid,
        output=None if out is None else LayerTarget(out, output_layer),
    )
    for problem in result.problems:
        log.warning("%s", problem)
    hashing.join()
    manifest = build_manifest(
        inputs,
        profile_id=loaded.id,
        profile_sha256=loaded.sha256,
        parameters={
            "split": split,
            "skip_invalid": skip_invalid,
            "engine": engine,
            "targets_column": targets_column,
            "targets_county_column": targets_county_column,
            "fields": dict(fields or {}),
            "encoding": read.encoding,
            "crs": None if read.crs is None else str(read.crs),
            "profile_parameters": dict(loaded.parameters),
            "pbf_mode": pbf_mode(role_layers),
        },
    )
    result = dataclasses.replace(result, manifest=manifest)
    if out is not None:
        result.write_beside(out, output_layer=output_layer, summary_csv=summary_csv)
    return result


def partition_parcels(
    parcels: str | Path,
    folder: str | Path,
    *,
    layer: str | None = None,
    read: ReadOptions | None = None,
    batch_size: int = 65_536,
    overwrite: bool = False,
) -> list[CountyFile]:
    """Stream a parcel layer of any size into one GeoParquet file per county.

    The layer is read *batch_size* features at a time and each batch's rows
    are appended to their county's file (``FOLDER/county=CODE/part.parquet``,
    the county being ``ZLDWDM[:6]``), so memory holds one batch however large
    the layer.  :func:`classify_partitioned` classifies such a folder on a
    Dask cluster, each worker reading its own counties.

    Parameters
    ----------
    parcels
        A 三调 parcel file GDAL reads (GeoPackage, Shapefile, FileGDB ...),
        optionally ``"path|layername=NAME"``.
    folder
        The folder to write; shared storage when a cluster will classify it.
    layer
        Layer inside a multi-layer file (default ``DLTB`` / ``地类图斑``).
    read
        Encoding, CRS and field mapping of the parcel file (``ZLDWDM`` may be
        mapped to another column).
    batch_size
        Features read, and held in memory, at once.
    overwrite
        Replace the county partitions already in *folder*.

    Returns
    -------
    list of CountyFile
        The county files written (code, path, parcels), largest first.

    Raises
    ------
    ReadError
        The file cannot be read.
    InputError
        No CRS, or required fields (``ZLDWDM`` ...) missing.
    OutputExistsError
        *folder* already holds county partitions and *overwrite* is False.

    Examples
    --------
    >>> import tempfile
    >>> from landplan.io.sample import sample_path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     counties = partition_parcels(sample_path("parcels"), tmp)
    >>> len(counties), sum(c.parcels for c in counties)
    (12, 12000)
    """
    read = read or ReadOptions()
    total = feature_count(parcels, layer)
    with stage("partition by county", total=total, unit="parcels") as progress:
        counties = partition_layer(
            parcels,
            folder,
            layer=layer,
            fields=read.fields,
            encoding=read.encoding,
            crs=read.crs,
            batch_size=batch_size,
            overwrite=overwrite,
            advance=progress.advance,
        )
    log.info(
        "%d parcels in %d county partitions in %s",
        sum(c.parcels for c in counties),
        len(counties),
        folder,
    )
    return counties


#: Output of :func:`classify_partitioned`: a folder of county GeoParquet, or one GeoPackage.
OutputFormat: TypeAlias = Literal["parquet-dataset", "gpkg"]
#: The output formats, the default first.
OUTPUT_FORMATS: tuple[str, ...] = ("parquet-dataset", "gpkg")


@collector_paused()
def classify_partitioned(
    folder: str | Path,
    output: str | Path,
    *,
    dem: str | Path | None = None,
    layers: Mapping[str, LayerInput] | None = None,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    targets: TargetsInput | None = None,
    targets_column: str = PBF_COLUMN,
    targets_county_column: str | None = None,
    fields: Mapping[str, str] | None = None,
    read: ReadOptions | None = None,
    output_format: OutputFormat = "parquet-dataset",
    output_layer: str = "parcels",
    workers: int | None = None,
    scheduler: str | None = None,
    scratch: str | Path | None = None,
    skip_invalid: bool = False,
    overwrite: bool = False,
) -> PartitionedResult:
    """Classify a folder of county partitions on Dask; the driver never holds the parcels.

    Each task reads one county's file (:func:`partition_parcels`), screens and
    classifies it exactly as :func:`classify` classifies that county, and
    writes the classified county; the driver merges only the county tables
    (quotas, summaries).  Duplicate ``BSM`` are found within a county.

    Parameters
    ----------
    folder
        The county partitions (``county=CODE/part.parquet``); on a cluster,
        shared storage that every worker reads.
    output
        With ``output_format="parquet-dataset"``, a folder: the classified
        counties as ``county=CODE/part.parquet`` (written by the workers), the
        tables as CSV (UTF-8 with BOM) and ``manifest.json``.  With ``"gpkg"``,
        a GeoPackage written by the driver one row group at a time from the
        workers' files in *scratch*, as :meth:`Result.to_file` writes one.
    dem, layers, profile, targets, targets_column, targets_county_column
        As :func:`classify` takes them.
    fields
        Canonical 三调 field name → column; default ``read.fields``.
    read
        CRS of the constraint files that declare none; field mapping.
    output_format
        ``"parquet-dataset"`` or ``"gpkg"``.
    output_layer
        Name of the parcel layer in a GeoPackage output.
    workers
        Number of worker processes of a local cluster (all cores when not given).
    scheduler
        Address of a running ``dask.distributed`` scheduler.
    scratch
        Folder for the classified counties before they go into a GeoPackage;
        shared storage on a cluster.
    skip_invalid
        As :func:`classify`.
    overwrite
        Replace *output* if it exists.

    Returns
    -------
    PartitionedResult
        The classified counties' folder, the merged tables, per-county
        figures (parcels, seconds, worker peak memory) and the manifest.

    Raises
    ------
    ReadError
        *folder* holds no county partitions, or an input cannot be read.
    InvalidParcelsError
        Parcels with error-severity problems, unless *skip_invalid*.
    InputError
        An unknown output format, or targets that name none of the counties.
    OutputExistsError
        *output* exists and *overwrite* is False.
    """
    read = read or ReadOptions()
    fields = fields if fields is not None else read.fields
    if output_format not in OUTPUT_FORMATS:
        raise InputError(
            f"output_format {output_format!r} is not one of {OUTPUT_FORMATS}",
            code="OUTPUT_FORMAT",
            source="output_format",
        )
    counties = county_partitions(folder)
    out = _prepare_output(Path(output), output_format, overwrite=overwrite)
    loaded = load_profile(profile)
    job = ClassifyJob(
        profile=loaded,
        dem=None if dem is None else str(Path(dem).resolve()),
        targets=load_targets(targets, column=targets_column, county_column=targets_county_column),
        fields=fields,
        source=str(folder),
    )
    if job.targets is not None:
        job.targets.check_counties(c.county for c in counties if c.county)
    with stage("open layers"):  # files are read by the workers, each near its counties
        role_layers = layer_sources(layers, crs=read.crs)
    manifest = build_manifest(
        run_inputs({"parcels": folder, "targets": targets}, dem=dem, layers=layers),
        profile_id=loaded.id,
        profile_sha256=loaded.sha256,
        parameters={
            "skip_invalid": skip_invalid,
            "engine": "dask",
            "output_format": output_format,
            "targets_column": targets_column,
            "targets_county_column": targets_county_column,
            "fields": dict(fields or {}),
            "crs": None if read.crs is None else str(read.crs),
            "profile_parameters": dict(loaded.parameters),
            "pbf_mode": pbf_mode(role_layers),
        },
    )
    options = {"workers": workers, "scheduler": scheduler, "skip_invalid": skip_invalid}
    if output_format == "parquet-dataset":
        result = _classify_counties(counties, role_layers, job, out, **options)
        _write_dataset_extras(result, manifest)
    else:
        with tempfile.TemporaryDirectory(prefix="landplan-", dir=scratch) as tmp:
            result = _classify_counties(counties, role_layers, job, Path(tmp), **options)
            _write_gpkg(result, out, output_layer, manifest)
    for problem in result.problems:
        log.warning("%s", problem)
    return dataclasses.replace(result, manifest=manifest)


def _prepare_output(out: Path, output_format: str, *, overwrite: bool) -> Path:
    """Refuse an existing output unless *overwrite*; then remove it."""
    if overwrite and out.is_dir():  # only a folder of classified counties (or none) goes
        if output_format == "gpkg" or not (is_partitioned(out) or not any(out.iterdir())):
            raise OutputExistsError(
                f"{out} is a folder that holds other files than classified counties; "
                "choose another output"
            )
        shutil.rmtree(out)
    return check_writable(out, overwrite=overwrite).resolve()


def _classify_counties(
    counties: list[CountyFile],
    layers: Mapping[str, Any],
    job: ClassifyJob,
    out: Path,
    **options: Any,
) -> PartitionedResult:
    with stage("counties on dask", total=sum(c.parcels for c in counties), unit="parcels") as bar:

        def done(run: CountyRun) -> None:
            bar.advance(run.parcels)
            log.info("county %s done: %d parcels in %.1f s", run.county, run.parcels, run.wall_s)

        return run_dask_partitions(counties, layers, job, out, done=done, **options)


def _write_dataset_extras(result: PartitionedResult, manifest: Mapping[str, Any]) -> None:
    """The merged tables as CSV and the manifest beside the classified counties."""
    for name, table in result.tables.items():
        write_csv(table, result.folder / f"{name}.csv")
    write_text(manifest_json(manifest), result.folder / "manifest.json")


def _write_gpkg(
    result: PartitionedResult, out: Path, layer: str, manifest: Mapping[str, Any]
) -> None:
    """One GeoPackage from the classified counties, with the tables, style and manifest."""
    files = sorted(result.folder.glob("county=*/part.parquet"))
    with stage("write parcels", total=int(result.counties["parcels"].sum()), unit="parcels") as bar:
        columns = append_partitions(files, out, layer=layer, advance=bar.advance)
    with stage("write tables and styles"):
        for name, table in result.tables.items():
            write_table(table, out, layer=name)
        write_gpkg_style(out, layer, class_style_qml(columns), geometry_column="geom")
        write_table(
            pd.DataFrame({"manifest_json": [manifest_json(manifest)]}), out, layer="manifest"
        )
    write_text(manifest_json(manifest), out.with_name(out.name + ".manifest.json"))


@dataclass(frozen=True)
class MeasuredLayer:
    """Parcels with their measures, and per-county figures."""

    parcels: gpd.GeoDataFrame
    measurement: Measurement
    by_county: pd.DataFrame


def measure_files(
    parcels: str | Path,
    output: str | Path,
    *,
    dem: str | Path | None = None,
    layers: Mapping[str, LayerInput] | None = None,
    overwrite: bool = False,
    read: ReadOptions | None = None,
) -> MeasuredLayer:
    """Read parcels and layers, measure every parcel, write a GeoPackage.

    The GeoPackage holds layer ``parcels`` (input fields plus measures) and
    table ``county_summary``.

    Parameters
    ----------
    parcels
        三调 land parcels (DLTB) file.
    output
        The GeoPackage to write.
    dem
        DEM for slope.
    layers
        Constraint layers by role.
    overwrite
        Replace *output* if it exists.
    read
        Encoding, CRS and field mapping of the parcel file.

    Returns
    -------
    MeasuredLayer
        What was written.

    Raises
    ------
    OutputExistsError
        *output* exists and *overwrite* is False.
    """
    out = check_writable(output, overwrite=overwrite)
    read = read or ReadOptions()
    frame = read_parcels(parcels, fields=read.fields, encoding=read.encoding, crs=read.crs)
    measurement = measure_parcels(
        frame,
        dem=None if dem is None else str(dem),
        layers=read_role_layers(layers, crs=read.crs),
        fields=read.fields,
        source=str(parcels),
    )
    for problem in measurement.problems:
        log.warning("%s", problem)
    measured = measured_frame(frame, measurement.table)
    by_county = summarize_measures_by_county(
        survey_attributes(frame, fields=read.fields), measurement.table
    )
    write_layer(measured, out, layer="parcels")
    write_table(by_county, out, layer="county_summary")
    return MeasuredLayer(measured, measurement, by_county)


def balance(
    old: str | Path | gpd.GeoDataFrame,
    new: str | Path | gpd.GeoDataFrame,
    *,
    layers: Mapping[str, LayerInput] | None = None,
    scope: Scope = "agricultural",
    cause_field: str | None = None,
    fields: Mapping[str, str] | None = None,
    read: ReadOptions | None = None,
) -> Balance:
    """Annual farmland in/out balance (年度耕地进出平衡, 003 ch.5 §3) of two survey vintages.

    The vintages are overlaid by area, so parcels may be split, merged or
    redrawn between them; see :mod:`landplan.audit.balance`.

    Parameters
    ----------
    old
        The earlier 三调 parcel layer (DLTB): a path or a GeoDataFrame.
    new
        The later one; its ``ZLDWDM`` decides each piece's county.
    layers
        Layers marking the losses the plan exempts, by role (case-insensitive):
        ``return_forest`` (国家安排的生态退耕), ``damaged`` (自然灾害损毁难以复耕),
        ``river_lake`` or ``river_channel`` (河湖水面扩大永久淹没, where the new
        class is 1101 / 1102); paths or layers.
    scope
        ``"agricultural"`` (the plan's balance: farmland to and from other
        agricultural land) or ``"all"`` (every farmland loss and gain counts).
    cause_field
        Column of *new* marking exempt losses (``eco_return`` / 生态退耕,
        ``disaster`` / 灾毁, ``flooded`` / 永久淹没; blank for none).
    fields
        Canonical 三调 field name → column, for both vintages; default
        ``read.fields``.
    read
        Encoding, CRS and field mapping for reading files; the CRS applies to
        every input file that declares none.

    Returns
    -------
    Balance
        ``summary`` (per county and city: out, in, paddy, exempt, shortfall,
        balanced, in m², 亩 and 万亩), ``flows`` (by class), ``pieces`` (the
        changed pieces for a map), ``counties`` (county outlines) and
        ``problems``; ``to_files`` writes them and draws the map.

    Raises
    ------
    InputError
        A role that marks no exempt cause, a bad *scope* or *cause_field*,
        KCXS outside [0, 1), missing fields or CRS, vintages that do not overlap.
    ReadError
        An input file that cannot be read.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = "4304210010010000000"
    >>> old = gpd.GeoDataFrame({"DLBM": ["0301"], "ZLDWDM": [z], "KCXS": [0.0]},
    ...                        geometry=[box(500000, 3000000, 500100, 3000100)], crs=4547)
    >>> new = old.assign(DLBM="0101", KCXS=0.1)
    >>> row = balance(old, new).summary.iloc[0]
    >>> round(row["in_m2"]), round(row["paddy_in_m2"]), row["status"]
    (9000, 9000, '平衡')
    """
    read = read or ReadOptions()
    fields = fields if fields is not None else read.fields
    frames = [
        value
        if isinstance(value, gpd.GeoDataFrame)
        else read_parcels(value, fields=fields, encoding=read.encoding, crs=read.crs)
        for value in (old, new)
    ]
    by_role = {get_role(role).name: value for role, value in (layers or {}).items()}
    result = compare_vintages(
        frames[0],
        frames[1],
        layers=read_role_layers(by_role, crs=read.crs),
        scope=scope,
        cause_field=cause_field,
        fields=fields,
        sources=(_source(old, "old"), _source(new, "new")),
    )
    for problem in result.problems:
        log.warning("%s", problem)
    return result


def _source(value: object, default: str) -> str:
    return default if isinstance(value, gpd.GeoDataFrame) else str(value)
