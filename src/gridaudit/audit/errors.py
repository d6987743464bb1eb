"""Errors of the audit loop: every one carries a Chinese and an English text."""

from __future__ import annotations

from gridaudit.i18n import Bilingual, both


class AuditError(Exception):
    """A refused audit command (bad argument, wrong role, illegal transition, conflict).

    ``AuditError(zh, en)`` or ``AuditError(Text(zh, en))`` (anything with ``.zh``/``.en``)."""

    def __init__(self, zh: str | Bilingual, en: str | None = None) -> None:
        if not isinstance(zh, str):
            given = zh
            zh = given.zh
            en = given.en if en is None else en
        if en is None:
            raise TypeError("AuditError needs (zh, en) or a Text")
        self.zh: str = zh
        self.en: str = en
        super().__init__(f"{en} / {zh}")

    def text(self) -> str:
        """The message in both languages, current language first."""
        return both(self.zh, self.en)


class NotFound(AuditError):
    """An unknown task, plan, user or file."""


class Forbidden(AuditError):
    """The acting user's role or relation to the finding does not allow the action."""


class IllegalTransition(AuditError):
    """The workflow does not allow this action in the task's current state."""


class Conflict(AuditError):
    """Someone else changed the same record first (optimistic locking)."""


class ScheduleNotEntered(AuditError):
    """A penalty schedule slot exists but the utility has not entered its figures."""


class StoreMissing(AuditError):
    """The case store named does not exist (and was not created)."""
