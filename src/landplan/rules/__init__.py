"""Rules: profiles as data, their loading and checking, rule kinds, priority criteria, evaluation.

A profile (TOML) lists the plans' parcel rules by canonical ID with their
parameters and sources; evaluating it gives the evidence (which rule fired on
which parcel, with the value measured).  May import :mod:`landplan.core`,
:mod:`landplan.survey`, :mod:`landplan.io` (profile files) and
:mod:`landplan.measure`.
"""

from landplan.rules.evaluate import Evidence, evaluate_rules
from landplan.rules.kinds import KINDS, Context
from landplan.rules.model import DEFAULT_PROFILE, SHIPPED_PROFILES, Profile, Rule
from landplan.rules.profiles import load_profile

__all__ = [
    "DEFAULT_PROFILE",
    "KINDS",
    "SHIPPED_PROFILES",
    "Context",
    "Evidence",
    "Profile",
    "Rule",
    "evaluate_rules",
    "load_profile",
]
