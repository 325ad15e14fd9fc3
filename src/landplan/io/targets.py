"""Per-county target tables as users have them: CSV or XLSX, English or Chinese headers.

A targets table has one row per county: its code, maybe its name, and areas.
landplan reads

- CSV in UTF-8 (with or without a BOM), UTF-16 with a BOM, or GBK/GB18030 as
  Chinese Excel saves it (:func:`~landplan.io.encoding.decode_text`; never
  guessed wrongly, never garbled), comma- or tab-separated;
- XLSX workbooks: the first sheet holding a county-code column;
- a header row anywhere in the first ten rows (a title above it is skipped).

Headers are recognised by :data:`TARGET_HEADERS` (spaces, case and full-width
brackets ignored) and renamed to landplan's names.  A unit in brackets after
a header, ``永久基本农田保护面积（公顷）``, is converted: 万亩, 亩, 公顷/hm²/ha
and 平方米/m²; without one, areas are in 万亩.  County codes are six digits;
codes padded with zeros to 9 or 12 digits (``430405000000``) are read as their
first six.  Total rows (合计, 全市 ...) are dropped.  Every problem names the
file, the row (as a spreadsheet numbers it), the value and the fix.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeAlias

import numpy as np
import pandas as pd

from landplan.core.errors import InputError, LandplanError, Problem, ReadError
from landplan.core.units import M2_PER_HA, M2_PER_MU, M2_PER_WANMU
from landplan.io.encoding import decode_text

__all__ = [
    "PBF_COLUMN",
    "RESERVE_COLUMN",
    "TARGET_HEADERS",
    "CountyTargets",
    "TargetsInput",
    "load_targets",
    "read_targets",
    "read_targets_table",
]

#: Default column of the PBF targets (万亩).
PBF_COLUMN = "pbf_2035_wanmu"
#: Column of the reserve targets (万亩), used where present.
RESERVE_COLUMN = "pbf_reserve_wanmu"

#: landplan's column name → the headers recognised for it.
TARGET_HEADERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "county_code": (
            "county_code",
            "行政区代码",
            "县级行政区代码",
            "行政区划代码",
            "县级行政区划代码",
            "行政代码",
        ),
        "county_name": (
            "county_name",
            "行政区名称",
            "县级行政区名称",
            "行政区划名称",
            "县级行政区划名称",
            "行政区",
        ),
        PBF_COLUMN: (
            PBF_COLUMN,
            "永久基本农田保护面积",
            "永久基本农田保护目标",
            "永久基本农田保护任务",
            "永久基本农田面积",
            "保护目标",
        ),
        RESERVE_COLUMN: (
            RESERVE_COLUMN,
            "储备区",
            "储备区面积",
            "永久基本农田储备区",
            "永久基本农田储备区面积",
        ),
        "protection_target_2035_wanmu": (
            "protection_target_2035_wanmu",
            "耕地保护目标",
            "耕地保有量",
        ),
    }
)
#: Columns read as areas in 万亩 (converted from the unit a header names).
_AREA_COLUMNS = (PBF_COLUMN, RESERVE_COLUMN, "protection_target_2035_wanmu")
#: Units a header may name in brackets, in m².
_UNITS = MappingProxyType(
    {
        "万亩": M2_PER_WANMU,
        "亩": M2_PER_MU,
        "公顷": M2_PER_HA,
        "hm2": M2_PER_HA,
        "hm²": M2_PER_HA,
        "ha": M2_PER_HA,
        "平方米": 1.0,
        "m2": 1.0,
        "m²": 1.0,
    }
)
_UNIT_RE = re.compile(r"^(?P<name>.*?)[(（](?P<unit>[^)）]*)[)）]$")
_TOTALS = ("合计", "总计", "小计", "全市", "全省", "全县", "total")
_HEADER_SEARCH_ROWS = 10
_COUNTY_FIX = (
    "Give county codes of six digits (430405), or padded with zeros to 9 or 12 digits "
    "(430405000, 430405000000); a 9- or 12-digit code not ending in zeros is a township "
    "or village, not a county. Or choose the county-code column with "
    "--targets-county-column (targets_county_column=)."
)

#: Targets as :func:`load_targets` takes them: a file, a table (万亩) or county → m².
TargetsInput: TypeAlias = "str | Path | pd.DataFrame | Mapping[str, float]"


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
            Problem(
                "TARGETS_NO_COUNTY",
                "the targets name none of the parcels' counties: the targets have "
                f"{_some(self.pbf_m2)}, the parcels are in {_some(have)}. Give the targets "
                "of these counties, or choose the targets' county-code column with "
                "--targets-county-column (targets_county_column=).",
                self.source or "targets",
            )
        )


def _some(codes: Iterable[str], shown: int = 5) -> str:
    ordered = sorted(codes)
    head = ", ".join(ordered[:shown])
    more = f" and {len(ordered) - shown} more" if len(ordered) > shown else ""
    return f"{len(ordered)} count{'y' if len(ordered) == 1 else 'ies'} ({head}{more})"


def _header_key(header: object) -> tuple[str, float | None]:
    """Header without spaces and case, and the m² per unit named in its brackets.

    Examples
    --------
    >>> _header_key(" 永久基本农田保护面积（公顷） ")
    ('永久基本农田保护面积', 10000.0)
    >>> _header_key("County_Code")
    ('county_code', None)
    """
    text = re.sub(r"\s+", "", str(header)).lower()
    match = _UNIT_RE.match(text)
    if match and match["unit"] in _UNITS:
        return match["name"], _UNITS[match["unit"]]
    return text, None


_RECOGNISED = {_header_key(h)[0]: name for name, headers in TARGET_HEADERS.items() for h in headers}


def _recognise(
    columns: Iterable[object], chosen: Mapping[str, str], keep: str | None
) -> dict[str, str]:
    """Header → landplan name, for the headers recognised or *chosen* (name → header).

    The header *keep* (a column the caller named) keeps its name.
    """
    names = {str(header): name for name, header in chosen.items()}
    if keep is not None:
        names.setdefault(keep, keep)
    taken = set(names.values())
    for header in map(str, columns):
        name = _RECOGNISED.get(_header_key(header)[0])
        if header not in names and name is not None and name not in taken:
            names[header] = name
            taken.add(name)
    return names


def _read_cells(path: Path, county_column: str | None) -> pd.DataFrame:
    """Every cell of the file as text, no header, rows numbered as a spreadsheet does."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ReadError(
            "an Excel 97-2003 workbook (.xls) cannot be read; save it as .xlsx or CSV.",
            code="TARGETS_UNREADABLE",
            source=str(path),
        )
    try:
        if suffix in {".xlsx", ".xlsm"}:
            cells = _first_sheet_with_codes(path, county_column)
        else:
            cells = _read_csv_cells(path)
    except LandplanError:
        raise
    except Exception as exc:  # csv, openpyxl and zipfile raise many kinds
        raise ReadError(
            f"cannot read the targets: {exc}. Give a CSV or an .xlsx workbook.",
            code="TARGETS_UNREADABLE",
            source=str(path),
        ) from None
    if cells.empty:
        raise ReadError(
            "the file holds no table. Give a CSV or an .xlsx workbook with a header row "
            "and one row per county.",
            code="TARGETS_UNREADABLE",
            source=str(path),
        )
    cells.index = pd.RangeIndex(1, len(cells) + 1, name="row")
    return cells.fillna("").astype(str)


def _read_csv_cells(path: Path) -> pd.DataFrame:
    text, _ = decode_text(path.read_bytes(), str(path))
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = "\t" if "\t" in first and "," not in first else ","
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep))
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)


def _first_sheet_with_codes(path: Path, county_column: str | None) -> pd.DataFrame:
    sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
    for cells in sheets.values():
        if _header_row(cells.fillna(""), county_column) is not None:
            return cells
    return next(iter(sheets.values())) if sheets else pd.DataFrame()


def _header_row(cells: pd.DataFrame, county_column: str | None) -> int | None:
    """Position of the first row (of the first ten) holding a county-code header."""
    wanted = (
        {_header_key(county_column)[0]}
        if county_column
        else {_header_key(h)[0] for h in TARGET_HEADERS["county_code"]}
    )
    for position in range(min(_HEADER_SEARCH_ROWS, len(cells))):
        if any(_header_key(v)[0] in wanted for v in cells.iloc[position]):
            return position
    return None


def _with_header(cells: pd.DataFrame, county_column: str | None) -> pd.DataFrame:
    """The rows under the header row, named by it; blank rows dropped."""
    position = _header_row(cells, county_column) or 0
    headers = [str(h).strip() or f"column {j + 1}" for j, h in enumerate(cells.iloc[position])]
    table = cells.iloc[position + 1 :].copy()
    table.columns = pd.Index(_unique(headers))
    blank = (table.apply(lambda c: c.str.strip()) == "").all(axis=1)
    return table[~blank]


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        out.append(header if seen[header] == 1 else f"{header}.{seen[header] - 1}")
    return out


def _missing_column(source: str, name: str, columns: Iterable[object], option: str) -> Problem:
    known = ", ".join(TARGET_HEADERS.get(name, (name,)))
    return Problem(
        "TARGETS_COLUMN",
        f"no column {name!r} (recognised headers: {known}); columns are "
        f"{[str(c) for c in columns]}. Rename the column, or choose it with {option}.",
        source,
    )


def _text(values: pd.Series) -> pd.Series:
    return values.where(values.notna(), "").astype(str).str.strip()


def _county_codes(values: pd.Series, source: str) -> pd.Series:
    """Six-digit county codes; zero-padded 9/12-digit codes cut to six; others refused."""
    text = _text(values).str.replace(r"\.0+$", "", regex=True)
    good = text.str.fullmatch(r"\d{6}(?:000|000000)?")
    if not good.all():
        bad = [f"row {row}: {value!r}" for row, value in text[~good].items()]
        raise InputError(
            Problem(
                "TARGETS_COUNTY_CODE",
                f"county code not a county code in {len(bad)} row(s): "
                f"{'; '.join(bad[:10])}{' ...' if len(bad) > 10 else ''}. {_COUNTY_FIX}",
                source,
            )
        )
    return text.str[:6]


def _drop_totals(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rows without a county: totals (合计, 全市 ...) dropped, others refused."""
    code = _text(table["county_code"])
    name = _text(table["county_name"]) if "county_name" in table else code
    total = pd.Series(
        [any(t in f"{c} {n}".lower() for t in _TOTALS) for c, n in zip(code, name, strict=True)],
        index=table.index,
    )
    blank = (code == "") & ~total
    if blank.any():
        rows = ", ".join(map(str, table.index[blank][:10]))
        raise InputError(
            Problem(
                "TARGETS_COUNTY_CODE",
                f"rows {rows} have figures but no county code. Fill in the code, or delete "
                "the rows.",
                source,
            )
        )
    return table[~total]


def _numbers(values: pd.Series, column: str, source: str) -> pd.Series:
    """Non-negative numbers of a column; blank cells NaN, anything else refused."""
    text = _text(values).str.replace(",", "", regex=False)
    blank = text.isin(["", "-", "—", "nan", "None", "<NA>"])
    numbers = pd.to_numeric(text.mask(blank), errors="coerce").astype(float)
    bad = (numbers.isna() & ~blank) | ~np.isfinite(numbers.fillna(0.0)) | (numbers < 0)
    if bad.any():
        cells = "; ".join(f"row {r}: {v!r}" for r, v in values[bad].head(10).items())
        raise InputError(
            Problem(
                "TARGETS_VALUE",
                f"column {column!r} needs areas (non-negative numbers), found {cells}. "
                "Correct the cells.",
                source,
            )
        )
    return numbers


def _areas_in_wanmu(values: pd.Series, m2_per_unit: float, column: str, source: str) -> pd.Series:
    """An area column converted to 万亩 from the unit its header names."""
    numbers = _numbers(values, column, source)
    return numbers if m2_per_unit == M2_PER_WANMU else numbers * (m2_per_unit / M2_PER_WANMU)


def _normalize(
    table: pd.DataFrame, source: str, *, county_column: str | None, column: str | None
) -> pd.DataFrame:
    """Recognised headers renamed, areas in 万亩, county codes of six digits."""
    chosen = {"county_code": county_column} if county_column else {}
    if county_column and county_column not in table:
        raise InputError(
            _missing_column(source, county_column, table.columns, "--targets-county-column")
        )
    names = _recognise(table.columns, chosen, column if column in table else None)
    units = {names.get(str(h), str(h)): _header_key(h)[1] for h in table.columns}
    table = table.rename(columns={h: n for h, n in names.items() if n != h})
    if "county_code" not in table:
        raise InputError(
            _missing_column(source, "county_code", table.columns, "--targets-county-column")
        )
    table = _drop_totals(table, source)
    table["county_code"] = _county_codes(table["county_code"], source)
    for name in {*_AREA_COLUMNS, *([column] if column else [])} & set(table.columns):
        table[name] = _areas_in_wanmu(table[name], units[name] or M2_PER_WANMU, name, source)
    duplicated = table["county_code"].duplicated(keep=False)
    if duplicated.any():
        rows = [f"row {r}: {c}" for r, c in table.loc[duplicated, "county_code"].items()]
        raise InputError(
            Problem(
                "TARGETS_DUPLICATE",
                f"counties listed more than once: {'; '.join(rows[:10])}. Keep one row per county.",
                source,
            )
        )
    return table


def read_targets_table(
    path: str | Path | pd.DataFrame,
    *,
    required: tuple[str, ...] = ("county_code",),
    county_column: str | None = None,
    column: str | None = None,
) -> pd.DataFrame:
    """A targets table with landplan's column names, county codes of six digits, areas in 万亩.

    Parameters
    ----------
    path
        A CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030) or XLSX
        file, or a table already in memory.
    required
        Columns the table must have, by landplan's names.
    county_column
        The header of the county-code column, when it is none of the
        recognised ones (:data:`TARGET_HEADERS`).
    column
        A further area column to read as 万亩 (the PBF column the caller chose).

    Returns
    -------
    pandas.DataFrame
        Recognised columns renamed (``county_code``, ``county_name``,
        ``pbf_2035_wanmu``, ``pbf_reserve_wanmu``,
        ``protection_target_2035_wanmu``), other columns kept; area columns in
        万亩 (NaN where blank); total rows dropped; indexed by the row number
        in the file.

    Raises
    ------
    ReadError
        ``TARGETS_UNREADABLE`` when the file cannot be read, or
        ``TEXT_ENCODING`` when its text is neither UTF-8 nor GB18030.
    InputError
        ``TARGETS_COLUMN`` naming a missing column and the columns present;
        ``TARGETS_COUNTY_CODE``, ``TARGETS_VALUE`` or ``TARGETS_DUPLICATE``
        naming the rows and the values found.

    Examples
    --------
    >>> table = pd.DataFrame(
    ...     {"行政区代码": ["430405000000"], "永久基本农田保护面积（亩）": [15000]}
    ... )
    >>> read_targets_table(table).to_dict("records")
    [{'county_code': '430405', 'pbf_2035_wanmu': 1.5}]
    """
    if isinstance(path, pd.DataFrame):
        source = "targets table"
        cells = path.copy()
        cells.columns = pd.Index([str(c) for c in cells.columns])
    else:
        source = str(path)
        if not Path(path).exists():
            raise ReadError("no such file", code="TARGETS_UNREADABLE", source=source)
        cells = _with_header(_read_cells(Path(path), county_column), county_column)
    table = _normalize(cells, source, county_column=county_column, column=column)
    problems = [
        _missing_column(source, name, table.columns, "--targets-column")
        for name in required
        if name not in table
    ]
    if problems:
        raise InputError(problems)
    return table


def read_targets(
    path: str | Path | pd.DataFrame,
    *,
    column: str = PBF_COLUMN,
    county_column: str | None = None,
) -> dict[str, float]:
    """Per-county PBF targets in m² from a targets file or table in 万亩.

    Parameters
    ----------
    path
        The file (see :func:`read_targets_table`) or a table in memory.
    column
        The column of the PBF targets; the default also matches the
        recognised Chinese headers (:data:`TARGET_HEADERS`).
    county_column
        The header of the county-code column, when it is not recognised.

    Returns
    -------
    dict
        County code (six digits) → target in m².

    Raises
    ------
    InputError
        Naming the file, the missing column and the columns present, or the
        counties whose value is blank or not a number.
    ReadError
        The file cannot be read.
    """
    return dict(_load(path, column=column, county_column=county_column).pbf_m2)


def _load(
    targets: str | Path | pd.DataFrame, *, column: str, county_column: str | None
) -> CountyTargets:
    table = read_targets_table(
        targets, required=("county_code", column), county_column=county_column, column=column
    )
    source = "targets table" if isinstance(targets, pd.DataFrame) else str(targets)
    blank = table[column].isna()
    if blank.any():
        rows = "; ".join(f"row {r}: {c}" for r, c in table.loc[blank, "county_code"].items())
        raise InputError(
            Problem(
                "TARGETS_VALUE",
                f"column {column!r} is blank for counties {rows}. Fill in their targets or "
                "delete the rows (counties without a row take the profile's default).",
                source,
            )
        )
    codes = table["county_code"].astype(str)
    pbf = dict(zip(codes.tolist(), (table[column] * M2_PER_WANMU).tolist(), strict=True))
    reserve: dict[str, float] = {}
    if RESERVE_COLUMN in table and column != RESERVE_COLUMN:
        given = table[RESERVE_COLUMN].notna()
        values = table.loc[given, RESERVE_COLUMN] * M2_PER_WANMU
        reserve = dict(zip(codes[given].tolist(), values.tolist(), strict=True))
    return CountyTargets(pbf, reserve, source)


def load_targets(
    targets: TargetsInput | CountyTargets | None,
    *,
    column: str = PBF_COLUMN,
    county_column: str | None = None,
) -> CountyTargets | None:
    """Per-county targets from a file, a table or a mapping, as classify uses them.

    Parameters
    ----------
    targets
        A targets file or table in 万亩 (see :func:`read_targets_table`), a
        mapping county code → PBF target in m², or targets already loaded.
    column
        The column of the PBF targets.
    county_column
        The header of the county-code column, when it is not recognised.

    Returns
    -------
    CountyTargets or None
        PBF targets, reserve targets where the table has a reserve column
        (``pbf_reserve_wanmu`` or 储备区 ...), and the source; None without
        *targets*.

    Raises
    ------
    InputError
        A malformed table (see :func:`read_targets_table`), or a mapping
        whose keys are not county codes or whose values are not areas.
    ReadError
        A file that cannot be read.

    Examples
    --------
    >>> load_targets({"430405000000": 2e6}).pbf_m2
    {'430405': 2000000.0}
    """
    if targets is None or isinstance(targets, CountyTargets):
        return targets
    if isinstance(targets, str | Path | pd.DataFrame):
        return _load(targets, column=column, county_column=county_column)
    source = "targets mapping"
    keys = pd.Series([str(k) for k in targets], index=pd.Index(list(targets), name="row"))
    codes = _county_codes(keys, source)
    values = _numbers(pd.Series(list(targets.values()), index=keys.index), "targets", source)
    if values.isna().any():
        raise InputError(
            Problem("TARGETS_VALUE", "a target is blank; give m² for every county.", source)
        )
    return CountyTargets(dict(zip(codes.tolist(), values.tolist(), strict=True)), source=source)
