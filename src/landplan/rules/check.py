"""Checks of a profile's data against the registered kinds and criteria (all problems)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from landplan.core.errors import Problem
from landplan.core.roles import ROLES
from landplan.rules.criteria import CRITERIA
from landplan.rules.kinds import KINDS, Param
from landplan.rules.model import EXISTING_PBF_MODES, PARAMETERS, POOLS, is_valid_id

__all__ = ["check_profile_data"]

_SLOPE_ID = re.compile(r"_GT(\d+)$")


def _check_params(
    declared: Mapping[str, Param], given: Mapping[str, Any], where: str, origin: str
) -> list[Problem]:
    problems = []
    for name in sorted(set(given) - set(declared)):
        problems.append(
            Problem(
                "PROFILE_PARAM_UNKNOWN",
                f"{where}: unknown parameter {name!r}; allowed: {', '.join(declared) or 'none'}",
                origin,
            )
        )
    for name, spec in declared.items():
        if name not in given:
            if spec.required:
                problems.append(
                    Problem(
                        "PROFILE_PARAM_MISSING",
                        f"{where}: missing parameter {name!r} ({spec.doc})",
                        origin,
                    )
                )
            continue
        value = given[name]
        if isinstance(value, bool) or not isinstance(value, spec.type):
            types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
            expected = " or ".join(t.__name__ for t in types)
            problems.append(
                Problem(
                    "PROFILE_PARAM_TYPE",
                    f"{where}: parameter {name!r} is {value!r}; expected {expected}",
                    origin,
                )
            )
        if name in ("role", "exempt_role"):
            problems += _check_roles(value, where, origin)
    return problems


def _check_roles(value: Any, where: str, origin: str) -> list[Problem]:
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [
        Problem(
            "PROFILE_ROLE_UNKNOWN",
            f"{where}: unknown role {name!r}; known roles: {', '.join(ROLES)}",
            origin,
        )
        for name in names
        if name not in ROLES
    ]


def _check_rule(rule: Any, index: int, seen: set[str], origin: str) -> list[Problem]:
    if not isinstance(rule, dict):
        return [Problem("PROFILE_RULE", f"rules[{index}] is not a table", origin)]
    rule_id = str(rule.get("id", f"rules[{index}]"))
    where = f"rule {rule_id}"
    problems = []
    if not is_valid_id(rule_id):
        problems.append(
            Problem(
                "PROFILE_RULE_ID",
                f"{where}: IDs are a stage letter T, P, R or C, "
                "an underscore and upper-case words, e.g. P_SLOPE_GT25",
                origin,
            )
        )
    if rule_id in seen:
        problems.append(Problem("PROFILE_RULE_DUPLICATE", f"{where}: duplicate ID", origin))
    seen.add(rule_id)
    for key in ("zh", "en", "source"):
        if not str(rule.get(key, "")).strip():
            problems.append(Problem("PROFILE_RULE_TEXT", f"{where}: missing {key!r}", origin))
    kind = rule.get("kind")
    if kind not in KINDS:
        problems.append(
            Problem(
                "PROFILE_KIND_UNKNOWN",
                f"{where}: unknown kind {kind!r}; known kinds: {', '.join(KINDS)}",
                origin,
            )
        )
        return problems
    params = rule.get("params", {})
    problems += _check_params(KINDS[kind].params, params, where, origin)
    exit_mode = rule.get("existing_pbf", "exit")
    if exit_mode not in EXISTING_PBF_MODES or (exit_mode != "exit" and rule_id[:1] != "P"):
        problems.append(
            Problem(
                "PROFILE_RULE_EXISTING_PBF",
                f"{where}: existing_pbf is {exit_mode!r}; a P rule takes one of "
                f"{', '.join(EXISTING_PBF_MODES)} (other stages take none)",
                origin,
            )
        )
    match = _SLOPE_ID.search(rule_id)
    if match and kind == "slope_above" and params.get("threshold_deg") != float(match.group(1)):
        problems.append(
            Problem(
                "PROFILE_ID_MEANING",
                f"{where}: the ID says {match.group(1)}° but threshold_deg is "
                f"{params.get('threshold_deg')!r}; IDs never change meaning, give the rule an ID "
                "of "
                "its own (e.g. C_SLOPE_GT20)",
                origin,
            )
        )
    return problems


def check_profile_data(data: Mapping[str, Any], origin: str) -> list[Problem]:
    """Every problem with a parsed profile.

    Parameters
    ----------
    data
        The profile's TOML, parsed (with ``extends`` already applied).
    origin
        Where the profile came from, for the problems.

    Returns
    -------
    list of Problem
        Every problem found (missing head or rules, bad rule IDs or texts,
        unknown kinds, criteria, pools or roles, missing, unknown or mistyped
        parameters, shares outside 0-1); empty for a good profile.
    """
    problems: list[Problem] = []
    head = data.get("profile")
    if not isinstance(head, dict) or not str(head.get("id", "")).strip():
        problems.append(Problem("PROFILE_HEAD", "missing [profile] table with an id", origin))
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        problems.append(Problem("PROFILE_RULES", "missing [[rules]]", origin))
        rules = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        problems += _check_rule(rule, index, seen, origin)
    for pool, items in data.get("priorities", {}).items():
        if pool not in POOLS:
            problems.append(
                Problem(
                    "PROFILE_POOL",
                    f"priorities.{pool}: unknown pool; pools are {', '.join(POOLS)}",
                    origin,
                )
            )
            continue
        for i, item in enumerate(items):
            criterion = item.get("criterion")
            where = f"priorities.{pool}[{i}]"
            if criterion not in CRITERIA:
                problems.append(
                    Problem(
                        "PROFILE_CRITERION_UNKNOWN",
                        f"{where}: unknown criterion {criterion!r}; known: {', '.join(CRITERIA)}",
                        origin,
                    )
                )
                continue
            problems += _check_params(
                CRITERIA[criterion].params, item.get("params", {}), where, origin
            )
    problems += _check_parameters(data.get("parameters", {}), origin)
    return problems


def _check_parameters(given: Mapping[str, Any], origin: str) -> list[Problem]:
    problems = []
    for name, value in given.items():
        spec = PARAMETERS.get(name)
        if spec is None:
            problems.append(
                Problem(
                    "PROFILE_PARAMETER",
                    f"parameters.{name}: unknown parameter; known: {', '.join(PARAMETERS)}",
                    origin,
                )
            )
        elif not spec.accepts(value):
            problems.append(
                Problem(
                    "PROFILE_PARAMETER",
                    f"parameters.{name}: {spec.expected}, got {value!r}",
                    origin,
                )
            )
    return problems
