"""Run manifests: what went in, with which profile and parameters, and library versions.

Inputs are recorded by SHA-256 (files by their bytes, in-memory layers by their
content), next to the versions of landplan, GDAL, PROJ, shapely and geopandas.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import rasterio
import shapely

from landplan.core.version import __version__
from landplan.io.layers import split_layer_spec

__all__ = ["build_manifest", "hash_files_ahead", "manifest_json", "run_inputs"]

_CHUNK = 1 << 20

#: An input held in memory rather than read from a file: hashed by content, never by path.
_InMemoryLayer: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries


def _file_sha256(path: str | Path) -> str:
    """SHA-256 of a file; of a shapefile with its sidecars; of a folder's files (FileGDB)."""
    path, _ = split_layer_spec(path)
    if path.is_dir():
        members = sorted(p for p in path.rglob("*") if p.is_file())
    elif path.suffix.lower() == ".shp":
        members = sorted(
            p for p in path.parent.glob(path.stem + ".*") if p.stem == path.stem and p.is_file()
        )
    else:
        members = [path]
    key = tuple((str(m.resolve()), m.stat().st_mtime_ns, m.stat().st_size) for m in members)
    return _hash_members(key)


@functools.lru_cache(maxsize=256)
def _hash_members(members: tuple[tuple[str, int, int], ...]) -> str:
    """Hash files (path, mtime, size): the same file is read once however often it is named."""
    digest = hashlib.sha256()
    for name, _, _ in members:
        digest.update(Path(name).name.encode("utf-8"))
        with open(name, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def _frame_sha256(frame: _InMemoryLayer) -> str:
    """SHA-256 of an in-memory layer: its attributes, index and geometry (WKB)."""
    digest = hashlib.sha256()
    if isinstance(frame, gpd.GeoDataFrame):
        attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        hashed = pd.util.hash_pandas_object(attributes.astype(str), index=True)
        digest.update(hashed.to_numpy().tobytes())
    for wkb in shapely.to_wkb(
        frame.geometry.to_numpy() if isinstance(frame, gpd.GeoDataFrame) else frame.to_numpy()
    ):
        digest.update(wkb or b"")
    return digest.hexdigest()


def _describe_input(value: Any) -> dict[str, Any]:
    """A manifest entry for an input given as a path or as an in-memory layer."""
    if isinstance(value, _InMemoryLayer):
        return {"kind": "in-memory layer", "features": len(value), "sha256": _frame_sha256(value)}
    return {"kind": "file", "path": str(value), "sha256": _file_sha256(value)}


def hash_files_ahead(inputs: Mapping[str, Any]) -> threading.Thread:
    """Hash the input files on a thread of their own, for :func:`build_manifest` to find done.

    A city's inputs are gigabytes, a second or more of hashing; started with
    the run, it is done while the parcels are measured (hashlib and file reads
    release the GIL) instead of after.  Join the thread before building the
    manifest, so that no file is hashed twice at once.  A file that cannot be
    hashed is left for :func:`build_manifest` to report.

    Parameters
    ----------
    inputs
        Name → path or in-memory layer, as from :func:`run_inputs`; only the
        files are hashed.

    Returns
    -------
    threading.Thread
        The hashing thread, started (a daemon).
    """
    files = [v for v in inputs.values() if not isinstance(v, _InMemoryLayer)]

    def hash_all() -> None:
        """Hash each file into the cache; a failure is left for build_manifest."""
        for path in files:
            try:
                _file_sha256(path)
            except Exception:  # build_manifest reports it, in the run's order
                continue

    thread = threading.Thread(target=hash_all, name="landplan-hash", daemon=True)
    thread.start()
    return thread


def _versions() -> dict[str, str]:
    """Versions of landplan and the libraries that decide its numbers."""
    return {
        "landplan": __version__, "python": platform.python_version(),
        "gdal": pyogrio.__gdal_version_string__, "rasterio_gdal": rasterio.__gdal_version__,
        "proj": pyproj.proj_version_str, "pyproj": pyproj.__version__,
        "shapely": shapely.__version__, "geos": shapely.geos_version_string,
        "geopandas": gpd.__version__, "pandas": pd.__version__,
    }  # fmt: skip


def run_inputs(
    named: Mapping[str, Any],
    *,
    dem: Any = None,
    layers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The inputs of a run by manifest name: *named*, then ``dem`` and ``layer:<role>``.

    Parameters
    ----------
    named
        Inputs by name (``parcels``, ``targets`` ...); those that are neither a
        path nor an in-memory layer (targets given as a table or mapping, or
        none) are left out: there is no file to hash.
    dem
        The DEM, if any.
    layers
        Constraint layers by role.

    Returns
    -------
    dict
        Name → path or in-memory layer, for :func:`build_manifest`.
    """
    inputs = {k: v for k, v in named.items() if isinstance(v, str | Path | _InMemoryLayer)}
    if dem is not None:
        inputs["dem"] = dem
    inputs.update({f"layer:{role}": value for role, value in (layers or {}).items()})
    return inputs


def build_manifest(
    inputs: Mapping[str, Any],
    *,
    profile_id: str,
    profile_sha256: str,
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """The manifest of a run.

    Parameters
    ----------
    inputs
        Name → path or in-memory layer, as from :func:`run_inputs`; files are
        hashed (a shapefile with its sidecars, a FileGDB folder whole).
    profile_id
        Identifier of the rule profile.
    profile_sha256
        SHA-256 of the profile's text.
    parameters
        The run's parameters.

    Returns
    -------
    dict
        ``inputs`` (kind, path or feature count, and SHA-256 of each),
        ``profile``, ``parameters`` and ``versions`` (of landplan, Python and
        the geospatial libraries).
    """
    return {
        "inputs": {name: _describe_input(value) for name, value in inputs.items()},
        "profile": {"id": profile_id, "sha256": profile_sha256},
        "parameters": dict(parameters),
        "versions": _versions(),
    }


def manifest_json(manifest: Mapping[str, Any]) -> str:
    """The manifest as stable, readable JSON.

    Parameters
    ----------
    manifest
        A manifest, as from :func:`build_manifest`.

    Returns
    -------
    str
        JSON with sorted keys, indented, non-ASCII text as is; values JSON
        does not know are written as text.
    """
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str)
