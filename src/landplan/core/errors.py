"""Errors, warnings, severities and the :class:`Problem` record.

One root exception, :class:`LandplanError`; each subclass also inherits the
built-in exception a caller would naturally catch (``ValueError``,
``OSError`` ...), as rasterio does.  Every landplan error carries
:class:`Problem` records (code, message, source, parcels) and renders them as
readable text.  Input checks never stop at the first problem: they collect
the records and raise them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "SEVERITIES",
    "CRSError",
    "DataQualityWarning",
    "EncodingError",
    "EncodingGuessWarning",
    "InputError",
    "InvalidParcelsError",
    "LandplanError",
    "LandplanWarning",
    "OutputExistsError",
    "Problem",
    "ProfileError",
    "ReadError",
    "SchemaError",
    "Severity",
    "merge_problems",
    "worst_severity",
]

Severity = Literal["info", "warning", "error"]
#: Severities from the least to the most severe.
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


def worst_severity(severities: Iterable[str]) -> Severity | None:
    """The most severe of *severities*, or None when there is none.

    Parameters
    ----------
    severities
        Severity names, each one of :data:`SEVERITIES`.

    Returns
    -------
    str or None
        The most severe severity present.

    Examples
    --------
    >>> worst_severity(["info", "error", "warning"]), worst_severity([])
    ('error', None)
    """
    present = set(severities)
    return next((s for s in reversed(SEVERITIES) if s in present), None)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with enough context to fix it.

    Attributes
    ----------
    code
        Stable machine-readable identifier, e.g. ``"CRS_MISSING"``.
    message
        What was found, what was expected and how to fix it.
    source
        File, layer or field the problem is about.
    severity
        ``"error"`` stops the run, ``"warning"`` and ``"info"`` are reported.
    parcels
        The parcels concerned, if any: index labels, or ``BSM … (row …)``
        where the survey's identifier is known.
    counties
        The county codes concerned, if the problem is about some counties of
        the run (``TARGET_MISSING``), in ascending order.

    Notes
    -----
    The engines that classify county by county merge the problems of the
    counties with :func:`merge_problems`, so that they report what one run
    over all parcels reports.  Identical problems become one.  A problem
    that names its counties in ``counties`` declares that its message holds
    neither them nor its parcels (nor their number): such problems merge
    when they differ only in their counties and parcels.  A problem found
    county by county should be made so.
    """

    code: str
    message: str
    source: str = ""
    severity: Severity = "error"
    parcels: tuple[object, ...] = field(default_factory=tuple)
    counties: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[object, ...]:
        """What identifies the problem among those of several runs.

        Returns
        -------
        tuple
            ``(code, source, severity, message)``, and the parcels unless
            the problem names its counties (see the class notes).
        """
        head = (self.code, self.source, self.severity, self.message)
        return head if self.counties else (*head, self.parcels)

    def __str__(self) -> str:
        """``[CODE] source: message (counties ...) (parcels ...)``, at most ten parcels named."""
        where = f"{self.source}: " if self.source else ""
        counties = f" (counties {', '.join(self.counties)})" if self.counties else ""
        ids = ""
        if self.parcels:
            shown = ", ".join(map(str, self.parcels[:10]))
            more = f" and {len(self.parcels) - 10} more" if len(self.parcels) > 10 else ""
            ids = f" (parcels {shown}{more})"
        return f"[{self.code}] {where}{self.message}{counties}{ids}"


def merge_problems(
    groups: Iterable[Iterable[Problem]],
    *,
    parcel_order: Callable[[object], Any] | None = None,
) -> list[Problem]:
    """One list from the problems of several runs (one per county): each problem once.

    Problems with the same :attr:`Problem.key` become one, naming the
    counties (sorted) and the parcels (each once) of all of them: identical
    problems, and problems naming their counties that differ only in their
    counties and parcels.  The list
    is ordered from the most to the least severe, then by code, source,
    counties and message, so that it does not depend on the order of the
    runs; a single run's problems go through it too.

    Parameters
    ----------
    groups
        The problems of each run.
    parcel_order
        Sort key of the parcels of a merged problem (their position in the
        input, say); without it they keep the order in which they were met.

    Returns
    -------
    list of Problem
        The merged problems.

    Examples
    --------
    >>> a = Problem("TARGET_MISSING", "no PBF target", "t.csv", "warning", counties=("430406",))
    >>> b = Problem("TARGET_MISSING", "no PBF target", "t.csv", "warning", counties=("430405",))
    >>> [str(p) for p in merge_problems([[a], [b, Problem("X", "bad")]])]
    ['[X] bad', '[TARGET_MISSING] t.csv: no PBF target (counties 430405, 430406)']
    """
    merged: dict[tuple[object, ...], Problem] = {}
    for problems in groups:
        for problem in problems:
            seen = merged.get(problem.key)
            if seen is None:
                merged[problem.key] = problem
                continue
            merged[problem.key] = replace(
                seen,
                counties=(*seen.counties, *problem.counties),
                parcels=(*seen.parcels, *problem.parcels),
            )
    out = []
    for problem in merged.values():
        parcels = list(dict.fromkeys(problem.parcels))
        if parcel_order is not None:
            parcels.sort(key=parcel_order)
        out.append(
            replace(problem, counties=tuple(sorted(set(problem.counties))), parcels=tuple(parcels))
        )
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(
        out, key=lambda p: (-rank.get(p.severity, 0), p.code, p.source, p.counties, p.message)
    )


class LandplanError(Exception):
    """Root of all landplan errors; carries every problem found.

    Parameters
    ----------
    problems
        The problems, or one message (with *code* and *source*) for a single one.
    code
        Code of the single problem when *problems* is a message.
    source
        File, layer or field the single problem is about.
    """

    #: Code of a problem given as a bare message.
    default_code = "ERROR"

    def __init__(
        self, problems: Sequence[Problem] | Problem | str, *, code: str = "", source: str = ""
    ) -> None:
        if isinstance(problems, str):
            problems = [Problem(code or self.default_code, problems, source)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        lines = [str(p) for p in self.problems]
        head = f"{len(lines)} problem(s) with the inputs:" if len(lines) > 1 else ""
        super().__init__("\n".join([head, *lines]) if head else (lines[0] if lines else ""))

    def __str__(self) -> str:
        """The problems, one per line, under a count when there are several."""
        return str(self.args[0]) if self.args else ""


class InputError(LandplanError, ValueError):
    """Inputs that cannot be used as they are."""

    default_code = "INPUT"


class InvalidParcelsError(InputError):
    """Parcels with error-severity problems (KCXS out of range, unknown DLBM, ...).

    Raised before anything is classified, unless such parcels are set aside
    (``skip_invalid=True``, CLI ``--skip-invalid``).
    """

    default_code = "PARCELS_INVALID"


class ReadError(LandplanError, OSError):
    """A file that cannot be read (missing, wrong format, unknown encoding)."""

    default_code = "READ"


class EncodingError(ReadError):
    """Shapefile text whose encoding cannot be decided safely."""

    default_code = "ENCODING"


class CRSError(InputError):
    """Missing or unusable coordinate reference system."""


class SchemaError(InputError):
    """Missing or malformed 三调 fields."""


class ProfileError(InputError):
    """A rule profile that cannot be loaded; carries every problem found."""


class OutputExistsError(LandplanError, FileExistsError):
    """Refusing to overwrite an existing output without ``overwrite=True``."""

    default_code = "OUTPUT_EXISTS"


class LandplanWarning(UserWarning):
    """Base class of landplan warnings."""


class EncodingGuessWarning(LandplanWarning):
    """A shapefile's encoding was guessed from its bytes."""


class DataQualityWarning(LandplanWarning):
    """Inputs were repaired or measurements could not be made for some parcels."""
