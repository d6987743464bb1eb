"""Bilingual messages: zh-CN by default for people, English on request (``--lang en``).

One shape for a thing said in two languages: anything with ``.zh`` and ``.en`` (:class:`Bilingual`) —
a :class:`Text`, an ``AuditError``, an ingest ``Check``/``SourceProblem``, a rule's or the contract's
``Text`` — and :func:`msg` / :func:`both` take it as well as a ``(zh, en)`` pair. tests/test_messages.py
checks that every literal message has Chinese in its zh text and none in its en text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

LANGS = ("zh", "en")

# the CLI validates $GRIDAUDIT_LANG (exit 2 when unknown); library use falls back to zh
_LANG = {"value": os.environ.get("GRIDAUDIT_LANG", "zh") if os.environ.get("GRIDAUDIT_LANG") in LANGS else "zh"}


def set_lang(lang: str) -> None:
    """Choose the language of messages for this process: ``zh`` or ``en``."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use zh or en")
    _LANG["value"] = lang


def get_lang() -> str:
    """The language messages are shown in."""
    return _LANG["value"]


@runtime_checkable
class Bilingual(Protocol):
    """Anything that says one thing in Chinese (``zh``) and English (``en``)."""

    @property
    def zh(self) -> str:
        """The Chinese text."""
        ...

    @property
    def en(self) -> str:
        """The English text."""
        ...


@dataclass(frozen=True)
class Text:
    """A message in Chinese and English: the one value type for a thing said in both languages."""

    zh: str
    en: str

    def __str__(self) -> str:
        """The text in the current language."""
        return msg(self)


def _pair(zh: str | Bilingual, en: str | None) -> tuple[str, str]:
    if en is None:
        if isinstance(zh, str):
            raise TypeError("msg/both need (zh, en) or one object with .zh and .en")
        return zh.zh, zh.en
    return str(zh), en


def msg(zh: str | Bilingual, en: str | None = None) -> str:
    """Pick the Chinese or English text of a message by the current language: ``msg(zh, en)`` or ``msg(text)``."""
    z, e = _pair(zh, en)
    return z if _LANG["value"] == "zh" else e


def both(zh: str | Bilingual, en: str | None = None) -> str:
    """A message in both languages, current one first (errors either side may read): ``both(zh, en)`` or
    ``both(text)``."""
    z, e = _pair(zh, en)
    return f"{z} / {e}" if _LANG["value"] == "zh" else f"{e} / {z}"
