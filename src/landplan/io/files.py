"""Plain output files: CSV for Excel, XLSX workbooks, text, figures, folders.

CSV files are UTF-8 with a BOM, so that Excel on Chinese Windows shows Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ensure_directory",
    "read_bytes",
    "write_csv",
    "write_figure",
    "write_text",
    "write_xlsx",
]


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
    path = Path(path)
    ensure_directory(path.parent)
    table.to_csv(path, index=False, encoding="utf-8-sig", float_format=float_format)
    return path


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as the sheets of one XLSX workbook.

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
    path = Path(path)
    ensure_directory(path.parent)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name, index=False)
    return path


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
    path = Path(path)
    ensure_directory(path.parent)
    path.write_text(text, encoding="utf-8")
    return path


def write_figure(figure: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a matplotlib figure; the format follows the suffix (PNG, SVG ...).

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
    path = Path(path)
    ensure_directory(path.parent)
    figure.savefig(path, dpi=dpi)
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
