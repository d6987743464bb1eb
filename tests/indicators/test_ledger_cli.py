"""Booked indicator assessments: a new version per booking, append-only, a later edit caught by verify_log;
the CLI (`gridaudit audit assess --dataset`) for every level, with rankings, explanations, JSON and errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from gridaudit.audit import trail
from gridaudit.audit.errors import Forbidden
from gridaudit.audit.indicator_records import IndicatorRun, IndicatorStanding, IndicatorValue
from gridaudit.cli import app
from gridaudit.indicators.assess import assess_month
from gridaudit.indicators.book import book, bookings

from .conftest import AS_OF
from .test_values import MONTH


def _drop_triggers(con) -> None:
    for (name,) in con.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
        con.execute(text(f'DROP TRIGGER "{name}"'))


def test_booking_is_a_new_version_sealed_and_append_only(utility, cases):
    root, _ = utility
    st, _ = cases
    with st.transaction() as s:
        a = assess_month(root, MONTH, session=s, as_of=AS_OF, compare=False)
        first = book(s, "lead", a, AS_OF)
        with pytest.raises(Forbidden, match="only an audit lead or a manager"):
            book(s, "li", a, AS_OF)
    with st.transaction() as s:
        second = book(s, "mgr", assess_month(root, MONTH, session=s, as_of=AS_OF, compare=False), AS_OF)
    assert (first.version, second.version, second.supersedes_id) == (1, 2, first.run_id)
    with st.transaction() as s:
        assert [r.version for r in bookings(s, MONTH)] == [1, 2]  # the first stays visible
        n_values = s.query(IndicatorValue).filter_by(run_id=first.run_id).count()
        assert n_values == len(a.scored)
        assert s.query(IndicatorStanding).filter_by(run_id=first.run_id).count() == len(a.standings)
        events = [e.action for e in trail.history(s, "assessment", f"{MONTH}#2")]
        assert events == ["indicators_book"]
        assert trail.verify_log(s)[1] == []
    with st.engine.connect() as con, pytest.raises(DBAPIError, match="append-only"):
        con.execute(text("UPDATE audit_indicator_values SET points = 99 WHERE value_id = 1"))
    with st.engine.begin() as con:  # someone with the database file drops the guards and edits a figure
        _drop_triggers(con)
        con.execute(text("UPDATE audit_indicator_standings SET score = 100 WHERE standing_id = 1"))
    with st.transaction() as s:
        problems = trail.verify_log(s)[1]
        assert [(p.table, p.row) for p in problems] == [("audit_indicator_standings", "1")]
        assert s.get(IndicatorRun, first.run_id).month == MONTH


def cli(*args: str, code: int = 0) -> str:
    res = CliRunner().invoke(app, ["--lang", "en", "audit", "assess", *args], env={"COLUMNS": "250"})
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    return res.output


def test_cli_every_level_ranked_explained_and_booked(utility, cases):
    root, _ = utility
    st, _ = cases
    store = st.url.removeprefix("sqlite:///")
    base = ["--month", MONTH, "--dataset", str(root), "--store", store, "--as-of", AS_OF.isoformat()]
    out = cli(*base, "--user", "lead")
    for title in ("staff ranking", "area manager ranking", "supply station ranking", "county ranking",
                  "company ranking"):  # fmt: skip
        assert title in out, out
    assert "U0 市公司" in out and "M1" in out
    out = cli(*base, "--user", "lead", "--level", "station", "--explain", "U12")
    assert "missed-read rate" in out and "rows behind missed_read_rate" in out
    assert "MC_A3_1" in out  # the meter with no reading is a row behind the value
    data = json.loads(cli(*base, "--user", "lead", "--json"))
    levels = {s["level"] for s in data["standings"]}
    assert levels == {"staff", "area_manager", "station", "county", "company"}
    out = cli(*base, "--user", "lead", "--book")
    assert "version 1" in out
    out = cli(*base, "--user", "li", "--book", code=2)
    assert "only an audit lead or a manager" in out
    out = cli(*base, "--user", "lead", "--level", "district", code=2)
    assert "unknown level(s) district" in out
    out = cli(*base, "--user", "lead", "--method", str(root / "nope.yaml"), code=2)
    assert "--method file not found" in out


def test_cli_bad_method_file_is_exit_2_naming_the_field(utility, tmp_path):
    root, _ = utility
    bad = tmp_path / "m.yaml"
    bad.write_text("utility: x\nversions:\n  - effective: 2025-01\n    title: {zh: 甲, en: a}\n    entries: []\n")
    out = cli("--month", MONTH, "--dataset", str(root), "--store", str(tmp_path / "none.db"), "--method", str(bad),
              code=2)  # fmt: skip
    assert "bad method" in out and "entries" in out


def test_a_unit_scoped_reader_sees_their_units_and_people_only(utility, cases):
    """An inspector bound to county U2 sees U2, U21 and the staff of those units, not U1's or the company's."""
    from gridaudit.audit.users import add_user

    root, _ = utility
    st, _ = cases
    with st.transaction() as s:
        add_user(s, "admin", "ins2", "ins2", "inspector", "U2", None, None)
    store = st.url.removeprefix("sqlite:///")
    base = ["--month", MONTH, "--dataset", str(root), "--store", store, "--as-of", AS_OF.isoformat()]
    with st.transaction() as s:  # the store has no unit tree until synced: give it the dataset's
        from gridaudit.audit.units import read_dataset_units, sync_units
        from gridaudit.audit.users import get_user

        sync_units(s, get_user(s, "admin"), read_dataset_units(root), str(root))
    data = json.loads(cli(*base, "--user", "ins2", "--json"))
    seen = {(x["level"], x["entity_id"]) for x in data["standings"]}
    assert {e for lvl, e in seen if lvl in ("station", "county", "company")} == {"U2", "U21"}
    assert {e for lvl, e in seen if lvl in ("staff", "area_manager")} <= {"R3", "K2", "M3"}
    assert ("staff", "R3") in seen and ("staff", "R1") not in seen
    assert all(v["entity_id"] not in ("U0", "U1", "U11", "R1") for v in data["values"])


def test_booking_on_postgresql_is_append_only_and_sealed(utility, pg_url, tmp_path):
    """The same ledger on PostgreSQL: triggers refuse UPDATE, the seal holds, a re-booking is version 2."""
    import uuid

    import psycopg

    from gridaudit.audit.store import open_store
    from gridaudit.audit.users import add_user

    root, _ = utility
    schema = f"gridaudit_ind_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    try:
        st = open_store(f"{pg_url}?options=-csearch_path%3D{schema}", tmp_path / "att", create=True)
        try:
            with st.transaction() as s:
                add_user(s, None, "admin", "admin", "admin", None, None, None)
            with st.transaction() as s:
                add_user(s, "admin", "lead", "lead", "audit_lead", None, None, None)
            a = assess_month(root, MONTH, compare=False)
            for _ in range(2):
                with st.transaction() as s:
                    run = book(s, "lead", a, AS_OF)
            assert run.version == 2
            with st.engine.connect() as con, pytest.raises(DBAPIError, match="append-only"):
                con.execute(text("UPDATE audit_indicator_standings SET score = 1"))
            with st.transaction() as s:
                assert trail.verify_log(s)[1] == []
        finally:
            st.dispose()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
