"""County outlines for maps: parcels dissolved by county.

Kept apart from :mod:`landplan.outputs.plot` so that computing them imports
no plotting library.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

__all__ = ["county_outlines"]


def county_outlines(
    geometry: gpd.GeoSeries, county: ArrayLike, *, grid_size: float | None = None
) -> gpd.GeoDataFrame:
    """The parcels of each county dissolved into one shape, for boundaries and labels.

    Survey parcels tile their county without overlaps, so a coverage union
    (fast, exact for such a tiling) dissolves them; where they do not (a
    vertex of one parcel on the edge of its neighbour, which has none there),
    an ordinary union does, on a grid of *grid_size*.

    Parameters
    ----------
    geometry
        Parcel geometries, with their CRS.
    county
        County code of each parcel, aligned to *geometry*; parcels without
        one (NA) are left out.
    grid_size
        Precision of the ordinary union, in units of the CRS: shared edges
        that disagree by less (a straight edge reprojected bends a little
        between its vertices, not at its neighbour's) merge instead of
        leaving sliver holes that would be drawn as boundaries; None is exact.

    Returns
    -------
    geopandas.GeoDataFrame
        ``county_code`` (text, sorted) and the dissolved geometry, in the CRS of *geometry*.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 0, 6, 1)])
    >>> outlines = county_outlines(parcels, ["430421", "430421", "430422"])
    >>> outlines["county_code"].tolist(), outlines.area.tolist()
    (['430421', '430422'], [2.0, 1.0])
    >>> county_outlines(parcels, ["a", "a", "b"], grid_size=0.001)["county_code"].tolist()
    ['a', 'b']
    """
    labels = pd.Series(np.asarray(county, dtype=object))
    codes = labels.astype(str).to_numpy()
    geoms = geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & labels.notna().to_numpy()
    rows = []
    for code in np.unique(codes[present]):
        parts = geoms[present & (codes == code)]
        try:
            shape = shapely.coverage_union_all(parts)
        except shapely.errors.GEOSException:
            shape = shapely.union_all(parts, grid_size=grid_size)
        rows.append((str(code), shape))
    return gpd.GeoDataFrame(
        {"county_code": [code for code, _ in rows]},
        geometry=[shape for _, shape in rows],
        crs=geometry.crs,
    )
