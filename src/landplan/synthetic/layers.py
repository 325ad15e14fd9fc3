"""Synthetic constraint layers, one per role of RULES.md §1, drawn from the landscape."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import shapely

from landplan.survey.schema import FARMLAND_CODES
from landplan.synthetic.landscape import SYNTHETIC_CRS, Landscape

__all__ = ["abandoned_ponds", "constraint_layers", "pbf_layers"]


def _blob(
    x: float, y: float, r: float, rng: np.random.Generator, *, n: int = 48
) -> shapely.Polygon:
    """An irregular, star-shaped polygon of mean radius *r* around (x, y)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    radius = np.ones(n)
    for k in (2, 3, 5):
        radius += rng.uniform(0.03, 0.12) * np.sin(k * t + rng.uniform(0, 2 * np.pi))
    ring = np.c_[x + r * radius * np.cos(t), y + r * radius * np.sin(t)]
    return shapely.Polygon(ring)


def _blobs(xyr: np.ndarray, rng: np.random.Generator) -> list[shapely.Polygon]:
    return [_blob(x, y, r, rng) for x, y, r in xyr]


def _some(rows: np.ndarray, step: int, offset: int = 0) -> np.ndarray:
    """Every *step*-th row from *offset*, never none while there are rows."""
    picked = rows[offset::step]
    return picked if len(picked) else rows[:1]


def _or_first(selected: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """*selected*, or the first of *rows* when nothing was selected."""
    return selected if len(selected) else rows[:1]


def _frame(geoms: Sequence[shapely.Geometry], name: str) -> gpd.GeoDataFrame:
    geoms = [g for g in geoms if g is not None and not shapely.is_empty(g)]
    return gpd.GeoDataFrame(
        {"NAME": [f"{name}_{i + 1}" for i in range(len(geoms))]}, geometry=geoms, crs=SYNTHETIC_CRS
    )


def _blocks(
    land: Landscape, size_m: float, keep: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> list[shapely.Polygon]:
    """Square blocks of a grid over the city whose centres pass *keep*."""
    x0, y0, x1, y1 = land.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, size_m), np.arange(y0, y1, size_m))
    gx, gy = gx.ravel(), gy.ravel()
    sel = keep(gx + size_m / 2, gy + size_m / 2)
    if not sel.any():  # small areas: never an empty layer
        sel[len(sel) // 2] = True
    return list(shapely.box(gx[sel], gy[sel], gx[sel] + size_m, gy[sel] + size_m))


def constraint_layers(land: Landscape, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """Every role's layer except those drawn from parcels (PBF), in :data:`SYNTHETIC_CRS`.

    Parameters
    ----------
    land
        The landscape.
    rng
        The random generator.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        One layer per role, with a ``NAME`` column; ``abandoned_land`` holds
        the abandoned mining land, :func:`abandoned_ponds` adds the ponds.
    """
    hills, towns, villages = land.hills, land.towns, land.villages
    steep = _or_first(hills[hills[:, 2] / hills[:, 3] > 0.8], hills)
    rivers = land.river_lines()
    hw = land.river_half_width_m
    x0, y0, x1, y1 = land.bounds
    reserves = _or_first(steep[rng.random(len(steep)) < 0.15], steep)
    intake = []  # water intakes: the river point nearest each county seat
    for tx, ty, _, seat in towns:
        if seat:
            line = min(rivers, key=lambda ln: ln.distance(shapely.Point(tx, ty)))
            p = line.interpolate(line.project(shapely.Point(tx, ty)))
            intake.append((p.x, p.y))
    intake_xy = np.array(intake)
    seat_r = towns[towns[:, 3] == 1.0, 2]

    def _flat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (land.slope_deg(x, y) < 6.0) & (land.river_distance(x, y) > 3 * hw)

    def _low(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return land.elevation(x, y)[0] < 120.0

    rough = _or_first(hills[rng.random(len(hills)) < 0.1], hills)
    mines = land.mines
    layers = {
        "eco_redline": _blobs(np.c_[steep[:, :2], steep[:, 3] * 0.9], rng)
        + [ln.buffer(hw * 1.4) for ln in rivers],
        "dev_boundary": _blobs(np.c_[towns[:, :2], towns[:, 2] * 1.2], rng),
        "nature_reserve": _blobs(np.c_[reserves[:, :2], reserves[:, 3] * 2.2], rng),
        "nature_core": _blobs(np.c_[reserves[:, :2], reserves[:, 3] * 0.8], rng),
        "water_source_l1": _blobs(np.c_[intake_xy, np.maximum(150.0, 0.3 * seat_r)], rng),
        "water_source_important": _blobs(np.c_[intake_xy, np.maximum(500.0, 1.2 * seat_r)], rng),
        "river_lake": [ln.buffer(hw * 2.5) for ln in rivers],
        "river_dike": [ln.buffer(hw * 1.6) for ln in rivers],
        "town_village": _blobs(np.c_[towns[:, :3]], rng) + _blobs(villages, rng),
        "approved_construction": _blobs(
            np.c_[
                towns[:, 0] + towns[:, 2] * 1.1 * np.cos(a := rng.uniform(0, 6.3, len(towns))),
                towns[:, 1] + towns[:, 2] * 1.1 * np.sin(a),
                towns[:, 2] * 0.25,
            ],
            rng,
        ),
        "high_standard_farmland": _blocks(
            land, 800.0, lambda x, y: _flat(x, y) & (rng.random(len(x)) < 0.55)
        ),
        "two_zones": _blocks(land, 2000.0, lambda x, y: _low(x, y) & (rng.random(len(x)) < 0.6)),
        "strict_pollution": _blobs(np.c_[mines, np.full(len(mines), 700.0)], rng),
        "damaged": _blobs(np.c_[mines, np.full(len(mines), 300.0)], rng),
        "return_forest": _blobs(np.c_[_some(hills, 7)[:, :2], _some(hills, 7)[:, 3] * 1.3], rng),
        "returned_forest": _blobs(
            np.c_[_some(hills, 9, 3)[:, :2] + 200, _some(hills, 9, 3)[:, 3] * 0.6], rng
        ),
        "public_forest": _blobs(np.c_[hills[:, :2], hills[:, 3] * 1.5], rng),
        "natural_forest": _blobs(np.c_[_some(steep, 2)[:, :2], _some(steep, 2)[:, 3] * 1.0], rng),
        "desertified": _blobs(np.c_[rough[:, :2], np.full(len(rough), 220.0)], rng),
        "green_heart": [_blob((x0 + x1) / 2, (y0 + y1) / 2, 0.12 * min(x1 - x0, y1 - y0), rng)],
        # drawn last so that the layers above stay as they were
        "river_channel": [ln.buffer(hw * 0.8) for ln in rivers],
        "flood_10yr": [ln.buffer(hw * 1.9) for ln in rivers],
        "polder_double_return": _blobs(
            np.c_[_some(intake_xy, 3), np.full(len(_some(intake_xy, 3)), 260.0)], rng
        ),
        "reservoir_expropriation": _blobs(
            np.c_[intake_xy + 400.0, np.full(len(intake_xy), 180.0)], rng
        ),
        "return_forest_2014": _blobs(
            np.c_[_some(hills, 5, 2)[:, :2], _some(hills, 5, 2)[:, 3] * 0.7], rng
        ),
        "major_project": _blobs(
            np.c_[towns[:, 0] - towns[:, 2] * 1.3, towns[:, 1], towns[:, 2] * 0.15], rng
        ),
        "former_plan_construction": _blobs(
            np.c_[towns[:, 0], towns[:, 1] + towns[:, 2] * 1.2, towns[:, 2] * 0.2], rng
        ),
        "strategic_mining": _blobs(
            np.c_[_some(mines, 2), np.full(len(_some(mines, 2)), 250.0)], rng
        ),
        # irrigated land: the low ground along the rivers (灌区 served by them)
        "irrigation": [ln.buffer(hw * 12.0) for ln in rivers],
        # 废弃采矿用地: worked-out pits by the mines (abandoned ponds: abandoned_ponds)
        "abandoned_land": _blobs(np.c_[mines, np.full(len(mines), 200.0)], rng),
    }
    return {name: _frame(geoms, name) for name, geoms in layers.items()}


def pbf_layers(parcels: gpd.GeoDataFrame, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """PBF of 2017, the current PBF and 二调 farmland, as parcel polygons (as 永久基本农田图斑 are).

    Parameters
    ----------
    parcels
        Synthetic parcels (:func:`~landplan.synthetic.parcels.county_parcels`).
    rng
        The random generator.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``pbf_2017``, ``pbf_existing`` and ``farmland_2009`` (二调 farmland): the
        parcels' ``BSM``, ``DLBM``,
        ``ZLDWDM`` and geometry.
    """
    farm = parcels["DLBM"].str[:4].isin(FARMLAND_CODES).to_numpy()
    grade = parcels["GDPDJB"].fillna(0).to_numpy(int)
    town = parcels["CZCSXM"].isin(["201", "202"]).to_numpy()
    r = rng.random(len(parcels))
    in_2017 = farm & ~town & (r < np.where(grade <= 4, 0.85, 0.35))
    # the current layer: most of 2017, some dropped, a few other parcels added
    r2 = rng.random(len(parcels))
    existing = (in_2017 & (r2 < 0.95)) | (~in_2017 & farm & (r2 < 0.05))
    existing |= ~farm & parcels["DLBM"].str[:2].isin(["02", "03"]).to_numpy() & (r2 < 0.004)
    # 二调 farmland: today's farmland (most of it was farmland then too) and the
    # garden/forest parcels that carry a recovery attribute (farmland in 二调)
    was_farm = farm | parcels["ZZSXDM"].isin(["JKHF", "GCHF"]).to_numpy()
    out = {}
    for name, mask in (
        ("pbf_2017", in_2017),
        ("pbf_existing", existing),
        ("farmland_2009", was_farm),
    ):
        sel = parcels.loc[mask, ["BSM", "DLBM", "ZLDWDM", "geometry"]]
        out[name] = gpd.GeoDataFrame(sel.reset_index(drop=True), crs=parcels.crs)
    return out


def abandoned_ponds(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every sixth pond parcel (1104 without suffix: not 1104A, 1104K) as 废弃坑塘, whole.

    Chosen by position, not by the random generator, so the data drawn after
    them stays as it was.

    Parameters
    ----------
    parcels
        Synthetic parcels (:func:`~landplan.synthetic.parcels.county_parcels`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``NAME``, the parcels' ``BSM`` and geometry.
    """
    ponds = np.flatnonzero(parcels["DLBM"].to_numpy(dtype=str) == "1104")[::6]
    picked = parcels.iloc[ponds]
    return gpd.GeoDataFrame(
        {"NAME": "废弃坑塘", "BSM": picked["BSM"].to_numpy()},
        geometry=picked.geometry.to_numpy(),
        crs=parcels.crs,
    )
