"""PBF delineation from the existing PBF (003 ch.4 §1), worked by hand on four squares.

Four 100 m × 100 m paddies of 衡阳县 side by side (parcel i spans x = 100 i … 100 (i + 1));
the existing-PBF layer is drawn from parcels, as real 永久基本农田图斑 are.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from landplan.api import classify
from landplan.core.units import M2_PER_WANMU

from .conftest import GK38, square_parcels

X0, Y0 = 500_000.0, 3_000_000.0


def squares(*columns: int) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [box(X0 + 100 * c, Y0, X0 + 100 * (c + 1), Y0 + 100) for c in columns], crs=GK38
    )


def four() -> gpd.GeoDataFrame:
    # 专栏 4-1 order among parcels outside any layer: better quality grade GDDB first
    return square_parcels(4, 1, GDDB=[5, 5, 9, 3])


def areas() -> np.ndarray:
    return classify(four()).measurement.table["dlmj_m2"].to_numpy()


def test_a_county_above_its_target_keeps_all_its_eligible_pbf() -> None:
    """003 ch.4 §1: 原永久基本农田范围内的可以长期稳定利用耕地布局保持总体稳定 — the target
    (附录5 永久基本农田保护面积) is a floor, so good existing PBF is not dropped to meet it."""
    a = areas()
    result = classify(
        four(), layers={"pbf_existing": squares(0, 1, 2)}, targets={"430421": float(a[0])}
    )
    assert result.parcels["lp_class"].tolist()[:3] == ["PBF", "PBF", "PBF"]
    assert result.parcels["lp_class"].tolist()[3] != "PBF"
    assert result.parcels["lp_pbf_change"].tolist() == ["KEPT", "KEPT", "KEPT", ""]


def test_a_county_below_its_target_keeps_what_passes_and_adds_in_priority_order() -> None:
    """Parcel 1 of the existing PBF lies in the ecological redline (P_ECO_REDLINE: 三条控制线
    不交叉不重叠) and leaves; 补划 tops up the shortfall from the best-ranked other farmland:
    parcel 3 (GDDB 3) before parcel 2 (GDDB 9)."""
    a = areas()
    target = float(a[0] + 0.5 * a[3])  # parcel 0 kept, half a parcel short
    result = classify(
        four(),
        layers={"pbf_existing": squares(0, 1), "eco_redline": squares(1)},
        targets={"430421": target},
    )
    # parcel 2 is the reserve (1 % of the target, 专栏 4-2: next to PBF); 1 is in the redline
    assert result.parcels["lp_class"].tolist() == ["PBF", "GENERAL", "RESERVE", "PBF"]
    assert result.parcels["lp_pbf_change"].tolist() == ["KEPT", "REMOVED", "", "ADDED"]
    assert "P_ECO_REDLINE" in result.parcels["lp_reasons"].iloc[1].split(";")
    changes = result.pbf_changes
    county = changes[changes["county_code"] == "430421"].iloc[0]
    assert county["kept_m2"] == pytest.approx(a[0])
    assert county["removed_m2"] == pytest.approx(a[1])
    assert county["removed_P_ECO_REDLINE_m2"] == pytest.approx(a[1])
    assert county["added_m2"] == pytest.approx(a[3])
    assert county["balance_wanmu"] == pytest.approx((a[3] - a[1]) / M2_PER_WANMU)


def test_a_may_exit_case_keeps_existing_pbf_but_draws_no_new_pbf_there() -> None:
    """003 ch.4 §1 调出 (4): 城镇开发边界内零星分布的 … 可调出 (may, not must); 004 专栏4-1
    keeps 开天窗 PBF.  New PBF is never drawn inside the boundary (004: 补划的永久基本农田
    …与…城镇开发边界不交叉、不重叠)."""
    a = areas()
    result = classify(
        four(),
        layers={"pbf_existing": squares(0), "dev_boundary": squares(0, 3)},
        targets={"430421": float(a[0] + a[1])},
    )
    classes = result.parcels["lp_class"].tolist()
    assert classes[0] == "PBF" and "P_DEV_BOUNDARY" in result.parcels["lp_reasons"].iloc[0]
    assert classes[3] != "PBF"  # best GDDB, but inside the boundary
    assert result.parcels["lp_pbf_change"].tolist() == ["KEPT", "ADDED", "", ""]


def test_without_the_layer_the_selection_runs_from_scratch() -> None:
    a = areas()
    result = classify(four(), targets={"430421": float(a[3]) - 1.0})
    # parcel 3 (GDDB 3) alone reaches the target; the reserve is parcel 2, next to it
    assert result.parcels["lp_class"].tolist() == ["GENERAL", "GENERAL", "RESERVE", "PBF"]
    assert (result.parcels["lp_pbf_change"] == "").all()
    assert result.pbf_changes is None


def test_a_shapefile_gets_the_change_under_a_dbf_safe_name(tmp_path) -> None:
    a = areas()
    result = classify(
        four(), layers={"pbf_existing": squares(0, 1)}, targets={"430421": float(a[0])}
    )
    out = tmp_path / "result.shp"
    result.to_file(out)
    back = gpd.read_file(out)
    assert back["lp_pbfchg"].fillna("").tolist() == ["KEPT", "KEPT", "", ""]


def test_the_manifest_says_which_mode_ran() -> None:
    with_layer = classify(four(), layers={"pbf_existing": squares(0)})
    assert with_layer.manifest["parameters"]["pbf_mode"] == "existing PBF first"
    assert classify(four()).manifest["parameters"]["pbf_mode"] == "from scratch"


def test_landplan_rules_lists_the_parameters_with_units_and_grounds() -> None:
    from click.testing import CliRunner

    from landplan.cli import main

    out = CliRunner().invoke(main, ["rules"]).output
    line = next(x for x in out.splitlines() if x.startswith("position_tolerance_m"))
    assert " m: " in line and "1.0" in line
    line = next(x for x in out.splitlines() if x.startswith("reserve_share_of_pbf"))
    assert "附录5" in line
