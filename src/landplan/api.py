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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landplan.audit.balance import Balance, Scope, compare_vintages
from landplan.core.roles import get_role
from landplan.core.timing import stage
from landplan.engines import Engine, resolve_engine, run
from landplan.engines.pipeline import ClassifyJob, measured_frame
from landplan.io.layers import (
    LayerInput,
    ReadOptions,
    check_writable,
    read_parcels,
    read_role_layers,
    write_layer,
    write_table,
)
from landplan.io.manifest import build_manifest, run_inputs
from landplan.io.targets import PBF_COLUMN, TargetsInput, load_targets
from landplan.measure.parcels import Measurement, measure_parcels
from landplan.outputs.aggregate import summarize_measures_by_county
from landplan.outputs.result import Result
from landplan.rules.model import DEFAULT_PROFILE, Profile
from landplan.rules.profiles import load_profile
from landplan.survey.schema import survey_attributes

__all__ = ["LayerInput", "MeasuredLayer", "balance", "classify", "measure_files"]

log = logging.getLogger(__name__)


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
        targets=load_targets(targets, column=targets_column, county_column=targets_county_column),
        split=split,
        fields=fields,
        source=source,
    )
    with stage("read layers"):
        role_layers = read_role_layers(layers, crs=read.crs)
    result = run(
        frame,
        role_layers,
        job,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        scratch=scratch,
        skip_invalid=skip_invalid,
    )
    for problem in result.problems:
        log.warning("%s", problem)
    named: dict[str, Any] = {"parcels": parcels}
    if isinstance(targets, str | Path):
        named["targets"] = targets
    manifest = build_manifest(
        run_inputs(named, dem=dem, layers=layers),
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
            "pbf_mode": "existing PBF first" if "pbf_existing" in role_layers else "from scratch",
        },
    )
    return dataclasses.replace(result, manifest=manifest)


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
        changed pieces for a map) and ``problems``; ``to_files`` writes them.

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
