"""Errors, warnings, severities and the :class:`Problem` record.

One root exception, :class:`LandplanError`; each subclass also inherits the
built-in exception a caller would naturally catch (``ValueError``,
``OSError`` ...), as rasterio does.  Every landplan error carries
:class:`Problem` records (code, message, source, parcels) and renders them as
readable text.  Input checks never stop at the first problem: they collect
the records and raise them together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

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
    """

    code: str
    message: str
    source: str = ""
    severity: Severity = "error"
    parcels: tuple[object, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        """``[CODE] source: message (parcels ...)``, at most ten parcels named."""
        where = f"{self.source}: " if self.source else ""
        ids = ""
        if self.parcels:
            shown = ", ".join(map(str, self.parcels[:10]))
            more = f" and {len(self.parcels) - 10} more" if len(self.parcels) > 10 else ""
            ids = f" (parcels {shown}{more})"
        return f"[{self.code}] {where}{self.message}{ids}"


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
