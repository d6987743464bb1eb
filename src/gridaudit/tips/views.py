"""What people see of tips (the CLI now, the web app later): lists and one tip, in the reader's unit scope,
the reporter for the audit lead only (each one shown is a ``tip_reporter_view`` event, ``privacy.reveal``)."""

from __future__ import annotations

import json
from typing import Any

from gridaudit.tips.models import Tip


def _scope_filter(session: Any, user: Any) -> Any:
    """Tips ``user`` sees: every tip for an unbound lead role (or no user); else those of the user's units."""
    from sqlalchemy import true

    from gridaudit.audit.access import visible_units

    units = visible_units(session, user)
    return true() if units is None else Tip.unit_id.in_(sorted(units))


def tip_record(tip: Tip) -> dict[str, Any]:
    """A tip as plain data, without the reporter."""
    return {
        "tip_id": tip.tip_id,
        "received_on": tip.received_on.isoformat(),
        "channel": tip.channel,
        "subject": json.loads(tip.subject),
        "what": tip.description,
        "status": tip.status,
        "customer_id": tip.customer_id,
        "unit_id": tip.unit_id,
        "candidates": json.loads(tip.candidates) if tip.candidates else [],
        "finding_id": tip.finding_id,
        "source": tip.source if not tip.source_ref else f"{tip.source}:{tip.source_ref}",
        "entered_by": tip.entered_by,
    }


def list_tips(
    session: Any, user_id: str | None, status: list[str] | None = None, tip_ids: list[int] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """The tips ``user_id`` may see (``access.can_tip(user, "tip_list")`` and unit scope), oldest first, and
    whether the rows carry the reporter (the audit lead: ``reporter`` key, each shown one a trail event)."""
    from sqlalchemy import select

    from gridaudit.audit.access import can_tip, may_see_reporter, reader
    from gridaudit.tips.privacy import reveal

    who = reader(session, user_id)
    if who is not None:
        can_tip(who, "tip_list")
    q = select(Tip).where(_scope_filter(session, who)).order_by(Tip.tip_id)
    if status:
        q = q.where(Tip.status.in_(status))
    if tip_ids is not None:
        q = q.where(Tip.tip_id.in_(tip_ids))
    tips = list(session.execute(q).scalars())
    lead = may_see_reporter(who)
    contacts = reveal(session, who.user_id, [t.tip_id for t in tips]) if lead and who is not None else {}
    rows = []
    for t in tips:
        r = tip_record(t)
        if lead:
            r["reporter"] = contacts.get(t.tip_id)
        rows.append(r)
    return rows, lead


def show_tip(session: Any, user_id: str | None, tip_id: int) -> tuple[dict[str, Any], bool]:
    """One tip as ``list_tips`` shows it (NotFound when unknown or outside the reader's scope)."""
    from gridaudit.audit.errors import NotFound

    rows, lead = list_tips(session, user_id, tip_ids=[tip_id])
    if not rows:
        raise NotFound(f"未知举报 {tip_id}（或不在本人范围内）", f"unknown tip {tip_id} (or outside your scope)")
    return rows[0], lead
