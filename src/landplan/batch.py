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

from .audit import SEVERITIES, audit_pbf
from .errors import LandplanError
from .io import ReadOptions, read_parcels
from .manifest import build_manifest
from .rules.model import DEFAULT_PROFILE, Profile, load_profile

log = logging.getLogger(__name__)

#: Suffixes of files taken as parcel layers in a directory (a .gdb folder counts too).
PARCEL_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".gdb")


def parcel_files(path: str | Path) -> list[Path]:
    """The parcel layers a path stands for: itself, or the files in a directory, sorted."""
    path = Path(path)
    if not path.is_dir() or path.suffix.lower() == ".gdb":
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix.lower() in PARCEL_SUFFIXES)


@dataclass(frozen=True)
class BatchReport:
    """Findings and county summaries of every file, and each file's status."""

    files: pd.DataFrame  # file, status (ok / unreadable / invalid), parcels, message
    findings: pd.DataFrame  # file + audit findings
    summary: pd.DataFrame  # file + per-county summary
    manifest: Mapping[str, Any]

    def worst(self) -> str | None:
        """The most severe severity among the findings, if any."""
        present = set(self.findings["severity"]) if len(self.findings) else set()
        return next((s for s in reversed(SEVERITIES) if s in present), None)

    @property
    def unreadable(self) -> bool:
        """Whether some input could not be read."""
        return bool((self.files["status"] != "ok").any())

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form of the report."""
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
    """Audit and validate each file; unreadable files are reported, not fatal."""
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
    inputs: dict[str, Any] = {
        f"parcels:{row['file']}": row["file"] for row in statuses if row["status"] == "ok"
    }
    if dem is not None:
        inputs["dem"] = dem
    inputs.update({f"layer:{role}": layer for role, layer in (layers or {}).items()})
    manifest = build_manifest(
        inputs,
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
