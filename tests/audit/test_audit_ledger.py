"""The ledger: a direct UPDATE, DELETE or INSERT on any case-store table, outside gridaudit, is refused by the
database or caught by verify-log (exit 1, naming the table and row), on SQLite and PostgreSQL; corrections are
new rows by a second person; duplicate penalties need a reason; the assessment's money equals an independent sum."""

from datetime import date

import pytest
from sqlalchemy import String, Text, inspect, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from gridaudit.audit import actions, ledger, trail
from gridaudit.audit.assess import assess, book_assessment, month_totals
from gridaudit.audit.corrections import correct_result, effective_penalties, void_penalty, void_result
from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.audit.export import inspection_rows, workbook_rows
from gridaudit.audit.penalties import calculate
from gridaudit.audit.penalties.book import book_penalty
from gridaudit.audit.plans import create_plan
from gridaudit.cli import app

from .conftest import add_people, make_findings

# the tables issue 12 names: each must be covered (sealed), whatever else is added later
NAMED = (
    "audit_tasks",
    "audit_results",
    "audit_rectifications",
    "audit_replies",
    "audit_verifications",
    "audit_penalties",
    "audit_assessments",
    "audit_plans",
    "audit_users",
    "audit_attachments",
    "audit_escalations",
    "audit_voids",
)


def _step(store, fn):
    with store.transaction() as s:
        return fn(s)


def fill(store, tmp_path):
    """A store with rows in every covered table, made only through gridaudit's functions."""
    add_people(store)
    tasks = _step(
        store, lambda s: {t.entity_id: t.task_id for t in create_plan(s, "lead", "2025-07", make_findings(6)).tasks}
    )
    a, b, c = tasks["C000"], tasks["C001"], tasks["C002"]
    for t in (a, b, c):
        _step(store, lambda s, t=t: actions.assign(s, "li", t, "zhang"))
    photo = tmp_path / "seal.jpg"
    photo.write_bytes(b"\xff\xd8 seal")
    _step(
        store,
        lambda s: actions.record_result(
            s,
            "zhang",
            a,
            "theft",
            recovered_kwh=5400,
            recovered_yuan=3000,
            inspected_on=date(2025, 7, 3),
            attachments=[photo],
            attachment_dir=store.attachments,
        ),
    )
    pen = calculate("theft", date(2024, 3, 1), capacity_kw=10, tariff_yuan_kwh=0.5)
    _step(store, lambda s: book_penalty(s, "zhang", a, pen, date(2024, 3, 1)))
    _step(store, lambda s: actions.record_result(s, "zhang", b, "irregular", "desk", inspected_on=date(2025, 7, 4)))
    _step(store, lambda s: actions.rectify(s, "li", b, "zhou", 3, today=date(2025, 8, 1)))
    _step(store, lambda s: actions.escalate(s, "li", date(2025, 8, 8)))
    _step(store, lambda s: actions.reply(s, "zhou", b, "已更正", today=date(2025, 8, 11)))
    _step(store, lambda s: actions.verify(s, "li", b, accept=True))
    _step(store, lambda s: actions.record_result(s, "zhang", c, "normal", "desk", inspected_on=date(2025, 7, 5)))
    result_c = _step(
        store,
        lambda s: (
            actions.latest_result(s, s.get(__import__("gridaudit.audit.models", fromlist=["Task"]).Task, c)).result_id
        ),
    )
    _step(store, lambda s: correct_result(s, "li", result_c, "现场复核为违约", outcome="violation", recovered_yuan=800))
    _step(store, lambda s: book_assessment(s, "lead", "2025-07", as_of=date(2025, 10, 31)))
    return tasks


def _problems(store):
    with store.transaction() as s:
        return trail.verify_log(s)[1]


def _drop_triggers(con):
    """Drop every guard trigger, as an owner with bad intent could."""
    if con.dialect.name == "sqlite":
        for (name,) in con.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
            con.execute(text(f'DROP TRIGGER "{name}"'))
    else:
        rows = con.execute(
            text(
                "SELECT tgname, relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            )
        ).all()
        for name, table in rows:
            con.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))


def _edit_sql(con, table_name):
    """An UPDATE that really changes one row's text or number, and that row's key."""
    table = next(t for t in ledger.covered_tables(con) if t.name == table_name)
    pk = [c.name for c in table.primary_key.columns]
    row = con.execute(table.select().limit(1)).mappings().first()
    assert row is not None, f"{table_name} has no row to tamper with"
    where = " AND ".join(f"{k} = :{k}" for k in pk)
    col = next(
        (
            c
            for c in table.columns
            if c.name not in pk and not c.foreign_keys and isinstance(c.type, String | Text) and row[c.name]
        ),
        None,
    )
    if col is not None:
        change = f"{col.name} = CASE WHEN {col.name} = 'Z' THEN 'Y' ELSE 'Z' END"
    else:
        col = next(c for c in table.columns if c.name not in pk and not c.foreign_keys and row[c.name] is not None)
        change = f"{col.name} = {col.name} + 1"
    return f"UPDATE {table_name} SET {change} WHERE {where}", {k: row[k] for k in pk}, "/".join(str(row[k]) for k in pk)


@pytest.fixture
def filled(store, tmp_path):
    fill(store, tmp_path)
    assert _problems(store) == []
    return store


def test_every_named_table_is_covered(filled):
    with filled.engine.connect() as con:
        covered = {t.name for t in ledger.covered_tables(con)}
        names = set(inspect(con).get_table_names())
    assert set(NAMED) <= covered
    assert covered == {n for n in names if n.startswith("audit_")} - ledger.UNSEALED
    with filled.engine.connect() as con:
        for name in NAMED:  # and every one of them holds a row in this scenario
            assert con.execute(text(f"SELECT count(*) FROM {name}")).scalar() > 0, name


def _as_owner(store, statement, params):
    """Run ``statement`` with every guard trigger dropped and foreign keys off: what an owner could do."""
    with store.engine.connect() as con:
        if store.engine.dialect.name == "sqlite":
            con.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        with con.begin():
            _drop_triggers(con)
            if store.engine.dialect.name == "postgresql":
                con.execute(text("SET LOCAL session_replication_role = replica"))
            con.execute(text(statement), params)
        if store.engine.dialect.name == "sqlite":
            con.connection.driver_connection.execute("PRAGMA foreign_keys = ON")


@pytest.mark.parametrize("table", NAMED)
def test_direct_update_is_refused_or_caught(filled, table):
    with filled.engine.connect() as con:
        sql, params, key = _edit_sql(con, table)
    try:
        with filled.engine.begin() as con:
            con.execute(text(sql), params)
    except DBAPIError as exc:
        assert table in ledger.APPEND_ONLY and "append-only" in str(exc)
        assert _problems(filled) == []  # refused by the database: nothing changed
        _as_owner(filled, sql, params)  # the owner drops the guards: verify-log still catches it
    found = [p for p in _problems(filled) if p.table == table]
    assert [(p.row, "edited outside gridaudit" in p.problem_en) for p in found] == [(key, True)]


@pytest.mark.parametrize("table", NAMED)
def test_direct_delete_is_refused_or_caught(filled, table):
    with filled.engine.connect() as con:
        sql, params, key = _edit_sql(con, table)
    statement = f"DELETE FROM {table} WHERE " + sql.split(" WHERE ", 1)[1]
    try:
        with filled.engine.begin() as con:
            con.execute(text(statement), params)
    except DBAPIError:  # append-only trigger or a foreign key: refused, nothing changed
        assert _problems(filled) == []
        _as_owner(filled, statement, params)
    found = [p for p in _problems(filled) if p.table == table]
    assert [(p.row, "deleted outside gridaudit" in p.problem_en) for p in found] == [(key, True)]


def test_append_only_tables_refuse_update_and_delete(filled):
    for table in ledger.APPEND_ONLY:
        with filled.engine.connect() as con:
            sql, params, _key = _edit_sql(con, table)
        for statement in (sql, f"DELETE FROM {table} WHERE " + sql.split(" WHERE ", 1)[1]):
            with pytest.raises(DBAPIError, match="append-only"), filled.engine.begin() as con:
                con.execute(text(statement), params)
    assert _problems(filled) == []


def test_inserted_row_and_cli_naming_table_and_row(filled, store_url):
    with filled.engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO audit_penalties (task_id, kind, schedule, violation_date, inputs, backbill_kwh,"
                " backbill_yuan, penalty_yuan, formula, booked_by, booked_at)"
                " SELECT task_id, kind, schedule, violation_date, inputs,"
                " backbill_kwh, backbill_yuan, penalty_yuan, formula, booked_by, booked_at FROM audit_penalties"
            )
        )
        new_id = con.execute(text("SELECT max(penalty_id) FROM audit_penalties")).scalar()
    res = CliRunner().invoke(app, ["--lang", "en", "audit", "verify-log", "--store", store_url])
    assert res.exit_code == 1, res.output
    out = " ".join(res.output.split())
    assert f"audit_penalties row {new_id}" in out and "inserted outside gridaudit" in out and "TAMPERED" in out


def test_corrections_are_new_rows_by_another_user(filled):
    with filled.transaction() as s:
        from gridaudit.audit.models import Penalty, Result

        pen = s.query(Penalty).one()
        first = s.query(Result).order_by(Result.result_id).first()
    with pytest.raises(Forbidden, match="another user"), filled.transaction() as s:
        void_penalty(s, "zhang", pen.penalty_id, "booked twice")  # zhang booked it
    with pytest.raises(AuditError, match="needs a reason"), filled.transaction() as s:
        void_penalty(s, "li", pen.penalty_id, " ")
    with pytest.raises(Forbidden, match="another user"), filled.transaction() as s:
        correct_result(s, "zhang", first.result_id, "typo", recovered_kwh=1)
    with filled.transaction() as s:
        void_penalty(s, "li", pen.penalty_id, "wrong capacity")
        assert effective_penalties(s, [pen.task_id]) == {}
        sheets = workbook_rows(s, "2025-07", assess(s, "2025-07"))
    row = sheets["penalties"][1]
    assert row[0] == pen.penalty_id and row[-3:] == ["作废", "wrong capacity", "Li（li）"]  # shown by name
    with pytest.raises(AuditError, match="already void"), filled.transaction() as s:
        void_penalty(s, "lead", pen.penalty_id, "again")
    # the corrected result of C002 stands in for the original, which stays visible as void
    with filled.transaction() as s:
        results = sheets["results"][1:]
        voided = [r for r in results if r[-3] == "作废"]
        assert len(voided) == 1 and voided[0][3] == "正常"  # the workbook labels outcomes
        corrected = next(r for r in results if r[-4] == voided[0][0])
        assert corrected[3] == "违约用电" and corrected[-3] == "有效"
        labels = {r["customer_id"]: r["outcome"] for r in inspection_rows(s, "2025-07").to_pylist()}
        assert labels["C002"] == "violation"
    assert _problems(filled) == []


def test_void_result_returns_a_checked_task_and_refuses_a_later_one(filled):
    from gridaudit.audit.models import Result, Task

    with filled.transaction() as s:
        a = s.query(Task).filter(Task.entity_id == "C000").one()
        b = s.query(Task).filter(Task.entity_id == "C001").one()
        ra = actions.latest_result(s, a).result_id
        rb = actions.latest_result(s, b).result_id
    with pytest.raises(AuditError, match="correct this one"), filled.transaction() as s:
        void_result(s, "li", rb, "wrong")  # b is verified: its only result can only be corrected
    with filled.transaction() as s:
        void_result(s, "li", ra, "recorded on the wrong task")
        assert s.get(Task, a.task_id).state == "assigned" and actions.latest_result(s, s.get(Task, a.task_id)) is None
        assert s.get(Result, ra) is not None
    assert _problems(filled) == []


def test_duplicate_penalty_needs_a_reason(filled):
    from gridaudit.audit.models import Task

    pen = calculate("theft", date(2024, 3, 1), capacity_kw=10, tariff_yuan_kwh=0.5)
    with filled.transaction() as s:
        tid = s.query(Task).filter(Task.entity_id == "C000").one().task_id
    with pytest.raises(AuditError, match="duplicate-reason"), filled.transaction() as s:
        book_penalty(s, "li", tid, pen, date(2024, 3, 1))
    other = calculate("theft", date(2024, 3, 1), capacity_kw=12, tariff_yuan_kwh=0.5)
    with filled.transaction() as s:
        book_penalty(s, "li", tid, other, date(2024, 3, 1))  # other quantities: a different booking
        p = book_penalty(s, "li", tid, pen, date(2024, 3, 1), duplicate_reason="second meter, same rules")
        assert p.duplicate_reason == "second meter, same rules"
        # a correction replaces the original in one step
        fixed = calculate("theft", date(2024, 3, 1), capacity_kw=8, tariff_yuan_kwh=0.5)
        q = book_penalty(s, "lead", tid, fixed, date(2024, 3, 1), corrects=p.penalty_id, reason="8 kW, not 10")
        assert q.corrects_id == p.penalty_id
        assert {x.penalty_id for x in effective_penalties(s, [tid])[tid]} == {1, 2, q.penalty_id}
    assert _problems(filled) == []


INDEPENDENT_SUM = """
WITH void_p AS (SELECT target_id FROM audit_voids WHERE target = 'penalty'),
     void_r AS (SELECT target_id FROM audit_voids WHERE target = 'result'),
     month_tasks AS (SELECT t.task_id FROM audit_tasks t JOIN audit_plans p ON p.plan_id = t.plan_id
                     WHERE p.month = :month),
     pen AS (SELECT task_id, sum(backbill_yuan) AS backbill, sum(penalty_yuan) AS penalty FROM audit_penalties
             WHERE penalty_id NOT IN (SELECT target_id FROM void_p) GROUP BY task_id),
     res AS (SELECT r.task_id, r.outcome, r.recovered_yuan FROM audit_results r
             WHERE r.result_id = (SELECT max(result_id) FROM audit_results x
                                  WHERE x.task_id = r.task_id AND x.result_id NOT IN (SELECT target_id FROM void_r)))
SELECT coalesce(sum(CASE WHEN pen.task_id IS NOT NULL THEN pen.backbill
                         WHEN res.outcome <> 'normal' THEN coalesce(res.recovered_yuan, 0) ELSE 0 END), 0),
       coalesce(sum(coalesce(pen.penalty, 0)), 0)
FROM month_tasks m LEFT JOIN pen ON pen.task_id = m.task_id LEFT JOIN res ON res.task_id = m.task_id
"""


def test_assessment_money_equals_an_independent_sum(filled):
    from gridaudit.audit.models import Task

    with filled.transaction() as s:  # a second penalty on another task, and a voided one: each yuan once
        tid = s.query(Task).filter(Task.entity_id == "C002").one().task_id
        extra = book_penalty(
            s, "li", tid, calculate("theft", date(2024, 5, 1), kwh=1000, tariff_yuan_kwh=0.6), date(2024, 5, 1)
        )
    with filled.transaction() as s:
        void_penalty(s, "lead", extra.penalty_id, "booked on the wrong task")
        book_penalty(s, "li", tid, calculate("theft", date(2024, 5, 1), kwh=900, tariff_yuan_kwh=0.6), date(2024, 5, 1))
    with filled.transaction() as s:
        backbill, penalty = s.execute(text(INDEPENDENT_SUM), {"month": "2025-07"}).one()
        rows = assess(s, "2025-07", as_of=date(2025, 10, 31))
        totals = month_totals(s, "2025-07")
    units = [r for r in rows if r.level == "unit"]
    assert backbill > 0 and penalty > 0
    assert sum(r.backbill_yuan for r in units) == pytest.approx(backbill) == pytest.approx(totals["backbill_yuan"])
    assert sum(r.penalty_yuan for r in units) == pytest.approx(penalty) == pytest.approx(totals["penalty_yuan"])
    assert totals["recovered_yuan"] == pytest.approx(backbill + penalty)


def test_a_store_from_before_the_ledger_is_sealed_on_upgrade(tmp_path):
    """A store written by the previous schema (0002) gets every row sealed by migration 0003; edits after that
    are caught like any other."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from gridaudit.audit.store import open_store

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", "gridaudit.audit:migrations")
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.upgrade(cfg, "0002")
        con.execute(
            text(
                "INSERT INTO audit_users (user_id, name, role, created_at) VALUES "
                "('admin', 'A', 'admin', '2025-01-01 00:00:00.000000'), ('li', 'Li', 'auditor', '2025-01-01 00:00:00')"
            )
        )
        con.execute(
            text(
                "INSERT INTO audit_plans (month, kind, title, scope, source, created_by, created_at) "
                "VALUES ('2025-07', 'special', 't', '{}', '{}', 'li', '2025-07-01 00:00:00')"
            )
        )
    engine.dispose()
    store = open_store(path)  # migrates to the newest revision
    try:
        with store.transaction() as s:
            n, problems = trail.verify_log(s)
            seals = s.execute(text("SELECT actor, payload FROM audit_events WHERE action = 'seal'")).all()
        assert problems == [] and n == 2  # sealed by 0003, sealed again by 0004 (it adds audit_users.active)
        assert [a for a, _p in seals] == ["gridaudit-migration-0003", "gridaudit-migration-0004"]
        assert all(k in seals[0][1] for k in ("audit_users:admin", "audit_users:li", "audit_plans:1"))
        with store.engine.begin() as con:
            con.execute(text("UPDATE audit_users SET role = 'admin' WHERE user_id = 'li'"))
        assert [p.where() for p in _problems(store)] == ["audit_users row li"]
    finally:
        store.dispose()
