"""Rule profiles as data: :class:`Rule`, :class:`Priority`, :class:`Profile`.

A profile is a TOML file: its rules (canonical ID, kind, parameters with
units in their names, Chinese and English description, source in the plan),
the priority criteria used to fill quotas, and a few parameters.  Loading
checks everything against the registered kinds and criteria and reports
every problem at once.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ..errors import Problem, ProfileError
from ..roles import ROLES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

Stage = Literal["T", "P", "R", "C"]
STAGES: tuple[Stage, ...] = ("T", "P", "R", "C")
#: Stage names in Chinese and English.
STAGE_NAMES: Mapping[str, tuple[str, str]] = {
    "T": ("耕地保护目标", "protection target"),
    "P": ("永久基本农田", "permanent basic farmland"),
    "R": ("永久基本农田储备区", "PBF reserve"),
    "C": ("可恢复耕地", "recovery candidates"),
}
#: Names of the shipped profiles.
SHIPPED_PROFILES = ("hunan-hengyang", "hunan-xiangtan")
DEFAULT_PROFILE = "hunan-hengyang"
_ID = re.compile(r"^[TPRC]_[A-Z0-9_]+$")


@dataclass(frozen=True)
class Rule:
    """One parcel rule: fires when its kind's condition holds for a parcel in its stage."""

    id: str
    kind: str
    params: Mapping[str, Any]
    zh: str
    en: str
    source: str

    @property
    def stage(self) -> Stage:
        """The stage (T, P, R or C), the first letter of the ID."""
        return self.id[0]  # type: ignore[return-value]


@dataclass(frozen=True)
class Priority:
    """One priority criterion used to rank parcels for a quota."""

    criterion: str
    params: Mapping[str, Any]
    zh: str


@dataclass(frozen=True)
class Profile:
    """A rule profile: rules in order, priorities per pool, parameters."""

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
        """Rules of one stage, in profile order."""
        return tuple(r for r in self.rules if r.stage == stage)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule ID in profile order."""
        return tuple(r.id for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (``landplan rules --json``)."""
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
}
POOLS = ("pbf", "reserve", "recovery")


def _profile_text(name_or_path: str | Path) -> tuple[str, str]:
    text_name = str(name_or_path)
    if text_name in SHIPPED_PROFILES:
        ref = resources.files("landplan").joinpath(f"profiles/{text_name}.toml")
        return ref.read_text(encoding="utf-8"), f"landplan/profiles/{text_name}.toml"
    path = Path(name_or_path)
    if not path.exists():
        raise ProfileError(
            [
                Problem(
                    "PROFILE_NOT_FOUND",
                    f"no profile named {text_name!r}: shipped profiles are "
                    f"{', '.join(SHIPPED_PROFILES)}; otherwise give the path of a TOML file.",
                )
            ]
        )
    return path.read_text(encoding="utf-8"), str(path)


def load_profile(name_or_path: str | Path | Profile = DEFAULT_PROFILE) -> Profile:
    """Load a shipped profile by name, or a TOML file by path, checking everything.

    Raises
    ------
    ProfileError
        With every problem found (unknown kinds or roles, missing or unknown
        parameters, wrong types, duplicate IDs ...).

    Examples
    --------
    >>> p = load_profile("hunan-xiangtan")
    >>> "C_SLOPE_GT15" in p.rule_ids, "C_SLOPE_GT25" in p.rule_ids
    (True, False)
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    data, origin, digest = _resolved_data(name_or_path, depth=0)
    from .check import check_profile_data

    problems = check_profile_data(data, origin)
    if problems:
        raise ProfileError(problems)
    head = data["profile"]
    rules = tuple(
        Rule(r["id"], r["kind"], dict(r.get("params", {})), r["zh"], r["en"], r["source"])
        for r in data["rules"]
    )
    priorities = {
        pool: tuple(
            Priority(p["criterion"], dict(p.get("params", {})), p.get("zh", ""))
            for p in data.get("priorities", {}).get(pool, [])
        )
        for pool in POOLS
    }
    parameters = {**DEFAULT_PARAMETERS, **data.get("parameters", {})}
    return Profile(
        id=head["id"],
        name_zh=head.get("name_zh", ""),
        name_en=head.get("name_en", ""),
        source=head.get("source", ""),
        rules=rules,
        priorities=priorities,
        parameters=parameters,
        sha256=digest,
        path=origin,
    )


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError([Problem("PROFILE_SYNTAX", f"not valid TOML: {exc}", origin)]) from None


def _resolved_data(name_or_path: str | Path, depth: int) -> tuple[dict[str, Any], str, str]:
    """Profile data with ``extends`` applied, its origin and a hash of every file involved."""
    text, origin = _profile_text(name_or_path)
    data = _parse(text, origin)
    digest = hashlib.sha256(text.encode("utf-8"))
    base_name = data.get("profile", {}).get("extends")
    if not base_name:
        return data, origin, digest.hexdigest()
    if depth > 4:
        raise ProfileError(
            [Problem("PROFILE_EXTENDS", "profiles extend each other too deeply (a cycle?)", origin)]
        )
    base, _, base_digest = _resolved_data(base_name, depth + 1)
    digest.update(base_digest.encode())
    return _merge(base, data, origin), origin, digest.hexdigest()


def _merge(base: dict[str, Any], own: dict[str, Any], origin: str) -> dict[str, Any]:
    """Own rules replace base rules of the same ID (or the one named by ``replaces``) in
    place, or join the end of their stage; ``remove`` drops base rules; parameters and
    priority pools override."""
    head = own.get("profile", {})
    removed = list(head.get("remove", []))
    base_ids = [r.get("id") for r in base.get("rules", [])]
    unknown = [r for r in removed if r not in base_ids]
    if unknown:
        raise ProfileError(
            [
                Problem(
                    "PROFILE_REMOVE",
                    f"remove names rules the base profile does not have: {unknown}",
                    origin,
                )
            ]
        )
    rules = [dict(r) for r in base.get("rules", []) if r.get("id") not in removed]
    for rule in own.get("rules", []):
        ids = [r.get("id") for r in rules]
        target = rule.get("replaces", rule.get("id"))
        if target in ids:
            rules[ids.index(target)] = {k: v for k, v in rule.items() if k != "replaces"}
            continue
        if "replaces" in rule:
            raise ProfileError(
                [
                    Problem(
                        "PROFILE_REPLACES",
                        f"rule {rule.get('id')} replaces "
                        f"{target!r}, which the base profile does not have",
                        origin,
                    )
                ]
            )
        stage = str(rule.get("id", "?"))[:1]
        same = [i for i, r in enumerate(rules) if str(r.get("id", ""))[:1] == stage]
        rules.insert(same[-1] + 1 if same else len(rules), rule)
    return {
        "profile": {k: v for k, v in head.items() if k not in ("extends", "remove")},
        "parameters": {**base.get("parameters", {}), **own.get("parameters", {})},
        "rules": rules,
        "priorities": {**base.get("priorities", {}), **own.get("priorities", {})},
    }


def is_valid_id(rule_id: str) -> bool:
    """Rule IDs are a stage letter, an underscore and upper-case words."""
    return bool(_ID.match(rule_id))


KNOWN_ROLES = frozenset(ROLES)
