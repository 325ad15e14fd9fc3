"""Targets as users have them: Excel's CSV encodings, XLSX, Chinese headers, padded codes.

Expected areas are worked out by hand: 1 万亩 = 10 000 亩 and 1 亩 = 10 000 / 15 m², so
1.5 万亩 = 15 000 亩 = 10 000 000 m², 3 万亩 = 20 000 000 m², 0.015 万亩 = 100 000 m² and
100 公顷 = 1 000 000 m².
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from landplan.core.errors import InputError, ReadError
from landplan.io.targets import CountyTargets, load_targets, read_targets, read_targets_table

from .conftest import square_parcels

CHINESE_CSV = (
    "县级行政区代码,行政区名称,永久基本农田保护面积（万亩）,储备区\n"
    "430405000000,珠晖区,1.5,0.015\n"
    "430406000000,雁峰区,3,\n"
    ",合计,4.5,0.015\n"
)
PBF_M2 = {"430405": 10_000_000.0, "430406": 20_000_000.0}


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_excel_csv_encodings_chinese_headers_and_padded_codes(
    tmp_path: Path, encoding: str
) -> None:
    path = write(tmp_path / "目标.csv", CHINESE_CSV, encoding)
    targets = load_targets(path)
    assert targets is not None
    assert targets.pbf_m2 == pytest.approx(PBF_M2)  # the 合计 row is not a county
    assert targets.reserve_m2 == pytest.approx({"430405": 100_000.0})  # blank: profile share
    assert targets.source == str(path)


def test_xlsx_with_a_title_row_numeric_codes_and_hectares(tmp_path: Path) -> None:
    path = tmp_path / "附录5.xlsx"
    rows = [
        ["附录5 耕地保护主要规划指标分解表", None, None],
        ["行政区代码", "行政区名称", "永久基本农田保护面积(公顷)"],
        [430405, "珠晖区", 100],
        [430406000, "雁峰区", 250.5],
    ]
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    targets = load_targets(path)
    assert targets is not None
    assert targets.pbf_m2 == pytest.approx({"430405": 1_000_000.0, "430406": 2_505_000.0})


def test_the_table_for_reports_gets_landplan_names_and_wanmu(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.csv",
        "行政区划代码,耕地保护目标（亩）,其他\n430405,15000,x\n430406,30000,y\n",
        "gbk",
    )
    table = read_targets_table(path)
    assert table["county_code"].tolist() == ["430405", "430406"]
    assert table["protection_target_2035_wanmu"].tolist() == pytest.approx([1.5, 3.0])
    assert table["其他"].tolist() == ["x", "y"]  # other columns kept as they are


def test_the_english_sample_layout_still_reads(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.csv",
        "county_code,pbf_2025_wanmu,pbf_2035_wanmu,pbf_reserve_wanmu\n430421,9,1.5,0.015\n",
        "utf-8-sig",
    )
    assert read_targets(path) == pytest.approx({"430421": 10_000_000.0})
    assert read_targets(path, column="pbf_2025_wanmu") == pytest.approx({"430421": 60_000_000.0})


def test_an_unrecognised_county_column_is_chosen_by_name(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "县代码,保护目标\n430405,1.5\n", "gbk")
    with pytest.raises(InputError) as info:
        load_targets(path)
    problem = info.value.problems[0]
    assert problem.code == "TARGETS_COLUMN" and problem.source == str(path)
    assert "县代码" in problem.message and "--targets-county-column" in problem.message
    targets = load_targets(path, county_column="县代码")
    assert targets is not None and targets.pbf_m2 == pytest.approx({"430405": 10_000_000.0})


@pytest.mark.parametrize(
    ("code", "why"),
    [("43040", "five digits"), ("430405001", "a township"), ("4304050000", "ten digits")],
)
def test_a_code_that_is_not_a_county_names_file_row_and_value(
    tmp_path: Path, code: str, why: str
) -> None:
    path = write(tmp_path / "t.csv", f"county_code,pbf_2035_wanmu\n430406,1\n{code},2\n", "utf-8")
    with pytest.raises(InputError) as info:
        load_targets(path)
    problem = info.value.problems[0]
    assert problem.code == "TARGETS_COUNTY_CODE", why
    assert problem.source == str(path)
    assert f"row 3: '{code}'" in problem.message  # line 3 of the file: header, 430406, it
    assert "430405000000" in problem.message  # the accepted forms, as the fix


def test_values_that_are_not_areas_are_refused_by_row(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "county_code,pbf_2035_wanmu\n430405,1.5\n430406,约3\n", "gbk")
    with pytest.raises(InputError, match=r"TARGETS_VALUE.*row 3: '约3'"):
        load_targets(path)
    blank = write(tmp_path / "b.csv", "county_code,pbf_2035_wanmu\n430405,\n", "utf-8")
    with pytest.raises(InputError, match=r"TARGETS_VALUE.*blank.*row 2: 430405"):
        load_targets(blank)


def test_a_county_listed_twice_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.csv", "county_code,pbf_2035_wanmu\n430405,1\n430405000000,2\n", "utf-8"
    )
    with pytest.raises(InputError, match=r"TARGETS_DUPLICATE.*row 2: 430405; row 3: 430405"):
        load_targets(path)


def test_bytes_that_are_no_text_and_old_workbooks_are_unreadable(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_bytes(b"county_code,pbf_2035_wanmu\n430405,\xff\xff\n")
    with pytest.raises(ReadError, match=r"TEXT_ENCODING.*0xFF.*CSV UTF-8"):
        load_targets(bad)
    xls = tmp_path / "t.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReadError, match=r"TARGETS_UNREADABLE.*\.xlsx"):
        load_targets(xls)


def test_path_table_and_mapping_give_the_same_targets(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", CHINESE_CSV, "gbk")
    table = pd.DataFrame(
        {
            "行政区代码": [430405, 430406],  # numbers, as a spreadsheet library reads them
            "永久基本农田保护面积": [1.5, 3.0],
            "pbf_reserve_wanmu": [0.015, None],
        }
    )
    from_path, from_table = load_targets(path), load_targets(table)
    from_mapping = load_targets({"430405000": 1e7, "430406": 2e7})
    assert from_path is not None and from_table is not None and from_mapping is not None
    assert from_table.pbf_m2 == pytest.approx(PBF_M2)
    assert from_mapping.pbf_m2 == pytest.approx(PBF_M2)
    assert from_table.reserve_m2 == pytest.approx(from_path.reserve_m2)
    assert (from_table.source, from_mapping.source) == ("targets table", "targets mapping")
    loaded = CountyTargets({"430405": 1.0})
    assert load_targets(loaded) is loaded and load_targets(None) is None
    with pytest.raises(InputError, match="TARGETS_COUNTY_CODE"):
        load_targets({"衡阳县": 1.0})


def test_classify_takes_the_chinese_table() -> None:
    from landplan import classify

    parcels = square_parcels(3, 1)  # three 1-ha paddies of county 430421
    table = pd.DataFrame({"县级行政区代码": ["430421000000"], "保护目标": [0.0015]})  # 15 亩
    result = classify(parcels, targets=table)
    quota = result.quotas.set_index("county_code").loc["430421"]
    assert quota["pbf_target_m2"] == pytest.approx(10_000.0)  # 15 亩 = 1 ha
    assert result.manifest["parameters"]["targets_county_column"] is None


def test_targets_of_other_counties_are_refused_naming_both() -> None:
    targets = CountyTargets({"110101": 1.0, "110102": 2.0}, source="beijing.csv")
    targets.check_counties(["110101", "430421"])  # one in common: fine
    with pytest.raises(InputError) as info:
        targets.check_counties(["430421"])
    problem = info.value.problems[0]
    assert problem.code == "TARGETS_NO_COUNTY" and problem.source == "beijing.csv"
    assert "110101, 110102" in problem.message and "430421" in problem.message
    assert "--targets-county-column" in problem.message
