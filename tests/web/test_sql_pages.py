"""The SQL console page and ``POST /api/v1/sql``: who may use it, results, CSV, refusals as clear messages, CSRF,
the audit trail."""

from __future__ import annotations

import json

import pytest
from tests.web.conftest import csrf_of, login

HQ, HQ_PW = "hq", "hq-auditor-secret"


@pytest.fixture
def hq(app):
    """An auditor bound to no unit (the fixture's auditors are bound to one county each), with a password."""
    from gridaudit.audit.credentials import set_password
    from gridaudit.audit.users import add_user

    with app.state.store.transaction() as s:
        add_user(s, "admin", HQ, "总部稽查", "auditor")
    with app.state.store.transaction() as s:
        set_password(s, "admin", HQ, HQ_PW)
    return HQ


def _as_hq(client):
    assert login(client, HQ, HQ_PW).status_code == 303
    return client


def _events(app) -> list[dict]:
    from sqlalchemy import select

    from gridaudit.audit.models import Event

    with app.state.store.transaction() as s:
        q = select(Event).where(Event.action == "sql_query").order_by(Event.seq)
        return [dict(actor=e.actor, **json.loads(e.payload)) for e in s.execute(q).scalars()]


@pytest.mark.parametrize("user", ["lead1", "auditor2", "inspector1", "resp1", "manager1", "viewer1", "admin"])
def test_others_are_refused_and_see_no_link(client, user):
    c = client
    assert login(c, user).status_code == 303
    page = c.get("/sql")
    assert page.status_code == 403
    home = c.get("/tasks")
    assert ('href="/sql"' in home.text) is (user in ("lead1", "auditor2"))  # the menu goes by role
    token = csrf_of(home.text)
    r = c.post("/sql", data={"csrf_token": token, "sql": "select 1 as x"})
    assert r.status_code == 403
    assert c.post("/api/v1/sql", json={"sql": "select 1"}, headers={"X-CSRF-Token": token}).status_code == 403


def test_unit_bound_lead_is_told_why(client):
    assert login(client, "lead1").status_code == 303
    page = client.get("/sql")
    assert page.status_code == 403 and "SQL 查询台读取整个数据集" in page.text


def test_a_query_shows_its_rows_and_goes_into_the_trail(app, client, hq):
    c = _as_hq(client)
    page = c.get("/sql")
    assert page.status_code == 200 and "customers" in page.text and 'href="/sql"' in page.text
    sql = "select unit_id, count(*) as n from customers group by unit_id order by unit_id"
    r = c.post("/sql", data={"csrf_token": csrf_of(page.text), "sql": sql})
    assert r.status_code == 200 and 'id="sql-summary"' in r.text and '<th scope="col">n</th>' in r.text
    (ev,) = _events(app)
    assert ev["actor"] == HQ and ev["sql"] == sql and ev["status"] == "ok" and ev["rows"] >= 1


def test_csv_download(app, client, hq):
    c = _as_hq(client)
    token = csrf_of(c.get("/sql").text)
    r = c.post("/sql.csv", data={"csrf_token": token, "sql": "select customer_id from customers order by 1 limit 3"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[0] == '"customer_id"' and len(lines) == 4
    assert len(_events(app)) == 1


def test_the_row_cap_is_shown(web_store, web_dataset, hq_app_factory):
    c = hq_app_factory(row_cap=2)
    token = csrf_of(c.get("/sql").text)
    r = c.post("/sql", data={"csrf_token": token, "sql": "select customer_id from customers"})
    assert r.status_code == 200 and "结果已截断为前 2 行" in r.text
    r = c.post("/sql.csv", data={"csrf_token": token, "sql": "select customer_id from customers"})
    assert len(r.text.splitlines()) == 3 and r.headers["x-rows-truncated"] == "2"


@pytest.mark.parametrize(
    "sql, zh, en",
    [
        ("drop table customers", "不允许 DROP", "not DROP"),
        ("select * from read_csv('/etc/passwd')", "不允许", "read_csv"),
        ("select 1; select 2", "只允许一条语句", "exactly one statement"),
        ("select nope from customers", "查询失败", "the query failed"),
    ],
)
def test_refusals_are_clear_messages_in_the_users_language(app, client, hq, sql, zh, en):
    c = _as_hq(client)
    token = csrf_of(c.get("/sql").text)
    r = c.post("/sql", data={"csrf_token": token, "sql": sql})
    assert r.status_code == 400 and 'id="sql-error"' in r.text and zh in r.text
    assert "Traceback" not in r.text and "site-packages" not in r.text
    assert sql.split()[0] in r.text  # the query stays in the form
    r = c.post("/sql?lang=en", data={"csrf_token": token, "sql": sql})
    assert r.status_code == 400 and en in r.text
    api = c.post("/api/v1/sql", json={"sql": sql}, headers={"X-CSRF-Token": token})
    assert api.status_code == 400 and en in api.json()["error"]["en"]
    assert [e["status"] for e in _events(app)] == [_events(app)[0]["status"]] * 3 and _events(app)[0]["status"] != "ok"


def test_csrf_is_required_from_the_browser(app, client, hq):
    c = _as_hq(client)
    c.get("/sql")
    assert c.post("/sql", data={"sql": "select 1"}).status_code == 403
    assert c.post("/sql", data={"sql": "select 1", "csrf_token": "forged"}).status_code == 403
    assert c.post("/api/v1/sql", json={"sql": "select 1"}).status_code == 403  # a cookie session needs the header
    assert _events(app) == []


def test_api_with_a_bearer_token(app, client, hq):
    from gridaudit.audit.credentials import issue_token

    with app.state.store.transaction() as s:
        token = issue_token(s, "admin", HQ)
    r = client.post("/api/v1/sql", json={"sql": "select 1 as one, 'x' as two"},
                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["one", "two"] and body["rows"] == [[1, "x"]] and body["truncated"] is False
    assert _events(app)[-1]["actor"] == HQ
    bad = client.post("/api/v1/sql", json={"sql": 3}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400


@pytest.fixture
def hq_app_factory(web_store, web_dataset):
    """``factory(**console)``: an app whose console has those limits, with the hq auditor logged in."""
    from dataclasses import replace

    from fastapi.testclient import TestClient
    from tests.web.conftest import make_app

    from gridaudit.sqlconsole import DEFAULT_CONSOLE

    apps = []

    def go(**limits):
        application = make_app(web_store, web_dataset, console=replace(DEFAULT_CONSOLE, **limits))
        apps.append(application)
        from gridaudit.audit.credentials import set_password
        from gridaudit.audit.users import add_user

        with application.state.store.transaction() as s:
            add_user(s, "admin", HQ, "总部稽查", "auditor")
        with application.state.store.transaction() as s:
            set_password(s, "admin", HQ, HQ_PW)
        c = TestClient(application, follow_redirects=False)
        return _as_hq(c)

    yield go
    for a in apps:
        a.state.store.dispose()
