"""Rule profiles as data: :class:`Rule`, :class:`Priority`, :class:`Profile`.

A profile is a TOML file: its rules (canonical ID, kind, parameters with
units in their names, Chinese and English description, source in the plan),
the priority criteria used to fill quotas, and a few parameters.  Loading it
(:mod:`landplan.rules.profiles`) checks everything against the registered
kinds and criteria and reports every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from landplan.io.profiles import SHIPPED_PROFILES

__all__ = [
    "DEFAULT_PARAMETERS",
    "DEFAULT_PROFILE",
    "POOLS",
    "SHIPPED_PROFILES",
    "STAGES",
    "STAGE_NAMES",
    "Priority",
    "Profile",
    "Rule",
    "Stage",
    "is_valid_id",
]

Stage = Literal["T", "P", "R", "C"]
STAGES: tuple[Stage, ...] = ("T", "P", "R", "C")
#: Stage names in Chinese and English.
STAGE_NAMES: Mapping[str, tuple[str, str]] = {
    "T": ("耕地保护目标", "protection target"),
    "P": ("永久基本农田", "permanent basic farmland"),
    "R": ("永久基本农田储备区", "PBF reserve"),
    "C": ("可恢复耕地", "recovery candidates"),
}
#: The profile used when none is named.
DEFAULT_PROFILE = "hunan-hengyang"
_ID = re.compile(r"^[TPRC]_[A-Z0-9_]+$")


@dataclass(frozen=True)
class Rule:
    """One parcel rule: fires when its kind's condition holds for a parcel in its stage.

    Attributes
    ----------
    id
        Canonical ID: the stage letter, an underscore and upper-case words.
    kind
        Name of its kind in :data:`~landplan.rules.kinds.KINDS`.
    params
        The kind's parameters, units in their names.
    zh, en
        What the rule says, in Chinese and English.
    source
        Where in the plan the rule comes from.
    """

    id: str
    kind: str
    params: Mapping[str, Any]
    zh: str
    en: str
    source: str

    @property
    def stage(self) -> Stage:
        """The stage (T, P, R or C), the first letter of the ID.

        Returns
        -------
        Stage
            The stage letter.
        """
        return self.id[0]  # type: ignore[return-value]


@dataclass(frozen=True)
class Priority:
    """One priority criterion used to rank parcels for a quota.

    Attributes
    ----------
    criterion
        Name of the criterion in :data:`~landplan.rules.criteria.CRITERIA`.
    params
        The criterion's parameters.
    zh
        What the criterion says, in Chinese.
    """

    criterion: str
    params: Mapping[str, Any]
    zh: str


@dataclass(frozen=True)
class Profile:
    """A rule profile: rules in order, priorities per pool, parameters.

    Attributes
    ----------
    id
        The profile's ID, e.g. ``"hunan-hengyang"``.
    name_zh, name_en
        Its name in Chinese and English.
    source
        The plan it implements.
    rules
        Its rules, in profile order.
    priorities
        Priority criteria per pool (:data:`POOLS`), most important first.
    parameters
        :data:`DEFAULT_PARAMETERS` overridden by the profile's own.
    sha256
        Hash of the profile's text and those of the profiles it extends.
    path
        Where it was loaded from.
    extra
        Anything else attached to the profile; landplan itself does not read it.
    """

    id: str
    name_zh: str
    name_en: str
    source: str
    rules: tuple[Rule, ...]
    priorities: Mapping[str, tuple[Priority, ...]]
    parameters: Mapping[str, Any]
    sha256: str = ""
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def stage_rules(self, stage: Stage) -> tuple[Rule, ...]:
        """Rules of one stage, in profile order.

        Parameters
        ----------
        stage
            The stage letter: ``"T"``, ``"P"``, ``"R"`` or ``"C"``.

        Returns
        -------
        tuple of Rule
            The stage's rules; empty when it has none.
        """
        return tuple(r for r in self.rules if r.stage == stage)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule ID in profile order.

        Returns
        -------
        tuple of str
            The IDs.
        """
        return tuple(r.id for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (``landplan rules --json``).

        Returns
        -------
        dict
            ID, names, source, hash, parameters, rules (with their stages) and
            priorities per pool, as plain dicts and lists.
        """
        return {
            "id": self.id, "name_zh": self.name_zh, "name_en": self.name_en,
            "source": self.source, "sha256": self.sha256, "parameters": dict(self.parameters),
            "rules": [{"id": r.id, "stage": r.stage, "kind": r.kind, "params": dict(r.params),
                       "zh": r.zh, "en": r.en, "source": r.source} for r in self.rules],
            "priorities": {pool: [{"criterion": p.criterion, "params": dict(p.params),
                                   "zh": p.zh} for p in items]
                           for pool, items in self.priorities.items()},
        }  # fmt: skip


#: Parameters every profile has, with their defaults.
DEFAULT_PARAMETERS: Mapping[str, Any] = {
    "reserve_share_of_pbf": 0.01,
    "default_pbf_share_of_target": 0.91,
    "recovery_classes": ["0201", "0202", "0204", "0301", "0302", "0305", "0307", "0404", "1104"],
    "recovery_attributes": ["JKHF", "GCHF"],
    "previous_class_field": "EDDLBM",
    "previous_farmland_codes": ["011", "012", "013", "0101", "0102", "0103"],
    "position_tolerance_m": 1.0,
}
POOLS = ("pbf", "reserve", "recovery")


def is_valid_id(rule_id: str) -> bool:
    """Whether *rule_id* is a stage letter, an underscore and upper-case words.

    Parameters
    ----------
    rule_id
        A rule ID such as ``T_SLOPE_GT25``.

    Returns
    -------
    bool
        True for a well-formed ID.

    Examples
    --------
    >>> is_valid_id("P_SLOPE_GT25"), is_valid_id("slope")
    (True, False)
    """
    return bool(_ID.match(rule_id))
