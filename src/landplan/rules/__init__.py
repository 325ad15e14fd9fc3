"""Rule profiles, rule kinds and their evaluation."""

from .evaluate import Evidence, evaluate_rules
from .kinds import KINDS, Context
from .model import DEFAULT_PROFILE, SHIPPED_PROFILES, Profile, Rule, load_profile

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
