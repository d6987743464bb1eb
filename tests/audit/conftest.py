"""Audit-loop fixtures: a case store on SQLite (tmp file) and on PostgreSQL (a database of its own
per test session, dropped afterwards, so concurrent runs on the shared server never collide)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gridaudit.findings import findings_table


@pytest.fixture(scope="session")
def pg_audit_server(pg_url: str) -> Iterator[tuple[str, list[str]]]:
    """The test database plus the list of schemas this session creates; all dropped at the end.

    Schemas carry a per-session random prefix, so concurrent runs on the shared server never collide
    (a schema drops much faster than a database)."""
    import psycopg

    created: list[str] = []
    yield pg_url, created
    with psycopg.connect(pg_url, autocommit=True) as con:
        for schema in created:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


SESSION = uuid.uuid4().hex[:8]


def _fresh_pg(server: tuple[str, list[str]]) -> str:
    """A fresh schema for one store, reached through the search_path."""
    import psycopg

    url, created = server
    schema = f"gridaudit_audit_{SESSION}_{len(created)}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    created.append(schema)
    return f"{url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A new, empty case store location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "cases.db")
    return _fresh_pg(request.getfixturevalue("pg_audit_server"))


@pytest.fixture
def pg_store_url(pg_audit_server: tuple[str, list[str]]) -> str:
    """A new, empty case store on PostgreSQL only."""
    return _fresh_pg(pg_audit_server)


@pytest.fixture
def store(store_url: str, tmp_path):
    """An open case store (migrated), disposed after the test."""
    from gridaudit.audit.store import open_store

    st = open_store(store_url, tmp_path / "attachments", create=True)
    yield st
    st.dispose()


def make_findings(n: int = 12, period: str = "2025-06", staff: str = "S01"):
    """A findings table built in code: alternating reading/theft findings over customers C000…"""
    rows = []
    for i in range(n):
        theft = i % 2 == 0
        rows.append(
            dict(
                rule_id="theft.sustained_drop" if theft else "reading.estimated",
                family="theft" if theft else "reading",
                severity="high",
                entity_type="customer",
                entity_id=f"C{i:03d}",
                period=period,
                score=round(0.05 * (i + 1), 3),
                kwh_at_stake=100.0 * (i + 1),
                yuan_at_stake=55.0 * (i + 1),
                responsible_staff_id=None if theft else staff,
                evidence={"unit_id": "U1" if i < n // 2 else "U2"},
                run_id="test",
            )
        )
    return findings_table(rows)


PEOPLE = [
    ("admin", "admin", None, None, None),
    ("mgr", "manager", "U1", "S90", None),
    ("lead", "audit_lead", None, "S80", None),
    ("li", "auditor", None, "S70", None),
    ("wu", "auditor", None, "S01", None),  # an auditor who is also the responsible staff S01
    ("zhang", "inspector", "U1", "S60", None),
    ("sun", "inspector", "U2", "S61", None),
    ("zhou", "responsible", "U1", "S01", "mgr"),
    ("qian", "responsible", "U2", "S02", "mgr"),
]


def add_people(store) -> None:
    """Users of every role; the first is the bootstrap admin."""
    from gridaudit.audit.users import add_user

    for uid, role, unit, staff, manager in PEOPLE:
        with store.transaction() as s:
            add_user(s, None if uid == "admin" else "admin", uid, uid.title(), role, unit, staff, manager)
