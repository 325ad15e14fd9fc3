"""Measurement of every parcel: areas, geometry repair, overlaps, slope, splitting.

Ellipsoidal areas on CGCS2000, overlap with each constraint layer, slope
statistics from a DEM, and cutting parcels along constraint boundaries.  Takes
and returns frames and arrays; may import :mod:`landplan.core`,
:mod:`landplan.survey` and :mod:`landplan.io` (to open the DEM it is given).
"""
