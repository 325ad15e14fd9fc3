"""Batch checking: every parcel file in a directory (one per county, as delivered).

A file that cannot be read is reported and the others still run.  The report
is made for scripts and spreadsheets: findings name each parcel by its
``bsm`` (标识码 BSM) and ``row`` (its feature id in the file, as QGIS shows
it: the GeoPackage fid, a shapefile's record number from 0); the JSON is
strict (``null`` where a value is missing, never ``NaN``); the CSV starts with
a UTF-8 BOM for Excel; and :meth:`BatchReport.findings_layer` gives the
findings with their parcels' geometry for QGIS.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from landplan.audit.pbf import audit_pbf
from landplan.core.errors import LandplanError, worst_severity
from landplan.io.layers import ReadOptions, read_parcels
from landplan.io.manifest import build_manifest, run_inputs
from landplan.rules.model import DEFAULT_PROFILE, Profile
from landplan.rules.profiles import load_profile

__all__ = ["FINDINGS_CRS", "REPORT_COLUMNS", "BatchReport", "check_files", "json_safe"]

log = logging.getLogger(__name__)

#: Columns of the findings of a batch, in order.
REPORT_COLUMNS = (
    "file",
    "bsm",
    "row",
    "county",
    "check_id",
    "category",
    "severity",
    "value",
    "unit",
    "message",
)
#: CRS of the findings layer when the files checked declare different CRSs.
FINDINGS_CRS = "EPSG:4490"


def json_safe(value: object) -> object:
    """A value JSON can hold strictly: NaN, infinities and missing values become None.

    NumPy and pandas scalars become Python numbers, timestamps ISO text;
    dicts, lists and tuples are converted item by item.

    Parameters
    ----------
    value
        Any value of a report.

    Returns
    -------
    object
        The value, ready for ``json.dumps(..., allow_nan=False)``.

    Examples
    --------
    >>> json_safe({"value": float("nan"), "n": np.int64(3), "x": [np.inf, 1.5, pd.NA]})
    {'value': None, 'n': 3, 'x': [None, 1.5, None]}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) or value is pd.NA or value is pd.NaT:
        return value if isinstance(value, float) and math.isfinite(value) else None
    if value is None or isinstance(value, str | int):
        return value
    return value.isoformat() if isinstance(value, pd.Timestamp) else str(value)


@dataclass(frozen=True)
class BatchReport:
    """Findings and county summaries of every file, and each file's status.

    Attributes
    ----------
    files
        ``file``, ``status`` (ok / unreadable / invalid), ``parcels``, ``message``.
    findings
        :data:`REPORT_COLUMNS`: one row per finding, its parcel named by
        ``bsm`` and ``row``.
    summary
        ``file`` and the per-county summary of each file.
    manifest
        Inputs, profile and parameters of the run.
    geometry
        The geometry of each finding's parcel, aligned to *findings*
        (missing where a parcel has none), in one CRS.
    """

    files: pd.DataFrame
    findings: pd.DataFrame
    summary: pd.DataFrame
    manifest: Mapping[str, Any]
    geometry: gpd.GeoSeries = field(default_factory=lambda: gpd.GeoSeries([]))

    def worst(self) -> str | None:
        """The most severe severity among the findings, if any.

        Returns
        -------
        str or None
            The most severe severity, or None when there are no findings.
        """
        return worst_severity(self.findings["severity"] if len(self.findings) else ())

    @property
    def unreadable(self) -> bool:
        """Whether some input could not be read.

        Returns
        -------
        bool
            True when some file's status is not ``ok`` (unreadable or invalid).
        """
        return bool((self.files["status"] != "ok").any())

    def to_dict(self) -> dict[str, object]:
        """A strictly JSON-serialisable form of the report.

        Returns
        -------
        dict of str to object
            ``manifest``, and ``files``, ``summary`` and ``findings`` as lists
            of records; missing values (NaN, infinities) are None.
        """
        data = {
            "manifest": dict(self.manifest),
            "files": self.files.to_dict(orient="records"),
            "summary": self.summary.to_dict(orient="records"),
            "findings": self.findings.to_dict(orient="records"),
        }
        return json_safe(data)  # type: ignore[return-value]

    def to_json(self) -> str:
        """The report as strict JSON (``null``, never ``NaN`` or ``Infinity``).

        Returns
        -------
        str
            Indented JSON, Chinese text unescaped.
        """
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)

    def to_csv(self) -> str:
        """The findings as CSV text for Excel, starting with a BOM.

        Encode it as UTF-8; the BOM makes Excel on Chinese Windows read the
        Chinese text right.

        Returns
        -------
        str
            ``\ufeff`` and the CSV of :attr:`findings`, missing values empty.
        """
        return "\ufeff" + self.findings.to_csv(index=False, lineterminator="\n")

    def findings_layer(self) -> gpd.GeoDataFrame:
        """The findings with their parcels' geometry, for QGIS.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per finding (:data:`REPORT_COLUMNS`), with the geometry
            of its parcel, or none where the parcel has none.
        """
        geometry = self.geometry if len(self.geometry) == len(self.findings) else None
        return gpd.GeoDataFrame(
            self.findings.reset_index(drop=True),
            geometry=None if geometry is None else geometry.reset_index(drop=True),
            crs=None if geometry is None else geometry.crs,
        )


def check_files(
    files: Iterable[Path],
    *,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    dem: str | None = None,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    read: ReadOptions | None = None,
    progress: Callable[[Path], None] | None = None,
) -> BatchReport:
    """Audit and validate each file; unreadable files are reported, not fatal.

    Parameters
    ----------
    files
        The parcel files, one per county.
    layers
        Constraint layers by role, already read; ``pbf_existing`` is the PBF
        layer to audit.
    dem
        DEM path for slope.
    profile
        A shipped profile name, a TOML path or a loaded profile.
    read
        Encoding, CRS and field mapping of every file.
    progress
        Called with each file before it is read.

    Returns
    -------
    BatchReport
        Every file's status, the findings and county summaries of the files
        read, and the run's manifest.
    """
    read = read or ReadOptions()
    loaded = load_profile(profile)
    statuses, findings, summaries, geometries = [], [], [], []
    for path in files:
        if progress:
            progress(path)
        try:
            parcels = read_parcels(path, fields=read.fields, encoding=read.encoding, crs=read.crs)
            audit = audit_pbf(
                parcels,
                dem=dem,
                layers=layers,
                profile=loaded,
                fields=read.fields,
                source=str(path),
            )
        except LandplanError as exc:
            log.error("%s", exc)
            status = "unreadable" if isinstance(exc, OSError) else "invalid"
            statuses.append(
                {"file": str(path), "status": status, "parcels": 0, "message": str(exc)}
            )
            continue
        statuses.append({"file": str(path), "status": "ok", "parcels": len(parcels), "message": ""})
        findings.append(_report_rows(audit.findings, str(path)))
        summaries.append(audit.summary.assign(file=str(path)))
        geometries.append(parcels.geometry.reindex(audit.findings["parcel"].to_numpy()))
    files_read = {
        f"parcels:{row['file']}": row["file"] for row in statuses if row["status"] == "ok"
    }
    manifest = build_manifest(
        run_inputs(files_read, dem=dem, layers=layers),
        profile_id=loaded.id,
        profile_sha256=loaded.sha256,
        parameters={"fields": dict(read.fields or {}), "encoding": read.encoding, "crs": read.crs},
    )
    return BatchReport(
        pd.DataFrame(statuses, columns=["file", "status", "parcels", "message"]),
        pd.concat(findings, ignore_index=True)
        if findings
        else pd.DataFrame(columns=list(REPORT_COLUMNS)),
        _concat_file_first(summaries),
        manifest,
        _concat_geometry(geometries),
    )


def _report_rows(findings: pd.DataFrame, file: str) -> pd.DataFrame:
    """Audit findings as report rows: the parcel's index label is its ``row``."""
    rows = findings.rename(columns={"parcel": "row"}).assign(file=file)
    rows["bsm"] = rows["bsm"].astype("string").str.strip().replace("", pd.NA)
    return rows[list(REPORT_COLUMNS)]


def _concat_geometry(parts: list[gpd.GeoSeries]) -> gpd.GeoSeries:
    """One GeoSeries in one CRS: the files' own if they share it, else :data:`FINDINGS_CRS`."""
    crss = {CRS.from_user_input(p.crs) for p in parts if p.crs is not None}
    if not parts:
        return gpd.GeoSeries([])
    target = next(iter(crss)) if len(crss) == 1 else CRS.from_user_input(FINDINGS_CRS)
    moved = [p.to_crs(target) if p.crs is not None else p.set_crs(target) for p in parts]
    return gpd.GeoSeries(pd.concat(moved, ignore_index=True), crs=target)


def _concat_file_first(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["file"])
    table = pd.concat(frames, ignore_index=True)
    return table[["file", *[c for c in table.columns if c != "file"]]]
