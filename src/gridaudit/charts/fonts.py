"""Finding a CJK font on the system, so Chinese in charts and reports renders as characters, never boxes.

Looked for, in order: the font file or directory given (``font``, or the environment variable
``GRIDAUDIT_CJK_FONT``, the same one the reports' PDF fonts read), then the usual places of Noto CJK /
Source Han, WenQuanYi and, on Windows, Microsoft YaHei / SimSun. vl-convert reads every face of a
collection (``.ttc``), so the family name picks the Simplified Chinese one. No CJK font found is a
:class:`CjkFontError` saying what to install or set.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridaudit.i18n import both

ENV_FONT = "GRIDAUDIT_CJK_FONT"

# file name pattern → font family name, best first
_FAMILIES: tuple[tuple[str, str], ...] = (
    (r"notosanscjk", "Noto Sans CJK SC"),
    (r"sourcehansans", "Source Han Sans SC"),
    (r"wqy-?microhei", "WenQuanYi Micro Hei"),
    (r"wqy-?zenhei", "WenQuanYi Zen Hei"),
    (r"msyh", "Microsoft YaHei"),
    (r"simsun", "SimSun"),
    (r"notoserifcjk", "Noto Serif CJK SC"),
    (r"pingfang", "PingFang SC"),
)
_FONT_SUFFIXES = {".ttf", ".ttc", ".otf", ".otc"}

SEARCH_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/opentype/source-han-sans",
    "/usr/share/fonts/truetype/wqy",
    "/usr/share/fonts/wqy-microhei",
    "/usr/share/fonts/wqy-zenhei",
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    str(Path.home() / ".local/share/fonts"),
    "/System/Library/Fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


class CjkFontError(RuntimeError):
    """No font with Chinese characters could be found (says what to install or which setting to use)."""


@dataclass(frozen=True)
class CjkFont:
    """A CJK font found on the system: its directory, one file and its family name."""

    directory: Path
    file: Path
    family: str


def _match(path: Path) -> str | None:
    name = path.name.lower()
    if path.suffix.lower() not in _FONT_SUFFIXES:
        return None
    for pattern, family in _FAMILIES:
        if re.search(pattern, name):
            return family
    return None


def _family_from_file(path: Path) -> str:
    """The family name stored in a font file (its first face), for a file whose name tells nothing."""
    try:
        ttlib: Any = importlib.import_module("fontTools.ttLib")  # optional: fonttools ships with the reports
        collection = path.suffix.lower() in (".ttc", ".otc")
        face = ttlib.TTCollection(str(path), lazy=True).fonts[0] if collection else ttlib.TTFont(str(path), lazy=True)
        name = face["name"]
        return str(name.getDebugName(16) or name.getDebugName(1) or path.stem)
    except Exception:  # noqa: BLE001 - fontTools missing or an unreadable file: the name is only a hint
        return path.stem


def _rank(family: str) -> int:
    return [f for _, f in _FAMILIES].index(family)


def _scan(directory: Path, deep: bool) -> list[CjkFont]:
    files = directory.rglob("*") if deep else directory.glob("*")
    found = []
    for f in files:
        family = _match(f)
        if family is not None and f.is_file():
            found.append(CjkFont(f.parent, f, family))
    return sorted(found, key=lambda c: (_rank(c.family), "Bold" in c.file.name, c.file.name))


def find_cjk_font(font: str | Path | None = None) -> CjkFont:
    """The best CJK font: the file or directory ``font`` (or ``$GRIDAUDIT_CJK_FONT``) when given, else the
    system's."""
    given = font or os.environ.get(ENV_FONT)
    if given:
        directory = Path(given)
        if directory.is_file():
            return CjkFont(directory.parent, directory, _match(directory) or _family_from_file(directory))
        if not directory.is_dir():
            raise CjkFontError(
                both(f"CJK 字体不存在：{directory}", f"CJK font file or directory not found: {directory}")
            )
        found = _scan(directory, deep=True)
        if not found:
            raise CjkFontError(
                both(
                    f"{directory} 中没有中文字体（Noto CJK、文泉驿、微软雅黑或宋体）",
                    f"no Chinese font (Noto CJK, WenQuanYi, Microsoft YaHei or SimSun) in {directory}",
                )
            )
        return found[0]
    for d in SEARCH_DIRS:
        directory = Path(d)
        if directory.is_dir():
            found = _scan(directory, deep=d in {"/usr/share/fonts", "/usr/local/share/fonts"})
            if found:
                return found[0]
    raise CjkFontError(
        both(
            f"找不到中文字体：请安装 fonts-noto-cjk 或 fonts-wqy-microhei，或用环境变量 {ENV_FONT} 指定字体文件或目录",
            f"no Chinese font found: install fonts-noto-cjk or fonts-wqy-microhei, or set {ENV_FONT} to a "
            "font file or directory",
        )
    )
