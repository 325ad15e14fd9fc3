"""County totals: sums by county with ha, mu and 万亩, and a city total row.

Totals are summed from unrounded values; rounding is for display only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .synthetic.landscape import reference_table

#: m² per unit.
M2_PER_HA = 1e4
M2_PER_MU = 1e4 / 15
M2_PER_WANMU = 1e4 * M2_PER_MU
CITY_TOTAL = "全市"


def county_names() -> dict[str, str]:
    """Hengyang county codes and names from the shipped reference table."""
    table = reference_table("hengyang_county_targets")
    return dict(zip(table["county_code"], table["county_name"], strict=True))


def with_units(table: pd.DataFrame, area_m2_column: str, prefix: str) -> pd.DataFrame:
    """Add ``<prefix>_ha``, ``<prefix>_mu`` and ``<prefix>_wanmu`` from an m² column.

    Examples
    --------
    >>> t = with_units(pd.DataFrame({"a": [666_666.67]}), "a", "area")
    >>> [round(float(t[c].iloc[0]), 2) for c in ("area_ha", "area_mu", "area_wanmu")]
    [66.67, 1000.0, 0.1]
    """
    out = table.copy()
    m2 = out[area_m2_column].to_numpy(dtype=float)
    out[f"{prefix}_ha"] = m2 / M2_PER_HA
    out[f"{prefix}_mu"] = m2 / M2_PER_MU
    out[f"{prefix}_wanmu"] = m2 / M2_PER_WANMU
    return out


def add_total_row(table: pd.DataFrame, *, key: str = "county_code") -> pd.DataFrame:
    """Append a city total row summing every numeric column (from unrounded values)."""
    numeric = table.select_dtypes(include=[np.number]).columns
    total = {c: table[c].sum() for c in numeric}
    total[key] = CITY_TOTAL
    if "county_name" in table:
        total["county_name"] = CITY_TOTAL
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def summarize_measures_by_county(attributes: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Per-county figures of a measured parcel layer, with a city total row.

    Columns: parcels, total area, farmland parcels and area (after KCXS) in
    ha and 万亩, farmland area steeper than 25° and in the ecological redline
    (when measured).
    """
    farm = attributes["IS_FARMLAND"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "county_code": attributes["COUNTY"].to_numpy(),
            "parcels": 1,
            "area_m2": measures["area_m2"].to_numpy(),
            "farmland_parcels": farm.astype(int),
            "farmland_m2": np.where(farm, measures["dlmj_m2"].to_numpy(), 0.0),
        }
    )
    if "slope_gt25_share" in measures:
        frame["farmland_gt25_m2"] = (
            frame["farmland_m2"] * measures["slope_gt25_share"].fillna(0).to_numpy()
        )
    if "os_eco" in measures:
        frame["farmland_eco_m2"] = frame["farmland_m2"] * measures["os_eco"].to_numpy()
    table = frame.groupby("county_code", sort=True).sum().reset_index()
    table.insert(1, "county_name", table["county_code"].map(county_names()).fillna(""))
    table = add_total_row(table)
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table = with_units(table, column, column[:-3])
    return table


def class_totals(county: pd.Series, lp_class: pd.Series, area_m2: pd.Series) -> pd.DataFrame:
    """Long table county × class: parcels and area in m², ha, mu and 万亩, with city rows.

    Every class appears for every county (zero rows included), in palette
    order; city rows (``county_code`` = 全市) sum the unrounded county values.
    """
    from .palette import CLASS_CODES

    frame = pd.DataFrame(
        {
            "county_code": county.astype(str).to_numpy(),
            "lp_class": lp_class.to_numpy(),
            "parcels": 1,
            "area_m2": area_m2.to_numpy(dtype=float),
        }
    )
    grouped = frame.groupby(["county_code", "lp_class"]).sum()
    counties = sorted(frame["county_code"].unique())
    full = pd.MultiIndex.from_product(
        [counties, list(CLASS_CODES)], names=["county_code", "lp_class"]
    )
    table = grouped.reindex(full, fill_value=0).reset_index()
    city = table.groupby("lp_class", sort=False)[["parcels", "area_m2"]].sum().reset_index()
    city.insert(0, "county_code", CITY_TOTAL)
    table = pd.concat([table, city], ignore_index=True)
    table.insert(
        1,
        "county_name",
        table["county_code"].map({**county_names(), CITY_TOTAL: CITY_TOTAL}).fillna(""),
    )
    return with_units(table, "area_m2", "area")


def target_delineation(
    county: pd.Series, farmland: pd.Series, area_m2: pd.Series, t_hits: pd.DataFrame
) -> pd.DataFrame:
    """附录 2 耕地保护目标划定情况表: current farmland, protection target, exclusions by T rule.

    A parcel excluded by several T rules is counted once, under the first of
    them in profile order, so the breakdown adds up to the excluded total.
    """
    is_farm = farmland.to_numpy(dtype=bool)
    hits = t_hits.to_numpy(dtype=bool) & is_farm[:, None]
    excluded = hits.any(axis=1)
    first = np.where(excluded, hits.argmax(axis=1), -1)
    area = np.nan_to_num(area_m2.to_numpy(dtype=float))
    frame = pd.DataFrame(
        {
            "county_code": county.astype(str).to_numpy(),
            "farmland_m2": np.where(is_farm, area, 0.0),
            "protection_target_m2": np.where(is_farm & ~excluded, area, 0.0),
            "excluded_m2": np.where(excluded, area, 0.0),
        }
    )
    for j, rule_id in enumerate(t_hits.columns):
        frame[f"{rule_id}_m2"] = np.where(first == j, area, 0.0)
    table = frame.groupby("county_code", sort=True).sum().reset_index()
    table.insert(1, "county_name", table["county_code"].map(county_names()).fillna(""))
    table = add_total_row(table)
    for column in [c for c in table.columns if c.endswith("_m2")]:
        table[column[:-3] + "_wanmu"] = table[column] / M2_PER_WANMU
    return table
