"""Evaluate a profile: per parcel and rule ID, whether it fired and the value measured.

The evidence is the single source of truth: classes, reason strings, audit
tables and county totals are all derived from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landplan.core.errors import Problem
from landplan.measure.parcels import layer_share
from landplan.rules.kinds import KINDS, Context
from landplan.rules.model import Profile

__all__ = [
    "ABANDONED_ROLE",
    "Evidence",
    "Gaps",
    "abandoned_land",
    "class_pool",
    "evaluate_rules",
    "recovery_pool",
]

#: The role whose layer marks 废弃坑塘 and 废弃采矿用地 for stage B (``stage_b_abandoned_classes``).
ABANDONED_ROLE = "abandoned_land"


@dataclass(frozen=True)
class Gaps:
    """What the rules of a run could not judge, as :class:`Evidence` records it.

    Attributes
    ----------
    missing
        Why a rule could not be evaluated, by rule ID (only such rules).
    unevaluated
        Rules that could not be evaluated on some parcels of their stage:
        rule ID → (why, number of such parcels per county code).  A rule of
        *missing* is here too when what it misses is the parcels' own data
        (no parcel has a slope): its parcels are reported only if counties run
        apart are merged with others that could evaluate it.
    unjudged_pools
        Stages whose pool could not be judged on some parcels, which it then
        leaves out: stage letter → (why, the land classes that need the
        layer, the county codes of parcels of those classes).  Stage B without
        an ``abandoned_land`` layer: ponds and mining land cannot be told abandoned.
    """

    missing: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unevaluated: Mapping[str, tuple[str, Mapping[str, int]]] = dataclasses.field(
        default_factory=dict
    )
    unjudged_pools: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = dataclasses.field(
        default_factory=dict
    )

    @classmethod
    def merge(cls, parts: Sequence[Gaps]) -> Gaps:
        """The gaps of one run over the parcels of several (one per county).

        A rule missing in every part stays missing.  A rule missing in some
        parts only was missing for want of those parcels' own data (no parcel
        had a slope); one run judges it, and reports those parcels as
        unevaluated, as the parts that missed it counted them.

        Parameters
        ----------
        parts
            The gaps of each county's run.

        Returns
        -------
        Gaps
            As one run over all their parcels records them.
        """
        missing: dict[str, str] = {}
        times: dict[str, int] = {}
        unevaluated: dict[str, tuple[str, dict[str, int]]] = {}
        pools: dict[str, tuple[str, tuple[str, ...], set[str]]] = {}
        for part in parts:
            for rule_id, why in part.missing.items():
                missing.setdefault(rule_id, why)
                times[rule_id] = times.get(rule_id, 0) + 1
            for rule_id, (why, counts) in part.unevaluated.items():
                unevaluated.setdefault(rule_id, (why, {}))[1].update(counts)
            for pool, (why, classes, counties) in part.unjudged_pools.items():
                pools.setdefault(pool, (why, classes, set()))[2].update(counties)
        return cls(
            {rule_id: why for rule_id, why in missing.items() if times[rule_id] == len(parts)},
            {rule_id: unevaluated[rule_id] for rule_id in sorted(unevaluated)},
            {pool: (why, classes, tuple(sorted(c))) for pool, (why, classes, c) in pools.items()},
        )

    def problems(self) -> list[Problem]:
        """Rules that could not be evaluated, grouped by cause, and parcels left unjudged.

        Returns
        -------
        list of Problem
            One ``RULE_NOT_EVALUATED`` warning per cause (a missing layer or
            field) naming the rules it blocks, which fire for no parcel; one
            ``RULE_NOT_EVALUATED_ON_PARCELS`` warning per rule and county
            counting the parcels it could not judge; one ``POOL_NOT_EVALUATED``
            warning per stage whose pool left parcels out for want of a layer,
            naming their counties.
        """
        by_cause: dict[str, list[str]] = {}
        for rule_id, why in self.missing.items():
            by_cause.setdefault(why, []).append(rule_id)
        problems = [
            Problem(
                "RULE_NOT_EVALUATED",
                f"{why}: {', '.join(rules)} could not be evaluated and fire for no parcel. "
                "Give the layer with --layer ROLE=PATH or add the field.",
                ", ".join(rules),
                severity="warning",
            )
            for why, rules in by_cause.items()
        ]
        for rule_id, (why, counts) in self.unevaluated.items():
            if rule_id in self.missing:  # reported above, for all its parcels
                continue
            problems += [
                Problem(
                    "RULE_NOT_EVALUATED_ON_PARCELS",
                    f"{rule_id} could not be evaluated on {n} parcels of county {county} ({why}); "
                    "it does not fire for them. Give a DEM covering them, or their GDPDJB.",
                    rule_id,
                    severity="warning",
                )
                for county, n in counts.items()
            ]
        for stage, (why, classes, counties) in self.unjudged_pools.items():
            problems.append(
                Problem(
                    "POOL_NOT_EVALUATED",
                    f"{why}: parcels of class {', '.join(classes)} cannot be told abandoned "
                    f"(废弃坑塘, 废弃采矿用地) and are left out of stage {stage} (耕地后备资源). "
                    f"Give the layer with --layer {ABANDONED_ROLE}=PATH.",
                    f"stage_{stage.lower()}_abandoned_classes",
                    severity="warning",
                    counties=counties,
                )
            )
        return problems


@dataclass(frozen=True)
class Evidence:
    """Hits and measured values, parcel × rule ID, aligned to the parcels' index.

    Attributes
    ----------
    hits
        Whether each rule fired, boolean, one column per rule ID in profile order.
    own_values
        What each rule measured, float, one column per rule whose value is not
        a column of *measures* (see *measured*) and is known for some parcel:
        a rule whose value is NaN for every parcel (its layer not given, say)
        keeps no column, and :meth:`value` gives NaN for it.
    units
        Unit of each rule's values, by rule ID.
    gaps
        What the rules could not judge (also read as :attr:`missing`,
        :attr:`unevaluated` and :attr:`unjudged_pools`).
    measured
        Rules whose value is a column of *measures* as it stands (the overlap
        with one layer): rule ID → that column.  Their values are read there,
        not kept twice.
    measures
        The measurement table the rules were evaluated on (aligned to *hits*),
        where the *measured* rules' values are.
    """

    hits: pd.DataFrame  # bool, one column per rule ID in profile order
    own_values: pd.DataFrame  # float, the rules not in `measured`
    units: Mapping[str, str]
    gaps: Gaps = dataclasses.field(default_factory=Gaps)
    measured: Mapping[str, str] = dataclasses.field(default_factory=dict)
    measures: pd.DataFrame | None = None

    def value(self, rule_id: str) -> np.ndarray:
        """What rule *rule_id* measured, a float per parcel.

        Parameters
        ----------
        rule_id
            A rule ID of the profile.

        Returns
        -------
        numpy.ndarray
            The values, aligned to :attr:`hits` (a view, not to be modified).
        """
        column = self.measured.get(rule_id)
        if column is None:
            if rule_id in self.hits and rule_id not in self.own_values:
                return np.full(len(self.hits), np.nan)  # measured on no parcel
            return self.own_values[rule_id].to_numpy(dtype=float)  # KeyError if no such rule
        if self.measures is None:
            raise ValueError(f"{rule_id}'s value is the measure {column}, but no measures are kept")
        return self.measures[column].to_numpy(dtype=float)

    @property
    def values(self) -> pd.DataFrame:
        """What each rule measured, float, the same shape as :attr:`hits` (built when asked).

        Returns
        -------
        pandas.DataFrame
            One column per rule ID in profile order, aligned to :attr:`hits`.
        """
        return pd.DataFrame(
            {rule_id: self.value(rule_id) for rule_id in self.hits.columns}, index=self.hits.index
        )

    def stage_hit(self, stage: str, rules: Collection[str] | None = None) -> np.ndarray:
        """Parcels for which any rule of *stage* (or any of *rules*) fired.

        Parameters
        ----------
        stage
            A stage letter: ``"T"``, ``"P"``, ``"R"`` or ``"C"``.
        rules
            Only these rule IDs of the stage, when given.

        Returns
        -------
        numpy.ndarray
            Boolean mask of the parcels; all False when no such rule exists.
        """
        columns = [
            c
            for c in self.hits.columns
            if c.startswith(f"{stage}_") and (rules is None or c in rules)
        ]
        if not columns:
            return np.zeros(len(self.hits), dtype=bool)
        return self.hits[columns].to_numpy().any(axis=1)

    def reasons(self) -> pd.Series:
        """Every rule ID that fired, ``;``-joined in profile order (empty when none).

        Returns
        -------
        pandas.Series
            Text per parcel, named ``lp_reasons``, aligned to the parcels' index.
        """
        hits = self.hits.to_numpy(dtype=bool)
        # parcels share a few hundred combinations of fired rules: one text per combination,
        # a combination found by its bits packed into 64-bit words
        packed = np.packbits(hits, axis=1)
        words = np.zeros((len(hits), -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
        words[:, : packed.shape[1]] = packed
        keys = words.view(np.uint64)
        if keys.shape[1] == 1:  # up to 64 rules: one integer per parcel
            combo_of, first = pd.factorize(keys[:, 0])
            combos = first.reshape(-1, 1).view(np.uint8)
        else:
            combos_words, combo_of = np.unique(keys, axis=0, return_inverse=True)
            combos = combos_words.view(np.uint8)
        rule_ids = np.asarray(self.hits.columns, dtype=object)
        fired = np.unpackbits(combos, axis=1, count=hits.shape[1]).astype(bool)
        texts = np.array([";".join(rule_ids[row]) for row in fired], dtype=object)
        return pd.Series(
            texts[np.asarray(combo_of).reshape(-1)] if len(hits) else [],
            index=self.hits.index,
            dtype=object,
            name="lp_reasons",
        )

    def long(self, *, fired_only: bool = False) -> pd.DataFrame:
        """One row per parcel and rule: ``parcel``, ``rule_id``, ``hit``, ``value``, ``unit``.

        Parameters
        ----------
        fired_only
            Keep only the rows where the rule fired.

        Returns
        -------
        pandas.DataFrame
            The evidence in long form, parcel by parcel, rules in profile order;
            ``parcel`` holds the parcels' index labels.
        """
        hits = self.hits.to_numpy()
        if fired_only:
            rows, cols = np.nonzero(hits)
        else:
            rows, cols = np.divmod(np.arange(hits.size), hits.shape[1])
        columns = np.array(self.hits.columns, dtype=object)
        units = np.array([self.units[c] for c in self.hits.columns], dtype=object)
        value = np.empty(len(rows))
        for k, rule_id in enumerate(self.hits.columns):  # a rule's values, not all at once
            at = np.flatnonzero(cols == k)
            value[at] = self.value(rule_id)[rows[at]]
        return pd.DataFrame(
            {
                "parcel": self.hits.index.to_numpy()[rows],
                "rule_id": columns[cols],
                "hit": hits[rows, cols],
                "value": value,
                "unit": units[cols],
            }
        )

    @property
    def missing(self) -> Mapping[str, str]:
        """Why a rule could not be evaluated, by rule ID (:attr:`Gaps.missing`).

        Returns
        -------
        Mapping
            Rule ID → why.
        """
        return self.gaps.missing

    @property
    def unevaluated(self) -> Mapping[str, tuple[str, Mapping[str, int]]]:
        """Rules not evaluated on some parcels (:attr:`Gaps.unevaluated`).

        Returns
        -------
        Mapping
            Rule ID → (why, parcels per county code).
        """
        return self.gaps.unevaluated

    @property
    def unjudged_pools(self) -> Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """Stages whose pool left parcels out (:attr:`Gaps.unjudged_pools`).

        Returns
        -------
        Mapping
            Stage letter → (why, land classes, county codes).
        """
        return self.gaps.unjudged_pools

    def problems(self) -> list[Problem]:
        """Rules that could not be evaluated, grouped by cause, and parcels left unjudged.

        Returns
        -------
        list of Problem
            :meth:`Gaps.problems` of :attr:`gaps`.
        """
        return self.gaps.problems()


def _stage_scopes(ctx: Context, profile: Profile) -> dict[str, np.ndarray]:
    """Which parcels each stage judges: T, P, R farmland; C the recovery pool; B and D theirs."""
    farmland = ctx.attributes["IS_FARMLAND"].to_numpy(dtype=bool)
    return {
        "T": farmland,
        "P": farmland,
        "R": farmland,
        "C": recovery_pool(ctx, profile),
        "B": class_pool(ctx, profile, "B"),
        "D": class_pool(ctx, profile, "D"),
    }


def class_pool(ctx: Context, profile: Profile, stage: str) -> np.ndarray:
    """Parcels of the land classes a class-defined stage (B or D) starts from.

    Parameters
    ----------
    ctx
        What the rules are evaluated on (``DLBM_BASE``, the code without its suffix).
    profile
        The profile; ``stage_b_classes`` / ``stage_d_classes`` name the classes.
    stage
        ``"B"`` (耕地后备资源) or ``"D"`` (旱改水).

    Returns
    -------
    numpy.ndarray
        Boolean mask of the parcels whose base class is one of the stage's
        classes; for stage B, those of ``stage_b_abandoned_classes`` only
        where they are abandoned (:func:`abandoned_land`).
    """
    classes = profile.parameters[f"stage_{stage.lower()}_classes"]
    pool = ctx.attributes["DLBM_BASE"].isin(classes).to_numpy(dtype=bool)
    if stage == "B":
        needs_mark, marked = abandoned_land(ctx, profile)
        pool = pool & (~needs_mark | (marked if marked is not None else False))
    return pool


def abandoned_land(ctx: Context, profile: Profile) -> tuple[np.ndarray, np.ndarray | None]:
    """Parcels that count for stage B only when abandoned, and which of them are.

    003 ch.7 §1 counts 废弃坑塘水面 and 废弃采矿用地 among the 耕地后备资源, but
    the survey's 1104 坑塘水面 and 0602 采矿用地 carry no mark of abandonment: the
    ``abandoned_land`` layer (废弃坑塘/废弃采矿用地范围) gives it, covering at
    least ``abandoned_land_min_share`` of a parcel.

    Parameters
    ----------
    ctx
        What the rules are evaluated on (``DLBM_BASE`` and the layer's share).
    profile
        The profile: ``stage_b_classes``, ``stage_b_abandoned_classes`` and
        ``abandoned_land_min_share``.

    Returns
    -------
    needs_mark : numpy.ndarray
        Parcels of a class in both ``stage_b_classes`` and ``stage_b_abandoned_classes``.
    marked : numpy.ndarray or None
        Parcels the layer covers enough of; None without the layer.
    """
    params = profile.parameters
    classes = set(params["stage_b_classes"]) & set(params["stage_b_abandoned_classes"])
    needs_mark = ctx.attributes["DLBM_BASE"].isin(sorted(classes)).to_numpy(dtype=bool)
    share = layer_share(ctx.measures, ABANDONED_ROLE)
    if share is None:
        return needs_mark, None
    return needs_mark, share >= float(params["abandoned_land_min_share"])


def recovery_pool(ctx: Context, profile: Profile) -> np.ndarray:
    """Non-farmland parcels of the recovery classes marked for recovery or formerly farmland.

    Parameters
    ----------
    ctx
        What the rules are evaluated on.
    profile
        The profile, whose parameters name the recovery classes
        (``recovery_classes``), the recovery attributes in ZZSXDM
        (``recovery_attributes``), and the previous-survey class field and its
        farmland codes (``previous_class_field``, ``previous_farmland_codes``).

    Returns
    -------
    numpy.ndarray
        Boolean mask of the parcels whose base class is a recovery class and
        whose ZZSXDM is a recovery attribute or whose previous-survey class was
        farmland.
    """
    params = profile.parameters
    base = ctx.attributes["DLBM_BASE"]
    in_class = base.isin(params["recovery_classes"]).to_numpy(dtype=bool)
    zzsx = ctx.field("ZZSXDM")
    marked = (
        zzsx.isin(params["recovery_attributes"]).fillna(False).to_numpy(dtype=bool)
        if zzsx is not None
        else np.zeros(len(base), dtype=bool)
    )
    previous = ctx.field(str(params["previous_class_field"]))
    was_farmland = (
        previous.isin(params["previous_farmland_codes"]).fillna(False).to_numpy(dtype=bool)
        if previous is not None
        else np.zeros(len(base), bool)
    )
    return in_class & (marked | was_farmland)


def evaluate_rules(profile: Profile, ctx: Context) -> Evidence:
    """Evaluate every rule of *profile* on every parcel.

    A rule fires only for parcels of its stage's scope; its value is
    recorded for every parcel.

    Parameters
    ----------
    profile
        The rule profile; its rules' kinds must be registered in
        :data:`~landplan.rules.kinds.KINDS` (as :func:`~landplan.rules.load_profile` checks).
    ctx
        What the rules are evaluated on.

    Returns
    -------
    Evidence
        Hits and values of every rule for every parcel, aligned to
        ``ctx.attributes.index``.
    """
    scopes = _stage_scopes(ctx, profile)
    county = ctx.attributes["COUNTY"].astype(str).to_numpy()
    hits, values, measured, units, missing, unevaluated = {}, {}, {}, {}, {}, {}
    for rule in profile.rules:
        kind = KINDS[rule.kind]
        params = {name: spec.default for name, spec in kind.params.items() if not spec.required}
        params.update(rule.params)
        outcome = kind.func(ctx, **params)
        hits[rule.id] = np.asarray(outcome.hit, dtype=bool) & scopes[rule.stage]
        if outcome.value_column:
            measured[rule.id] = outcome.value_column
        else:
            value = np.asarray(outcome.value, dtype=float)
            if not np.isnan(value).all():  # a column of NaN is not kept (nor shipped)
                values[rule.id] = value
        units[rule.id] = outcome.unit
        if outcome.missing:
            missing[rule.id] = outcome.missing
        if outcome.unevaluated is not None:
            unjudged = np.asarray(outcome.unevaluated, dtype=bool) & scopes[rule.stage]
            if unjudged.any():
                codes, counts = np.unique(county[unjudged], return_counts=True)
                unevaluated[rule.id] = (
                    outcome.missing_on,
                    {str(c): int(k) for c, k in zip(codes, counts, strict=True)},
                )
    index = ctx.attributes.index
    return Evidence(
        hits=pd.DataFrame(hits, index=index),
        own_values=pd.DataFrame(values, index=index, dtype=float),
        units=units,
        gaps=Gaps(missing, unevaluated, _unjudged_pools(ctx, profile, county)),
        measured=measured,
        measures=ctx.measures,
    )


def _unjudged_pools(
    ctx: Context, profile: Profile, county: np.ndarray
) -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Stage B without the ``abandoned_land`` layer: the classes and counties it leaves out."""
    needs_mark, marked = abandoned_land(ctx, profile)
    if marked is not None or not needs_mark.any():
        return {}
    params = profile.parameters
    classes = tuple(
        c for c in params["stage_b_abandoned_classes"] if c in params["stage_b_classes"]
    )
    counties = tuple(sorted(set(county[needs_mark])))
    return {"B": (f"no {ABANDONED_ROLE} layer", classes, counties)}
