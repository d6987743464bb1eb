"""The monthly report on a PostgreSQL case store: the demo's audit loop replayed on PostgreSQL gives the same
report as on SQLite (skipped without a PostgreSQL server, see tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[str]:
    """A fresh schema on the test server for one store, dropped afterwards."""
    import psycopg

    schema = f"gridaudit_report_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _replay_demo(store, root, month: str) -> None:  # type: ignore[no-untyped-def]
    """The audit step of ``gridaudit demo`` on another store (its own helpers, same order)."""
    from gridaudit.audit import demo as ad
    from gridaudit.audit.plans import create_plan, entity_units, last_month

    findings, runs = ad._findings(root)
    months = sorted(m for p in findings.column("period").to_pylist() if (m := last_month(p)))
    staff = next((s for s in findings.column("responsible_staff_id").to_pylist() if s), None)
    ad._users(store, staff)
    ad._act(store, lambda s: ad._sync_units(s, root))
    units = entity_units(root)
    outcome = ad._act(
        store,
        lambda s: create_plan(s, "lead", month, findings, kind="comprehensive", top=ad.DEMO_TOP, unit_map=units,
                              source={"runs": [r.source() for r in runs]}),
    )  # fmt: skip
    ad._loop(store, outcome.tasks, root, month, months[-1])


def _flat(rep) -> list:  # type: ignore[no-untyped-def]
    out = []
    for s in rep.sections:
        out += [(f.key, f.value, f.prev, f.last_year) for f in s.figures]
        for t in s.tables:
            rows = [[c for j, c in enumerate(r) if t.columns[j].key != "task"] for r in t.rows]  # ids may differ
            out.append((t.key, rows, t.totals))
    return out


def test_report_on_postgresql_equals_sqlite(pg_store: str, demo_dir, demo_month, demo_report) -> None:
    from gridaudit.audit.store import open_store
    from gridaudit.reports.monthly.build import build_report

    st = open_store(pg_store, create=True)
    try:
        _replay_demo(st, demo_dir / "dataset", demo_month)
        with st.transaction() as s:
            rep = build_report(demo_dir / "dataset", s, demo_month)
    finally:
        st.dispose()
    assert rep.figure("tasks").value == demo_report.figure("tasks").value > 0
    assert _flat(rep) == _flat(demo_report)
