"""Annual farmland in/out balance (年度耕地进出平衡, 003 ch.5 §3) between two survey vintages.

003 ch.5 §3: "坚持以进定出，年度转进耕地不得少于转出耕地，转进水田不少于转出水田", for
farmland turned into other agricultural land "国家安排的生态退耕和自然灾害毁损难以复耕、
河湖水面自然扩大导致永久淹没等自然因素造成耕地减少的除外".

Two 三调-style parcel layers (the older and the newer vintage) are overlaid by
area: every piece where an old parcel meets a new one keeps the land class of
both.  Parcel geometries may differ between the vintages (split, merged,
redrawn): only the overlay decides, never parcel identifiers.  Areas are
measured in :data:`~landplan.core.crs.EQUAL_AREA_CRS` (ellipsoidal, as the
survey's) and deducted by KCXS as farmland statistics are: pieces that were
farmland by the old vintage's KCXS, pieces that became farmland by the new
vintage's.  Each piece is:

- ``kept``: farmland in both vintages (paddy turned dry land stays here);
- ``out`` (转出): farmland turned into other agricultural land (园地, 林地, 草地,
  农村道路, 坑塘水面, 沟渠, 设施农用地, 田坎: the survey's 农用地), by destination
  class;
- ``excluded`` (除外): farmland lost to a cause the plan exempts, marked by a
  layer (roles ``return_forest`` 生态退耕, ``damaged`` 灾毁, ``river_lake`` /
  ``river_channel`` with the new class river or lake water 永久淹没) or by an
  attribute of the new vintage; never counted as out;
- ``out_other``: farmland turned into land outside the balance (construction,
  water, unused land: 占补平衡 and other procedures), listed, not counted;
  with ``scope="all"`` it is ``out``;
- ``in`` (转进): other agricultural land turned into farmland, by origin
  class; ``in_other`` from land outside the balance (with ``scope="all"``:
  ``in``).

Per county (``ZLDWDM[:6]`` of the new vintage): the balance is met when
turned-in farmland is at least turned-out farmland and turned-in paddy
(0101) at least turned-out paddy; the shortfall is by how much not.  Nothing
is lost: for every county ``kept + out + excluded + out_other +
unmatched_old`` is the old vintage's farmland, where ``unmatched_old`` is
old farmland that no new parcel covers (a gap; negative where new parcels
overlap), reported as a problem.

In the ``audit`` layer: may import ``core`` to ``engines``; reads no files
(:func:`landplan.api.balance` does), writes through :mod:`landplan.io`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landplan.core.crs import EQUAL_AREA_CRS, require_crs
from landplan.core.errors import InputError, Problem
from landplan.core.palette import BALANCE_DIRECTIONS, PADDY
from landplan.core.roles import get_role
from landplan.core.units import M2_PER_MU, M2_PER_WANMU
from landplan.io.files import write_csv, write_xlsx
from landplan.io.layers import check_writable, write_layer, write_table
from landplan.io.qgis_style import balance_style_qml, write_gpkg_style
from landplan.io.reference import county_names
from landplan.measure.geometry import polygonal_part, repair
from landplan.measure.overlay import PreparedConstraint, prepare_constraint
from landplan.outputs.outlines import county_outlines
from landplan.survey.schema import (
    KCXS_FIX,
    KCXS_MISSING_MESSAGE,
    LAND_CLASSES,
    kcxs_checks,
    survey_attributes,
)

__all__ = [
    "AGRICULTURAL_CODES",
    "AREA_COLUMNS",
    "CAUSES",
    "CLASS_GROUPS",
    "DIRECTIONS",
    "PADDY",
    "SCOPES",
    "Balance",
    "Cause",
    "Scope",
    "compare_vintages",
    "output_files",
]

#: First-level land classes (GB/T 21010-2017; 20 城镇村及工矿用地 of the survey).
CLASS_GROUPS: Mapping[str, str] = MappingProxyType(
    {
        "01": "耕地", "02": "园地", "03": "林地", "04": "草地", "05": "商业服务业用地",
        "06": "工矿用地", "07": "住宅用地", "08": "公共管理与公共服务用地", "09": "特殊用地",
        "10": "交通运输用地", "11": "水域及水利设施用地", "12": "其他土地",
        "20": "城镇村及工矿用地",
    }
)  # fmt: skip

#: Agricultural land other than farmland (the survey's 农用地): the land the balance is about.
AGRICULTURAL_CODES: frozenset[str] = frozenset(
    {c for c in LAND_CLASSES if c[:2] in ("02", "03", "04")}
    | {"1006", "1104", "1107", "1202", "1203"}
)

Scope = Literal["agricultural", "all"]
#: ``agricultural``: farmland to/from other agricultural land (the plan's balance);
#: ``all``: every farmland loss and gain counts.
SCOPES: tuple[str, ...] = ("agricultural", "all")

#: Piece directions with their Chinese labels, in table order (:data:`BALANCE_DIRECTIONS`).
DIRECTIONS: Mapping[str, str] = MappingProxyType({d.code: d.zh for d in BALANCE_DIRECTIONS})

#: Area columns of :attr:`Balance.summary`, each in ``_m2``, ``_mu`` and ``_wanmu``.
AREA_COLUMNS: tuple[str, ...] = (
    "farmland_old",
    "kept",
    "out",
    "paddy_out",
    "excluded",
    "excluded_eco_return",
    "excluded_disaster",
    "excluded_flooded",
    "out_other",
    "unmatched_old",
    "in",
    "paddy_in",
    "in_other",
    "unmatched_new",
    "net",
    "paddy_net",
    "shortfall",
    "paddy_shortfall",
)

#: Kinds of :func:`output_files` that are the drawn map.
MAP_KINDS: tuple[str, ...] = ("map.png", "map.svg")

#: Areas below this (m²) are rounding noise: a balance short by less is met, and overlay
#: pieces smaller are dropped (slivers along edges the vintages share, where projecting the
#: vertices bends an edge by nanometres); their area stays in ``unmatched_*``.
TOLERANCE_M2 = 0.01
#: Farmland a parcel of the other vintage does not cover, or covers twice, above this (m²)
#: is reported (``BALANCE_UNMATCHED``) and drawn as a ``gap`` piece.
GAP_TOLERANCE_M2 = 1.0


@dataclass(frozen=True)
class Cause:
    """A cause of farmland loss the balance exempts (003 ch.5 §3).

    Attributes
    ----------
    code
        Name used in columns (``excluded_<code>_m2``) and accepted as an attribute value.
    zh
        Chinese name, as the plan words it.
    roles
        Constraint-layer roles that mark it.
    classes
        New land classes (base DLBM) a layer marks it for; None for any class.
    aliases
        Further attribute values that mean this cause.
    """

    code: str
    zh: str
    roles: tuple[str, ...]
    classes: frozenset[str] | None = None
    aliases: tuple[str, ...] = ()


#: The exempt causes, in the order they are applied to a piece.
CAUSES: tuple[Cause, ...] = (
    Cause("eco_return", "国家安排的生态退耕", ("return_forest",), None, ("生态退耕", "退耕还林")),
    Cause("disaster", "自然灾害损毁难以复耕", ("damaged",), None, ("灾毁", "自然灾害")),
    Cause(
        "flooded",
        "河湖水面自然扩大导致永久淹没",
        ("river_lake", "river_channel"),
        frozenset({"1101", "1102"}),
        ("永久淹没", "淹没"),
    ),
)


@dataclass(frozen=True)
class Balance:
    """The in/out balance of two survey vintages.

    Attributes
    ----------
    summary
        One row per county (sorted by code) and the city total row
        (``county_code`` 全市): every :data:`AREA_COLUMNS` entry in m², 亩 and
        万亩 (after KCXS), ``balanced`` (bool) and ``status`` (平衡 / 不平衡).
    flows
        Long table: county, direction (``out``, ``in``, ``excluded`` ...),
        cause, the class on the other side (``class_group`` two digits and
        ``class_group_name``; ``class_code``, ``class_name``) and the area in
        m², 亩 and 万亩; city rows last.
    pieces
        The changed pieces for a map, in the new vintage's CRS: ``county``,
        ``direction``, ``direction_zh``, ``cause``, ``class_old``,
        ``class_new`` (with ``_name``), ``bsm_old``, ``bsm_new``,
        ``area_m2`` (measured) and ``counted_m2`` / ``counted_mu`` (after KCXS).
    problems
        Gaps and overlaps between the vintages, KCXS missing.
    scope
        ``agricultural`` or ``all`` (:data:`SCOPES`).
    counties
        The new vintage's parcels dissolved by county (``county_code``), in its
        CRS: the boundaries of the map; None draws none.
    """

    summary: pd.DataFrame
    flows: pd.DataFrame
    pieces: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)
    scope: str = "agricultural"
    counties: gpd.GeoDataFrame | None = None

    def to_files(self, path: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write the tables, the map layer and the drawn map.

        Parameters
        ----------
        path
            A ``.csv`` (the county table, and the flows beside it as
            ``<stem>_flows.csv``), ``.xlsx`` (sheets ``summary`` and ``flows``),
            ``.gpkg`` (layer ``balance_pieces``, styled for QGIS as the map
            draws it, tables ``balance_summary`` and ``balance_flows``),
            ``.png`` or ``.svg`` file (the map of the changed pieces,
            :func:`~landplan.outputs.plot.balance_map`); any other path
            is a folder that receives all of them as ``balance.*``, the map as
            ``balance_map.png`` and ``balance_map.svg``.  CSV is UTF-8 with a BOM.
        overwrite
            Replace files that exist.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        OutputExistsError
            A file to write exists and *overwrite* is false (nothing is written).
        """
        targets = output_files(path)
        for target in targets.values():
            check_writable(target, overwrite=overwrite)  # all refused before any is written
        maps = [target for kind, target in targets.items() if kind in MAP_KINDS]
        written = [self._write(kind, t) for kind, t in targets.items() if kind not in MAP_KINDS]
        return written + (self._write_maps(maps) if maps else [])

    def _write_maps(self, targets: list[Path]) -> list[Path]:
        """The map of the changed pieces, drawn once, saved in each format."""
        from matplotlib.figure import Figure

        from landplan.io.files import write_figure
        from landplan.outputs.plot import balance_map, chart_style

        with chart_style() as language:
            figure = Figure(figsize=(10, 8))  # outside pyplot: no backend is chosen or changed
            balance_map(self.pieces, counties=self.counties, ax=figure.subplots(),
                        language=language)  # fmt: skip
            return [write_figure(figure, target, dpi=150) for target in targets]

    def _write(self, kind: str, target: Path) -> Path:
        if kind == ".csv":
            return write_csv(self.summary, target)
        if kind == "flows.csv":
            return write_csv(self.flows, target)
        if kind == ".xlsx":
            return write_xlsx({"summary": self.summary, "flows": self.flows}, target)
        write_layer(self.pieces, target, layer="balance_pieces")
        style = balance_style_qml(list(self.pieces.columns))
        write_gpkg_style(target, "balance_pieces", style, name="landplan balance")
        write_table(self.summary, target, layer="balance_summary")
        write_table(self.flows, target, layer="balance_flows")
        return target


def output_files(path: str | Path) -> dict[str, Path]:
    """The files :meth:`Balance.to_files` writes for *path*.

    Parameters
    ----------
    path
        A ``.csv``, ``.xlsx``, ``.gpkg``, ``.png`` or ``.svg`` file, or a folder.

    Returns
    -------
    dict
        Kind (``.csv``, ``flows.csv``, ``.xlsx``, ``.gpkg``, ``map.png``,
        ``map.svg``) → file.

    Examples
    --------
    >>> sorted(p.name for p in output_files("out/b.csv").values())
    ['b.csv', 'b_flows.csv']
    >>> sorted(p.name for p in output_files("out").values())
    ['balance.csv', 'balance.gpkg', 'balance.xlsx', 'balance_flows.csv', 'balance_map.png',
     'balance_map.svg']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx", ".gpkg"):
        targets = {suffix: path}
    elif suffix in (".png", ".svg"):
        targets = {f"map{suffix}": path}
    else:
        targets = {s: path / f"balance{s}" for s in (".csv", ".xlsx", ".gpkg")}
        targets.update({kind: path / f"balance_{kind}" for kind in MAP_KINDS})
    if ".csv" in targets:
        csv = targets[".csv"]
        targets["flows.csv"] = csv.with_name(f"{csv.stem}_flows.csv")
    return targets


@dataclass(frozen=True)
class _Vintage:
    """One survey vintage in the equal-area CRS, with what the overlay needs."""

    geoms: np.ndarray
    base: np.ndarray  # DLBM_BASE
    kcxs: np.ndarray  # 0 where missing
    farm: np.ndarray
    county: np.ndarray
    bsm: np.ndarray
    labels: np.ndarray  # index labels: the file's feature ids
    source: str


def _names(frame: pd.DataFrame, attrs: pd.DataFrame, mask: np.ndarray) -> tuple[str, ...]:
    """Parcels named by BSM and row, as the README's messages name them."""
    out = []
    for label, bsm in zip(frame.index[mask], attrs["BSM"].to_numpy()[mask], strict=True):
        out.append(f"BSM {bsm} (row {label})" if isinstance(bsm, str) else f"row {label}")
    return tuple(out)


def _vintage(
    frame: gpd.GeoDataFrame, *, fields: Mapping[str, str] | None, source: str
) -> tuple[_Vintage, list[Problem]]:
    """Attributes and equal-area geometries of a vintage; KCXS checked."""
    require_crs(frame, source)
    attrs = survey_attributes(frame, fields=fields, source=source)
    kcxs, bad, missing = kcxs_checks(attrs)
    if bad.any():
        raise InputError(
            Problem(
                "BALANCE_KCXS_RANGE",
                "KCXS (扣除地类系数) outside [0, 1): the parcels' land-class area is unknown. "
                f"{KCXS_FIX} or map another field with --field KCXS=<column>.",
                source,
                parcels=_names(frame, attrs, bad),
            )
        )
    problems = []
    if missing.any():
        problems.append(
            Problem(
                "KCXS_MISSING",
                KCXS_MISSING_MESSAGE,
                source,
                severity="warning",
                parcels=_names(frame, attrs, missing),
            )
        )
    geoms, _ = repair(frame.geometry.to_crs(EQUAL_AREA_CRS).to_numpy())
    bsm = attrs["BSM"].astype(object).where(attrs["BSM"].notna(), "").to_numpy()
    vintage = _Vintage(
        geoms=geoms,
        base=attrs["DLBM_BASE"].astype(str).to_numpy(),
        kcxs=np.nan_to_num(kcxs),
        farm=attrs["IS_FARMLAND"].to_numpy(dtype=bool),
        county=attrs["COUNTY"].astype(str).to_numpy(),
        bsm=bsm,
        labels=frame.index.to_numpy(),
        source=source,
    )
    return vintage, problems


def _overlay(old: _Vintage, new: _Vintage) -> pd.DataFrame:
    """Pieces old ∩ new of positive area where either side is farmland."""
    present = ~(shapely.is_missing(old.geoms) | shapely.is_empty(old.geoms))
    tree = shapely.STRtree(new.geoms)
    ids = np.flatnonzero(present)
    oi, nj = tree.query(old.geoms[ids], predicate="intersects")
    oi = ids[oi]
    keep = old.farm[oi] | new.farm[nj]
    oi, nj = oi[keep], nj[keep]
    geoms = polygonal_part(shapely.intersection(old.geoms[oi], new.geoms[nj]))
    area = shapely.area(geoms)
    keep = area >= TOLERANCE_M2
    return pd.DataFrame(
        {"old": oi[keep], "new": nj[keep], "geometry": geoms[keep], "area_m2": area[keep]}
    )


def _direction(pieces: pd.DataFrame, old: _Vintage, new: _Vintage, scope: str) -> np.ndarray:
    """``kept``, ``out``, ``out_other``, ``in``, ``in_other`` or ``none`` for each piece."""
    was, now = old.farm[pieces["old"]], new.farm[pieces["new"]]
    agri_new = np.isin(new.base[pieces["new"]], list(AGRICULTURAL_CODES)) | (scope == "all")
    agri_old = np.isin(old.base[pieces["old"]], list(AGRICULTURAL_CODES)) | (scope == "all")
    return np.select(
        [was & now, was & agri_new, was, now & agri_old, now],
        ["kept", "out", "out_other", "in", "in_other"],
        default="none",
    )


def _attribute_causes(new_frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """The cause code of each new parcel from *column* (``""`` where blank)."""
    if column not in new_frame.columns:
        raise InputError(
            Problem(
                "BALANCE_CAUSE_FIELD",
                f"cause field {column!r} not found; columns are "
                f"{list(map(str, new_frame.columns))}. Name the column of the new vintage that "
                "marks exempt losses (--cause-field).",
                source,
            )
        )
    lookup = {c.code.upper(): c.code for c in CAUSES}
    lookup.update({alias.upper(): c.code for c in CAUSES for alias in (c.zh, *c.aliases)})
    text = new_frame[column].astype("string").fillna("").str.strip().str.upper()
    codes = text.map(lambda v: lookup.get(v, "?" if v else ""))
    unknown = codes == "?"
    if unknown.any():
        accepted = ", ".join(f"{c.code} / {' / '.join((c.zh, *c.aliases))}" for c in CAUSES)
        raise InputError(
            Problem(
                "BALANCE_CAUSE_VALUE",
                f"field {column} holds {new_frame[column][unknown].iloc[0]!r}, not a cause the "
                f"balance exempts; accepted values: {accepted} (blank: no cause).",
                source,
                parcels=tuple(f"row {label}" for label in new_frame.index[unknown][:50]),
            )
        )
    return codes.to_numpy(dtype=object)


def _cut(geoms: np.ndarray, layer: PreparedConstraint) -> tuple[np.ndarray, np.ndarray]:
    """Each geometry's part inside and outside *layer* (empty where none)."""
    inside = np.array([shapely.Polygon()] * len(geoms), dtype=object)
    outside = geoms.copy()
    pi, ci = layer.tree.query(geoms, predicate="intersects")
    if not len(pi):
        return inside, outside
    order = np.argsort(pi, kind="stable")
    pi, ci = pi[order], ci[order]
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    for start, end in zip(starts, [*starts[1:], len(pi)], strict=True):
        p = pi[start]
        cover = shapely.union_all(layer.parts[ci[start:end]])
        inside[p] = shapely.intersection(geoms[p], cover)
        outside[p] = shapely.difference(geoms[p], cover)
    return polygonal_part(inside), polygonal_part(outside)


def _apply_layer_cause(
    pieces: pd.DataFrame, cause: Cause, layer: PreparedConstraint, new: _Vintage
) -> pd.DataFrame:
    """Cut the losses that *layer* marks off as ``excluded`` pieces of *cause*."""
    lost = pieces["direction"].isin(["out", "out_other"]).to_numpy()
    if cause.classes is not None:
        lost = lost & np.isin(new.base[pieces["new"]], list(cause.classes))
    rows = np.flatnonzero(lost)
    if not len(rows):
        return pieces
    inside, outside = _cut(pieces["geometry"].to_numpy()[rows], layer)
    hit = shapely.area(inside) >= TOLERANCE_M2
    if not hit.any():
        return pieces
    pieces = pieces.copy()
    cut = pieces.iloc[rows[hit]].copy()
    cut["geometry"], cut["direction"], cut["cause"] = inside[hit], "excluded", cause.code
    pieces.loc[pieces.index[rows[hit]], "geometry"] = outside[hit]
    pieces = pd.concat([pieces, cut], ignore_index=True)
    pieces["area_m2"] = shapely.area(pieces["geometry"].to_numpy())
    return pieces[pieces["area_m2"] >= TOLERANCE_M2].reset_index(drop=True)


def _prepare_cause_layers(
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries] | None,
) -> list[tuple[Cause, PreparedConstraint]]:
    """The given layers as (cause, prepared layer), in :data:`CAUSES` order; roles checked."""
    by_role = {get_role(role).name: layer for role, layer in (layers or {}).items()}
    usable = {role: cause for cause in CAUSES for role in cause.roles}
    unused = sorted(set(by_role) - set(usable))
    if unused:
        raise InputError(
            Problem(
                "BALANCE_LAYER_ROLE",
                f"layer role(s) {', '.join(unused)} mark no cause the balance exempts; give "
                + "; ".join(f"{c.zh}: {' or '.join(c.roles)}" for c in CAUSES)
                + " (e.g. --layer return_forest=tghl.shp).",
                "layers",
            )
        )
    return [
        (cause, prepare_constraint(by_role[role], name=role))
        for cause in CAUSES
        for role in cause.roles
        if role in by_role
    ]


def compare_vintages(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    *,
    layers: Mapping[str, gpd.GeoDataFrame | gpd.GeoSeries] | None = None,
    scope: Scope = "agricultural",
    cause_field: str | None = None,
    fields: Mapping[str, str] | None = None,
    sources: tuple[str, str] = ("old", "new"),
) -> Balance:
    """The annual in/out balance between two survey vintages, per county.

    Parameters
    ----------
    old
        The earlier 三调-style parcel layer (DLTB), any CRS.
    new
        The later one, any CRS; its ``ZLDWDM`` decides each piece's county.
    layers
        Layers marking exempt losses, by role (case-insensitive):
        ``return_forest`` (国家安排的生态退耕), ``damaged`` (自然灾害损毁难以复耕),
        ``river_lake`` / ``river_channel`` (永久淹没, where the new class is
        river or lake water, 1101 / 1102).
    scope
        ``"agricultural"`` (the default, the plan's balance: farmland to and
        from other agricultural land) or ``"all"`` (every farmland loss and
        gain).  003 ch.2 §3: "严格管控耕地转为其他农用地，对耕地转为其他农用地及农业设施
        建设用地实行年度进出平衡"; ch.5 §3: "确需将一般耕地转为其他农用地的，应当以进定出原则";
        construction is settled by 占补平衡 instead, ch.3 §1: "对非农建设占用现状耕地
        （含城镇村范围内耕地）的，严格落实耕地占补平衡", ch.5 §2: "非农业建设占用现状耕地的，
        依法落实耕地占补平衡" (004 ch.5 §2, §3 say the same).
    cause_field
        Column of *new* marking exempt losses per parcel: ``eco_return``,
        ``disaster``, ``flooded`` or their Chinese names (生态退耕, 灾毁,
        永久淹没 ...); blank for none.
    fields
        Canonical 三调 field name → column, for both vintages.
    sources
        Names of the two vintages for messages.

    Returns
    -------
    Balance
        County table, flows by class, changed pieces and problems.

    Raises
    ------
    InputError
        Unknown *scope*, a role that marks no exempt cause, a missing
        *cause_field* or a value in it that is not a cause, KCXS outside
        [0, 1) (parcels named), missing survey fields or CRS, or vintages that
        do not overlap at all.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = "4304210010010000000"
    >>> old = gpd.GeoDataFrame({"DLBM": ["0101"], "ZLDWDM": [z], "KCXS": [0.1]},
    ...                        geometry=[box(500000, 3000000, 500100, 3000100)], crs=4547)
    >>> new = gpd.GeoDataFrame({"DLBM": ["0101", "0201"], "ZLDWDM": [z, z], "KCXS": [0.1, 0]},
    ...     geometry=[box(500000, 3000000, 500050, 3000100),
    ...               box(500050, 3000000, 500100, 3000100)], crs=4547)
    >>> row = compare_vintages(old, new).summary.iloc[0]
    >>> round(row["out_m2"]), round(row["paddy_out_m2"]), bool(row["balanced"])
    (4500, 4500, False)
    """
    if scope not in SCOPES:
        raise InputError(
            f"scope {scope!r}: expected one of {', '.join(SCOPES)}", code="BALANCE_SCOPE"
        )
    old_v, problems = _vintage(old, fields=fields, source=sources[0])
    new_v, more = _vintage(new, fields=fields, source=sources[1])
    problems.extend(more)
    pieces = _overlay(old_v, new_v)
    if pieces.empty and len(old) and len(new):
        raise InputError(
            f"{sources[0]} and {sources[1]} do not overlap anywhere; check that they cover the "
            "same area and that their CRS are right (--crs for files without one).",
            code="BALANCE_NO_OVERLAP",
        )
    pieces["direction"] = _direction(pieces, old_v, new_v, scope)
    pieces["cause"] = ""
    pieces = pieces[pieces["direction"] != "none"].reset_index(drop=True)
    if cause_field is not None:
        marked = _attribute_causes(new, cause_field, sources[1])[pieces["new"]]
        lost = pieces["direction"].isin(["out", "out_other"]).to_numpy() & (marked != "")
        pieces.loc[lost, "direction"] = "excluded"
        pieces.loc[lost, "cause"] = marked[lost]
    for cause, layer in _prepare_cause_layers(layers):
        pieces = _apply_layer_cause(pieces, cause, layer, new_v)
    pieces["counted_m2"] = _counted(pieces, old_v, new_v)
    unmatched, gap_problems = _unmatched(pieces, old_v, new_v)
    problems.extend(gap_problems)
    summary = _summary(pieces, old_v, new_v, unmatched)
    return Balance(
        summary=summary,
        flows=_flows(pieces, old_v, new_v),
        pieces=_piece_layer(pieces, old_v, new_v, unmatched, new.crs),
        problems=problems,
        scope=scope,
        counties=_county_outlines(new_v, new.crs),
    )


def _county_outlines(vintage: _Vintage, crs: object) -> gpd.GeoDataFrame:
    """The vintage's parcels dissolved by county, in *crs* (for the map's boundaries).

    The union is on a millimetre grid: parcel edges reprojected to the equal-area CRS
    bend by nanometres, where a neighbour's vertex on them does not.
    """
    geometry = gpd.GeoSeries(vintage.geoms, crs=EQUAL_AREA_CRS)
    outlines = county_outlines(geometry, vintage.county, grid_size=0.001)
    return outlines.to_crs(crs) if crs is not None else outlines


def _counted(pieces: pd.DataFrame, old: _Vintage, new: _Vintage) -> np.ndarray:
    """Piece areas after KCXS: the old vintage's for old farmland, the new's for gains."""
    gained = pieces["direction"].isin(["in", "in_other"]).to_numpy()
    kcxs = np.where(gained, new.kcxs[pieces["new"]], old.kcxs[pieces["old"]])
    return pieces["area_m2"].to_numpy(dtype=float) * (1.0 - kcxs)


def _unmatched(
    pieces: pd.DataFrame, old: _Vintage, new: _Vintage
) -> tuple[dict[str, pd.Series], list[Problem]]:
    """Farmland of each vintage that the other does not cover once (m² after KCXS, by parcel)."""
    out: dict[str, pd.Series] = {}
    problems = []
    sides = (("old", old, ["kept", "out", "excluded", "out_other"]), ("new", new, None))
    for side, vintage, directions in sides:
        if directions is None:  # the new side: farmland kept or gained, at the new KCXS
            mask = pieces["direction"].isin(["kept", "in", "in_other"]).to_numpy()
        else:
            mask = pieces["direction"].isin(directions).to_numpy()
        positions = np.flatnonzero(vintage.farm)
        own = shapely.area(vintage.geoms[positions])
        covered = (
            pd.Series(pieces["area_m2"].to_numpy()[mask])
            .groupby(pieces[side].to_numpy()[mask])
            .sum()
            .reindex(positions, fill_value=0.0)
            .to_numpy()
        )
        missing = (np.nan_to_num(own) - covered) * (1.0 - vintage.kcxs[positions])
        out[side] = pd.Series(missing, index=positions)
        problems.extend(_gap_problems(missing, positions, vintage, side))
    return out, problems


def _gap_problems(
    missing: np.ndarray, positions: np.ndarray, vintage: _Vintage, side: str
) -> list[Problem]:
    """Warnings for farmland parcels covered less or more than once by the other vintage."""
    other = "new" if side == "old" else "old"
    problems = []
    for mask, what in (
        (missing > GAP_TOLERANCE_M2, f"not covered by any parcel of the {other} vintage"),
        (
            missing < -GAP_TOLERANCE_M2,
            f"covered more than once (parcels of the {other} vintage overlap)",
        ),
    ):
        if mask.any():
            named = [
                f"BSM {vintage.bsm[p]} (row {vintage.labels[p]})"
                if vintage.bsm[p]
                else f"row {vintage.labels[p]}"
                for p in positions[mask]
            ]
            problems.append(
                Problem(
                    "BALANCE_UNMATCHED",
                    f"farmland of the {side} vintage, {abs(missing[mask].sum()):.2f} m² after "
                    f"KCXS, is {what}; reported as unmatched_{side}_m2, in neither out nor "
                    "kept. Check that both vintages cover the same area with clean topology.",
                    vintage.source,
                    severity="warning",
                    parcels=tuple(named),
                )
            )
    return problems


def _county_sums(keys: np.ndarray, values: np.ndarray, name: str) -> pd.Series:
    return pd.Series(values, dtype=float).groupby(keys).sum().rename(name)


def _summary(
    pieces: pd.DataFrame, old: _Vintage, new: _Vintage, unmatched: dict[str, pd.Series]
) -> pd.DataFrame:
    """County table of the balance, with the city total row."""
    county = new.county[pieces["new"]]
    counted = pieces["counted_m2"].to_numpy(dtype=float)
    direction = pieces["direction"].to_numpy()
    cause = pieces["cause"].to_numpy()
    paddy_old = old.base[pieces["old"]] == PADDY
    paddy_new = new.base[pieces["new"]] == PADDY
    masks = {
        "kept": direction == "kept",
        "out": direction == "out",
        "paddy_out": (direction == "out") & paddy_old,
        "excluded": direction == "excluded",
        **{f"excluded_{c.code}": (direction == "excluded") & (cause == c.code) for c in CAUSES},
        "out_other": direction == "out_other",
        "in": direction == "in",
        "paddy_in": (direction == "in") & paddy_new,
        "in_other": direction == "in_other",
    }
    columns = [_county_sums(county[m], counted[m], name) for name, m in masks.items()]
    for side, vintage in (("old", old), ("new", new)):
        series = unmatched[side]
        columns.append(
            _county_sums(
                vintage.county[series.index.to_numpy()], series.to_numpy(), f"unmatched_{side}"
            )
        )
    table = pd.concat(columns, axis=1).fillna(0.0).sort_index()
    parts = ["kept", "out", "excluded", "out_other", "unmatched_old"]
    table["farmland_old"] = table[parts].sum(axis=1)
    table.loc["全市"] = table.sum(axis=0)  # city figures from unrounded county figures
    table = _derive(table)
    table.index.name = "county_code"
    table = table.reset_index()
    names = {**county_names(), "全市": "全市"}
    table.insert(1, "county_name", table["county_code"].map(names).fillna(""))
    return _with_units(table)


def _derive(table: pd.DataFrame) -> pd.DataFrame:
    """Net, shortfall and balanced from the sums (the city row too, from its own sums)."""
    table["net"] = table["in"] - table["out"]
    table["paddy_net"] = table["paddy_in"] - table["paddy_out"]
    table["shortfall"] = (-table["net"]).clip(lower=0.0)
    table["paddy_shortfall"] = (-table["paddy_net"]).clip(lower=0.0)
    table["balanced"] = (table["shortfall"] <= TOLERANCE_M2) & (
        table["paddy_shortfall"] <= TOLERANCE_M2
    )
    table["status"] = np.where(table["balanced"], "平衡", "不平衡")
    return table


def _with_units(table: pd.DataFrame) -> pd.DataFrame:
    """Area columns as ``_m2``, ``_mu`` and ``_wanmu``, grouped by unit."""
    head = table[["county_code", "county_name"]]
    m2 = table[list(AREA_COLUMNS)].astype(float)
    parts = [
        head,
        m2.add_suffix("_m2"),
        (m2 / M2_PER_MU).add_suffix("_mu"),
        (m2 / M2_PER_WANMU).add_suffix("_wanmu"),
        table[["balanced", "status"]],
    ]
    return pd.concat(parts, axis=1)


def _class_name(codes: np.ndarray) -> np.ndarray:
    return np.array([LAND_CLASSES.get(c, "") for c in codes], dtype=object)


def _group(codes: np.ndarray) -> np.ndarray:
    """First-level class: the first two digits (``20`` for the survey's 201-205)."""
    return np.array([c[:2] for c in codes], dtype=object)


def _flows(pieces: pd.DataFrame, old: _Vintage, new: _Vintage) -> pd.DataFrame:
    """County × direction × cause × class on the other side, areas after KCXS."""
    moved = pieces[~pieces["direction"].isin(["kept"])]
    gained = moved["direction"].isin(["in", "in_other"]).to_numpy()
    other = np.where(gained, old.base[moved["old"]], new.base[moved["new"]])
    frame = pd.DataFrame(
        {
            "county_code": new.county[moved["new"]],
            "direction": moved["direction"].to_numpy(),
            "cause": moved["cause"].to_numpy(),
            "class_group": _group(other),
            "class_code": other,
            "area_m2": moved["counted_m2"].to_numpy(dtype=float),
        }
    )
    keys = ["county_code", "direction", "cause", "class_group", "class_code"]
    table = frame.groupby(keys, sort=False)["area_m2"].sum().reset_index()
    city = table.groupby(keys[1:], sort=False)["area_m2"].sum().reset_index()
    city.insert(0, "county_code", "全市")
    order = {d: i for i, d in enumerate(DIRECTIONS)}
    table = table.sort_values(
        ["county_code", "direction", "cause", "class_code"],
        key=lambda s: s.map(order) if s.name == "direction" else s,
    )
    city = city.sort_values(
        ["direction", "cause", "class_code"],
        key=lambda s: s.map(order) if s.name == "direction" else s,
    )
    table = pd.concat([table, city], ignore_index=True)
    table.insert(1, "county_name", table["county_code"].map({**county_names(), "全市": "全市"}))
    table["county_name"] = table["county_name"].fillna("")
    table.insert(3, "direction_zh", table["direction"].map(DIRECTIONS))
    table.insert(6, "class_group_name", table["class_group"].map(CLASS_GROUPS).fillna(""))
    table.insert(8, "class_name", _class_name(table["class_code"].to_numpy()))
    table["area_mu"] = table["area_m2"] / M2_PER_MU
    table["area_wanmu"] = table["area_m2"] / M2_PER_WANMU
    return table


def _gap_pieces(
    unmatched: pd.Series, vintage: _Vintage, pieces: pd.DataFrame
) -> list[tuple[int, shapely.Geometry]]:
    """Geometry of old farmland no new parcel covers: the parcel minus its pieces."""
    gaps = unmatched[unmatched > GAP_TOLERANCE_M2].index.to_numpy()
    out = []
    for p in gaps:
        covered = pieces["geometry"].to_numpy()[pieces["old"].to_numpy() == p]
        rest = shapely.difference(vintage.geoms[p], shapely.union_all(covered))
        rest = polygonal_part(np.array([rest], dtype=object))[0]
        if shapely.area(rest) > 0:
            out.append((int(p), rest))
    return out


def _piece_layer(
    pieces: pd.DataFrame,
    old: _Vintage,
    new: _Vintage,
    unmatched: dict[str, pd.Series],
    crs: object,
) -> gpd.GeoDataFrame:
    """The changed pieces (and the gaps) as a layer for a map, in the new vintage's CRS."""
    moved = pieces[pieces["direction"] != "kept"]
    old_pos, new_pos = moved["old"].to_numpy(), moved["new"].to_numpy()
    frame = pd.DataFrame(
        {
            "county": new.county[new_pos],
            "direction": moved["direction"].to_numpy(),
            "cause": moved["cause"].to_numpy(),
            "class_old": old.base[old_pos],
            "class_new": new.base[new_pos],
            "bsm_old": old.bsm[old_pos],
            "bsm_new": new.bsm[new_pos],
            "area_m2": moved["area_m2"].to_numpy(dtype=float),
            "counted_m2": moved["counted_m2"].to_numpy(dtype=float),
        }
    )
    geoms = list(moved["geometry"].to_numpy())
    gaps = _gap_pieces(unmatched["old"], old, pieces)
    if gaps:
        rows = [
            {
                "county": old.county[p],
                "direction": "gap",
                "cause": "",
                "class_old": old.base[p],
                "class_new": "",
                "bsm_old": old.bsm[p],
                "bsm_new": "",
                "area_m2": float(shapely.area(g)),
                "counted_m2": float(shapely.area(g)) * (1.0 - old.kcxs[p]),
            }
            for p, g in gaps
        ]
        frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
        geoms += [g for _, g in gaps]
    frame.insert(2, "direction_zh", frame["direction"].map(DIRECTIONS))
    frame.insert(5, "class_old_name", _class_name(frame["class_old"].to_numpy()))
    frame.insert(7, "class_new_name", _class_name(frame["class_new"].to_numpy()))
    frame["counted_mu"] = frame["counted_m2"] / M2_PER_MU
    layer = gpd.GeoDataFrame(frame, geometry=geoms, crs=EQUAL_AREA_CRS)
    return layer.to_crs(crs) if crs is not None else layer
