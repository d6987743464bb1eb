import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from gridaudit.audit import actions, trail
from gridaudit.audit.plans import create_plan
from gridaudit.cli import app

from .conftest import add_people, make_findings

COLS = ("seq", "at", "actor", "action", "entity_type", "entity_id", "payload", "prev_hash", "hash")


def _fill(store):
    add_people(store)
    with store.transaction() as s:
        tid = create_plan(s, "lead", "2025-07", make_findings(4)).tasks[0].task_id
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        n, problems = trail.verify_log(s)
    assert problems == []
    return n


def _drop_guard(con):
    """Remove the append-only triggers, as an owner with bad intent could."""
    if con.dialect.name == "sqlite":
        con.execute(text("DROP TRIGGER audit_events_no_update"))
        con.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        con.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))


def _problems(store):
    with store.transaction() as s:
        return trail.verify_log(s)[1]


def test_database_refuses_update_and_delete(store):
    _fill(store)
    for sql in ("UPDATE audit_events SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as con:
            con.execute(text(sql))
    assert _problems(store) == []


def test_edited_event_is_caught(store):
    _fill(store)
    with store.engine.begin() as con:
        _drop_guard(con)
        seq = con.execute(text("SELECT seq FROM audit_events WHERE action = 'user_add' AND entity_id = 'li'")).scalar()
        con.execute(text(f"UPDATE audit_events SET payload = replace(payload, 'auditor', 'admin') WHERE seq = {seq}"))
    problems = _problems(store)
    assert [(p.seq, "edited" in p.problem_en) for p in problems] == [(seq, True)]


def test_deleted_event_is_caught(store):
    n = _fill(store)
    with store.engine.begin() as con:
        _drop_guard(con)
        con.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    problems = _problems(store)
    assert problems and all(p.seq == 4 for p in problems[:2])
    assert any("deleted" in p.problem_en for p in problems)
    assert len(problems) >= 2 and n > 4


def test_deleted_newest_event_is_caught(store):
    n = _fill(store)
    with store.engine.begin() as con:
        _drop_guard(con)
        con.execute(text(f"DELETE FROM audit_events WHERE seq = {n}"))
    problems = _problems(store)
    assert [p.event_id for p in problems] == [None, None]
    assert f"records {n} events, found {n - 1}" in problems[0].problem_en
    # the deleted event sealed the task's assignment: the task row no longer matches the trail either
    assert problems[1].where() == "audit_tasks row 1" and "edited outside gridaudit" in problems[1].problem_en


def test_swapped_events_are_caught(store):
    _fill(store)
    with store.engine.begin() as con:
        _drop_guard(con)
        a, b = (
            con.execute(text(f"SELECT {', '.join(COLS)} FROM audit_events WHERE seq = :s"), {"s": s}).one()
            for s in (3, 5)
        )
        sets = ", ".join(f"{c} = :{c}" for c in COLS)
        con.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 3"))
        con.execute(text(f"UPDATE audit_events SET {sets} WHERE seq = 5"), dict(zip(COLS, a, strict=True)))
        con.execute(text(f"UPDATE audit_events SET {sets} WHERE seq = -1"), dict(zip(COLS, b, strict=True)))
    problems = _problems(store)
    assert {p.seq for p in problems} >= {3, 5}
    assert any("reordered" in p.problem_en for p in problems)


def test_verify_log_cli(store_url, tmp_path):
    from gridaudit.audit.store import open_store

    st = open_store(store_url, tmp_path / "att", create=True)
    _fill(st)
    runner = CliRunner()
    ok = runner.invoke(app, ["--lang", "en", "audit", "verify-log", "--store", store_url])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    with st.engine.begin() as con:
        _drop_guard(con)
        con.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
    st.dispose()
    bad = runner.invoke(app, ["--lang", "en", "audit", "verify-log", "--store", store_url])
    assert bad.exit_code == 1
    assert "TAMPERED" in bad.output and "seq 2" in bad.output


def test_task_row_edited_outside_gridaudit_is_caught(store):
    """No trigger guards audit_tasks, but its state must match the last logged transition."""
    _fill(store)
    with store.engine.begin() as con:
        con.execute(text("UPDATE audit_tasks SET state = 'closed' WHERE state = 'assigned'"))
    problems = _problems(store)
    assert [(p.where(), "edited outside gridaudit" in p.problem_en) for p in problems] == [("audit_tasks row 1", True)]
