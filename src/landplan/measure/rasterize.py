"""Which parcel each raster cell's centre lies in: scanline polygon fill in NumPy.

The zonal slope statistics need, per DEM tile, the parcel under every cell
centre.  GDAL's rasterizer (through ``rasterio.features.rasterize``) takes one
GeoJSON-like mapping per parcel, built and checked in Python: at city scale
that costs more than the rasterization, and it holds the GIL.  Here the same
even-odd scanline fill runs on whole coordinate arrays:

1. every ring edge, in the grid's cell coordinates, crosses the rows whose
   centre line lies in ``[upper end, lower end)`` of the edge (half-open, so a
   vertex on a centre line is counted once and horizontal edges never);
2. the crossings of each parcel and row, sorted by x, pair up (even-odd:
   holes and multipolygons need nothing special);
3. a cell belongs to the parcel when its centre's x lies in ``[left, right)``
   of a pair.

A centre exactly on an edge is thus inside on a parcel's left and upper
sides and outside on the others; GDAL decides such centres its own way
(it burns horizontal edges that lie on a centre line), elsewhere the two
agree cell for cell.  Parcels come in order and a later parcel's cell
replaces an earlier one's, as GDAL's ``replace`` does.  All of it is NumPy
array work, which releases the GIL, so tiles run in parallel on threads.
"""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine

__all__ = ["cell_labels"]


def _edges(geoms: np.ndarray, inverse: Affine) -> tuple[np.ndarray, ...]:
    """Every ring edge in cell coordinates: (col0, row0, col1, row1, geometry position)."""
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:
        ring_geom = np.repeat(np.arange(len(offsets[1]) - 1), np.diff(offsets[1]))
    else:
        poly_geom = np.repeat(np.arange(len(offsets[2]) - 1), np.diff(offsets[2]))
        ring_poly = np.repeat(np.arange(len(offsets[1]) - 1), np.diff(offsets[1]))
        ring_geom = poly_geom[ring_poly]
    ring_ends = offsets[0]
    ring_of_vertex = np.repeat(np.arange(len(ring_ends) - 1), np.diff(ring_ends))
    x, y = coords[:, 0], coords[:, 1]
    col = inverse.a * x + inverse.b * y + inverse.c
    row = inverse.d * x + inverse.e * y + inverse.f
    start = np.ones(len(coords), dtype=bool)
    start[ring_ends[1:] - 1] = False  # a ring's last vertex starts no edge (rings are closed)
    a = np.flatnonzero(start)
    return col[a], row[a], col[a + 1], row[a + 1], ring_geom[ring_of_vertex[a]]


def _crossings(
    geoms: np.ndarray, transform: Affine, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, row and geometry position of every crossing of a ring edge with a row's centre line."""
    c0, r0, c1, r1, geom = _edges(geoms, ~transform)
    # each edge from its upper to its lower end, so an edge two parcels share gives
    # both the same crossings to the last bit
    flip = r0 > r1
    c0, c1 = np.where(flip, c1, c0), np.where(flip, c0, c1)
    r0, r1 = np.where(flip, r1, r0), np.where(flip, r0, r1)
    first = np.clip(np.ceil(r0 - 0.5), 0, height).astype(np.int64)
    stop = np.clip(np.ceil(r1 - 0.5), 0, height).astype(np.int64)
    n = np.maximum(stop - first, 0)
    edge = np.repeat(np.arange(len(n)), n)
    row = first[edge] + (np.arange(len(edge)) - np.repeat(np.cumsum(n) - n, n))
    t = (row + 0.5 - r0[edge]) / (r1[edge] - r0[edge])
    x = c0[edge] + t * (c1[edge] - c0[edge])
    return x, row, geom[edge]


def cell_labels(
    geoms: np.ndarray, labels: np.ndarray, *, transform: Affine, shape: tuple[int, int]
) -> np.ndarray:
    """Label of the polygon containing each cell centre of a north-up grid, 0 for none.

    Parameters
    ----------
    geoms
        Polygons and multipolygons (no missing or empty ones), in the grid's CRS.
    labels
        Positive integer label of each geometry (below 2**31).
    transform
        The grid's affine transform; north-up (no rotation).
    shape
        Rows and columns of the grid.

    Returns
    -------
    numpy.ndarray
        ``int32`` array of *shape*.

    Raises
    ------
    ValueError
        The transform is rotated.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> grid = Affine(1, 0, 0, 0, -1, 4)  # 4 × 4 cells of 1 m, top-left corner (0, 4)
    >>> cell_labels(np.array([box(0, 0, 2.2, 4), box(2.2, 0, 4, 1.2)]), np.array([1, 2]),
    ...             transform=grid, shape=(4, 4))
    array([[1, 1, 0, 0],
           [1, 1, 0, 0],
           [1, 1, 0, 0],
           [1, 1, 2, 2]], dtype=int32)
    """
    if transform.b != 0 or transform.d != 0:
        raise ValueError("cell_labels needs a north-up grid (no rotation)")
    height, width = shape
    out = np.zeros(height * width, dtype=np.int32)
    if len(geoms) == 0:
        return out.reshape(shape)
    x, row, g = _crossings(geoms, transform, height)
    order = np.lexsort((x, row, g))
    x, row, g = x[order], row[order], g[order]
    # pairs of crossings of one geometry on one row: cells with centre in [left, right)
    left, right, row, g = x[0::2], x[1::2], row[0::2], g[0::2]
    c_first = np.clip(np.ceil(left - 0.5), 0, width).astype(np.int64)
    c_stop = np.clip(np.ceil(right - 0.5), 0, width).astype(np.int64)
    filled = c_stop > c_first
    start = row[filled] * width + c_first[filled]
    stop = row[filled] * width + c_stop[filled]
    value = np.asarray(labels, dtype=np.int32)[g[filled]]
    size = height * width + 1
    depth = np.cumsum(np.bincount(start, minlength=size) - np.bincount(stop, minlength=size))
    if depth.max(initial=0) <= 1:
        # spans do not overlap: each label added at its span's start and taken back
        # at its end; the running sum (exact: whole numbers far below 2**53) is the
        # label of every cell
        step = np.bincount(start, weights=value, minlength=size)
        step -= np.bincount(stop, weights=value, minlength=size)
        out[:] = np.cumsum(step[:-1])
    else:  # overlapping parcels: cell by cell, in geometry order (a later one replaces)
        m = stop - start
        span = np.repeat(np.arange(len(m)), m)
        out[start[span] + (np.arange(len(span)) - np.repeat(np.cumsum(m) - m, m))] = value[span]
    return out.reshape(shape)
