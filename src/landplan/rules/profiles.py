"""Loading rule profiles: shipped ones by name, others from TOML, with ``extends``.

Every problem with a profile is reported at once (:mod:`landplan.rules.check`).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from landplan.core.errors import Problem, ProfileError
from landplan.io.profiles import read_profile_text
from landplan.rules.check import check_profile_data
from landplan.rules.model import (
    DEFAULT_PARAMETERS,
    DEFAULT_PROFILE,
    POOLS,
    Priority,
    Profile,
    Rule,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["load_profile"]


def load_profile(name_or_path: str | Path | Profile = DEFAULT_PROFILE) -> Profile:
    """Load a shipped profile by name, or a TOML file by path, checking everything.

    Parameters
    ----------
    name_or_path
        A name of :data:`~landplan.rules.model.SHIPPED_PROFILES`, the path of
        a TOML file, or a profile already loaded (returned as it is).

    Returns
    -------
    Profile
        The profile, with ``extends`` applied and default parameters filled in.

    Raises
    ------
    ProfileError
        With every problem found (unknown kinds or roles, missing or unknown
        parameters, wrong types, duplicate IDs ...), or when the profile does
        not exist, is not valid TOML or extends another badly.

    Examples
    --------
    >>> p = load_profile("hunan-xiangtan")
    >>> "C_SLOPE_GT15" in p.rule_ids, "C_SLOPE_GT25" in p.rule_ids
    (True, False)
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    data, origin, digest = _resolved_data(name_or_path, depth=0)
    problems = check_profile_data(data, origin)
    if problems:
        raise ProfileError(problems)
    head = data["profile"]
    rules = tuple(
        Rule(
            r["id"],
            r["kind"],
            dict(r.get("params", {})),
            r["zh"],
            r["en"],
            r["source"],
            existing_pbf=r.get("existing_pbf", "exit"),
        )
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
    text, origin = read_profile_text(name_or_path)
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
    """Profile data *own* applied on top of its base profile's data *base*.

    Own rules replace base rules of the same ID (or the one named by ``replaces``) in
    place, or join the end of their stage; an own rule without a ``kind`` amends the
    base rule of its ID (its source, texts, ``existing_pbf`` or params, key by key);
    ``remove`` drops base rules; parameters and priority pools override.
    """
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
        if target in ids and "kind" not in rule and "replaces" not in rule:
            base_rule = rules[ids.index(target)]
            params = {**base_rule.get("params", {}), **rule.get("params", {})}
            rules[ids.index(target)] = {**base_rule, **rule, "params": params}  # an amendment
            continue
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
