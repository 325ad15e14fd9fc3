"""Reference tables shipped with landplan (``landplan/data/*.csv``): the plan's county figures."""

from __future__ import annotations

import functools
from importlib import resources

import pandas as pd

__all__ = ["county_names", "reference_table"]


@functools.lru_cache(maxsize=16)
def _read(name: str) -> pd.DataFrame:
    with resources.files("landplan").joinpath(f"data/{name}.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"county_code": str})


def reference_table(name: str) -> pd.DataFrame:
    """A county reference table shipped with landplan.

    Parameters
    ----------
    name
        File name without ``.csv``, e.g. ``"hengyang_county_targets"``.

    Returns
    -------
    pandas.DataFrame
        A fresh copy, county codes as text.

    Examples
    --------
    >>> reference_table("hengyang_county_targets")["county_code"].iloc[0]
    '430405'
    """
    return _read(name).copy()


def county_names() -> dict[str, str]:
    """County codes and names of the cities whose plans landplan ships (衡阳, 湘潭).

    Returns
    -------
    dict
        County code → county name.

    Examples
    --------
    >>> names = county_names()
    >>> names["430421"], names["430381"]
    ('衡阳县', '湘乡市')
    """
    names: dict[str, str] = {}
    for table in ("hengyang_county_targets", "xiangtan_counties"):
        frame = _read(table)
        names.update(zip(frame["county_code"], frame["county_name"], strict=True))
    return names
