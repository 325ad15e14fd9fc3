"""Text encoding of shapefile attribute tables (DBF).

GDAL silently garbles GBK text in a shapefile without ``.cpg`` whose DBF
language-driver byte (LDID) is 0: it falls back to Latin-1.  landplan decides
the encoding itself, in this order, and tells GDAL:

1. the caller's ``encoding``;
2. the ``.cpg`` file, with GB2312 / GBK / CP936 / 936 upgraded to GB18030
   (its superset, so characters outside GBK survive);
3. the DBF LDID byte: 0x4D or 0x7A (code page 936) means GB18030;
4. a strict sniff of the DBF bytes: plain ASCII, else UTF-8, else GB18030,
   with an :class:`~landplan.core.errors.EncodingGuessWarning`;
5. otherwise refuse with :class:`~landplan.core.errors.EncodingError`.

Text files users save from Excel (targets CSV) are decoded by :func:`decode_text`:
UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode text"), else
GB18030 (the superset of GBK, which Chinese Excel writes); strictly, never
replacing a byte.
"""

from __future__ import annotations

import codecs
import logging
import struct
import warnings
from pathlib import Path

from landplan.core.errors import EncodingError, EncodingGuessWarning

__all__ = ["decode_text", "shapefile_encoding"]

log = logging.getLogger(__name__)

_CHINESE_ALIASES = {"GB2312", "GBK", "CP936", "936", "MS936", "WINDOWS-936", "EUC-CN", "GB18030"}
_UTF8_ALIASES = {"UTF-8", "UTF8", "65001", "UTF_8"}
_LATIN1_ALIASES = {
    "LATIN-1",
    "LATIN1",
    "LATIN_1",
    "ISO8859-1",
    "ISO-8859-1",
    "ISO_8859_1",
    "CP819",
    "L1",
}
_LDID_GB18030 = {0x4D, 0x7A}
_SNIFF_BYTES = 32 * 1024 * 1024


def _normalize_encoding(name: str) -> str:
    """Canonical spelling of an encoding name; Chinese code pages become GB18030.

    Examples
    --------
    >>> _normalize_encoding("gbk"), _normalize_encoding("936"), _normalize_encoding("utf8")
    ('GB18030', 'GB18030', 'UTF-8')
    """
    upper = name.strip().upper()
    if upper in _CHINESE_ALIASES:
        return "GB18030"
    if upper in _UTF8_ALIASES:
        return "UTF-8"
    if upper in _LATIN1_ALIASES:
        return "ISO-8859-1"
    return upper


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for candidate in shp.parent.glob(shp.stem + ".*"):
        if candidate.suffix.lower() == suffix and candidate.stem == shp.stem:
            return candidate
    return None


def shapefile_encoding(path: str | Path, encoding: str | None = None) -> str:
    """Decide the text encoding of a shapefile's DBF (see module docs).

    Parameters
    ----------
    path
        The ``.shp`` file; its ``.cpg`` and ``.dbf`` are found beside it.
    encoding
        The caller's encoding, which wins when given.

    Returns
    -------
    str
        The encoding name for GDAL; Chinese code pages as ``"GB18030"``,
        UTF-8 as ``"UTF-8"``.

    Raises
    ------
    EncodingError
        If there is no ``.dbf``, it is not a dBASE file, or no encoding can be
        decided safely.

    Warns
    -----
    EncodingGuessWarning
        When the encoding was guessed from the DBF's bytes.
    """
    shp = Path(path)
    if encoding:
        return _normalize_encoding(encoding)
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        declared = cpg.read_bytes().decode("ascii", errors="replace").strip()
        if declared:
            log.debug("%s: encoding %s from %s", shp.name, declared, cpg.name)
            return _normalize_encoding(declared)
    dbf = _sidecar(shp, ".dbf")
    if dbf is None:
        raise EncodingError(
            f"{shp}: no .dbf attribute table beside the .shp; copy the shapefile with all "
            "its files (.shp, .shx, .dbf, .prj, .cpg)",
            code="DBF_MISSING",
        )
    with dbf.open("rb") as fh:
        header = fh.read(32)
        if len(header) < 32:
            raise EncodingError(
                f"{dbf}: not a dBASE file (header shorter than 32 bytes)", code="DBF_INVALID"
            )
        ldid = header[29]
        if ldid in _LDID_GB18030:
            log.debug("%s: LDID 0x%02X means code page 936, reading as GB18030", dbf.name, ldid)
            return "GB18030"
        header_len = struct.unpack("<H", header[8:10])[0]
        fh.seek(32)
        names = fh.read(max(header_len - 32, 0))
        data = names + fh.read(_SNIFF_BYTES)
    return _sniff(data, dbf)


def _sniff(data: bytes, dbf: Path) -> str:
    if all(b < 0x80 for b in data):
        return "UTF-8"
    for candidate in ("UTF-8", "GB18030"):
        try:
            # final=False: a character cut at the end of the sniffed prefix is not an error
            codecs.getincrementaldecoder(candidate)().decode(data, final=False)
        except UnicodeDecodeError:
            continue
        warnings.warn(
            f"{dbf}: no .cpg and no code-page byte; text decodes cleanly as {candidate}, "
            f"reading it as such. Add a .cpg file containing {candidate} (or pass encoding=) "
            "to make this explicit.",
            EncodingGuessWarning,
            stacklevel=3,
        )
        return candidate
    raise EncodingError(
        f"{dbf}: cannot decide the text encoding: no .cpg, no code-page byte, and the bytes are "
        "neither valid UTF-8 nor GB18030. Pass encoding='...' (CLI --encoding) or add a .cpg "
        "file naming the encoding."
    )


def _cjk_share(text: str) -> float:
    """Share of the non-ASCII characters that are Chinese characters or CJK punctuation."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    cjk = sum(
        "\u4e00" <= c <= "\u9fff"
        or "\u3400" <= c <= "\u4dbf"
        or "\u3000" <= c <= "\u303f"
        or "\uff00" <= c <= "\uffef"
        or ord(c) >= 0x20000
        for c in wide
    )
    return cjk / len(wide)


def decode_text(data: bytes, source: str = "") -> tuple[str, str]:
    """Decode a text file saved by Excel or an editor, refusing to guess wrongly.

    Each candidate decodes the whole file strictly: UTF-16 when the bytes
    start with its BOM; UTF-8 when they start with its BOM; otherwise UTF-8
    and GB18030 (which reads GBK and GB2312 text).  A short GBK text can also
    be valid UTF-8 (``约`` is ``D4 BC``, UTF-8 for ``Լ``): when both decode,
    the one whose non-ASCII characters are more often Chinese wins, UTF-8 on
    a tie.

    Parameters
    ----------
    data
        The file's bytes.
    source
        The file, for the error message.

    Returns
    -------
    tuple of str
        The text, and the encoding it was read with (``"UTF-8"``,
        ``"UTF-16"`` or ``"GB18030"``).

    Raises
    ------
    EncodingError
        ``TEXT_ENCODING`` when the bytes are neither UTF-8 nor GB18030 text,
        naming the first byte that fails.

    Examples
    --------
    >>> decode_text("行政区代码,约3".encode("gbk"))
    ('行政区代码,约3', 'GB18030')
    >>> decode_text(codecs.BOM_UTF8 + "行政区代码".encode("utf-8"))
    ('行政区代码', 'UTF-8')
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    decoded: dict[str, str] = {}
    first_bad = 0
    for name, codec in (("UTF-8", "utf-8-sig"), ("GB18030", "gb18030")):
        try:
            decoded[name] = data.decode(codec)
        except UnicodeDecodeError as exc:
            first_bad = first_bad or exc.start
    if "UTF-8" in decoded and (data.startswith(codecs.BOM_UTF8) or "GB18030" not in decoded):
        return decoded["UTF-8"], "UTF-8"
    if decoded:
        name = max(decoded, key=lambda n: (_cjk_share(decoded[n]), n == "UTF-8"))
        return decoded[name], name
    raise EncodingError(
        f"cannot decode the text: byte 0x{data[first_bad]:02X} at offset {first_bad} is "
        'neither UTF-8 nor GB18030 (GBK) text. Save the file as "CSV UTF-8" or as an '
        "Excel workbook (.xlsx).",
        code="TEXT_ENCODING",
        source=source,
    )
