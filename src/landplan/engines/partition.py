"""Counties as the unit of work: partition parcels and layers, merge county results.

Quotas, priority ranks and adjacency ("next to PBF") are all per county, so a
county's parcels plus the constraint features near them are everything its
classification needs.  :func:`merge_results` puts county results back in the
input's parcel order, so every engine gives the same answer as one process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from landplan.core.errors import InputError, Problem, merge_problems
from landplan.core.units import M2_PER_WANMU
from landplan.engines.pipeline import join_output, measure_columns
from landplan.io.layers import LayerSource
from landplan.io.partitions import rows_by_key
from landplan.measure.parcels import Measurement, with_layer_shares
from landplan.outputs.aggregate import (
    CITY_TOTAL,
    add_total_row,
    stage_b_table,
    stage_d_table,
    with_units,
)
from landplan.outputs.result import Result
from landplan.rules.evaluate import Evidence, Gaps
from landplan.rules.kinds import joined_units
from landplan.rules.model import Profile
from landplan.survey.schema import county_of, resolve_fields

__all__ = [
    "CountyPlan",
    "CountyTables",
    "Layers",
    "Partition",
    "county_codes",
    "county_partition",
    "county_tables",
    "layers_near",
    "merge_county_problems",
    "merge_county_tables",
    "merge_results",
    "near_box",
    "plan_counties",
    "read_layers_near",
]

Layers: TypeAlias = Mapping[str, "gpd.GeoDataFrame | gpd.GeoSeries"]


@dataclass(frozen=True)
class Partition:
    """One county's parcels and the constraint features near them."""

    county: str
    frame: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame | gpd.GeoSeries]


@dataclass(frozen=True)
class CountyPlan:
    """Which input rows (positions) make up a county."""

    county: str
    positions: np.ndarray


def county_codes(frame: gpd.GeoDataFrame, fields: Mapping[str, str] | None = None) -> np.ndarray:
    """``ZLDWDM[:6]`` of every parcel ('' where missing).

    Parameters
    ----------
    frame
        The parcels.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.

    Returns
    -------
    numpy.ndarray
        The county code of every parcel (object dtype).

    Raises
    ------
    InputError
        The parcels have no ``ZLDWDM`` column (after *fields*).
    """
    column = resolve_fields(frame.columns, fields).get("ZLDWDM")
    if column is None or column not in frame.columns:
        raise InputError(
            [
                Problem(
                    "FIELD_MISSING",
                    "ZLDWDM is needed to partition parcels by county; map it with "
                    "fields={'ZLDWDM': '<column>'} (CLI: --field ZLDWDM=<column>).",
                    "parcels",
                )
            ]
        )
    return np.asarray(county_of(frame[column]).to_numpy(), dtype=object)


def near_box(
    bounds: np.ndarray, parcels_crs: CRS, layer_crs: CRS, margin_m: float
) -> tuple[float, float, float, float]:
    """The parcels' bounds in a layer's CRS, widened by *margin_m*.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of the parcels, in *parcels_crs* (finite).
    parcels_crs
        The parcels' CRS.
    layer_crs
        The layer's CRS.
    margin_m
        Widening in metres (about 1/111,000 degree per metre in a
        geographic CRS).

    Returns
    -------
    tuple of float
        ``(minx, miny, maxx, maxy)`` in *layer_crs*; the edges are densified
        when the CRS differ.
    """
    box: Sequence[float] = [float(b) for b in bounds]
    if not layer_crs.equals(parcels_crs):
        box = Transformer.from_crs(parcels_crs, layer_crs, always_xy=True).transform_bounds(
            bounds[0], bounds[1], bounds[2], bounds[3], densify_pts=21
        )
    pad = margin_m / 111_000 if layer_crs.is_geographic else margin_m
    return (
        float(box[0] - pad),
        float(box[1] - pad),
        float(box[2] + pad),
        float(box[3] + pad),
    )


def layers_near(
    layers: Layers, frame: gpd.GeoDataFrame, *, margin_m: float = 100.0
) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries]:
    """The features of each layer that meet the parcels' bounds.

    Whole features are kept, never clipped, so every overlap with a parcel of
    *frame* is the same as with the whole layer.  The bounds are carried into
    each layer's CRS with densified edges and widened by *margin_m*
    (:func:`near_box`).

    Parameters
    ----------
    layers
        Constraint layers by role.
    frame
        The parcels.
    margin_m
        Widening of the parcels' bounds in metres (about 1/111,000 degree
        per metre in a geographic CRS).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame or geopandas.GeoSeries
        The features of each layer near the parcels, in the layer's order;
        none when the layer or the parcels' bounds are empty.
    """
    out: dict[str, gpd.GeoDataFrame | gpd.GeoSeries] = {}
    bounds = frame.total_bounds
    parcels_crs = CRS.from_user_input(frame.crs)
    for role, layer in layers.items():
        if not len(layer) or not np.isfinite(bounds).all():
            out[role] = layer.iloc[:0]
            continue
        box = near_box(bounds, parcels_crs, CRS.from_user_input(layer.crs), margin_m)
        hits = layer.sindex.query(shapely.box(*box), predicate="intersects")
        out[role] = layer.iloc[np.sort(hits)]
    return out


def read_layers_near(
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries | LayerSource],
    frame: gpd.GeoDataFrame,
    *,
    margin_m: float = 100.0,
) -> dict[str, gpd.GeoDataFrame | gpd.GeoSeries]:
    """:func:`layers_near`, reading the layers given as files by bounding box.

    A file layer is read only where GDAL's spatial filter passes a box
    twice as wide as :func:`layers_near` uses (a superset of what it keeps,
    in feature id order); then :func:`layers_near` filters every layer, so
    the features kept are those it keeps from the whole layer.

    Parameters
    ----------
    layers
        Constraint layers by role: in memory, or files
        (:func:`~landplan.io.layers.layer_sources`).
    frame
        The parcels.
    margin_m
        As :func:`layers_near`.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame or geopandas.GeoSeries
        As :func:`layers_near`.
    """
    bounds = frame.total_bounds
    parcels_crs = CRS.from_user_input(frame.crs)
    read: dict[str, gpd.GeoDataFrame | gpd.GeoSeries] = {}
    for role, layer in layers.items():
        if not isinstance(layer, LayerSource):
            read[role] = layer
        elif not np.isfinite(bounds).all():
            read[role] = layer.read(bbox=_NOWHERE)  # its geometry column, hardly any feature
        else:
            box = near_box(bounds, parcels_crs, CRS.from_user_input(layer.crs), 2 * margin_m)
            read[role] = layer.read(bbox=box)
    return layers_near(read, frame, margin_m=margin_m)


#: A box that holds no parcel: the read gives the geometry column and whatever lies there.
_NOWHERE = (0.0, 0.0, 0.0, 0.0)


def plan_counties(
    frame: gpd.GeoDataFrame,
    fields: Mapping[str, str] | None = None,
    *,
    codes: np.ndarray | None = None,
) -> list[CountyPlan]:
    """The input rows of each county, largest county first (so a pool finishes evenly).

    Parameters
    ----------
    frame
        The parcels.
    fields
        Mapping of canonical 三调 field names to the parcels' columns.
    codes
        The parcels' :func:`county_codes`, when already found.

    Returns
    -------
    list of CountyPlan
        One plan per county code, rows in input order within each county.

    Raises
    ------
    InputError
        The parcels have no ``ZLDWDM`` column (after *fields*).
    """
    if codes is None:
        codes = county_codes(frame, fields)
    plans = [CountyPlan(code, rows) for code, rows in rows_by_key(codes)]
    return sorted(plans, key=lambda p: -len(p.positions))


def county_partition(frame: gpd.GeoDataFrame, plan: CountyPlan, layers: Layers) -> Partition:
    """A county's parcels (a copy) and the layer features near them.

    Parameters
    ----------
    frame
        The parcels.
    plan
        The county's input rows.
    layers
        Constraint layers by role.

    Returns
    -------
    Partition
        The county's parcels and :func:`layers_near` them.
    """
    part = frame.iloc[plan.positions]
    return Partition(plan.county, part, layers_near(layers, part))


def merge_results(
    results: list[Result],
    plans: Sequence[CountyPlan],
    frame: gpd.GeoDataFrame,
    *,
    split: bool = False,
) -> Result:
    """One result from per-county results, in the input's parcel order.

    Without split, each county's result holds only landplan's columns; they are
    put back in input order and joined to the input columns.  Pieces of split
    parcels are ordered by their parcel's input position and piece number, and
    numbered afresh, as a single run numbers them.  *results* is emptied, so
    that each county's tables are freed as soon as they are merged.

    Parameters
    ----------
    results
        One result per plan, in the order of *plans*; emptied.
    plans
        The input rows of each county.
    frame
        The input parcels.
    split
        Whether the results hold split pieces (with ``lp_parent`` and ``lp_piece``).

    Returns
    -------
    Result
        The merged result, indexed like *frame* (pieces: a fresh range index),
        without a manifest.
    """
    first = results[0]
    gaps = Gaps.merge([r.evidence.gaps for r in results])
    units = _merged_units([r.evidence.units for r in results])
    quotas = (
        pd.concat([r.quotas for r in results]).sort_values("county_code").reset_index(drop=True)
    )
    stages = pd.concat([r.stages for r in results], ignore_index=True)
    problems = merge_county_problems(
        [_without_gaps(r.problems, r.evidence.gaps) for r in results] + [gaps.problems()],
        frame.index,
    )
    measure_problems = merge_county_problems([r.measurement.problems for r in results], frame.index)
    # counties joined in the order of their first parcel: when each county's parcels
    # are consecutive in the input (as a survey's are), they are then in input order
    # already, and no table is copied a second time to put them there
    starts = [p.positions[0] if len(p.positions) else len(frame) for p in plans]
    joined = sorted(range(len(plans)), key=starts.__getitem__)
    tables = {
        "parcels": [results[k].parcels for k in joined],
        "hits": [results[k].evidence.hits for k in joined],
        "values": [results[k].evidence.own_values for k in joined],
        "measures": [with_layer_shares(results[k].measurement.table) for k in joined],
    }
    results.clear()
    merged = {name: pd.concat(tables.pop(name)) for name in list(tables)}
    order: np.ndarray | None
    if split:
        parent_position = frame.index.get_indexer(merged["parcels"]["lp_parent"])
        order = np.lexsort((merged["parcels"]["lp_piece"].to_numpy(), parent_position))
        index: pd.Index = pd.RangeIndex(len(order))
    else:
        concatenated = np.concatenate([plans[k].positions for k in joined])
        order = np.empty(len(concatenated), dtype=np.int64)
        order[concatenated] = np.arange(len(concatenated))
        index = frame.index
    if (order == np.arange(len(order))).all():
        order = None
    for name in merged:
        rows = merged[name] if order is None else merged[name].iloc[order]
        merged[name] = rows.set_axis(index)
    parcels = merged.pop("parcels")
    if not split:  # counties ship their measures once, in the measurement table
        parcels = pd.concat([parcels, measure_columns(merged["measures"])], axis=1)
    return Result(
        gpd.GeoDataFrame(
            parcels if split else join_output(frame, parcels),
            geometry=frame.geometry.name,
            crs=frame.crs,
        ),
        Evidence(
            hits=merged["hits"],
            own_values=merged["values"],
            units=units,
            gaps=gaps,
            measured=first.evidence.measured,
            measures=merged["measures"],
        ),
        Measurement(merged["measures"], problems=tuple(measure_problems)),
        first.profile,
        quotas,
        tuple(problems),
        stages=stages,
    )


def _merged_units(parts: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Each rule's unit over several counties (:func:`~landplan.rules.kinds.joined_units`)."""
    return {rule_id: joined_units(part[rule_id] for part in parts) for rule_id in parts[0]}


def _without_gaps(problems: Sequence[Problem], gaps: Gaps) -> list[Problem]:
    """A county's problems but those its gaps report: the merged gaps report them once."""
    reported = set(gaps.problems())
    return [p for p in problems if p not in reported]


def merge_county_problems(groups: Sequence[Sequence[Problem]], index: pd.Index) -> list[Problem]:
    """The problems of county runs as one run over all parcels reports them.

    Each problem once; those that differ only in their counties and parcels
    become one naming all of them, the parcels in input order
    (:func:`~landplan.core.errors.merge_problems`).

    Parameters
    ----------
    groups
        The problems of each county run (of one, for a single run).
    index
        The input parcels' index, which orders the parcels of a merged problem;
        parcels named otherwise (``BSM … (row …)``) come after them, in the
        order met.

    Returns
    -------
    list of Problem
        The merged problems, the most severe first.

    Examples
    --------
    >>> a = Problem("P", "bad", parcels=(7,), counties=("430406",))
    >>> b = Problem("P", "bad", parcels=(3,), counties=("430405",))
    >>> merge_county_problems([[a], [b]], pd.RangeIndex(10))
    [Problem(code='P', message='bad', source='', severity='error', parcels=(3, 7), \
counties=('430405', '430406'))]
    """
    labels = list(dict.fromkeys(p for problems in groups for q in problems for p in q.parcels))
    if not labels:
        return merge_problems(groups)
    try:
        found = index.get_indexer(pd.Index(labels, dtype=object))
    except (TypeError, ValueError):  # labels the index cannot compare with
        found = np.full(len(labels), -1)
    last = len(index)
    position = {
        label: (int(at) if at >= 0 else last + i)
        for i, (label, at) in enumerate(zip(labels, found, strict=True))
    }
    return merge_problems(groups, parcel_order=position.__getitem__)


@dataclass(frozen=True)
class CountyTables:
    """What a county run sends back when its parcels stay on the worker: its tables only."""

    county: str
    parcels: int
    quotas: pd.DataFrame
    summary: pd.DataFrame
    delineation: pd.DataFrame
    contiguity: pd.DataFrame
    pbf_changes: pd.DataFrame | None
    stages: pd.DataFrame
    problems: tuple[Problem, ...]  # but those of `gaps`
    gaps: Gaps
    invalid: pd.DataFrame


def county_tables(result: Result, county: str, invalid: pd.DataFrame) -> CountyTables:
    """The tables of one county's result, without their city total rows.

    Parameters
    ----------
    result
        The county's result.
    county
        Its county code.
    invalid
        Its parcels set aside as invalid (findings).

    Returns
    -------
    CountyTables
        Quotas, summary, delineation, contiguity, PBF changes and stage
        totals of the county; its problems (measurement's too) but those of
        the rules' gaps, which are kept apart to be merged (:meth:`Gaps.merge`).
    """
    changes = result.pbf_changes
    gaps = result.evidence.gaps
    return CountyTables(
        county,
        len(result.parcels),
        result.quotas,
        _county_rows(result.summary),
        _county_rows(result.delineation),
        _county_rows(result.contiguity),
        None if changes is None else _county_rows(changes),
        result.stages,
        (*_without_gaps(result.problems, gaps), *result.measurement.problems),
        gaps,
        invalid,
    )


def _county_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["county_code"] != CITY_TOTAL]


def merge_county_tables(parts: Sequence[CountyTables], profile: Profile) -> dict[str, pd.DataFrame]:
    """The tables of a whole run from its counties', city totals summed from county values.

    Parameters
    ----------
    parts
        Every county's tables.
    profile
        The run's profile (the classes of stage B).

    Returns
    -------
    dict of str to pandas.DataFrame
        By output table name, as :meth:`~landplan.outputs.result.Result.tables`
        names them: ``county_summary``, ``target_delineation``,
        ``county_quotas``, ``contiguity``, and ``pbf_changes``, ``stage_b``,
        ``stage_d`` and ``invalid_parcels`` when they have rows.
    """
    quotas = pd.concat([p.quotas for p in parts]).sort_values("county_code")
    tables = {
        "county_summary": _summary_with_city(_concat_rows([p.summary for p in parts])),
        "target_delineation": _with_total(_concat_rows([p.delineation for p in parts])),
        "county_quotas": quotas.reset_index(drop=True),
        "contiguity": _contiguity_with_city(_concat_rows([p.contiguity for p in parts])),
    }
    changes = [p.pbf_changes for p in parts if p.pbf_changes is not None]
    if changes:
        tables["pbf_changes"] = _with_total(_concat_rows(changes))
    stages = pd.concat([p.stages for p in parts], ignore_index=True)
    if len(stages) and (stages["stage"] == "B").any():
        tables["stage_b"] = stage_b_table(stages, profile.parameters["stage_b_classes"])
    if len(stages) and (stages["stage"] == "D").any():
        tables["stage_d"] = stage_d_table(stages)
    invalid = [p.invalid for p in parts if len(p.invalid)]
    if invalid:
        tables["invalid_parcels"] = pd.concat(invalid, ignore_index=True)
    return tables


def _concat_rows(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    rows = pd.concat(tables, ignore_index=True)
    return rows.sort_values("county_code", kind="stable").reset_index(drop=True)


def _summary_with_city(rows: pd.DataFrame) -> pd.DataFrame:
    """County × class rows and the city rows, as :func:`class_totals` makes them."""
    city = rows.groupby("lp_class", sort=False)[["parcels", "area_m2"]].sum().reset_index()
    city.insert(0, "county_code", CITY_TOTAL)
    city.insert(1, "county_name", CITY_TOTAL)
    return with_units(pd.concat([rows, city], ignore_index=True), "area_m2", "area")


def _with_total(rows: pd.DataFrame) -> pd.DataFrame:
    """County rows and the city total row, as :func:`county_table` makes them."""
    plain = rows.drop(columns=[c for c in rows.columns if c.endswith("_wanmu")])
    table = add_total_row(plain)
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table[column[:-3] + "_wanmu"] = table[column] / M2_PER_WANMU
    return table[list(rows.columns)]


def _contiguity_with_city(rows: pd.DataFrame) -> pd.DataFrame:
    """County rows of :attr:`Result.contiguity` and its city row (shares of the summed areas)."""
    total: dict[str, object] = {"county_code": CITY_TOTAL}
    for column in rows.columns:
        if column.endswith("_m2"):
            total[column] = rows[column].sum()
    for column in rows.columns:
        if column.endswith("_share"):
            base = "farmland_m2" if column.startswith("farmland_") else "pbf_m2"
            part = float(total[column[: -len("_share")] + "_m2"])  # type: ignore[arg-type]
            whole = float(total[base])  # type: ignore[arg-type]
            total[column] = part / whole if whole > 0 else np.nan
    return pd.concat([rows, pd.DataFrame([total])], ignore_index=True)[list(rows.columns)]
