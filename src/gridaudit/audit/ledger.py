"""The ledger: every row of the case store is sealed in the hash-chained audit trail.

The trail (``trail``) records who did what; the ledger makes the stored rows themselves trustworthy.
At the end of every transaction that changed rows, one ``seal`` event is appended whose payload maps
each changed row (``table:primary key``) to the SHA-256 of its stored content (``None`` once deleted).
The event is part of the hash chain, so a seal cannot be altered without breaking it.
``verify_rows`` replays the seals and compares them with what the tables hold now: a row edited,
deleted or inserted by raw SQL, outside gridaudit, no longer matches and is named with its table and key.

Tables whose rows are never changed once written (results, penalties, verifications, replies, voids,
escalations, attachments, booked assessments) also refuse UPDATE and DELETE in the database itself
(triggers, migration 0003); corrections are new rows (see ``corrections``).

Every table whose name starts with ``audit_`` is covered, except the trail itself (``audit_events``,
``audit_log_head``, chained and guarded on their own) and alembic's version table, so a table added by a
later migration is covered without being listed anywhere. A migration that changes the columns of a
covered table must end with ``reseal_all`` (the digests of its rows change with their columns).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

UNSEALED = frozenset({"audit_events", "audit_log_head", "audit_alembic_version"})
APPEND_ONLY = (
    "audit_results",
    "audit_penalties",
    "audit_verifications",
    "audit_replies",
    "audit_voids",
    "audit_escalations",
    "audit_attachments",
    "audit_assessments",
)
SEAL_ACTION = "seal"
TOUCHED = "ledger_touched"
ACTOR = "ledger_actor"
CHUNK = 500  # primary keys per SELECT when reading sealed rows back
SEAL_ROWS_PER_EVENT = 5000

_tables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_covered(table_name: str) -> bool:
    """Whether rows of ``table_name`` are sealed in the trail."""
    return table_name.startswith("audit_") and table_name not in UNSEALED


def covered_tables(conn: Any) -> list[Any]:
    """The covered tables as they are in the database (reflected; cached per engine until ``forget``)."""
    from sqlalchemy import MetaData

    engine = conn.engine
    cached = _tables.get(engine)
    if cached is None:
        meta = MetaData()
        meta.reflect(bind=conn, only=lambda name, _meta: is_covered(name))
        cached = [meta.tables[n] for n in sorted(meta.tables)]
        _tables[engine] = cached
    return cached


def forget(engine: Any) -> None:
    """Drop the cached table shapes of ``engine`` (after a migration changed them)."""
    _tables.pop(engine, None)


def _norm(value: Any) -> Any:
    """A stored value in one form on SQLite and PostgreSQL (times in UTC, floats by repr)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return repr(float(value))
    return str(value)


def row_digest(row: Any) -> str:
    """SHA-256 of one stored row (a mapping of column → value), independent of the database."""
    body = json.dumps({k: _norm(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def row_key(table: Any, row: Any) -> str:
    """``table:key`` of a row (composite keys joined by '/')."""
    return f"{table.name}:" + "/".join(str(row[c.name]) for c in table.primary_key.columns)


def _rows(conn: Any, table: Any, keys: list[tuple] | None = None) -> Iterator[Any]:
    """Rows of ``table`` as mappings, all of them or those with the given primary keys."""
    from sqlalchemy import select, tuple_

    pk = list(table.primary_key.columns)
    if keys is None:
        yield from conn.execute(select(table).order_by(*pk)).mappings()
        return
    for i in range(0, len(keys), CHUNK):
        part = keys[i : i + CHUNK]
        where = pk[0].in_([k[0] for k in part]) if len(pk) == 1 else tuple_(*pk).in_(part)
        yield from conn.execute(select(table).where(where)).mappings()


# ---------------------------------------------------------------- sealing what a transaction changed


def track(session: Any, _flush_context: Any = None) -> None:
    """``after_flush`` hook: remember every covered row this transaction inserted, changed or deleted."""
    from sqlalchemy import inspect

    touched = session.info.setdefault(TOUCHED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        if table is None or not is_covered(table.name):
            continue
        key = inspect(obj).mapper.primary_key_from_instance(obj)
        if None not in key:
            touched.add((table.name, tuple(key)))


def install(sessions: Any) -> None:
    """Track changed rows on every session made by ``sessions`` (a sessionmaker)."""
    from sqlalchemy import event

    event.listen(sessions, "after_flush", track)


def note_actor(session: Any, actor: str) -> None:
    """Remember who acts in this transaction (the trail calls this for every event)."""
    session.info[ACTOR] = actor


def current_digests(conn: Any, keys: Iterable[tuple[str, tuple]]) -> dict[str, str | None]:
    """``table:key`` → digest of the row as stored now (None: no such row any more)."""
    by_table: dict[str, list[tuple]] = {}
    for name, key in keys:
        by_table.setdefault(name, []).append(key)
    tables = {t.name: t for t in covered_tables(conn)}
    out: dict[str, str | None] = {}
    for name, wanted in sorted(by_table.items()):
        table = tables[name]
        for key in wanted:
            out[f"{name}:" + "/".join(str(k) for k in key)] = None
        for row in _rows(conn, table, wanted):
            out[row_key(table, row)] = row_digest(row)
    return out


def seal(session: Any) -> int:
    """Append the seal of every covered row changed in this transaction; returns the rows sealed.

    Called by ``Store.transaction`` just before commit. A change with no trail event is a programming
    error (every action names its actor through the trail), so it is refused rather than sealed anonymously.
    """

    session.flush()
    touched = session.info.pop(TOUCHED, set())
    if not touched:
        return 0
    actor = session.info.get(ACTOR)
    if actor is None:
        names = ", ".join(sorted({n for n, _ in touched}))
        raise RuntimeError(f"case store rows changed without an audit-trail event ({names})")
    digests = current_digests(session.connection(), touched)
    _append_seals(session, actor, digests)
    session.info.pop(TOUCHED, None)  # the seal itself touches only the trail
    return len(digests)


def _append_seals(session: Any, actor: str, digests: dict[str, str | None]) -> None:
    from gridaudit.audit import trail

    items = sorted(digests.items())
    events = []
    for i in range(0, len(items), SEAL_ROWS_PER_EVENT):
        part = dict(items[i : i + SEAL_ROWS_PER_EVENT])
        events.append((SEAL_ACTION, "ledger", f"{len(part)} rows", {"rows": part}))
    trail.append_many(session, actor, events)


def reseal_all(session: Any, actor: str) -> int:
    """Seal every covered row as it is now (a migration that changed columns, or adopting an old store)."""
    conn = session.connection()
    forget(conn.engine)
    digests: dict[str, str | None] = {}
    for table in covered_tables(conn):
        for row in _rows(conn, table):
            digests[row_key(table, row)] = row_digest(row)
    if digests:
        _append_seals(session, actor, digests)
    return len(digests)


# ---------------------------------------------------------------- verifying


@dataclass
class RowProblem:
    """A stored row that does not match its seal in the trail."""

    table: str
    key: str
    problem_zh: str
    problem_en: str


def verify_rows(conn: Any, sealed: dict[str, str | None]) -> list[RowProblem]:
    """Compare every covered row with its seal: edited, deleted and inserted rows are named."""
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for table in covered_tables(conn):
        for row in _rows(conn, table):
            key = row_key(table, row)
            seen.add(key)
            pk = key.split(":", 1)[1]
            if key not in sealed or sealed[key] is None:
                problems.append(
                    RowProblem(
                        table.name,
                        pk,
                        f"{table.name} 行 {pk} 不在稽查日志中（在 gridaudit 之外插入）",
                        f"{table.name} row {pk} is not in the audit trail (inserted outside gridaudit)",
                    )
                )
            elif sealed[key] != row_digest(row):
                problems.append(
                    RowProblem(
                        table.name,
                        pk,
                        f"{table.name} 行 {pk} 与稽查日志封存的内容不符（在 gridaudit 之外被修改）",
                        f"{table.name} row {pk} differs from its seal in the audit trail (edited outside gridaudit)",
                    )
                )
    for key, digest in sorted(sealed.items()):
        if digest is not None and key not in seen:
            name, pk = key.split(":", 1)
            problems.append(
                RowProblem(
                    name,
                    pk,
                    f"{name} 行 {pk} 已被删除（在 gridaudit 之外删除）",
                    f"{name} row {pk} is missing (deleted outside gridaudit)",
                )
            )
    return problems


def trigger_sql(dialect: str, table: str) -> list[str]:
    """DDL of the triggers that make ``table`` refuse UPDATE and DELETE (SQLite or PostgreSQL)."""
    if dialect == "sqlite":
        return [
            f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: corrections are new rows / 只能追加');
                END"""
            for verb in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
        ]
    return []
