"""Formatting a report value for people (HTML and PDF): the model's numbers as text, labels in one language.

Formatting only: no figure is computed here (a Figure's changes are its own properties)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gridaudit.i18n import Bilingual

DASH = "—"


def text(value: Any, lang: str) -> str:
    """A label (zh/en) or a plain value as text."""
    if isinstance(value, Bilingual):
        return value.zh if lang == "zh" else value.en
    return DASH if value is None else str(value)


def number(value: Any, kind: str, lang: str, signed: bool = False) -> str:
    """``value`` formatted as ``kind`` (see ``model.KINDS``); None is a dash."""
    if value is None:
        return DASH
    if isinstance(value, Bilingual) or isinstance(value, str):
        return text(value, lang)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, int | float):
        return str(value)
    sign = "+" if signed else ""
    if kind == "int":
        return f"{value:{sign},.0f}"
    if kind in ("kwh", "yuan"):
        return f"{value:{sign},.2f}"
    if kind == "pct":
        return f"{value:{sign}.2f}"
    if kind == "rate":
        return f"{value * 100:{sign}.1f}%"
    if kind == "score":
        return f"{value:{sign}.3f}"
    return f"{value:{sign}}"


def change(value: Any, kind: str, lang: str) -> str:
    """A change (a difference of two figures): signed; points for percentages and rates."""
    if value is None:
        return DASH
    if kind == "pct":
        return f"{value:+.2f}" + (" 个百分点" if lang == "zh" else " pts")
    if kind == "rate":
        return f"{value * 100:+.1f}" + (" 个百分点" if lang == "zh" else " pts")
    return number(value, kind, lang, signed=True)
