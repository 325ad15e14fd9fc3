"""``landplan.classify``: the whole job, from parcels to a :class:`~landplan.result.Result`.

Data flow: read inputs → measure (areas, slope, overlaps) → evaluate the
profile's rules (evidence) → fill quotas in priority order → classes →
result (parcels, evidence, tables).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import pandas as pd

from .engine import Engine, run
from .io import ReadOptions, read_layer, read_parcels
from .manifest import build_manifest
from .palette import FIELD_ALIASES_ZH
from .pipeline import ClassifyJob
from .result import Result
from .roles import get_role
from .rules.model import DEFAULT_PROFILE, Profile, load_profile
from .select import read_targets
from .timing import stage

log = logging.getLogger(__name__)

#: A constraint layer: a path (``file.gpkg|layername=X`` allowed) or a GeoDataFrame/GeoSeries.
LayerInput: TypeAlias = "str | Path | gpd.GeoDataFrame | gpd.GeoSeries"


def _layers(layers: Mapping[str, LayerInput] | None) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries]:
    out: dict[str, gpd.GeoDataFrame | gpd.GeoSeries] = {}
    for role, value in (layers or {}).items():
        get_role(role)
        out[role] = (
            value
            if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries)
            else read_layer(value, preferred_layers=(role,))
        )
    return out


def _targets(
    targets: str | Path | pd.DataFrame | Mapping[str, float] | None, column: str
) -> dict[str, float] | None:
    if targets is None:
        return None
    if isinstance(targets, str | Path):
        return read_targets(targets, column=column)
    if isinstance(targets, pd.DataFrame):
        from .aggregate import M2_PER_WANMU

        return {
            str(c): float(v) * M2_PER_WANMU
            for c, v in zip(targets["county_code"], targets[column], strict=True)
        }
    return {str(k): float(v) for k, v in targets.items()}


def classify(
    parcels: str | Path | gpd.GeoDataFrame,
    *,
    dem: str | Path | None = None,
    layers: Mapping[str, LayerInput] | None = None,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    targets: str | Path | pd.DataFrame | Mapping[str, float] | None = None,
    targets_column: str = "pbf_2035_wanmu",
    split: bool = False,
    fields: Mapping[str, str] | None = None,
    read: ReadOptions | None = None,
    engine: Engine = "single",
    workers: int | None = None,
    scheduler: str | None = None,
    scratch: str | Path | None = None,
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
        Per-county PBF targets: a CSV path or DataFrame with ``county_code``
        and *targets_column* (万亩), or a mapping county → m².  Without it, a
        profile share of each county's protection target.
    split
        Cut parcels along constraint boundaries and judge each piece.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.
    read
        Encoding and CRS for reading a parcel file that needs them (its
        ``fields`` are used when *fields* is not given).
    engine
        ``"single"`` (one process), ``"processes"`` (one task per county on
        *workers* local processes) or ``"dask"`` (one task per county on a
        ``dask.distributed`` cluster: a local one of *workers* processes, or
        the scheduler at *scheduler*).  All give the same answers; see
        :mod:`landplan.engine`.
    scratch
        Folder for the Dask engine's partitioned GeoParquet; on a real cluster,
        shared storage that every worker can read and write.

    Examples
    --------
    >>> from landplan.datasets import load_sample
    >>> s = load_sample()
    >>> result = classify(s.parcels, layers=s.layers, targets=s.targets)
    >>> sorted(result.parcels["lp_class"].unique())
    ['GENERAL', 'NON_TARGET', 'OTHER', 'PBF', 'RECOVERY', 'RESERVE']
    >>> len(result.parcels) == len(s.parcels)
    True
    """
    read = read or ReadOptions()
    fields = fields if fields is not None else read.fields
    if scheduler is not None:
        engine = "dask"
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
        target_m2=_targets(targets, targets_column),
        split=split,
        fields=fields,
        source=source,
    )
    with stage("read layers"):
        role_layers = _layers(layers)
    result = run(
        frame,
        role_layers,
        job,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        scratch=scratch,
    )
    for problem in result.problems:
        log.warning("%s", problem)
    inputs: dict[str, Any] = {"parcels": parcels}
    if dem is not None:
        inputs["dem"] = dem
    if isinstance(targets, str | Path):
        inputs["targets"] = targets
    inputs.update({f"layer:{role}": value for role, value in (layers or {}).items()})
    manifest = build_manifest(
        inputs,
        profile_id=loaded.id,
        profile_sha256=loaded.sha256,
        parameters={
            "split": split,
            "engine": engine,
            "targets_column": targets_column,
            "fields": dict(fields or {}),
            "encoding": read.encoding,
            "crs": None if read.crs is None else str(read.crs),
            "profile_parameters": dict(loaded.parameters),
        },
    )
    return dataclasses.replace(result, manifest=manifest)


__all__ = ["FIELD_ALIASES_ZH", "classify"]
