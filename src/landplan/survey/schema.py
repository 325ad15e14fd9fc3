"""The 三调 land-parcel (地类图斑, DLTB) field profile.

Canonical names are those of the survey database.  Aliases cover 二调-era
names (``GDPDJ``, ``TKXS``, ``TKMJ``), Chinese field names as exported by
desktop tools, and a caller's own mapping for non-standard schemas.
:func:`survey_attributes` returns the canonical, typed view of a parcel layer
that every analysis works from; the caller's columns are never renamed or
changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from landplan.core.errors import Problem, SchemaError

__all__ = [
    "ALIASES",
    "DLBM_SUFFIXES",
    "ERDIAO_CODES",
    "FARMLAND_CODES",
    "FIELDS",
    "KCXS_FIX",
    "KCXS_MISSING_MESSAGE",
    "LAND_CLASSES",
    "REQUIRED",
    "TBMJ_TOLERANCE",
    "check_fields",
    "county_of",
    "kcxs_checks",
    "per_value",
    "resolve_fields",
    "survey_attributes",
]

#: Canonical DLTB fields with their meaning.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "BSM": "标识码 feature id",
        "TBBH": "图斑编号 parcel number",
        "DLBM": "地类编码 land-class code",
        "DLMC": "地类名称 land-class name",
        "ZLDWDM": "坐落单位代码 location unit code (county = first 6 digits)",
        "TBMJ": "图斑面积 parcel area, ellipsoidal m²",
        "KCXS": "扣除地类系数 field-ridge deduction coefficient",
        "KCMJ": "扣除地类面积 deducted area m²",
        "TBDLMJ": "图斑地类面积 parcel land-class area m²",
        "GDPDJB": "耕地坡度级别 slope grade 1-5",
        "GDLX": "耕地类型 TT terraced / PD sloping",
        "GDDB": "耕地等别 quality grade 1 (best) - 15",
        "ZZSXDM": "种植属性代码 planting / recovery attribute",
        "TBXHDM": "图斑细化代码 refinement code",
        "CZCSXM": "城镇村属性码 town/village attribute",
        "FRDBS": "飞入地标识 enclave flag",
    }
)

#: Alternative names accepted for canonical fields (matched case-insensitively).
ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "BSM": ("标识码",),
        "TBBH": ("图斑编号",),
        "DLBM": ("地类编码", "DLDM"),
        "DLMC": ("地类名称",),
        "ZLDWDM": ("坐落单位代码", "ZLDWDM_1"),
        "TBMJ": ("图斑面积",),
        "KCXS": ("TKXS", "扣除地类系数", "田坎系数"),
        "KCMJ": ("TKMJ", "扣除地类面积", "田坎面积"),
        "TBDLMJ": ("图斑地类面积",),
        "GDPDJB": ("GDPDJ", "耕地坡度级别", "耕地坡度级"),
        "GDLX": ("耕地类型",),
        "GDDB": ("耕地等别", "GDZLDB"),
        "ZZSXDM": ("种植属性代码", "ZZSX"),
        "TBXHDM": ("图斑细化代码", "TBXH"),
        "CZCSXM": ("城镇村属性码",),
        "FRDBS": ("飞入地标识",),
    }
)

#: Fields without which no analysis is possible.
REQUIRED: tuple[str, ...] = ("DLBM", "ZLDWDM")

#: 二调 three-digit land codes and their 三调 equivalents.
ERDIAO_CODES: Mapping[str, str] = MappingProxyType(
    {
        "011": "0101", "012": "0102", "013": "0103",
        "021": "0201", "022": "0202", "023": "0204",
        "031": "0301", "032": "0305", "033": "0307",
        "041": "0401", "042": "0403", "043": "0404",
        "101": "1001", "102": "1003", "104": "1006", "105": "1007",
        "106": "1008", "107": "1009",
        "111": "1101", "112": "1102", "113": "1103", "114": "1104",
        "115": "1105", "116": "1106", "117": "1107", "118": "1109", "119": "1110",
        "122": "1202", "123": "1203", "124": "1204", "125": "1108",
        "126": "1205", "127": "1206",
    }
)  # fmt: skip

#: 三调 land classes (GB/T 21010-2017 with the survey's merged codes).
LAND_CLASSES: Mapping[str, str] = MappingProxyType(
    {
        "0101": "水田", "0102": "水浇地", "0103": "旱地",
        "0201": "果园", "0202": "茶园", "0203": "橡胶园", "0204": "其他园地",
        "0301": "乔木林地", "0302": "竹林地", "0303": "红树林地", "0304": "森林沼泽",
        "0305": "灌木林地", "0306": "灌丛沼泽", "0307": "其他林地",
        "0401": "天然牧草地", "0402": "沼泽草地", "0403": "人工牧草地", "0404": "其他草地",
        "05H1": "商业服务业设施用地", "0508": "物流仓储用地",
        "0601": "工业用地", "0602": "采矿用地", "0603": "盐田",
        "0701": "城镇住宅用地", "0702": "农村宅基地",
        "08H1": "机关团体新闻出版用地", "08H2": "科教文卫用地", "0809": "公用设施用地",
        "0810": "公园与绿地", "09": "特殊用地",
        "1001": "铁路用地", "1002": "轨道交通用地", "1003": "公路用地",
        "1004": "城镇村道路用地", "1005": "交通服务场站用地", "1006": "农村道路",
        "1007": "机场用地", "1008": "港口码头用地", "1009": "管道运输用地",
        "1101": "河流水面", "1102": "湖泊水面", "1103": "水库水面", "1104": "坑塘水面",
        "1105": "沿海滩涂", "1106": "内陆滩涂", "1107": "沟渠", "1108": "沼泽地",
        "1109": "水工建筑用地", "1110": "冰川及永久积雪",
        "1201": "空闲地", "1202": "设施农用地", "1203": "田坎", "1204": "盐碱地",
        "1205": "沙地", "1206": "裸土地", "1207": "裸岩石砾地",
        "201": "城市", "202": "建制镇", "203": "村庄", "204": "盐田及采矿用地", "205": "特殊用地",
    }
)  # fmt: skip

#: Cultivated land (耕地).
FARMLAND_CODES: frozenset[str] = frozenset({"0101", "0102", "0103"})
#: Relative difference between computed area and TBMJ above which a parcel is reported.
TBMJ_TOLERANCE = 0.001
#: How to fix a KCXS outside [0, 1), for messages.
KCXS_FIX = "Fix KCXS (a fraction, e.g. 0.08, not 8)"
#: The warning about farmland parcels without KCXS.
KCXS_MISSING_MESSAGE = "farmland parcels have no KCXS; counted without deduction (KCXS = 0)."


def kcxs_checks(attributes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """KCXS of every parcel, which are outside [0, 1) and which farmland parcels lack one.

    Parameters
    ----------
    attributes
        :func:`survey_attributes` of the parcels.

    Returns
    -------
    kcxs
        The coefficients, NaN where missing.
    out_of_range
        Boolean: a KCXS below 0 or at least 1 (the land-class area is unknown).
    missing
        Boolean: farmland parcels without KCXS (counted without deduction).

    Examples
    --------
    >>> attrs = pd.DataFrame({"KCXS": [0.08, 8.0, np.nan, np.nan],
    ...                       "IS_FARMLAND": [True, True, True, False]})
    >>> [a.tolist() for a in kcxs_checks(attrs)[1:]]
    [[False, True, False, False], [False, False, True, False]]
    """
    kcxs = attributes["KCXS"].to_numpy(dtype=float, na_value=np.nan)
    out_of_range = ~np.isnan(kcxs) & ((kcxs < 0) | (kcxs >= 1))
    missing = np.isnan(kcxs) & attributes["IS_FARMLAND"].to_numpy(dtype=bool)
    return kcxs, out_of_range, missing


#: DLBM suffixes: K adjustable (可调整), A aquaculture pond.
DLBM_SUFFIXES: frozenset[str] = frozenset({"K", "A"})

_NUMERIC = ("TBMJ", "KCXS", "KCMJ", "TBDLMJ")
_INTEGER = ("GDPDJB", "GDDB", "FRDBS")
_TEXT = ("BSM", "TBBH", "DLMC", "GDLX", "ZZSXDM", "TBXHDM", "CZCSXM")


def resolve_fields(
    columns: list[str] | pd.Index, fields: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map canonical field names to the columns that hold them.

    A caller's *fields* mapping (canonical → column) wins; then the
    canonical name itself; then the aliases, all matched case-insensitively.

    Parameters
    ----------
    columns
        Column names of the layer.  Names cut to 10 bytes by a shapefile's
        DBF still match.
    fields
        The caller's mapping, canonical name → column; taken as given (not
        checked against *columns*, see :func:`check_fields`).

    Returns
    -------
    dict
        Canonical name → column, for the canonical fields found only.

    Examples
    --------
    >>> resolve_fields(["dlbm", "ZLDWDM", "GDPDJ", "TKXS"])
    {'DLBM': 'dlbm', 'ZLDWDM': 'ZLDWDM', 'KCXS': 'TKXS', 'GDPDJB': 'GDPDJ'}
    """
    by_upper = {str(c).upper(): str(c) for c in columns}
    # shapefile field names hold 10 bytes: Chinese names arrive cut to 5 GBK characters
    by_upper.update(
        {
            _dbf_truncated(k): v
            for k, v in list(by_upper.items())
            if _dbf_truncated(k) not in by_upper
        }
    )
    resolved: dict[str, str] = {}
    user = dict(fields or {})
    for canonical in FIELDS:
        if canonical in user:
            resolved[canonical] = user[canonical]
            continue
        for name in (canonical, *ALIASES.get(canonical, ())):
            for key in (name.upper(), _dbf_truncated(name.upper())):
                if key in by_upper:
                    resolved[canonical] = by_upper[key]
                    break
            if canonical in resolved:
                break
    return resolved


def _dbf_truncated(name: str) -> str:
    """A field name as a DBF stores it: at most 10 bytes in GB18030."""
    data = name.encode("gb18030", errors="replace")[:10]
    return data.decode("gb18030", errors="ignore")


def _split_dlbm(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split land codes into base code and suffix; convert 二调 3-digit codes.

    Examples
    --------
    >>> base, suffix = _split_dlbm(pd.Series(["0201K", "1104A", "011", "0101", "203"]))
    >>> base.tolist(), suffix.tolist()
    (['0201', '1104', '0101', '0101', '203'], ['K', 'A', '', '', ''])
    """
    codes_of, distinct = _distinct(codes)
    text = distinct.astype("string").fillna("").str.strip().str.upper()
    last = text.str[-1:]
    has_suffix = last.isin(list(DLBM_SUFFIXES)) & (text.str.len() > 2)
    base = text.where(~has_suffix, text.str[:-1])
    suffix = last.where(has_suffix, "")
    erdiao = base.map(ERDIAO_CODES)  # NA where the code is not a 二调 one
    base = base.where(erdiao.isna(), erdiao)
    return (
        _spread(base.astype("str"), codes_of, codes.index),
        _spread(suffix.astype("str"), codes_of, codes.index),
    )


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The distinct values of a column (missing ones included) and each row's position among them.

    Codes repeat over many parcels (a survey of a million parcels has about a
    hundred DLBM and a few thousand ZLDWDM), so text is parsed once per value.
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return codes, pd.Series(distinct)


def _spread(parsed: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Values parsed once per distinct value (:func:`_distinct`) given back to every row."""
    return pd.Series(parsed.array.take(codes), index=index, name=parsed.name)


def per_value(values: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """*parse* applied once to each distinct value of a column, the answers given to every row.

    For columns of codes, which repeat over many parcels (DLBM, ZLDWDM): text
    operations then run on a few thousand values instead of every parcel.

    Parameters
    ----------
    values
        A column.
    parse
        Takes a Series of values (missing ones included) and returns a Series
        of the same length, one answer per value.

    Returns
    -------
    pandas.Series
        ``parse(values)``, indexed like *values*.

    Examples
    --------
    >>> per_value(pd.Series(["a ", "b", "a "], index=[7, 8, 9]), lambda s: s.str.strip()).to_dict()
    {7: 'a', 8: 'b', 9: 'a'}
    """
    codes, distinct = _distinct(values)
    return _spread(parse(distinct), codes, values.index)


def county_of(zldwdm: pd.Series) -> pd.Series:
    """County code: the first six characters of ``ZLDWDM``.

    Parameters
    ----------
    zldwdm
        Location unit codes (``ZLDWDM``), as text or numbers.

    Returns
    -------
    pandas.Series
        The county codes as text (``str``), surrounding blanks removed;
        ``""`` where the code is missing.  Index kept.

    Examples
    --------
    >>> county_of(pd.Series(["4304210010010000000"])).tolist()
    ['430421']
    """
    return per_value(
        zldwdm, lambda v: v.astype("string").fillna("").str.strip().str[:6].astype("str")
    )


def check_fields(
    columns: pd.Index | list[str], fields: Mapping[str, str] | None = None, source: str = "parcels"
) -> list[Problem]:
    """Problems with a layer's schema: missing required fields, mappings to absent columns.

    Parameters
    ----------
    columns
        Column names of the layer.
    fields
        The caller's mapping, canonical name → column.
    source
        Name of the layer for the messages.

    Returns
    -------
    list of Problem
        ``FIELD_MISSING`` problems, each saying how to map the field; empty
        when the schema can be analysed.
    """
    resolved = resolve_fields(columns, fields)
    names = list(map(str, columns))
    problems = []
    for name in REQUIRED:
        if name not in resolved:
            problems.append(
                Problem(
                    "FIELD_MISSING",
                    f"required field {name} ({FIELDS[name]}) not found; columns are {names}. "
                    f"Map it with fields={{'{name}': '<column>'}} (CLI: --field {name}=<column>).",
                    source,
                )
            )
    for canonical, column in resolved.items():
        if column not in names:
            problems.append(
                Problem(
                    "FIELD_MISSING",
                    f"field mapping {canonical}={column!r} names a column that does not exist; "
                    f"columns are {names}.",
                    source,
                )
            )
    return problems


def survey_attributes(
    parcels: pd.DataFrame, *, fields: Mapping[str, str] | None = None, source: str = "parcels"
) -> pd.DataFrame:
    """Canonical, typed 三调 attributes of a parcel layer.

    Parameters
    ----------
    parcels
        The parcel layer; its columns are read, never changed.
    fields
        The caller's mapping, canonical name → column, for non-standard schemas.
    source
        Name of the layer for the messages.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``parcels.index``: every canonical field (numbers as float,
        codes and grades as ``Int64``, text as ``str`` (Arrow strings); NA where a field or
        value is missing), ``DLBM_BASE`` (二调 codes converted),
        ``DLBM_SUFFIX`` (``K``, ``A`` or ``""``), ``COUNTY`` (first six
        characters of ``ZLDWDM``) and ``IS_FARMLAND`` (bool).

    Raises
    ------
    SchemaError
        Listing every missing required field and every malformed value, with
        the columns that do exist and how to map them.

    Examples
    --------
    >>> df = pd.DataFrame({"DLBM": ["0101", "0301"], "ZLDWDM": ["4304210010010000000"] * 2,
    ...                    "TKXS": [0.1, 0.0], "GDPDJ": [2, None]})
    >>> out = survey_attributes(df)
    >>> out[["DLBM_BASE", "COUNTY", "KCXS", "IS_FARMLAND"]].to_dict("list")
    {'DLBM_BASE': ['0101', '0301'], 'COUNTY': ['430421', '430421'], 'KCXS': [0.1, 0.0], \
'IS_FARMLAND': [True, False]}
    >>> out["GDPDJB"].tolist()  # 二调 GDPDJ, read as GDPDJB
    [2, <NA>]
    """
    resolved = resolve_fields(parcels.columns, fields)
    problems = check_fields(parcels.columns, fields, source)
    if problems:
        raise SchemaError(problems)

    columns = {
        canonical: _typed(parcels[column], canonical, column, source, problems)
        for canonical, column in resolved.items()
    }
    _add_absent_fields(columns, parcels.index)
    base, suffix = _split_dlbm(parcels[resolved["DLBM"]])
    columns["DLBM_BASE"] = base
    columns["DLBM_SUFFIX"] = suffix
    columns["COUNTY"] = county_of(parcels[resolved["ZLDWDM"]])
    columns["ZLDWDM"] = parcels[resolved["ZLDWDM"]].astype("string").str.strip().astype("str")
    columns["IS_FARMLAND"] = base.isin(FARMLAND_CODES)
    if problems:
        raise SchemaError(problems)
    return pd.DataFrame(
        {name: column.array for name, column in columns.items()}, index=parcels.index
    )


def _typed(
    values: pd.Series, canonical: str, column: str, source: str, problems: list[Problem]
) -> pd.Series:
    """A column as its canonical field's type; unusable values become problems."""
    if canonical in _NUMERIC:
        return _to_numeric(values, canonical, column, source, problems)
    if canonical in _INTEGER:
        return _to_integer(values, canonical, column, source, problems)
    text = values.astype("string").str.strip()
    return text.where(text != "", pd.NA).astype("str")


def _to_integer(
    values: pd.Series, canonical: str, column: str, source: str, problems: list[Problem]
) -> pd.Series:
    """Codes and grades (``Int64``) from a column; unparsable or huge values become problems."""
    numbers = _to_numeric(values, canonical, column, source, problems)
    huge = numbers.abs() > 1e9  # codes and grades; anything this large is garbage
    if huge.any():
        problems.append(
            Problem(
                "FIELD_OUT_OF_RANGE",
                f"field {column} ({canonical}) holds a code or grade; "
                f"found e.g. {values[huge].iloc[0]!r}.",
                source,
                parcels=tuple(values.index[huge][:50]),
            )
        )
    whole = numbers.to_numpy().round()
    missing = np.isnan(whole) | huge.to_numpy()
    return pd.Series(
        pd.arrays.IntegerArray(np.where(missing, 0, whole).astype(np.int64), missing),
        index=values.index,
    )


def _add_absent_fields(columns: dict[str, pd.Series], index: pd.Index) -> None:
    """Add the canonical fields a layer lacks to *columns*, all missing, in their types."""
    for canonical in _NUMERIC:
        if canonical not in columns:
            columns[canonical] = pd.Series(np.nan, index=index)
    for canonical in _INTEGER:
        if canonical not in columns:
            columns[canonical] = pd.Series(pd.NA, index=index, dtype="Int64")
    for canonical in _TEXT:
        if canonical not in columns:
            columns[canonical] = pd.Series(pd.NA, index=index, dtype="str")


def _to_numeric(
    values: pd.Series, canonical: str, column: str, source: str, problems: list[Problem]
) -> pd.Series:
    """Numbers from a column that may hold text; unparsable or infinite values become problems."""
    if _is_number(values):  # nothing to parse: only infinities are bad
        numbers = values.to_numpy(dtype=float, na_value=np.nan, copy=True)
        bad = np.isinf(numbers)
    else:  # text: each distinct value parsed once
        codes, distinct = _distinct(values)
        blank = _blank(distinct).to_numpy(dtype=bool)
        parsed = pd.to_numeric(distinct.where(~blank), errors="coerce").to_numpy(dtype=float)
        numbers = parsed[codes]
        bad = (~np.isfinite(parsed) & ~blank)[codes]
    numbers[bad] = np.nan
    if bad.any():
        problems.append(
            Problem(
                "FIELD_NOT_NUMERIC",
                f"field {column} ({canonical}) must be a finite number; found e.g. "
                f"{values[bad].iloc[0]!r}. Fix the values or map another field.",
                source,
                parcels=tuple(values.index[bad][:50]),
            )
        )
    return pd.Series(numbers, index=values.index)


def _is_number(values: pd.Series) -> bool:
    """Whether a column holds numbers (booleans are not numbers here)."""
    dtype = values.dtype
    return not pd.api.types.is_bool_dtype(dtype) and (
        pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    )


def _blank(values: pd.Series) -> pd.Series:
    """Where a column holds no value: missing, or text that is empty or only blanks.

    A column of numbers (not booleans) is blank exactly where it is missing,
    which is found without writing every number as text.
    """
    if _is_number(values):
        return values.isna()
    return values.astype("string").str.strip().fillna("") == ""
