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

from landplan.core.units import M2_PER_MU
from landplan.io.profiles import SHIPPED_PROFILES

__all__ = [
    "DEFAULT_PARAMETERS",
    "DEFAULT_PROFILE",
    "EXISTING_PBF_MODES",
    "PARAMETERS",
    "POOLS",
    "SHIPPED_PROFILES",
    "STAGES",
    "STAGE_NAMES",
    "Parameter",
    "Priority",
    "Profile",
    "Rule",
    "Stage",
    "is_valid_id",
]

Stage = Literal["T", "P", "R", "C", "B", "D"]
STAGES: tuple[Stage, ...] = ("T", "P", "R", "C", "B", "D")
#: Stage names in Chinese and English.
STAGE_NAMES: Mapping[str, tuple[str, str]] = {
    "T": ("耕地保护目标", "protection target"),
    "P": ("永久基本农田", "permanent basic farmland"),
    "R": ("永久基本农田储备区", "PBF reserve"),
    "C": ("可恢复耕地", "recovery candidates"),
    "B": ("耕地后备资源", "supplementary-farmland reserve resources"),
    "D": ("旱改水", "dry-to-paddy potential"),
}
#: The profile used when none is named.
DEFAULT_PROFILE = "hunan-hengyang"
_ID = re.compile(r"^[TPRCBD]_[A-Z0-9_]+$")


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
    existing_pbf
        For P rules, what the rule does to a parcel of the existing PBF:
        ``"exit"`` (it leaves, as the 不得 cases say) or ``"may_exit"`` (a
        调出 case the plan allows but does not require: the parcel stays PBF
        with the rule recorded; new PBF is never drawn where it fires).
    """

    id: str
    kind: str
    params: Mapping[str, Any]
    zh: str
    en: str
    source: str
    existing_pbf: str = "exit"

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

    def parameter_docs(self) -> list[dict[str, Any]]:
        """Every parameter with its value here, default, unit and ground.

        Returns
        -------
        list of dict
            ``name``, ``value``, ``default``, ``unit`` and ``doc`` per
            parameter of :data:`PARAMETERS`, in that order.
        """
        return [
            {
                "name": name,
                "value": self.parameters.get(name, spec.default),
                "default": spec.default,
                "unit": spec.unit,
                "doc": spec.doc,
            }
            for name, spec in PARAMETERS.items()
        ]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (``landplan rules --json``).

        Returns
        -------
        dict
            ID, names, source, hash, parameters (values and, under
            ``parameter_docs``, units and grounds), rules (with their stages)
            and priorities per pool, as plain dicts and lists.
        """
        return {
            "parameter_docs": self.parameter_docs(),
            "id": self.id, "name_zh": self.name_zh, "name_en": self.name_en,
            "source": self.source, "sha256": self.sha256, "parameters": dict(self.parameters),
            "rules": [{"id": r.id, "stage": r.stage, "kind": r.kind, "params": dict(r.params),
                       "zh": r.zh, "en": r.en, "source": r.source,
                       "existing_pbf": r.existing_pbf} for r in self.rules],
            "priorities": {pool: [{"criterion": p.criterion, "params": dict(p.params),
                                   "zh": p.zh} for p in items]
                           for pool, items in self.priorities.items()},
        }  # fmt: skip


@dataclass(frozen=True)
class Parameter:
    """A profile parameter: its default, unit and the ground for the default.

    Attributes
    ----------
    default
        Value used when the profile does not give one.
    unit
        Unit of the value (``"share 0-1"``, ``"m"``, ``"codes"`` ...).
    doc
        What it means and the ground for its default (the plan's line, or
        why a value was chosen where the plans are silent).
    choices
        The values allowed, for parameters that take one of a few words.
    """

    default: Any
    unit: str
    doc: str
    choices: tuple[str, ...] = ()

    def accepts(self, value: Any) -> bool:
        """Whether *value* is acceptable for this parameter.

        Parameters
        ----------
        value
            A value given in a profile.

        Returns
        -------
        bool
            True when it has the default's type (and is a listed choice, a
            share within 0-1, or a non-negative length, as the unit says).
        """
        if self.choices:
            return value in self.choices
        if isinstance(self.default, list):
            texts = all(isinstance(v, str) for v in self.default)
            return isinstance(value, list) and all(
                isinstance(v, str)
                if texts
                else isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                for v in value
            )
        if isinstance(self.default, str):
            return isinstance(value, str)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return 0 <= value <= 1 if self.unit == "share 0-1" else value >= 0

    @property
    def expected(self) -> str:
        """What an acceptable value looks like, for messages.

        Returns
        -------
        str
            E.g. ``"a share between 0 and 1"``.
        """
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if isinstance(self.default, list):
            texts = all(isinstance(v, str) for v in self.default)
            return "a list of texts" if texts else f"a list of numbers >= 0 ({self.unit})"
        if isinstance(self.default, str):
            return "a text"
        return (
            "a share between 0 and 1"
            if self.unit == "share 0-1"
            else f"a number >= 0 ({self.unit})"
        )


#: Every profile parameter with its default, unit and ground.
PARAMETERS: Mapping[str, Parameter] = {
    "reserve_share_of_pbf": Parameter(
        0.01,
        "share 0-1",
        "reserve target as a share of the county's PBF target; 003 附录5 注1: 储备区规模按"
        "永久基本农田保护面积的1%予以落实 (a targets file's reserve column wins)",
    ),
    "default_pbf_share_of_target": Parameter(
        0.9053,
        "share 0-1",
        "PBF target of a county with no target of its own, as a share of its protection "
        "target; 003 ch.2: 476.04 万亩 PBF of 525.81 万亩 可长期稳定利用耕地 = 0.9053",
    ),
    "default_targets": Parameter(
        "",
        "shipped table",
        "county targets used without a targets file: the name of a table shipped with "
        "landplan (hengyang_county_targets = 003 附录5); empty for none",
    ),
    "recovery_classes": Parameter(
        ["0201", "0202", "0204", "0301", "0302", "0305", "0307", "0404", "1104"],
        "DLBM codes",
        "classes of the recovery pool; 003 ch.8 §1 lists 果园, 茶园, 其他园地, 乔木林地, 竹林地, "
        "灌木林地, 其他林地, 其他草地, 坑塘水面",
    ),
    "recovery_attributes": Parameter(
        ["JKHF", "GCHF"], "ZZSXDM codes", "恢复属性: 即可恢复, 工程恢复 (专栏8-1 (1))"
    ),
    "previous_class_field": Parameter(
        "EDDLBM", "field", "field holding the 二调 land class, when the parcels carry one"
    ),
    "previous_farmland_codes": Parameter(
        ["011", "012", "013", "0101", "0102", "0103"],
        "DLBM codes",
        "二调 farmland classes (three-digit 二调 codes and 三调 codes)",
    ),
    "stage_b_classes": Parameter(
        ["0201", "0202", "0204", "0305", "0307", "0404", "1206", "1104", "0602"],
        "DLBM codes",
        "耕地后备资源 candidates (003 ch.7 §1: 林地（灌木林地、其他林地），非林地（果园、茶园、"
        "其他园地、其他草地、废弃采矿用地、废弃坑塘水面、裸土地）); those of "
        "stage_b_abandoned_classes only where the abandoned_land layer marks them",
    ),
    "stage_b_abandoned_classes": Parameter(
        ["1104", "0602"],
        "DLBM codes",
        "classes of stage_b_classes that are 耕地后备资源 only when abandoned: 003 ch.7 §1 "
        "counts 废弃采矿用地 0 万亩、废弃坑塘水面 0.55 万亩 (004 ch.7 §1: 废弃坑塘水面0.05万亩), "
        "but the survey's 1104 坑塘水面 and 0602 采矿用地 carry no mark of abandonment; they "
        "join the pool where the abandoned_land layer (废弃坑塘/废弃采矿用地范围) covers at least "
        "abandoned_land_min_share of them, and without the layer they stay out (reported)",
    ),
    "abandoned_land_min_share": Parameter(
        0.5,
        "share 0-1",
        "a pond or mining parcel is abandoned when the abandoned_land layer covers at least "
        "this share of it: such layers are drawn from survey parcels, so a parcel is in or "
        "out; a majority decides where they were redrawn (as pbf_existing_min_share)",
    ),
    "stage_d_classes": Parameter(
        ["0103"], "DLBM codes", "旱改水 candidates: 以现状旱地为对象 (003 ch.7 §1; 004 ch.7 §1)"
    ),
    "stage_d_block_mu": Parameter(
        [15.0, 30.0],
        "mu",
        "旱改水 block sizes reported: 004 ch.7 §1 30亩以上集中连片地块 / 15亩以上集中连片地块",
    ),
    "block_gap_m": Parameter(
        8.0,
        "m",
        "farmland parcels closer than this form one contiguous block (集中连片): GB/T 21010-2017 "
        "maps 农村道路 (1006) of up to 8 m and narrower 沟渠 (1107) as parcels of their own, "
        "so a field road or ditch between fields does not break a block; wider roads "
        "(1003, 1004) do",
    ),
    "position_tolerance_m": Parameter(
        1.0,
        "m",
        "overlap strips thinner than this do not count: layers drawn along survey parcel "
        "edges disagree by decimetres between vintages, datums and reprojections; 1 m is "
        "above the 三调 boundary-capture tolerance for clear boundaries on 1:5000 imagery "
        "(0.3 mm on the map = 1.5 m) halved, and far below any parcel width that matters",
    ),
    "pbf_existing_min_share": Parameter(
        0.5,
        "share 0-1",
        "a parcel is existing PBF when the pbf_existing layer covers at least this share of "
        "it: PBF layers are drawn from survey parcels, so a parcel is in or out; a majority "
        "decides where they were redrawn",
    ),
    "audit_fragment_m2": Parameter(
        M2_PER_MU,
        "m2",
        "PBF audit: a PBF parcel smaller than this is a fragment (质量不优, 003 专栏4-3 "
        "零星分散); 1 亩, the smallest unit the plans count PBF in",
    ),
    "audit_low_grade_min": Parameter(
        13,
        "GDDB grade",
        "PBF audit: quality grades from this one down count as low (GDDB 13-15 低等地, the "
        "survey's grading), 划劣不划优 in 003 专栏4-3",
    ),
    "farmland_slope_source": Parameter(
        "survey",
        "survey or dem",
        "what decides a farmland parcel's slope where both are known: the survey's GDPDJB "
        "grade (the plans' slope statistics use it) or the DEM's mean slope; each falls "
        "back on the other",
        ("survey", "dem"),
    ),
}
#: Parameters every profile has, with their defaults.
DEFAULT_PARAMETERS: Mapping[str, Any] = {name: p.default for name, p in PARAMETERS.items()}
#: What a P rule may do to existing PBF (:attr:`Rule.existing_pbf`).
EXISTING_PBF_MODES = ("exit", "may_exit")
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
