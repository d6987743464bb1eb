"""Read-model fixtures: the dataset of views_data.py, a SQLite case store with a worked plan."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from .views_data import add_findings, build_dataset, build_store

RECTIFY_ON = date(2025, 3, 3)


def _task_of(session, entity_id: str) -> int:
    from sqlalchemy import select

    from gridaudit.audit.models import Task

    q = select(Task.task_id).where(Task.entity_id == entity_id)  # a plan makes one task per entity
    return int(session.execute(q).scalar_one())


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """(dataset folder, open store, task ids by name) on each store backend: C1's theft task found theft
    (¥300) and put under rectification by zhou (overdue after 2025-03-05); C2's reading task found
    irregular; C3's billing task assigned to zhang of U1 (a cross-unit audit)."""
    from gridaudit.audit import actions

    base = tmp_path_factory.mktemp("views")
    ds = base / "ds"
    build_dataset(ds)
    add_findings(ds)
    schema = None
    if request.param == "sqlite":
        url = str(base / "cases.db")
    else:
        import psycopg

        server = request.getfixturevalue("pg_url")
        schema = f"gridaudit_views_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{server}?options=-csearch_path%3D{schema}"
    store = build_store(url, ds, base / "att")
    with store.transaction() as s:
        ids = {
            "theft": _task_of(s, "C1"),
            "reading": _task_of(s, "C2"),
            "billing": _task_of(s, "C3"),
        }
        actions.assign(s, "lead", ids["theft"], to_user="zhang")
        actions.assign(s, "lead", ids["reading"], to_user="zhang")
        actions.assign(s, "lead", ids["billing"], to_user="zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", ids["theft"], "theft", recovered_kwh=500.0, recovered_yuan=300.0,
                              inspected_on=date(2025, 3, 1))  # fmt: skip
        actions.record_result(s, "zhang", ids["reading"], "irregular", inspected_on=date(2025, 3, 1))
    with store.transaction() as s:
        actions.rectify(s, "lead", ids["theft"], "zhou", 2, today=RECTIFY_ON)
    yield ds, store, ids
    store.dispose()
    if schema is not None:
        import psycopg

        with psycopg.connect(request.getfixturevalue("pg_url"), autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def engine(world):
    """A DuckDB engine over the dataset."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(world[0]))
    yield eng
    eng.close()


@pytest.fixture
def session(world):
    """A store session (rolled back: the read models change nothing)."""
    store = world[1]
    s = store.sessions()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def user(session):
    """The case-store user by id."""
    from gridaudit.audit.users import get_user

    return lambda uid: get_user(session, uid)
