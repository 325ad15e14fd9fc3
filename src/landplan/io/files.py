"""Plain output files: CSV for Excel, XLSX workbooks, text, figures, folders; shipped fonts.

CSV files are UTF-8 with a BOM, so that Excel on Chinese Windows shows Chinese.
A table can be written as the plans print it (:class:`PublishedTable`): a title
row (表名), a unit row (单位：万亩), its header, the rows with a fixed number of
decimals, and notes (备注) below.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

__all__ = [
    "CJK_FONT_FILE",
    "PublishedTable",
    "ensure_directory",
    "read_bytes",
    "shipped_font",
    "subset_font",
    "text_width",
    "write_csv",
    "write_figure",
    "write_published_csv",
    "write_text",
    "write_xlsx",
]

#: The CJK font shipped in the package (a subset of Noto Sans CJK SC, SIL OFL 1.1).
CJK_FONT_FILE = "fonts/NotoSansSCLandplan-Regular.ttf"


def shipped_font(name: str = CJK_FONT_FILE) -> Path:
    """Path of a font file shipped inside the package.

    Parameters
    ----------
    name
        The file, relative to the package folder.

    Returns
    -------
    pathlib.Path
        The font file.

    Raises
    ------
    FileNotFoundError
        The file is not there (a broken or partial installation).

    Examples
    --------
    >>> shipped_font().name
    'NotoSansSCLandplan-Regular.ttf'
    """
    path = Path(str(resources.files("landplan").joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(
            f"the font {name} that ships with landplan is missing at {path}: the installation "
            "is incomplete; reinstall landplan (pip install --force-reinstall landplan)"
        )
    return path


def subset_font(text: str, name: str = CJK_FONT_FILE) -> bytes:
    """A shipped font cut down to the characters of *text* (and ASCII), as TrueType bytes.

    For embedding in a web page: a page's characters make a font of tens of
    kilobytes instead of megabytes.

    Parameters
    ----------
    text
        The characters to keep.
    name
        The font file, relative to the package folder.

    Returns
    -------
    bytes
        The subset font (TrueType).
    """
    import io

    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(shipped_font(name))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))) + "".join(map(chr, range(0x20, 0x7F))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class PublishedTable:
    """A table as a plan prints it: title, unit, header, rows, notes.

    Header cells of the form ``组-列`` are printed under a common group header
    ``组`` in XLSX (two header rows, as the plans' 附录 print them).
    """

    table: pd.DataFrame
    title: str = ""
    unit: str = ""
    notes: tuple[str, ...] = ()
    #: Decimals of every float column.
    decimals: int = 2
    #: Columns frozen at the left (codes and names), besides the header rows.
    key_columns: int = 2
    #: Rows printed in bold (0 is the first data row: the total row of the plans).
    bold_rows: tuple[int, ...] = field(default=(0,))


def ensure_directory(path: str | Path) -> Path:
    """Create a folder (and its parents) if it does not exist.

    Parameters
    ----------
    path
        The folder.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _output_path(path: str | Path) -> Path:
    """*path* as a :class:`~pathlib.Path`, its folder created."""
    path = Path(path)
    ensure_directory(path.parent)
    return path


def write_csv(table: pd.DataFrame, path: str | Path, *, float_format: str | None = "%.6f") -> Path:
    """Write a table as CSV in UTF-8 with a BOM, without the index.

    Parameters
    ----------
    table
        The table.
    path
        The file; its folder is created.
    float_format
        How floats are written; None for their shortest exact form.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = _output_path(path)
    table.to_csv(path, index=False, encoding="utf-8-sig", float_format=float_format)
    return path


def _cell_text(value: Any, decimals: int) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.{decimals}f}"
    return "" if value is None else str(value)


def write_published_csv(published: PublishedTable, path: str | Path) -> Path:
    """Write a table as the plan prints it, as CSV in UTF-8 with a BOM.

    The title is the first line, the unit (``单位：万亩``) the second, then the
    header, the rows with every float to ``decimals`` places, and the notes.

    Parameters
    ----------
    published
        The table with its title, unit and notes.
    path
        The file; its folder is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = _output_path(path)
    table = published.table
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        for line in (published.title, published.unit and f"单位：{published.unit}"):
            if line:
                writer.writerow([line])
        writer.writerow([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            writer.writerow([_cell_text(v, published.decimals) for v in row])
        for note in published.notes:
            writer.writerow([note])
    return path


def text_width(text: str) -> int:
    """Width of *text* in Excel's character units: CJK and full-width characters count 2.

    Parameters
    ----------
    text
        The text.

    Returns
    -------
    int
        Its width.

    Examples
    --------
    >>> text_width("衡阳县"), text_width("0.35")
    (6, 4)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(sheets: Mapping[str, pd.DataFrame | PublishedTable], path: str | Path) -> Path:
    """Write tables as the sheets of one XLSX workbook.

    A :class:`PublishedTable` is laid out as the plans print it: the title
    merged over the table, the unit right-aligned below it, the header (two
    rows where headers are grouped as ``组-列``) frozen together with the key
    columns, floats shown to ``decimals`` places (number format ``0.00``, the
    value kept), columns as wide as their content and the notes below.

    Parameters
    ----------
    sheets
        Sheet name → table.
    path
        The workbook; its folder is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = _output_path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, sheet in sheets.items():
            if isinstance(sheet, PublishedTable):
                _write_published_sheet(writer.book.create_sheet(name), sheet)
            else:
                sheet.to_excel(writer, sheet_name=name, index=False)
    return path


def _write_published_sheet(sheet: Worksheet, published: PublishedTable) -> None:
    """Lay out one published table on an empty worksheet."""
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

    table = published.table
    ncols = max(len(table.columns), 1)
    row = 1
    if published.title:
        sheet.cell(row, 1, published.title).font = Font(bold=True, size=14)
        sheet.cell(row, 1).alignment = Alignment(horizontal="center")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        row += 1
    if published.unit:
        sheet.cell(row, 1, f"单位：{published.unit}").alignment = Alignment(horizontal="right")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        row += 1
    first_data = _write_header(sheet, [str(c) for c in table.columns], row)
    number_format = "0." + "0" * published.decimals if published.decimals else "0"
    for i, values in enumerate(table.itertuples(index=False)):
        for j, value in enumerate(values, start=1):
            cell = sheet.cell(first_data + i, j)
            if isinstance(value, float):
                cell.value = None if math.isnan(value) else value
                cell.number_format = number_format
            else:
                cell.value = None if value is None or value == "" else str(value)
            if i in published.bold_rows:
                cell.font = Font(bold=True)
    last = first_data + len(table)
    for k, note in enumerate(published.notes):
        cell = sheet.cell(last + k, 1, note)
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        sheet.merge_cells(start_row=last + k, start_column=1, end_row=last + k, end_column=ncols)
        sheet.row_dimensions[last + k].height = 15 * max(1, math.ceil(text_width(note) / 100))
    header_lines = _set_widths(sheet, published)
    for r in range(row, first_data):
        sheet.row_dimensions[r].height = 15 * header_lines
    sheet.freeze_panes = sheet.cell(first_data, published.key_columns + 1)


def _write_header(sheet: Worksheet, headers: Sequence[str], row: int) -> int:
    """Header cells from *row* on, ``组-列`` under a merged ``组``; the first data row."""
    from openpyxl.styles import Alignment, Font

    split = [h.split("-", 1) if "-" in h else [h] for h in headers]
    levels = 2 if any(len(s) == 2 for s in split) else 1
    style = Alignment(horizontal="center", vertical="center", wrap_text=True)
    j = 0
    while j < len(split):
        parts = split[j]
        if len(parts) == 1:
            sheet.cell(row, j + 1, parts[0])
            if levels == 2:
                sheet.merge_cells(
                    start_row=row, start_column=j + 1, end_row=row + 1, end_column=j + 1
                )
            j += 1
            continue
        end = j
        while end + 1 < len(split) and len(split[end + 1]) == 2 and split[end + 1][0] == parts[0]:
            end += 1
        sheet.cell(row, j + 1, parts[0])
        if end > j:
            sheet.merge_cells(start_row=row, start_column=j + 1, end_row=row, end_column=end + 1)
        for k in range(j, end + 1):
            sheet.cell(row + 1, k + 1, split[k][1])
        j = end + 1
    for r in range(row, row + levels):
        for c in range(1, len(headers) + 1):
            sheet.cell(r, c).font = Font(bold=True)
            sheet.cell(r, c).alignment = style
    return row + levels


def _set_widths(sheet: Worksheet, published: PublishedTable) -> int:
    """Each column as wide as its longest value, headers wrapped; the header lines needed."""
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    table = published.table
    header_lines = 1
    for j, column in enumerate(table.columns, start=1):
        header = str(column).split("-", 1)[-1]
        values = [_cell_text(v, published.decimals) for v in table[column]]
        content = max((text_width(v) for v in values), default=0)
        width = max(content, min(text_width(header), 14), 6) + 2
        sheet.column_dimensions[get_column_letter(j)].width = width
        header_lines = max(header_lines, math.ceil(text_width(header) / (width - 1)))
    return header_lines


def write_text(text: str, path: str | Path) -> Path:
    """Write UTF-8 text.

    Parameters
    ----------
    text
        The text.
    path
        The file; its folder is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = _output_path(path)
    path.write_text(text, encoding="utf-8")
    return path


def write_figure(figure: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a matplotlib figure, cropped to what is drawn; the format follows the suffix.

    Parameters
    ----------
    figure
        The figure.
    path
        The file; its folder is created.
    dpi
        Resolution of raster formats.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = _output_path(path)
    figure.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.15)
    return path


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a file.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    bytes
        Its content.
    """
    return Path(path).read_bytes()
