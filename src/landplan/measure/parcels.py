"""Measure every parcel: ellipsoidal areas, slope, overlap with constraint layers.

:func:`measure_parcels` is the measurement stage of the pipeline.  It returns
one table aligned to the parcels' index, plus every problem it noticed
(repaired geometries, parcels without slope, areas that disagree with
``TBMJ``).  Rules and classification are computed from this table.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landplan.core.crs import require_crs, to_measuring_crs
from landplan.core.errors import Problem
from landplan.core.memory import release_freed_memory
from landplan.core.roles import ROLES, get_role
from landplan.core.threads import map_threads
from landplan.core.timing import stage
from landplan.measure.geometry import repair
from landplan.measure.overlay import (
    ParcelIndex,
    check_tolerance,
    index_parcels,
    overlap_areas,
    overlap_share,
    prepare_constraint,
)
from landplan.measure.terrain import slope_problems, slope_statistics
from landplan.survey.schema import (
    KCXS_FIX,
    KCXS_MISSING_MESSAGE,
    TBMJ_TOLERANCE,
    kcxs_checks,
    survey_attributes,
)

__all__ = [
    "Measurement",
    "layer_share",
    "measure_parcels",
    "with_layer_shares",
    "without_layer_shares",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measurement:
    """Measures of every parcel (``table``, aligned to the parcels' index) and problems.

    Attributes
    ----------
    table
        One row per parcel, aligned to the parcels' index; columns as listed in
        :func:`measure_parcels`.
    problems
        Every problem noticed while measuring (repaired or empty geometries,
        KCXS and TBMJ checks, slope without data ...).
    """

    table: pd.DataFrame
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def layer_share(measures: pd.DataFrame, role: str) -> np.ndarray | None:
    """Share (0-1) of each parcel's area a role's layer covers; None without the layer.

    Parameters
    ----------
    measures
        The :func:`measure_parcels` table.
    role
        Constraint layer role, e.g. ``"pbf_existing"``.

    Returns
    -------
    numpy.ndarray or None
        The role's share column as floats, unknown shares as 0; None when the
        layer was not measured.

    Examples
    --------
    >>> table = pd.DataFrame({"os_eco": [0.25, None]})
    >>> layer_share(table, "eco_redline").tolist()
    [0.25, 0.0]
    >>> layer_share(table, "pbf_existing") is None
    True
    """
    column = get_role(role).share_column
    if column not in measures:
        return None
    return np.nan_to_num(measures[column].to_numpy(dtype=float))


def _share_columns(measures: pd.DataFrame) -> dict[str, str]:
    """Overlap column → share column, for every layer measured in *measures*."""
    return {
        r.overlap_column: r.share_column for r in ROLES.values() if r.overlap_column in measures
    }


def without_layer_shares(measures: pd.DataFrame) -> pd.DataFrame:
    """The measurement table without its layer shares (``os_``), which follow from the rest.

    What a county engine ships back: the shares are a quarter to a half of the
    table and :func:`with_layer_shares` computes them again, to the bit.

    Parameters
    ----------
    measures
        A :func:`measure_parcels` table, whose ``area_m2`` the shares were computed
        with (not a split run's, whose piece areas are scaled afterwards).

    Returns
    -------
    pandas.DataFrame
        The table without the share columns.
    """
    return measures.drop(columns=list(_share_columns(measures).values()))


def with_layer_shares(measures: pd.DataFrame) -> pd.DataFrame:
    """The shares dropped by :func:`without_layer_shares` put back, each after its overlap.

    Parameters
    ----------
    measures
        A table from :func:`without_layer_shares`; shares it still has are kept
        as they are (a split run's, computed before its areas were scaled).

    Returns
    -------
    pandas.DataFrame
        The table as :func:`measure_parcels` made it.

    Examples
    --------
    >>> table = pd.DataFrame({"area_m2": [100.0, 0.0], "ov_eco": [25.0, 0.0],
    ...                       "os_eco": [0.25, 0.0]})
    >>> with_layer_shares(without_layer_shares(table)).equals(table)
    True
    """
    shares = {o: c for o, c in _share_columns(measures).items() if c not in measures}
    if not shares:
        return measures
    area = measures["area_m2"].to_numpy(dtype=float)
    # runs of the table's own columns, each share right after its overlap (where
    # measure_parcels puts it), joined without copying the table into one new block
    pieces: list[pd.DataFrame] = []
    start = 0
    for at, name in enumerate(measures.columns, start=1):
        if name in shares:
            share = overlap_share(measures[name].to_numpy(dtype=float), area)
            pieces += [
                measures.iloc[:, start:at],
                pd.DataFrame({shares[name]: share}, index=measures.index),
            ]
            start = at
    return pd.concat([*pieces, measures.iloc[:, start:]], axis=1)


def _counties(attributes: pd.DataFrame, mask: np.ndarray) -> tuple[str, ...]:
    """County codes of the parcels in *mask*, sorted, for problems that merge across counties."""
    return tuple(sorted(set(attributes["COUNTY"].astype(str).to_numpy()[mask])))


def _parcel_areas(
    area: np.ndarray,
    index: pd.Index,
    attributes: pd.DataFrame,
    *,
    source: str = "parcels",
    parent: np.ndarray | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Ellipsoidal area, land-class area after KCXS, and the check against TBMJ.

    Parameters
    ----------
    area
        The parcels' ellipsoidal areas, m².
    index
        Their index labels.
    attributes
        The parcels' survey attributes, with ``KCXS``, ``TBMJ`` and ``IS_FARMLAND``.
    source
        Name of the parcels' source, for problems.
    parent
        For pieces of split parcels, the parcel each piece comes from.

    Returns
    -------
    pandas.DataFrame
        Aligned to *index*: ``area_m2`` (ellipsoidal, CGCS2000),
        ``dlmj_m2`` (``area_m2 × (1 − KCXS)``, the 图斑地类面积 that farmland
        statistics sum; NaN where KCXS is out of range) and ``tbmj_rel_diff``
        ((area − TBMJ) / TBMJ; for pieces, given as *parent*, the parcel's total
        area is compared) and ``parcel_dlmj_m2`` (the land-class area of the
        survey parcel: of the parcel a piece comes from, else ``dlmj_m2``).
    list of Problem
        KCXS out of range or missing, and areas that differ from TBMJ.
    """
    problems: list[Problem] = []
    kcxs, bad, missing = kcxs_checks(attributes)
    if bad.any():
        problems.append(
            Problem(
                "KCXS_OUT_OF_RANGE",
                "parcels have KCXS outside [0, 1); their land-class area is unknown (NaN). "
                f"{KCXS_FIX}.",
                source,
                parcels=tuple(index[bad]),
                counties=_counties(attributes, bad),
            )
        )
    if missing.any():
        problems.append(
            Problem(
                "KCXS_MISSING",
                KCXS_MISSING_MESSAGE,
                source,
                severity="warning",
                parcels=tuple(index[missing]),
                counties=_counties(attributes, missing),
            )
        )
    dlmj = area * (1.0 - np.nan_to_num(kcxs))
    dlmj[bad] = np.nan
    tbmj = attributes["TBMJ"].to_numpy(dtype=float, na_value=np.nan)
    whole = area
    if parent is not None:  # pieces of split parcels: the parcel's total is the parcel's area
        whole = pd.Series(area).groupby(parent).transform("sum").to_numpy()
    parcel_dlmj = whole * (1.0 - np.nan_to_num(kcxs))
    parcel_dlmj[bad] = np.nan
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # TBMJ ~ 1e-310
        rel = np.where(tbmj > 0, (whole - tbmj) / tbmj, np.nan)
    off = np.abs(rel) > TBMJ_TOLERANCE
    if off.any():
        problems.append(
            Problem(
                "TBMJ_MISMATCH",
                "parcels have an ellipsoidal area that differs from TBMJ by more than "
                f"{TBMJ_TOLERANCE:.1%} (lp_tbmjdif gives each one's difference); "
                "check the geometry or the CRS.",
                source,
                severity="warning",
                counties=_counties(attributes, off),
                parcels=tuple(index[off]),
            )
        )
    table = pd.DataFrame(
        {"area_m2": area, "dlmj_m2": dlmj, "tbmj_rel_diff": rel, "parcel_dlmj_m2": parcel_dlmj},
        index=index,
    )
    return table, problems


def _repaired(parcels: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoSeries, list[Problem]]:
    """The parcels' geometries repaired for measuring, and warnings of repaired or empty ones."""
    problems: list[Problem] = []
    fixed, n_repaired = repair(parcels.geometry.to_numpy())
    if n_repaired:
        problems.append(
            Problem(
                "GEOMETRY_REPAIRED",
                f"{n_repaired} invalid parcel geometries were repaired "
                "(make_valid) for measuring; the output keeps the input geometry.",
                source,
                severity="warning",
            )
        )
    empty = shapely.is_missing(fixed) | shapely.is_empty(fixed)
    if empty.any():
        problems.append(
            Problem(
                "GEOMETRY_EMPTY",
                f"{int(empty.sum())} parcel(s) have no geometry; their area is 0.",
                source,
                severity="warning",
                parcels=tuple(parcels.index[empty]),
            )
        )
    return gpd.GeoSeries(fixed, index=parcels.index, crs=parcels.crs), problems


def _measure_layer(
    name: str,
    layer: gpd.GeoDataFrame | gpd.GeoSeries,
    planar: gpd.GeoSeries,
    index: ParcelIndex | None,
    parcels_crs: CRS,
    *,
    tolerance_m: float,
) -> tuple[pd.DataFrame, Problem | None]:
    """Overlap of one role's layer (its share follows), and the repair of its geometries if any."""
    layer_crs = require_crs(layer, name)
    if not layer_crs.equals(parcels_crs):
        log.info(
            "%s: layer CRS %s differs from the parcels' %s; reprojecting",
            name,
            layer_crs.name,
            parcels_crs.name,
        )
    prepared = prepare_constraint(layer, name=name, crs=planar.crs)  # the parcels' measuring CRS
    ov = overlap_areas(planar, prepared, tolerance_m=tolerance_m, index=index)
    role = get_role(name)
    repaired = None
    if prepared.n_repaired:
        repaired = Problem(
            "GEOMETRY_REPAIRED",
            f"{prepared.n_repaired} invalid geometries repaired",
            name,
            severity="warning",
        )
    # the share is computed when the table is put together: held for every layer
    # while the others are measured, it would be a third of the county's peak growth
    return ov["overlap_m2"].rename(role.overlap_column).copy().to_frame(), repaired


def measure_parcels(
    parcels: gpd.GeoDataFrame,
    *,
    dem: str | None = None,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries] | None = None,
    fields: Mapping[str, str] | None = None,
    source: str = "parcels",
    attributes: pd.DataFrame | None = None,
    tolerance_m: float = 0.0,
    threads: int = 1,
) -> Measurement:
    """Measure every parcel: areas, slope (if a DEM is given), overlaps per layer role.

    Parameters
    ----------
    parcels
        三调 land parcels, any CRS (see :mod:`landplan.core.crs`).
    dem
        Path of a DEM raster; slope statistics are added when given.
    layers
        Constraint layers by role name (:data:`landplan.core.roles.ROLES`).
    fields
        Mapping of canonical 三调 field names to the parcels' columns.
    source
        Name of the parcels' source (usually their path), for problems.
    attributes
        The parcels' :func:`~landplan.survey.schema.survey_attributes`, if already parsed.
    tolerance_m
        Positional tolerance in metres (the profile's ``position_tolerance_m``):
        overlap with a layer narrower than this does not count
        (:func:`~landplan.measure.overlay.overlap_areas`).  0 counts every overlap.
    threads
        Threads for the projection, the DEM's tiles and the layers
        (:mod:`landplan.core.threads`); the answers do not depend on it.

    Returns
    -------
    Measurement
        ``table`` columns: ``area_m2``, ``dlmj_m2``, ``tbmj_rel_diff``,
        ``parcel_dlmj_m2`` (land-class area of the survey parcel: for pieces of
        split parcels, marked by an ``lp_parent`` column, that of their parcel;
        otherwise equal to ``dlmj_m2``), the
        :data:`~landplan.measure.terrain.SLOPE_COLUMNS` when a DEM is given, and per
        role its overlap (``ov_<code>``, m²) and share (``os_<code>``), overlap
        narrower than *tolerance_m* left out.

    Raises
    ------
    CRSError
        The parcels, a layer or the DEM have no CRS.
    SchemaError
        *attributes* is not given and the parcels' 三调 fields are missing or malformed.
    InputError
        A layer's name is not a known role.
    ReadError
        The DEM does not exist or cannot be read.
    ValueError
        *tolerance_m* is negative or not finite.

    Examples
    --------
    >>> from landplan.io.sample import load_sample
    >>> sample = load_sample()
    >>> m = measure_parcels(sample.parcels, dem=sample.dem,
    ...                     layers={"eco_redline": sample.layers["eco_redline"]})
    >>> m.table.index.equals(sample.parcels.index)
    True
    >>> bool((m.table["os_eco"] <= 1).all())
    True
    """
    require_crs(parcels, source)
    check_tolerance(tolerance_m)
    if attributes is None:
        attributes = survey_attributes(parcels, fields=fields, source=source)
    fixed_series, problems = _repaired(parcels, source)
    with stage("areas"):
        planar, scale = to_measuring_crs(fixed_series, threads=threads)
        area = np.nan_to_num(shapely.area(planar.to_numpy())) / scale
        parent = parcels["lp_parent"].to_numpy() if "lp_parent" in parcels else None
        table, area_problems = _parcel_areas(
            area, parcels.index, attributes, source=source, parent=parent
        )
    problems += area_problems
    parts = [table]
    parcels_crs = CRS.from_user_input(parcels.crs)
    index = index_parcels(planar, crs=planar.crs, scale=scale) if layers else None
    roles = list(layers or {})
    for name in roles:
        get_role(name)  # unknown roles stop here, before any thread starts

    def _slope(tile_threads: int) -> pd.DataFrame:
        """The DEM's slope statistics, its freed tiles returned before the overlays go on."""
        stats = slope_statistics(fixed_series, dem, threads=tile_threads)
        release_freed_memory()
        return stats

    def _layer(name: str) -> tuple[pd.DataFrame, Problem | None]:
        """Overlap of one role's layer (see :func:`_measure_layer`)."""
        return _measure_layer(
            name, (layers or {})[name], planar, index, parcels_crs, tolerance_m=tolerance_m
        )

    # the largest layers first: they need the most memory, and start while few overlap
    # columns are held yet; and no thread is left with a big layer at the end
    largest_first = sorted(roles, key=lambda name: -len((layers or {})[name]))
    stats: pd.DataFrame | None = None
    if dem is not None and roles and threads > 1:
        # the slope, on one thread, beside the layers on the others: no core waits
        # while the DEM's last tiles or the last layer finish alone
        with stage("slope and overlaps"):
            done = map_threads(
                lambda task: _slope(1) if task is None else _layer(task),
                [None, *largest_first],
                threads=threads,
            )
        stats = cast(pd.DataFrame, done[0])
        layer_results = cast(list[tuple[pd.DataFrame, Problem | None]], done[1:])
    else:
        layer_results = []
        if dem is not None:
            with stage("slope"):
                stats = _slope(threads)
        if roles:
            with stage("overlaps"):
                layer_results = map_threads(_layer, largest_first, threads=threads)
    by_role = dict(zip(largest_first, layer_results, strict=True))
    measured = [by_role[name] for name in roles]
    if stats is not None:
        county = attributes["COUNTY"].astype(str)
        problems += [
            dataclasses.replace(
                p, counties=tuple(sorted(set(county.loc[pd.Index(p.parcels)].to_numpy())))
            )
            for p in slope_problems(stats, source=str(dem))
        ]
        parts.append(stats)
    parts += [ov for ov, _ in measured]
    problems += [p for _, p in measured if p is not None]
    return Measurement(with_layer_shares(pd.concat(parts, axis=1)), tuple(problems))
