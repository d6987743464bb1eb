"""Find a CJK font on this machine, for PDFs (WeasyPrint) and SVG charts (vl-convert): the one finder
(``gridaudit.charts.fonts`` uses it too).

Order: an explicit path (a setting or ``$GRIDAUDIT_CJK_FONT``), then well-known files — Noto Sans/Serif CJK
(Debian fonts-noto-cjk, Fedora, Arch, macOS Homebrew), WenQuanYi Micro Hei / Zen Hei, Source Han Sans,
Windows' Microsoft YaHei / SimHei / SimSun, macOS PingFang / STHeiti — then fontconfig (``fc-match :lang=zh``).
No font found is :class:`FontNotFound` (a clear zh/en error), never a PDF with boxes in place of characters.

A font collection (``.ttc``) holds several faces; WeasyPrint and vl-convert read only its first, which for
Noto CJK is the Japanese one. :func:`find_cjk_font` therefore picks the Simplified Chinese face and, when it
is not the first, writes that face once to a single-face file in the user's cache folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gridaudit.i18n import both

ENV_VAR = "GRIDAUDIT_CJK_FONT"

# (regular, bold) candidates, most wanted first; bold may be absent
_SOURCE_HAN = "/usr/share/fonts/adobe-source-han-sans"
_NOTO = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk")
CANDIDATES: tuple[tuple[str, str | None], ...] = (
    *((f"{d}/NotoSansCJK-Regular.ttc", f"{d}/NotoSansCJK-Bold.ttc") for d in _NOTO),
    ("/usr/share/fonts/google-noto-sans-cjk-vf-fonts/NotoSansCJK-VF.ttc", None),
    *((f"{d}/NotoSerifCJK-Regular.ttc", f"{d}/NotoSerifCJK-Bold.ttc") for d in _NOTO),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc", None),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
    ("/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc", None),
    (f"{_SOURCE_HAN}/SourceHanSansCN-Regular.otf", f"{_SOURCE_HAN}/SourceHanSansCN-Bold.otf"),
    ("C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/msyhbd.ttc"),
    ("C:/Windows/Fonts/simhei.ttf", None),
    ("C:/Windows/Fonts/simsun.ttc", None),
    ("/System/Library/Fonts/PingFang.ttc", None),
    ("/System/Library/Fonts/STHeiti Light.ttc", "/System/Library/Fonts/STHeiti Medium.ttc"),
    ("/Library/Fonts/Arial Unicode.ttf", None),
)  # fmt: skip

# the face of a collection to use: the first whose family name has one of these, else the first face
_ZH_HINTS = ("SC", "CN", "GB", "Hans", "YaHei", "SimSun", "SimHei", "PingFang SC", "Micro Hei", "Zen Hei")
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


class FontNotFound(RuntimeError):
    """No usable CJK font: the message (zh / en) says where gridaudit looked and how to give one."""


@dataclass(frozen=True)
class CJKFont:
    """The CJK font reports use: its family name and single-face regular (and bold) files."""

    family: str
    regular: Path
    bold: Path | None
    source: Path  # the file found (a collection, or the same as regular)

    def files(self) -> list[Path]:
        """The font files, regular first."""
        return [self.regular] + ([self.bold] if self.bold else [])


def _cache_dir() -> Path:
    base = (
        os.environ.get("XDG_CACHE_HOME")
        or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
        or str(Path.home() / ".cache")
    )
    return Path(base) / "gridaudit" / "fonts"


def _family(font: object) -> str:
    name = font["name"]  # type: ignore[index]
    return str(name.getDebugName(16) or name.getDebugName(1) or "")


def _single_face(path: Path) -> tuple[Path, str]:
    """``path`` as a single-face file and the face's family name (a collection's Chinese face extracted)."""
    from fontTools.ttLib import TTCollection, TTFont
    from fontTools.ttLib.ttFont import TTLibError

    try:
        if path.suffix.lower() not in (".ttc", ".otc"):
            return path, _family(TTFont(str(path), lazy=True))
        faces = TTCollection(str(path), lazy=True).fonts
    except (TTLibError, OSError, AssertionError) as exc:
        raise FontNotFound(both(f"无法读取字体文件 {path}: {exc}", f"cannot read font file {path}: {exc}")) from exc
    families = [_family(f) for f in faces]
    index = next((i for i, fam in enumerate(families) if any(h in fam for h in _ZH_HINTS)), 0)
    if index == 0:
        return path, families[0]
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{index}".encode()).hexdigest()[:12]
    ext = ".otf" if "CFF " in faces[index] else ".ttf"
    out = _cache_dir() / f"{path.stem}-{index}-{key}{ext}"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + f".{os.getpid()}.part")
        faces[index].save(str(tmp))
        os.replace(tmp, out)  # another process writing the same face at once is harmless
    return out, families[index]


def _fontconfig() -> Path | None:
    exe = shutil.which("fc-match")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=20, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out) if out else None
    if path is None or not path.is_file() or path.suffix.lower() not in _FONT_SUFFIXES:
        return None
    return path if _has_chinese(path) else None  # fc-match always answers something: keep it only if Chinese


def _not_found(looked: list[str]) -> FontNotFound:
    where = "; ".join(looked)
    return FontNotFound(
        both(
            f"找不到中文字体（已查找: {where}）。请安装 fonts-noto-cjk 或 fonts-wqy-microhei，"
            f"或用环境变量 {ENV_VAR} 指定字体文件",
            f"no CJK font found (looked at: {where}). Install fonts-noto-cjk or fonts-wqy-microhei, "
            f"or give a font file in ${ENV_VAR}",
        )
    )


def _has_chinese(path: Path) -> bool:
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            face = TTCollection(str(path), lazy=True).fonts[0]
        else:
            face = TTFont(str(path), lazy=True)
        cmap = face.getBestCmap() or {}
    except Exception:  # noqa: BLE001 - an unreadable file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in "稽查线损电量")


def _in_folder(folder: Path) -> Path | None:
    """The best font with Chinese glyphs in ``folder`` (known file names first, then any, by name)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _FONT_SUFFIXES and p.is_file())
    known = [Path(reg).name.lower() for reg, _bold in CANDIDATES]
    files.sort(key=lambda p: known.index(p.name.lower()) if p.name.lower() in known else len(known))
    return next((p for p in files if _has_chinese(p)), None)


def find_cjk_font(setting: str | Path | None = None) -> CJKFont:
    """The CJK font to embed: ``setting`` (a font file or a folder of fonts), else ``$GRIDAUDIT_CJK_FONT``
    (the same variable the charts read), else the system's.

    A given path that is missing or not a font is an error (it is never silently replaced by another font)."""
    given = setting or os.environ.get(ENV_VAR) or None
    if given:
        path = Path(given).expanduser()
        origin = "setting" if setting else ENV_VAR
        if path.is_dir():
            found_in = _in_folder(path)
            if found_in is None:
                raise FontNotFound(
                    both(
                        f"文件夹 {path} 中没有中文字体（来自 {origin}）",
                        f"no Chinese font (CJK) in folder {path} (from {origin})",
                    )
                )
            path = found_in
        if not path.is_file():
            raise FontNotFound(
                both(f"字体文件不存在: {path}（来自 {origin}）", f"font file not found: {path} (from {origin})")
            )
        if path.suffix.lower() not in _FONT_SUFFIXES:
            raise FontNotFound(
                both(f"不是字体文件（应为 .ttf/.otf/.ttc）: {path}", f"not a font file (.ttf/.otf/.ttc): {path}")
            )
        regular, family = _single_face(path)
        return CJKFont(family or path.stem, regular, None, path)
    looked: list[str] = []
    for reg, bold in CANDIDATES:
        looked.append(reg)
        path = Path(reg)
        if path.is_file():
            regular, family = _single_face(path)
            bold_file = _single_face(Path(bold))[0] if bold and Path(bold).is_file() else None
            return CJKFont(family or path.stem, regular, bold_file, path)
    looked.append("fc-match :lang=zh-cn")
    found = _fontconfig()
    if found is None:
        raise _not_found(looked[:3] + ["…"] + looked[-1:])
    regular, family = _single_face(found)
    return CJKFont(family or found.stem, regular, None, found)


_CACHED: dict[str, CJKFont] = {}


def cjk_font(setting: str | Path | None = None) -> CJKFont:
    """:func:`find_cjk_font`, looked up once per process for the same setting and environment."""
    key = f"{setting}|{os.environ.get(ENV_VAR, '')}"
    if key not in _CACHED:
        _CACHED[key] = find_cjk_font(setting)
    return _CACHED[key]


def font_face_css(font: CJKFont, family: str | None = None) -> str:
    """``@font-face`` rules declaring ``family`` (default: the font's own family name) from the font's files
    (regular 400, bold 700 if it has one)."""
    family = family or font.family
    rules = [
        f'@font-face {{ font-family: "{family}"; src: url("{font.regular.resolve().as_uri()}"); font-weight: 400; }}'
    ]
    if font.bold:
        rules.append(
            f'@font-face {{ font-family: "{family}"; src: url("{font.bold.resolve().as_uri()}"); font-weight: 700; }}'
        )
    return "\n".join(rules)
