"""Synthetic 三调 land parcels for one county.

Parcels are the cells of a jittered grid with uneven column widths and row
heights; corners and edge mid-points are shared between neighbours, so the
parcels tessellate the county rectangle exactly.  Land classes follow the
county's real land-use mix (``hengyang_landuse_2020_ha.csv``), placed where
they belong: settlements around towns and villages, rivers on river lines,
forest on hills, paddy on the flats.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landplan.core.crs import ellipsoidal_area
from landplan.survey.grades import slope_grade
from landplan.survey.schema import FARMLAND_CODES, LAND_CLASSES
from landplan.synthetic.landscape import MEAN_PARCEL_M2, SYNTHETIC_CRS, County, Landscape

__all__ = ["MEAN_PARCEL_M2", "county_parcels"]

# land-use group -> (codes, probabilities)
_GROUP_CODES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "cultivated": (tuple(sorted(FARMLAND_CODES)), (0.80, 0.02, 0.18)),
    "garden": (("0201", "0202", "0204"), (0.45, 0.30, 0.25)),
    "forest": (("0301", "0302", "0305", "0307"), (0.62, 0.13, 0.12, 0.13)),
    "grass": (("0404",), (1.0,)),
    "other_agri": (("1104", "1107", "1006", "1202"), (0.5, 0.15, 0.25, 0.10)),
    "town": (("0701", "05H1", "0601", "08H2", "1004", "1003"), (0.4, 0.15, 0.15, 0.1, 0.12, 0.08)),
    "village": (("0702", "1006", "0809"), (0.85, 0.1, 0.05)),
    "water": (("1101",), (1.0,)),
    "pond_water": (("1103", "1104"), (0.4, 0.6)),
    "wetland": (("1106",), (1.0,)),
    "other": (("1206", "1207", "1201"), (0.4, 0.4, 0.2)),
}
_KCXS_BY_GRADE = np.array([0.0, 0.02, 0.04, 0.08, 0.12, 0.17])
_PLANTING = (("LS", "FLS", "LYFL", "XG", "WG", "LLJZ"), (0.80, 0.10, 0.04, 0.02, 0.025, 0.015))
_RECOVERABLE = frozenset({"0201", "0202", "0204", "0301", "0302", "0305", "0307", "0404", "1104"})


def _local_spacing(edges: np.ndarray) -> np.ndarray:
    """For each grid line, the smaller of the two cells beside it."""
    d = np.diff(edges)
    return np.minimum(np.r_[d[:1], d], np.r_[d, d[-1:]])


def _jittered_grid(county: County, rng: np.random.Generator) -> np.ndarray:
    """Polygons of a jittered grid tessellating the county rectangle."""
    x0, y0, x1, y1 = county.bounds
    aspect = (x1 - x0) / (y1 - y0)
    ny = max(1, round(np.sqrt(county.n_parcels / aspect)))
    nx = max(1, int(np.ceil(county.n_parcels / ny)))
    widths = rng.lognormal(0.0, 0.35, nx)
    heights = rng.lognormal(0.0, 0.35, ny)
    xs = x0 + np.r_[0, np.cumsum(widths)] / widths.sum() * (x1 - x0)
    ys = y0 + np.r_[0, np.cumsum(heights)] / heights.sum() * (y1 - y0)
    cx, cy = np.meshgrid(xs, ys)  # corners, shape (ny+1, nx+1)
    jx = rng.uniform(-0.2, 0.2, cx.shape) * _local_spacing(xs)[None, :]
    jy = rng.uniform(-0.2, 0.2, cy.shape) * _local_spacing(ys)[:, None]
    jx[:, [0, -1]] = 0.0  # county edges stay straight
    jy[[0, -1], :] = 0.0
    cx, cy = cx + jx, cy + jy
    # mid-points of horizontal edges (ny+1, nx) and vertical edges (ny, nx+1)
    hx = (cx[:, :-1] + cx[:, 1:]) / 2
    hy = (cy[:, :-1] + cy[:, 1:]) / 2 + rng.uniform(-0.1, 0.1, (ny + 1, nx)) * np.diff(ys).min()
    hy[[0, -1], :] = (cy[[0, -1], :-1] + cy[[0, -1], 1:]) / 2
    vx = (cx[:-1, :] + cx[1:, :]) / 2 + rng.uniform(-0.1, 0.1, (ny, nx + 1)) * np.diff(xs).min()
    vy = (cy[:-1, :] + cy[1:, :]) / 2
    vx[:, [0, -1]] = (cx[:-1, [0, -1]] + cx[1:, [0, -1]]) / 2
    ring_x = np.stack(
        [
            cx[:-1, :-1],
            hx[:-1, :],
            cx[:-1, 1:],
            vx[:, 1:],
            cx[1:, 1:],
            hx[1:, :],
            cx[1:, :-1],
            vx[:, :-1],
            cx[:-1, :-1],
        ],
        axis=-1,
    ).reshape(-1, 9)
    ring_y = np.stack(
        [
            cy[:-1, :-1],
            hy[:-1, :],
            cy[:-1, 1:],
            vy[:, 1:],
            cy[1:, 1:],
            hy[1:, :],
            cy[1:, :-1],
            vy[:, :-1],
            cy[:-1, :-1],
        ],
        axis=-1,
    ).reshape(-1, 9)
    cells = np.asarray(shapely.polygons(np.stack([ring_x, ring_y], axis=-1)))
    return _merge_extra(cells, nx, ny, county.n_parcels, rng)


def _merge_extra(
    cells: np.ndarray, nx: int, ny: int, n_wanted: int, rng: np.random.Generator
) -> np.ndarray:
    """Merge random side-by-side pairs of cells until exactly *n_wanted* remain."""
    extra = len(cells) - n_wanted
    if extra <= 0 or nx < 2:
        return cells
    row, pair = np.divmod(rng.choice(ny * (nx // 2), size=extra, replace=False), nx // 2)
    left = row * nx + 2 * pair
    merged = cells.copy()
    merged[left] = shapely.union(cells[left], cells[left + 1])
    return np.delete(merged, left + 1)


def _assign_groups(
    area: np.ndarray,
    county: County,
    *,
    wild: np.ndarray,
    town: np.ndarray,
    village: np.ndarray,
    river: np.ndarray,
    half_width: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Land-use group per parcel, matching the county's mix by area."""
    group = np.full(len(area), "", dtype=object)
    lu = county.landuse_ha
    total = sum(lu.values())
    share = {k: v / total for k, v in lu.items()}
    group[river < half_width] = "water"
    wetland = (group == "") & (river < 2.2 * half_width) & (rng.random(len(area)) < 0.35)
    group[wetland] = "wetland"

    def take(mask: np.ndarray, score: np.ndarray, name: str, target_share: float) -> None:
        idx = np.flatnonzero(mask & (group == ""))
        if not len(idx) or target_share <= 0:
            return
        order = idx[np.argsort(score[idx], kind="stable")]
        cum = np.cumsum(area[order]) / area.sum()
        group[order[: int(np.searchsorted(cum, target_share)) + 1]] = name

    settle = np.minimum(town * 0.8, village) + rng.normal(0, 0.15, len(area))
    is_town = town * 0.8 <= village
    take(np.ones(len(area), bool), settle, "built", share["construction"])
    group[(group == "built") & is_town] = "town"
    group[group == "built"] = "village"
    water_left = share["water"] - area[group == "water"].sum() / area.sum()
    take(np.ones(len(area), bool), rng.random(len(area)), "pond_water", max(water_left, 0.0))
    noisy_wild = wild + rng.normal(0, 0.35, len(area))
    rest = group == ""
    order = np.flatnonzero(rest)[np.argsort(-noisy_wild[rest], kind="stable")]
    cum = np.cumsum(area[order]) / area[order].sum()
    remaining = sum(
        share[k] for k in ("forest", "grass", "garden", "other", "cultivated", "other_agri")
    )
    edges = np.cumsum([share[k] / remaining for k in ("forest", "other", "grass", "garden")])
    bands = np.searchsorted(edges, cum, side="right")
    names = np.array(["forest", "other", "grass", "garden", "flat"], dtype=object)
    group[order] = names[np.minimum(bands, 4)]
    # a little farmland survives on steep slopes (cultivated hillsides)
    hillside = (group == "forest") & (wild > 2.0) & (rng.random(len(area)) < 0.04)
    group[hillside] = "cultivated"
    flat = np.flatnonzero(group == "flat")
    agri = share["other_agri"] / (share["other_agri"] + share["cultivated"])
    group[flat] = np.where(rng.random(len(flat)) < agri, "other_agri", "cultivated")
    return group


def _choice(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    codes = np.empty(len(groups), dtype=object)
    for name, (options, probs) in _GROUP_CODES.items():
        idx = np.flatnonzero(groups == name)
        codes[idx] = rng.choice(np.array(options, dtype=object), size=len(idx), p=probs)
    return codes


def _previous_class(
    dlbm: np.ndarray, farmland: np.ndarray, zzsx: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """二调 land class: mostly today's; former farmland where the recovery attribute says so."""
    erdiao = {
        "0101": "011",
        "0102": "012",
        "0103": "013",
        "0201": "021",
        "0202": "022",
        "0204": "023",
        "0301": "031",
        "0305": "032",
        "0307": "033",
        "0404": "043",
        "1104": "114",
    }
    previous = np.array([erdiao.get(c, "") for c in dlbm], dtype=object)
    r = rng.random(len(dlbm))
    previous[farmland & (r < 0.04)] = "031"  # a little farmland was forest in 二调
    previous[np.isin(zzsx, ["JKHF", "GCHF"])] = "011"
    return previous


def county_parcels(
    county: County, landscape: Landscape, rng: np.random.Generator, *, first_id: int
) -> gpd.GeoDataFrame:
    """Synthetic DLTB parcels of one county, in :data:`SYNTHETIC_CRS`.

    Parameters
    ----------
    county
        The county.
    landscape
        The landscape the parcels' land classes and slopes follow.
    rng
        The random generator.
    first_id
        ``BSM`` of the first parcel; the others follow on.

    Returns
    -------
    geopandas.GeoDataFrame
        *county.n_parcels* parcels tessellating the county: DLTB fields plus
        ``EDDLBM``, ``SSNYDBA`` and ``BCGDJY``.
    """
    geoms = _jittered_grid(county, rng)
    n = len(geoms)
    centre = shapely.centroid(geoms)
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    z, gx, gy = landscape.elevation(x, y)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    town, village = landscape.settlement_score(x, y)
    river = landscape.river_distance(x, y)
    area = ellipsoidal_area(gpd.GeoSeries(geoms, crs=SYNTHETIC_CRS)).to_numpy()
    wild = slope / 12.0 + (z - 60.0) / 250.0
    groups = _assign_groups(
        area,
        county,
        wild=wild,
        town=town,
        village=village,
        river=river,
        half_width=landscape.river_half_width_m,
        rng=rng,
    )
    dlbm = _choice(rng, groups)
    farmland = np.isin(dlbm, sorted(FARMLAND_CODES))
    # paddy on the flattest farmland, dry land on slopes
    steep_farm = farmland & (slope > 10.0) & (rng.random(n) < 0.5)
    dlbm[steep_farm & (dlbm == "0101")] = "0103"
    grade = slope_grade(slope)
    gdpdjb = np.where(farmland, grade, 0)
    tt_prob = np.array([0, 0, 0.2, 0.4, 0.6, 0.5])[grade]
    gdlx = np.where(farmland & (grade >= 2), np.where(rng.random(n) < tt_prob, "TT", "PD"), "")
    gddb = np.clip(
        np.round(4 + 1.4 * (grade - 1) + 1.5 * (dlbm == "0103") + rng.normal(0, 1.6, n)), 1, 15
    ).astype(int)
    planting = rng.choice(np.array(_PLANTING[0], dtype=object), size=n, p=_PLANTING[1])
    recoverable = np.isin(dlbm, list(_RECOVERABLE)) & (slope < 20)
    attr = rng.random(n)
    zzsx = np.where(
        farmland,
        planting,
        np.where(
            recoverable & (attr < 0.09), "JKHF", np.where(recoverable & (attr < 0.17), "GCHF", "")
        ),
    )
    near_river = farmland & (river < 3.0 * landscape.river_half_width_m)
    refine = rng.random(n)
    tbxh = np.where(
        near_river & (refine < 0.5),
        "HDGD",
        np.where(
            farmland & (wild > 1.2) & (refine < 0.08),
            "LQGD",
            np.where(farmland & (slope > 20) & (refine < 0.03), "SMGD", ""),
        ),
    )
    suffix = rng.random(n)
    dlbm_out = np.where(
        np.isin(dlbm, ["0201", "0204", "0301", "0307", "1104"]) & (suffix < 0.03), dlbm + "K", dlbm
    ).astype(object)
    dlbm_out[(dlbm == "1104") & (suffix > 0.9)] = "1104A"
    kcxs = np.where(farmland, _KCXS_BY_GRADE[grade], 0.0)
    tbmj = np.round(area, 2)
    kcmj = np.round(tbmj * kcxs, 2)
    czcs = np.where(
        town < 1.0, np.where(town < 0.6, "201", "202"), np.where(village < 1.0, "203", "")
    )
    town_no = (
        np.clip(
            ((x - county.bounds[0]) / (county.bounds[2] - county.bounds[0]) * 3).astype(int), 0, 2
        )
        * 3
        + np.clip(
            ((y - county.bounds[1]) / (county.bounds[3] - county.bounds[1]) * 3).astype(int), 0, 2
        )
        + 1
    )
    village_no = (np.floor(x / 1500.0) + np.floor(y / 1500.0)).astype(int) % 30 + 1
    zldwdm = np.char.add(
        np.char.add(
            np.char.add(county.code, np.char.zfill(town_no.astype(str), 3)),
            np.char.zfill(village_no.astype(str), 3),
        ),
        "0000000",
    )
    ids = np.arange(first_id, first_id + n)
    frame = gpd.GeoDataFrame(
        {
            "BSM": np.char.zfill(ids.astype(str), 10).astype(object),
            "TBBH": np.char.zfill((np.arange(n) + 1).astype(str), 6).astype(object),
            "DLBM": dlbm_out,
            "DLMC": np.array([LAND_CLASSES[c] for c in dlbm], dtype=object),
            "ZLDWDM": zldwdm.astype(object),
            "TBMJ": tbmj,
            "KCXS": kcxs,
            "KCMJ": kcmj,
            "TBDLMJ": np.round(tbmj - kcmj, 2),
            "GDPDJB": pd.Series(gdpdjb, dtype="Int64").where(farmland),
            "GDLX": gdlx.astype(object),
            "GDDB": pd.Series(gddb, dtype="Int64").where(farmland),
            "ZZSXDM": zzsx.astype(object),
            "TBXHDM": tbxh.astype(object),
            "CZCSXM": czcs.astype(object),
            "FRDBS": np.where(rng.random(n) < 0.003, "1", "0").astype(object),
            # not DLTB fields, but what provincial delineation layers add:
            # 二调 land class, filed agricultural facility, quota-bank surplus
            "EDDLBM": _previous_class(dlbm, farmland, zzsx, rng),
            "SSNYDBA": np.where(farmland & (rng.random(n) < 0.003), "1", "").astype(object),
            "BCGDJY": np.where(farmland & (rng.random(n) < 0.002), "1", "").astype(object),
        },
        geometry=geoms,
        crs=SYNTHETIC_CRS,
    )
    return frame
