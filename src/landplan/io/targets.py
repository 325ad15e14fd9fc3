"""Per-county target files: CSV tables of 万亩 columns keyed by ``county_code``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from landplan.core.errors import InputError, Problem
from landplan.core.units import M2_PER_WANMU

__all__ = ["CountyTargets", "read_targets", "read_targets_table"]


@dataclass(frozen=True)
class CountyTargets:
    """Per-county quotas a classification fills, in m², and where they came from.

    Attributes
    ----------
    pbf_m2
        PBF protection target (附录 5 永久基本农田保护面积) per county code.
    reserve_m2
        Reserve target per county code where the source prints one
        (附录 5 储备区); counties it does not name take the profile's share
        of their PBF target.
    source
        Where the numbers came from: the file's path, or the name of a table
        shipped with landplan; quota tables name it.
    """

    pbf_m2: Mapping[str, float]
    reserve_m2: Mapping[str, float] = field(default_factory=dict)
    source: str = ""

    def check_counties(self, counties: Iterable[str]) -> None:
        """Refuse targets that name none of the parcels' counties.

        Parameters
        ----------
        counties
            County codes of the parcels being classified.

        Raises
        ------
        InputError
            ``TARGETS_NO_COUNTY``, naming the source, some of its codes and
            some of the parcels' codes.
        """
        have = {str(c) for c in counties}
        if not have or have & set(self.pbf_m2):
            return
        raise InputError(
            [
                Problem(
                    "TARGETS_NO_COUNTY",
                    f"the targets name none of the parcels' counties: targets have "
                    f"{sorted(self.pbf_m2)[:5]}, parcels have {sorted(have)[:5]}. Give the "
                    "targets file of these counties, or choose its county column with "
                    "--targets-county-column.",
                    self.source or "targets",
                )
            ]
        )


def read_targets_table(
    path: str | Path, *, required: tuple[str, ...] = ("county_code",)
) -> pd.DataFrame:
    """A targets CSV (``county_code`` plus 万亩 columns), county codes kept as text.

    Parameters
    ----------
    path
        The CSV file (UTF-8, with or without a BOM).
    required
        Columns the table must have.

    Returns
    -------
    pandas.DataFrame
        The table as read.

    Raises
    ------
    InputError
        Naming the file when it cannot be read as CSV, or every *required*
        column that is missing, with the columns present.
    """
    try:
        table = pd.read_csv(path, dtype={"county_code": str}, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            [Problem("TARGETS_UNREADABLE", f"cannot read targets: {exc}", str(path))]
        ) from None
    problems = [
        Problem(
            "TARGETS_COLUMN",
            f"no column {name!r}; columns are {list(table.columns)} "
            "(choose the target column with --targets-column)",
            str(path),
        )
        for name in required
        if name not in table
    ]
    if problems:
        raise InputError(problems)
    return table


def read_targets(path: str | Path, *, column: str = "pbf_2035_wanmu") -> dict[str, float]:
    """Per-county PBF targets in m² from a CSV with ``county_code`` and a 万亩 column.

    Parameters
    ----------
    path
        The CSV file.
    column
        The column holding the targets, in 万亩.

    Returns
    -------
    dict
        County code (text, blanks stripped) → target in m².

    Raises
    ------
    InputError
        Naming the file, the missing column and the columns present, or the
        counties whose value is not a number; or the file cannot be read.
    """
    table = read_targets_table(path, required=("county_code", column))
    values = pd.to_numeric(table[column], errors="coerce")
    bad = table.loc[values.isna(), "county_code"].tolist()
    if bad:
        raise InputError(
            [
                Problem(
                    "TARGETS_VALUE",
                    f"column {column!r} is not a number for counties {bad}",
                    str(path),
                )
            ]
        )
    codes = table["county_code"].astype(str).str.strip()
    return dict(zip(codes, values.to_numpy(dtype=float) * M2_PER_WANMU, strict=True))
