"""The reporter's identity (举报人信息): stored apart (``audit_tip_reporters``), shown to the audit lead only
(``access.can_tip(user, "tip_reporter")``), and every look is an audit-trail event (``tip_reporter_view``)
naming who looked at which tip — never what they saw."""

from __future__ import annotations

from typing import Any

from gridaudit.audit import trail
from gridaudit.audit.access import can_tip
from gridaudit.audit.users import get_user
from gridaudit.tips.models import TipReporter


def reveal(session: Any, actor_id: str | None, tip_ids: list[int]) -> dict[int, str]:
    """tip_id → reporter contact, for the audit lead; refused for anyone else. Records one trail event per tip
    whose reporter was shown."""
    from sqlalchemy import select

    actor = get_user(session, actor_id)
    can_tip(actor, "tip_reporter")
    if not tip_ids:
        return {}
    rows = session.execute(select(TipReporter).where(TipReporter.tip_id.in_(tip_ids))).scalars()
    found = {r.tip_id: r.contact for r in rows}
    if found:
        trail.append_many(
            session, actor.user_id, [("tip_reporter_view", "tip", tid, {"tip_id": tid}) for tid in sorted(found)]
        )
    return found


def has_reporter(session: Any, tip_ids: list[int]) -> set[int]:
    """The tips that have a reporter on record (for the audit lead's list; reveals no identity)."""
    from sqlalchemy import select

    if not tip_ids:
        return set()
    return set(session.execute(select(TipReporter.tip_id).where(TipReporter.tip_id.in_(tip_ids))).scalars())
