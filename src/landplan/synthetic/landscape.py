"""The synthetic landscape: county layout, hills, rivers, towns and villages.

Everything here is an analytic description (points, radii, curves) drawn
from a seeded generator, so that parcels, the DEM and constraint layers made
from it agree with each other, and any part of it can be evaluated in chunks
without holding the whole city in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS

from landplan.io.reference import reference_table

__all__ = [
    "MEAN_PARCEL_M2",
    "ORIGIN_XY",
    "SYNTHETIC_CRS",
    "County",
    "Landscape",
    "build_landscape",
    "layout_counties",
]

#: Projected CGCS2000 3° Gauss-Krüger zone 37 (central meridian 111°E), no zone prefix.
SYNTHETIC_CRS = CRS.from_epsg(4546)
#: South-west corner of the city; about 112.1°E 26.7°N, 110 km east of the central meridian.
ORIGIN_XY = (610_000.0, 2_955_000.0)
#: Mean parcel area of the real Hengyang DLTB layer (15,300 km², 2.07 M parcels).
MEAN_PARCEL_M2 = 7_400.0


@dataclass(frozen=True)
class County:
    """A county's code, name, rectangle and number of parcels."""

    code: str
    name: str
    bounds: tuple[float, float, float, float]
    n_parcels: int
    landuse_ha: dict[str, float]


def _treemap(
    weights: np.ndarray, box: tuple[float, float, float, float]
) -> list[tuple[float, ...]]:
    """Split *box* into rectangles with areas proportional to *weights* (slice and dice)."""
    if len(weights) == 1:
        return [box]
    order_total = weights.sum()
    cum = np.cumsum(weights)
    k = int(np.searchsorted(cum, order_total / 2)) + 1
    k = min(max(k, 1), len(weights) - 1)
    frac = cum[k - 1] / order_total
    x0, y0, x1, y1 = box
    if (x1 - x0) >= (y1 - y0):
        xm = x0 + (x1 - x0) * frac
        first, second = (x0, y0, xm, y1), (xm, y0, x1, y1)
    else:
        ym = y0 + (y1 - y0) * frac
        first, second = (x0, y0, x1, ym), (x0, ym, x1, y1)
    return _treemap(weights[:k], first) + _treemap(weights[k:], second)


def layout_counties(n_parcels: int) -> list[County]:
    """Hengyang's 12 counties as rectangles sized by their real area.

    Parameters
    ----------
    n_parcels
        Number of parcels in all: the city's area is *n_parcels* times
        :data:`MEAN_PARCEL_M2`, and each county gets a share by its area
        (at least 4).

    Returns
    -------
    list of County
        The counties, in the order of ``hengyang_landuse_2020_ha.csv``.
    """
    landuse = reference_table("hengyang_landuse_2020_ha")
    weights = landuse["total_ha"].to_numpy(float)
    total_m2 = n_parcels * MEAN_PARCEL_M2
    width = np.sqrt(total_m2 * 1.25)
    height = total_m2 / width
    x0, y0 = ORIGIN_XY
    boxes = _treemap(weights, (x0, y0, x0 + width, y0 + height))
    counts = np.maximum(np.round(weights / weights.sum() * n_parcels).astype(int), 4)
    counts[np.argmax(counts)] += n_parcels - counts.sum()
    cols = [c for c in landuse.columns if c.endswith("_ha") and c != "total_ha"]
    return [
        County(
            str(row.county_code),
            str(row.county_name),
            (b[0], b[1], b[2], b[3]),
            int(n),
            {c[:-3]: float(getattr(row, c)) for c in cols},
        )
        for row, b, n in zip(landuse.itertuples(), boxes, counts, strict=True)
    ]


@dataclass(frozen=True)
class Landscape:
    """Analytic features of the synthetic city."""

    bounds: tuple[float, float, float, float]
    hills: np.ndarray  # columns x, y, height_m, sigma_m
    towns: np.ndarray  # columns x, y, radius_m, is_seat
    villages: np.ndarray  # columns x, y, radius_m
    rivers: tuple[tuple[str, float, float, float, float], ...]  # axis, base, amp, wavelength, phase
    river_half_width_m: float
    mines: np.ndarray  # columns x, y

    # -- terrain ------------------------------------------------------------
    def elevation(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Elevation (m) and its gradient (dz/dx, dz/dy) at points, evaluated in chunks.

        Parameters
        ----------
        x, y
            Coordinates of the points (m, :data:`SYNTHETIC_CRS`), 1-D.

        Returns
        -------
        tuple of numpy.ndarray
            Elevation (m), dz/dx and dz/dy (m per m) at every point.
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        x0 = self.bounds[0]
        z = 60.0 + 0.002 * (x - x0) + 4.0 * np.sin(x / 900.0) * np.cos(y / 1100.0)
        gx = 0.002 + 4.0 / 900.0 * np.cos(x / 900.0) * np.cos(y / 1100.0)
        gy = -4.0 / 1100.0 * np.sin(x / 900.0) * np.sin(y / 1100.0)
        if len(x) == 0 or len(self.hills) == 0:
            return z, gx, gy
        reach = 5.0 * self.hills[:, 3]
        near = (
            (self.hills[:, 0] + reach >= x.min())
            & (self.hills[:, 0] - reach <= x.max())
            & (self.hills[:, 1] + reach >= y.min())
            & (self.hills[:, 1] - reach <= y.max())
        )
        hills = self.hills[near]
        step = max(1, 4_000_000 // max(len(hills), 1))
        for s in range(0, len(x), step):
            px, py = x[s : s + step, None], y[s : s + step, None]
            dx, dy = px - hills[:, 0], py - hills[:, 1]
            sig2 = hills[:, 3] ** 2
            e = hills[:, 2] * np.exp(-(dx * dx + dy * dy) / (2 * sig2))
            z[s : s + step] += e.sum(axis=1)
            gx[s : s + step] += (-e * dx / sig2).sum(axis=1)
            gy[s : s + step] += (-e * dy / sig2).sum(axis=1)
        return z, gx, gy

    def slope_deg(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Analytic slope in degrees.

        Parameters
        ----------
        x, y
            Coordinates of the points (m, :data:`SYNTHETIC_CRS`), 1-D.

        Returns
        -------
        numpy.ndarray
            Slope (°) at every point.
        """
        _, gx, gy = self.elevation(x, y)
        return np.degrees(np.arctan(np.hypot(gx, gy)))

    # -- water ------------------------------------------------------------------
    def river_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Approximate distance (m) to the nearest river centre line.

        Parameters
        ----------
        x, y
            Coordinates of the points (m, :data:`SYNTHETIC_CRS`).

        Returns
        -------
        numpy.ndarray
            Distance (m) at every point, shaped like *x*.
        """
        best = np.full(np.shape(x), np.inf)
        for axis, base, amp, wave, phase in self.rivers:
            along, across = (x, y) if axis == "x" else (y, x)
            centre = base + amp * np.sin(2 * np.pi * along / wave + phase)
            tilt = amp * 2 * np.pi / wave * np.cos(2 * np.pi * along / wave + phase)
            best = np.minimum(best, np.abs(across - centre) / np.sqrt(1 + tilt**2))
        return best

    def river_lines(self, spacing_m: float = 50.0) -> list[shapely.LineString]:
        """River centre lines as polylines across the city.

        Parameters
        ----------
        spacing_m
            Distance between vertices along the river's axis, in metres.

        Returns
        -------
        list of shapely.LineString
            One line per river, reaching 500 m beyond the city's bounds.
        """
        x0, y0, x1, y1 = self.bounds
        lines = []
        for axis, base, amp, wave, phase in self.rivers:
            lo, hi = (x0, x1) if axis == "x" else (y0, y1)
            along = np.arange(lo - 500, hi + 500 + spacing_m, spacing_m)
            across = base + amp * np.sin(2 * np.pi * along / wave + phase)
            xy = np.c_[along, across] if axis == "x" else np.c_[across, along]
            lines.append(shapely.LineString(xy))
        return lines

    # -- settlements ------------------------------------------------------------
    def settlement_score(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance to the nearest town and village edge, in radii (<1 = inside).

        Parameters
        ----------
        x, y
            Coordinates of the points (m, :data:`SYNTHETIC_CRS`), 1-D.

        Returns
        -------
        tuple of numpy.ndarray
            Distance from the centre of the nearest town, then of the nearest
            village, divided by its radius, at every point.
        """
        pts = np.asarray(shapely.points(x, y))
        out = []
        for centres in (self.towns, self.villages):
            tree = shapely.STRtree(np.asarray(shapely.points(centres[:, 0], centres[:, 1])))
            _, nearest = tree.query_nearest(pts, return_distance=False, all_matches=False)
            d = np.hypot(x - centres[nearest, 0], y - centres[nearest, 1])
            out.append(d / centres[nearest, 2])
        return out[0], out[1]


def build_landscape(counties: list[County], rng: np.random.Generator) -> Landscape:
    """Draw hills, rivers, towns, villages and mines over the counties.

    Parameters
    ----------
    counties
        The counties (:func:`layout_counties`).
    rng
        The random generator.

    Returns
    -------
    Landscape
        The landscape over the counties' bounding box.
    """
    xs = [c.bounds for c in counties]
    x0 = min(b[0] for b in xs)
    y0 = min(b[1] for b in xs)
    x1 = max(b[2] for b in xs)
    y1 = max(b[3] for b in xs)
    area_km2 = (x1 - x0) * (y1 - y0) / 1e6
    n_hills = max(3, int(area_km2 / 4.0))
    sigma = rng.uniform(180.0, 550.0, n_hills)
    height = sigma * rng.uniform(0.35, 1.5, n_hills)  # H/σ > 0.77 gives slopes > 25°
    hills = np.c_[rng.uniform(x0, x1, n_hills), rng.uniform(y0, y1, n_hills), height, sigma]
    towns, villages = [], []
    for c in counties:
        bx0, by0, bx1, by1 = c.bounds
        county_km2 = (bx1 - bx0) * (by1 - by0) / 1e6
        n_towns = 1 + int(county_km2 / 60.0)
        for k in range(n_towns):
            r = (0.08 if k else 0.12) * np.sqrt((bx1 - bx0) * (by1 - by0) / n_towns)
            towns.append(
                (
                    rng.uniform(bx0 + r, bx1 - r),
                    rng.uniform(by0 + r, by1 - r),
                    r,
                    1.0 if k == 0 else 0.0,
                )
            )
        n_villages = max(2, int(county_km2 / 1.5))
        villages.append(
            np.c_[
                rng.uniform(bx0, bx1, n_villages),
                rng.uniform(by0, by1, n_villages),
                rng.uniform(60.0, 140.0, n_villages),
            ]
        )
    n_trib = max(1, int(area_km2 / 3000.0)) + 1
    rivers: list[tuple[str, float, float, float, float]] = [
        (
            "x",
            y0 + (y1 - y0) * rng.uniform(0.35, 0.65),
            (y1 - y0) * 0.08,
            (x1 - x0) * rng.uniform(0.6, 1.2),
            rng.uniform(0, 2 * np.pi),
        )
    ]
    for _ in range(n_trib):
        rivers.append(
            (
                "y",
                rng.uniform(x0, x1),
                (x1 - x0) * 0.03,
                (y1 - y0) * rng.uniform(0.5, 1.0),
                rng.uniform(0, 2 * np.pi),
            )
        )
    n_mines = max(1, int(area_km2 / 2000.0))
    mines = np.c_[rng.uniform(x0, x1, n_mines), rng.uniform(y0, y1, n_mines)]
    return Landscape(
        bounds=(x0, y0, x1, y1),
        hills=hills,
        towns=np.array(towns),
        villages=np.vstack(villages),
        rivers=tuple(rivers),
        river_half_width_m=float(np.clip(np.sqrt(area_km2) * 4.0, 40.0, 150.0)),
        mines=mines,
    )
