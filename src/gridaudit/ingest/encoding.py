"""Text encodings of CSV exports: UTF-8 (with or without BOM), GBK/GB18030, UTF-16 with or without BOM.

DuckDB reads UTF-8 only, so other encodings are transcoded in chunks into a UTF-8 work file.
Detection reads the whole file once (hashing it in the same pass): strict UTF-8 first; a file that
fails before any non-ASCII text decoded as UTF-8 is tried as GB18030 (a superset of GBK); a file
that mixes valid UTF-8 text with invalid bytes is refused naming the row.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from gridaudit.ingest.errors import unusable

CHUNK = 4 << 20


@dataclass
class TextFile:
    """A CSV ready for DuckDB: a UTF-8 path (the original or a transcoded copy) and what was found."""

    path: Path
    encoding: str
    sha256: str
    size: int
    blank_lines: list[int] = field(default_factory=list)
    records: int | None = None  # data rows expected (lines - empty lines - header); None if unknown


def _row_at(prefix_newlines: int, chunk: bytes, offset: int) -> int:
    return prefix_newlines + chunk[:offset].count(b"\n") + 1


_HIGH = re.compile(rb"[\x80-\xff]")


def _blank_lines(chunk: bytes, newlines: int, prev_ended_nl: bool, found: list[int]) -> None:
    """Record the line numbers of empty lines in ``chunk`` (DuckDB skips them; row numbers must not)."""
    if prev_ended_nl and (chunk.startswith(b"\n") or chunk.startswith(b"\r\n")):
        found.append(newlines + 1)
    for pat in (b"\n\n", b"\n\r\n"):
        start = chunk.find(pat)
        while start >= 0:
            found.append(newlines + chunk.count(b"\n", 0, start + 1) + 1)
            start = chunk.find(pat, start + 1)


def _scan(
    path: Path, encoding: str, out: Path | None, blanks: list[int] | None = None, lines: list[int] | None = None
) -> tuple[str, int, int | None, bool]:
    """Decode ``path`` strictly; return (sha256, size, bad row or None, whether a whole earlier row held
    valid non-ASCII text, i.e. the file is really in ``encoding`` and the bad row is foreign)."""
    sha = hashlib.sha256()
    dec = codecs.getincrementaldecoder(encoding)("strict")
    newlines = 0
    size = 0
    non_ascii = False
    first_high_row: int | None = None
    prev_nl = False
    ends_nl = True
    sink = open(out, "w", encoding="utf-8", newline="") if out else None
    try:
        with open(path, "rb") as fh:
            first = True
            while True:
                chunk = fh.read(CHUNK)
                if first and encoding == "utf-8" and chunk.startswith(codecs.BOM_UTF8):
                    non_ascii = True  # a BOM says UTF-8 outright
                first = False
                sha.update(chunk)
                size += len(chunk)
                try:
                    text = dec.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    bad_row = _row_at(newlines, chunk, exc.start)
                    if first_high_row is None:
                        m = _HIGH.search(chunk, 0, exc.start)
                        first_high_row = _row_at(newlines, chunk, m.start()) if m else None
                    earlier = non_ascii or (first_high_row is not None and first_high_row < bad_row)
                    return sha.hexdigest(), size, bad_row, earlier
                if sink is not None:
                    sink.write(text)
                if blanks is not None and chunk:
                    _blank_lines(chunk, newlines, prev_nl, blanks)
                    prev_nl = chunk.endswith(b"\n")
                if first_high_row is None and not chunk.isascii():
                    m = _HIGH.search(chunk)
                    first_high_row = _row_at(newlines, chunk, m.start()) if m else None
                newlines += chunk.count(b"\n")
                if chunk:
                    ends_nl = chunk.endswith(b"\n")
                if not chunk:
                    break
    finally:
        if sink is not None:
            sink.close()
    if lines is not None:
        lines.append(newlines + (0 if ends_nl or size == 0 else 1))
    return sha.hexdigest(), size, None, non_ascii


def _blanks_of(path: Path) -> list[int]:
    found: list[int] = []
    _scan(path, "utf-8", None, found)
    return sorted(found)


def utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``sample`` has UTF-16's NUL pattern without a byte-order mark.

    An export's delimiters, digits and line ends are ASCII, so in UTF-16 every second byte of them is NUL:
    at odd offsets in little-endian, at even ones in big-endian. Binary files have NULs at both.
    """
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even = sample[0 : 2 * pairs : 2].count(0)
    odd = sample[1 : 2 * pairs : 2].count(0)
    if odd >= 0.3 * pairs and even <= 0.05 * pairs:
        return "utf-16-le"
    if even >= 0.3 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return len(sample) > 0 and controls / len(sample) > 0.05


def prepare_csv(path: Path, name: str, work: Path) -> TextFile:
    """Detect the encoding of a CSV, validate all of it, and give a UTF-8 file DuckDB can read.

    Non-regular files (pipes) are first copied into ``work``; a stream that ends mid-row is refused.
    """
    if not path.is_file():
        copy = work / f"stream-{abs(hash(name))}.csv"
        with open(path, "rb") as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        size = copy.stat().st_size
        with open(copy, "rb") as fh:
            fh.seek(max(size - 1, 0))
            data_end = fh.read(1)
        if data_end and data_end not in (b"\n", b"\r"):
            with open(copy, "rb") as fh:
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(CHUNK), b"")) + 1
            raise unusable(
                name,
                "数据流在一行中间中断 (来源在读取中消失或被截断)",
                "the stream ended in the middle of a row (the source vanished or was cut off while being read)",
                row=rows,
            )
        path = copy
    with open(path, "rb") as fh:
        sample = fh.read(1 << 16)
    if not sample.strip(b"\r\n\t \xef\xbb\xbf"):
        raise unusable(name, "文件为空", "the file is empty", row=1)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        out = work / f"utf8-{abs(hash(name))}.csv"
        sha, size, bad, _ = _scan(path, "utf-16", out)
        if bad is not None:
            raise unusable(name, "UTF-16 编码无效", "invalid UTF-16 text", row=bad)
        return TextFile(out, "utf-16", sha, size, _blanks_of(out))
    bomless = utf16_without_bom(sample)
    if bomless:
        out = work / f"utf8-{abs(hash(name))}.csv"
        sha, size, bad, _ = _scan(path, bomless, out)
        if bad is not None:
            label = bomless.replace("utf-16-", "UTF-16").upper()
            raise unusable(
                name,
                f"看起来是无 BOM 的 {label} 文本, 但此处编码无效; 请另存为 UTF-8",
                f"looks like {label} text without a byte-order mark, but it does not decode here; save it as UTF-8",
                row=bad,
            )
        return TextFile(out, bomless, sha, size, _blanks_of(out))
    if _looks_binary(sample):
        raise unusable(
            name,
            "不是文本文件 (含二进制内容), 不能作为 CSV 读取",
            "not a text file (binary content); cannot be read as CSV",
            row=1,
        )
    blanks: list[int] = []
    lines: list[int] = []
    sha, size, bad, non_ascii = _scan(path, "utf-8", None, blanks, lines)
    if bad is None:
        enc = "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
        return TextFile(path, enc, sha, size, sorted(blanks), lines[0] - len(blanks) - 1)
    if non_ascii:
        raise unusable(
            name,
            "编码混乱: 前面是 UTF-8, 此行含有无效的 UTF-8 字节 (可能混入了 GBK 内容)",
            "mixed encoding: UTF-8 text earlier, invalid UTF-8 bytes in this row (GBK content mixed in?)",
            row=bad,
        )
    out = work / f"utf8-{abs(hash(name))}.csv"
    blanks, lines = [], []
    sha, size, bad_gb, _ = _scan(path, "gb18030", out, blanks, lines)
    if bad_gb is None:
        return TextFile(out, "gb18030", sha, size, sorted(blanks), lines[0] - len(blanks) - 1)
    guess = from_bytes(sample).best()
    guess_name = guess.encoding if guess else "unknown"
    raise unusable(
        name,
        f"既不是 UTF-8 也不是 GBK/GB18030 编码 (猜测: {guess_name}); 请另存为 UTF-8",
        f"neither UTF-8 nor GBK/GB18030 (looks like {guess_name}); save it as UTF-8",
        row=max(bad, bad_gb),
    )
