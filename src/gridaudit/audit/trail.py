"""The audit trail: append-only events chained by hash.

Each event stores ``prev_hash`` and ``hash = sha256(prev_hash + canonical JSON of the event)``; the
canonical JSON holds seq, time, actor, action, entity and payload with sorted keys. ``audit_log_head``
keeps the newest seq and hash, so deleting the last events is caught too. The database refuses UPDATE
and DELETE on events (triggers); ``verify_log`` still re-checks everything, in case someone with
owner rights drops the trigger.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gridaudit.audit.models import Event, LogHead

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text, dates as ISO strings."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, etype: str, eid: str, payload: str) -> str:
    """The chained hash of one event (``payload`` is the stored canonical JSON text)."""
    body = canonical(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "entity_type": etype,
            "entity_id": eid,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def append(session: Any, actor: str, action: str, entity_type: str, entity_id: Any, payload: dict) -> Event:
    """Append one event in the caller's transaction (locks the log head, so chains never fork)."""
    return append_many(session, actor, [(action, entity_type, entity_id, payload)])[0]


def append_many(session: Any, actor: str, items: list[tuple[str, str, Any, dict]]) -> list[Event]:
    """Append events (action, entity_type, entity_id, payload) by one actor, chained, in one go."""
    from sqlalchemy import select, update

    from gridaudit.audit import ledger

    ledger.note_actor(session, actor)
    head = session.execute(select(LogHead).where(LogHead.head_id == 1).with_for_update()).scalar_one()
    seq0, prev = head.seq, head.hash
    at = now_utc().isoformat(timespec="microseconds")
    events: list[Event] = []
    for action, entity_type, entity_id, payload in items:
        seq = seq0 + len(events) + 1
        body = canonical(payload)
        h = event_hash(prev, seq, at, actor, action, entity_type, str(entity_id), body)
        events.append(
            Event(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id),
                payload=body,
                prev_hash=prev,
                hash=h,
            )
        )
        prev = h
    session.add_all(events)
    moved = session.execute(
        update(LogHead)
        .where(LogHead.head_id == 1, LogHead.seq == seq0)
        .values(seq=seq0 + len(events), hash=prev)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        from sqlalchemy.orm.exc import StaleDataError

        raise StaleDataError("audit log head moved during the command")
    session.flush()
    session.expire(head)
    return events


@dataclass
class LogProblem:
    """One inconsistency found by ``verify_log``."""

    event_id: int | None
    seq: int | None
    problem_zh: str
    problem_en: str
    table: str | None = None
    row: str | None = None

    def where(self) -> str:
        """Where the problem is: the event, the log head, or the table and row."""
        if self.table is not None:
            return f"{self.table} row {self.row}"
        if self.event_id is not None:
            return f"event_id {self.event_id} seq {self.seq}"
        return f"head seq {self.seq}"


def verify_log(session: Any) -> tuple[int, list[LogProblem]]:
    """Re-check the whole chain and every sealed row: returns (events checked, problems). None means intact.

    Catches an edited event (its hash no longer matches), a deleted or reordered event (seq gap,
    broken prev_hash link), deleted newest events (the head no longer matches), and any row of a covered
    table edited, deleted or inserted outside gridaudit (it no longer matches its seal, see ``ledger``).
    """
    from sqlalchemy import select

    from gridaudit.audit import ledger

    problems: list[LogProblem] = []
    sealed: dict[str, str | None] = {}
    prev = GENESIS
    n = 0
    for ev in session.execute(select(Event).order_by(Event.event_id)).scalars():
        n += 1
        if ev.seq != n:
            problems.append(
                LogProblem(
                    ev.event_id,
                    ev.seq,
                    f"序号应为 {n}，实为 {ev.seq}（事件被删除或调换）",
                    f"seq should be {n}, is {ev.seq} (event deleted or reordered)",
                )
            )
        if ev.prev_hash != prev:
            problems.append(
                LogProblem(
                    ev.event_id,
                    ev.seq,
                    "prev_hash 与上一事件的哈希不符（事件被删除、插入或调换）",
                    "prev_hash does not match the previous event's hash (event deleted, inserted or reordered)",
                )
            )
        recomputed = event_hash(
            ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.entity_type, ev.entity_id, ev.payload
        )
        if recomputed != ev.hash:
            problems.append(
                LogProblem(
                    ev.event_id,
                    ev.seq,
                    "事件内容与其哈希不符（事件被修改）",
                    "event content does not match its hash (event edited)",
                )
            )
        prev = ev.hash
        if ev.action == ledger.SEAL_ACTION:
            sealed.update(json.loads(ev.payload)["rows"])
    head = session.get(LogHead, 1)
    if head is None:
        problems.append(LogProblem(None, None, "日志头缺失", "log head row is missing"))
    elif head.seq != n or head.hash != prev:
        problems.append(
            LogProblem(
                None,
                head.seq,
                f"日志头记录 {head.seq} 个事件，实有 {n} 个（末尾事件被删除或篡改）",
                f"log head records {head.seq} events, found {n} (newest events deleted or altered)",
            )
        )
    problems += [
        LogProblem(None, None, p.problem_zh, p.problem_en, p.table, p.key)
        for p in ledger.verify_rows(session.connection(), sealed)
    ]
    return n, problems


def history(session: Any, entity_type: str, entity_id: Any) -> list[Event]:
    """All events of one entity, oldest first."""
    from sqlalchemy import select

    q = select(Event).where(Event.entity_type == entity_type, Event.entity_id == str(entity_id))
    return list(session.execute(q.order_by(Event.seq)).scalars())
