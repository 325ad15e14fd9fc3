"""Core: what every layer shares and nothing else defines.

Errors and :class:`~landplan.core.errors.Problem` records, severities, area
units, constraint-layer roles, classes and their colours, CRS facts of
CGCS2000, sums by group (county), stage timing and the package version.  Imports no other landplan
layer; every other layer may import it.
"""
