"""Errors, warnings and the :class:`Problem` record.

One root exception, :class:`LandplanError`; each subclass also inherits the
built-in exception a caller would naturally catch (``ValueError``,
``OSError`` ...), as rasterio does.  Input checks never stop at the first
problem: they collect :class:`Problem` records and raise them together in an
:class:`InputError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with enough context to fix it.

    Parameters
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
        Identifiers (index labels) of the parcels concerned, if any.
    """

    code: str
    message: str
    source: str = ""
    severity: Severity = "error"
    parcels: tuple[object, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        ids = ""
        if self.parcels:
            shown = ", ".join(map(str, self.parcels[:10]))
            more = f" and {len(self.parcels) - 10} more" if len(self.parcels) > 10 else ""
            ids = f" (parcels {shown}{more})"
        return f"[{self.code}] {where}{self.message}{ids}"


class LandplanError(Exception):
    """Root of all landplan errors."""


class InputError(LandplanError, ValueError):
    """Inputs that cannot be used as they are; carries every problem found."""

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("INPUT", problems)]
        self.problems: list[Problem] = list(problems)
        lines = [str(p) for p in self.problems]
        head = f"{len(lines)} problem(s) with the inputs:" if len(lines) > 1 else ""
        super().__init__("\n".join([head, *lines]) if head else lines[0])


class ReadError(LandplanError, OSError):
    """A file that cannot be read (missing, wrong format, unknown encoding)."""


class EncodingError(ReadError):
    """Shapefile text whose encoding cannot be decided safely."""


class CRSError(InputError):
    """Missing or unusable coordinate reference system."""


class SchemaError(InputError):
    """Missing or malformed 三调 fields."""


class ProfileError(InputError):
    """A rule profile that cannot be loaded; carries every problem found."""


class OutputExistsError(LandplanError, FileExistsError):
    """Refusing to overwrite an existing output without ``overwrite=True``."""


class LandplanWarning(UserWarning):
    """Base class of landplan warnings."""


class EncodingGuessWarning(LandplanWarning):
    """A shapefile's encoding was guessed from its bytes."""


class DataQualityWarning(LandplanWarning):
    """Inputs were repaired or measurements could not be made for some parcels."""


def raise_if_errors(problems: Iterable[Problem], error: type[InputError] = InputError) -> None:
    """Raise *error* carrying every problem of severity ``"error"``, if any."""
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise error(errors)
