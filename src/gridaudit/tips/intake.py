"""Tips into the case store: entered, from a file or from ``work_orders`` rows of type ``tip_off``;
each one de-duplicated, matched to a customer (``matching``) and stored, its reporter apart (``privacy``).

Every stored tip is an audit-trail event (``tip_add``) whose payload never holds the reporter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gridaudit.audit import trail
from gridaudit.audit.access import can_tip
from gridaudit.audit.errors import AuditError, NotFound
from gridaudit.audit.users import get_user
from gridaudit.findings.shape import finding_id
from gridaudit.i18n import Text
from gridaudit.tips.matching import Match, Matcher
from gridaudit.tips.models import Tip, TipReporter
from gridaudit.tips.subjects import Subject, TipInput, rule_id

STATUSES = {
    "matched": ("已匹配", "matched"),
    "ambiguous": ("待确认（多个候选）", "ambiguous"),
    "unknown": ("对象未知", "unknown"),
}


@dataclass
class Added:
    """What happened to one tip: stored (``tip``), or recognised as ``duplicate_of`` an earlier one."""

    tip: Tip
    duplicate: bool
    match: Match | None = None


def tip_finding_id(channel: str, customer_id: str, received_on: date) -> str:
    """The finding a matched tip becomes: one per channel, customer and month (two tips about the same customer
    through the same channel in one month are one finding, the earlier tip first)."""
    return finding_id(rule_id(channel), "customer", customer_id, received_on.strftime("%Y-%m"))


def _apply_match(tip: Tip, match: Match, actor: str, now: datetime) -> None:
    tip.status = match.status
    tip.matched_by, tip.matched_at = actor, now
    if match.status == "matched" and match.customer_id:
        tip.customer_id = match.customer_id
        tip.unit_id = match.candidates[0].unit_id
        tip.finding_id = tip_finding_id(tip.channel, match.customer_id, tip.received_on)
        tip.candidates = None
    else:
        tip.customer_id = tip.finding_id = tip.unit_id = None
        tip.candidates = trail.canonical([c.as_dict() for c in match.candidates]) if match.candidates else None


def existing(session: Any, keys: list[str]) -> dict[str, int]:
    """tip_key → tip_id of the tips already stored."""
    from sqlalchemy import select

    out: dict[str, int] = {}
    for i in range(0, len(keys), 500):
        q = select(Tip.tip_key, Tip.tip_id).where(Tip.tip_key.in_(keys[i : i + 500]))
        out.update({k: v for k, v in session.execute(q)})
    return out


def add_tips(session: Any, actor_id: str | None, tips: list[TipInput], matcher: Matcher) -> list[Added]:
    """Store ``tips`` (de-duplicated against the store and each other), matched; one transaction (the caller's)."""
    actor = get_user(session, actor_id)
    can_tip(actor, "tip_add")
    keys = [t.key() for t in tips]
    seen = existing(session, keys)
    now = trail.now_utc()
    out: list[Added] = []
    events = []
    for t, key in zip(tips, keys, strict=True):
        if key in seen:
            out.append(Added(session.get(Tip, seen[key]), True))
            continue
        tip = Tip(
            tip_key=key,
            received_on=t.received_on,
            channel=t.channel,
            subject_kind=t.subject.kind,
            subject=trail.canonical(t.subject.as_dict()),
            description=t.description,
            source=t.source,
            source_ref=t.source_ref,
            status="unknown",
            entered_by=actor.user_id,
            entered_at=now,
        )
        match = matcher.match(t.subject)
        _apply_match(tip, match, actor.user_id, now)
        session.add(tip)
        session.flush()
        if t.contact:
            session.add(TipReporter(tip_id=tip.tip_id, contact=t.contact, recorded_at=now))
        seen[key] = tip.tip_id
        out.append(Added(tip, False, match))
        events.append(("tip_add", "tip", tip.tip_id, _event_payload(tip, match)))
    session.flush()
    if events:
        trail.append_many(session, actor.user_id, events)
    return out


def _event_payload(tip: Tip, match: Match) -> dict[str, Any]:
    """What the trail records of a tip: never the reporter (nor whether there is one)."""
    return {
        "channel": tip.channel,
        "received_on": tip.received_on.isoformat(),
        "subject_kind": tip.subject_kind,
        "source": tip.source,
        "source_ref": tip.source_ref,
        "status": tip.status,
        "customer_id": tip.customer_id,
        "candidates": len(match.candidates) if match.status == "ambiguous" else 0,
        "finding_id": tip.finding_id,
    }


def get_tip(session: Any, tip_id: int) -> Tip:
    """A tip by id, or NotFound."""
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise NotFound(f"未知举报 {tip_id}", f"unknown tip {tip_id}")
    return tip


def choose_customer(session: Any, actor_id: str | None, tip_id: int, customer_id: str, matcher: Matcher) -> Tip:
    """A person picks the customer of a held tip (ambiguous or unknown subject), or corrects a match.

    The customer must exist in the dataset; the choice is an audit-trail event (``tip_match``)."""
    actor = get_user(session, actor_id)
    can_tip(actor, "tip_match")
    tip = get_tip(session, tip_id)
    cand = matcher.customer(customer_id)
    if cand is None:
        raise NotFound(f"数据集中没有用户 {customer_id}", f"no customer {customer_id} in the dataset")
    before = (tip.status, tip.customer_id)
    if tip.customer_id == customer_id:
        raise AuditError(
            f"举报 {tip_id} 已匹配到用户 {customer_id}", f"tip {tip_id} is already matched to {customer_id}"
        )
    was = json.loads(tip.candidates) if tip.candidates else []
    _apply_match(tip, Match("matched", [cand]), actor.user_id, trail.now_utc())
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "tip_match",
        "tip",
        tip.tip_id,
        {
            "customer_id": customer_id,
            "from_status": before[0],
            "from_customer": before[1],
            "among_candidates": customer_id in {c["customer_id"] for c in was},
            "finding_id": tip.finding_id,
        },
    )
    return tip


def status_text(status: str) -> Text:
    """A tip status in both languages."""
    zh, en = STATUSES.get(status, (status, status))
    return Text(zh, en)


def subject_of(tip: Tip) -> Subject:
    """The subject a stored tip names."""
    return Subject(**json.loads(tip.subject))
