"""Batch checking: every parcel file in a directory (one per county, as delivered).

A file that cannot be read is reported and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landplan.audit.pbf import audit_pbf
from landplan.core.errors import LandplanError, worst_severity
from landplan.io.layers import ReadOptions, read_parcels
from landplan.io.manifest import build_manifest, run_inputs
from landplan.rules.model import DEFAULT_PROFILE, Profile
from landplan.rules.profiles import load_profile

__all__ = ["BatchReport", "check_files"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchReport:
    """Findings and county summaries of every file, and each file's status."""

    files: pd.DataFrame  # file, status (ok / unreadable / invalid), parcels, message
    findings: pd.DataFrame  # file + audit findings
    summary: pd.DataFrame  # file + per-county summary
    manifest: Mapping[str, Any]

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
        """A JSON-serialisable form of the report.

        Returns
        -------
        dict of str to object
            ``manifest``, and ``files``, ``summary`` and ``findings`` as lists of
            records.
        """
        return {
            "manifest": dict(self.manifest),
            "files": self.files.to_dict(orient="records"),
            "summary": self.summary.to_dict(orient="records"),
            "findings": self.findings.to_dict(orient="records"),
        }


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
    statuses, findings, summaries = [], [], []
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
        findings.append(audit.findings.assign(file=str(path)))
        summaries.append(audit.summary.assign(file=str(path)))
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
        _concat_file_first(findings),
        _concat_file_first(summaries),
        manifest,
    )


def _concat_file_first(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["file"])
    table = pd.concat(frames, ignore_index=True)
    return table[["file", *[c for c in table.columns if c != "file"]]]
