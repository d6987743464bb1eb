"""Rendering chart specs: SVG/PNG for reports (vl-convert, CJK font registered) and the browser runtime.

``to_svg(spec)`` and ``to_png(spec)`` render a Vega-Lite spec with vl-convert, offline (no data URL may be
loaded), with the system CJK font registered once (see :mod:`gridaudit.charts.fonts`) and number/date
formats in the spec's language (``usermeta.lang``, set by the builders). ``runtime_js()`` is the
Vega/Vega-Lite/vega-embed bundle that vl-convert-python ships, for the web app to serve from its own URL;
``format_locale(lang)`` is the d3 number/time locale the page passes to vega-embed.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import vl_convert as vlc

from gridaudit.charts.fonts import CjkFont, find_cjk_font

_LANGS = ("zh", "en")
# the bundle's snippet: put the libraries on window for our own page script
_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
_LOCK = threading.Lock()
_REGISTERED: dict[str, CjkFont] = {}


def register_cjk_font(font: str | Path | None = None) -> CjkFont:
    """Find the CJK font (``font``, ``$GRIDAUDIT_CJK_FONT`` or the system's) and register it with
    vl-convert; done once per directory. Raises :class:`~gridaudit.charts.fonts.CjkFontError` if none."""
    found = find_cjk_font(font)
    key = str(found.directory)
    with _LOCK:
        if key not in _REGISTERED:
            vlc.register_font_directory(key)
            _REGISTERED[key] = found
    return found


def _lang(spec: dict[str, Any]) -> str:
    meta = spec.get("usermeta")
    lang = meta.get("lang") if isinstance(meta, dict) else None
    return lang if lang in _LANGS else "zh"


def _with_font(spec: dict[str, Any], font: CjkFont) -> dict[str, Any]:
    config = dict(spec.get("config") or {})
    config.setdefault("font", font.family)
    return {**spec, "config": config}


def to_svg(spec: dict[str, Any], font: str | Path | None = None) -> str:
    """The chart as an SVG document (text in the CJK font; numbers and dates in the spec's language)."""
    found = register_cjk_font(font)
    loc = format_locale(_lang(spec))
    return vlc.vegalite_to_svg(
        _with_font(spec, found), allowed_base_urls=[], format_locale=loc["number"], time_format_locale=loc["time"]
    )


def to_png(spec: dict[str, Any], scale: float = 1.0, font: str | Path | None = None) -> bytes:
    """The chart as PNG bytes (for a look by eye, or where SVG cannot be used)."""
    found = register_cjk_font(font)
    loc = format_locale(_lang(spec))
    return vlc.vegalite_to_png(
        _with_font(spec, found),
        scale=scale,
        allowed_base_urls=[],
        format_locale=loc["number"],
        time_format_locale=loc["time"],
    )


@cache
def runtime_js() -> str:
    """The vega-embed + Vega-Lite + Vega bundle (sets ``window.vegaEmbed``), built once per process."""
    return vlc.javascript_bundle(_GLOBALS)


@cache
def format_locale(lang: str) -> dict[str, Any]:
    """The d3 number and time format locales for ``lang`` (``{"number": ..., "time": ...}``)."""
    if lang == "en":
        return {"number": vlc.get_format_locale("en-US"), "time": vlc.get_time_format_locale("en-US")}
    return {"number": vlc.get_format_locale("zh-CN"), "time": vlc.get_time_format_locale("zh-CN")}


def runtime_version() -> str:
    """A short version tag of the runtime (vega-embed and Vega versions), for cache-busting URLs."""
    return f"{vlc.get_vega_embed_version()}-{vlc.get_vega_version()}"
