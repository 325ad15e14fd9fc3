"""The Third National Land Survey (三调) parcel schema and its checks.

Field names and land classes of the DLTB layer, slope grades, parsing of the
survey's attributes into typed columns, and attribute validation.  Works on
frames only; may import :mod:`landplan.core`.
"""
