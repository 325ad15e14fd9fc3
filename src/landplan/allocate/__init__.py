"""Allocation: priority order, quotas and the class of every parcel.

From the rules' evidence, the protection target, PBF and reserve quotas
filled in the profile's priority order, recovery candidates, and
``lp_class``/``lp_prio``.  May import :mod:`landplan.core`,
:mod:`landplan.survey`, :mod:`landplan.measure` and :mod:`landplan.rules`.
"""
