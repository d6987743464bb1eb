"""The CJK font of the charts, so Chinese in an SVG renders as characters, never boxes.

There is one font finder, :func:`gridaudit.reports.fonts.cjk_font` (a given file or folder, else
``$GRIDAUDIT_CJK_FONT``, else Noto CJK / Source Han, WenQuanYi, Microsoft YaHei / SimSun, PingFang, then
fontconfig), which also extracts the Simplified Chinese face of a collection (``.ttc``) into a single-face file.
The charts register that file's folder with vl-convert and name its family; no CJK font is a
:class:`CjkFontError` (the finder's ``FontNotFound``) saying what to install or set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridaudit.reports.fonts import ENV_VAR, cjk_font
from gridaudit.reports.fonts import FontNotFound as CjkFontError

ENV_FONT = ENV_VAR
__all__ = ["ENV_FONT", "CjkFont", "CjkFontError", "find_cjk_font"]


@dataclass(frozen=True)
class CjkFont:
    """The CJK font as the charts use it: the folder vl-convert registers, the (single-face) file, its family."""

    directory: Path
    file: Path
    family: str


def find_cjk_font(font: str | Path | None = None) -> CjkFont:
    """The CJK font: the file or folder ``font`` (or ``$GRIDAUDIT_CJK_FONT``) when given, else the system's —
    the same font the PDFs embed (:func:`gridaudit.reports.fonts.cjk_font`)."""
    found = cjk_font(font)
    return CjkFont(found.regular.parent, found.regular, found.family)
