"""Tip-off pages: the form (as ``tips add``; CSRF; roles), the list and one tip (status, match, candidates;
choosing the customer of an ambiguous tip), the reporter for the audit lead only (each view in the trail),
rewards proposed and approved by a second person, and bad input as a clear 400 in the user's language."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import UNIT1, csrf_of, make_app

CONTACT = "王五 13800138000"
NAME, PHONE = CONTACT.split()


@pytest.fixture
def tip_dataset(web_dataset: Path, tmp_path: Path) -> Path:
    """A copy of the session's dataset: publishing tips appends a findings run to it."""
    target = tmp_path / "ds"
    shutil.copytree(web_dataset, target)
    return target


@pytest.fixture
def app(web_store: Path, tip_dataset: Path):  # type: ignore[no-untyped-def]
    """The app on the test's store and its own dataset copy (``client`` and ``live_server`` use it)."""
    application = make_app(web_store, tip_dataset)
    yield application
    application.state.store.dispose()


@pytest.fixture
def people(tip_dataset: Path) -> dict[str, Any]:
    """A customer of UNIT1 and an area of UNIT1 with several customers."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(tip_dataset))
    try:
        units = eng.query("select unit_id, parent_id from units").to_pylist()
        mine = {UNIT1} | {u["unit_id"] for u in units if u["parent_id"] == UNIT1}
        rows = eng.query("select customer_id, unit_id, area_id from customers order by customer_id").to_pylist()
    finally:
        eng.close()
    ours = [r for r in rows if r["unit_id"] in mine]
    areas: dict[str, list[str]] = {}
    for r in ours:
        areas.setdefault(r["area_id"], []).append(r["customer_id"])
    area = next(a for a, cs in areas.items() if len(cs) >= 2)
    return {"customer": ours[0]["customer_id"], "area": area, "area_customers": areas[area]}


def _login(client: Any, uid: str) -> str:
    from .conftest import login

    client.cookies.clear()
    assert login(client, uid).status_code == 303
    return csrf_of(client.get("/tasks").text)


def _add(client: Any, token: str, **fields: str) -> Any:
    data = {"what": "夜间私拉电线", "channel": "phone", "received_on": "2024-03-10", **fields, "csrf_token": token}
    return client.post("/tips", data=data)


def _events(client: Any, action: str) -> list[Any]:
    from sqlalchemy import select

    from gridaudit.audit.models import Event

    with client.app.state.store.transaction() as s:
        return list(s.execute(select(Event).where(Event.action == action)).scalars())


def test_enter_a_tip_and_the_reporter_only_for_the_lead(client, people) -> None:
    token = _login(client, "auditor1")
    assert 'href="/tips"' in client.get("/tasks").text  # in this role's menu
    assert client.get("/tips/new").status_code == 200
    made = _add(client, token, customer=people["customer"], contact=CONTACT)
    assert made.status_code == 303 and made.headers["location"] == "/tips/1"
    page = client.get("/tips/1")
    assert page.status_code == 200 and people["customer"] in page.text and "已匹配" in page.text
    again = _add(client, token, customer=people["customer"])  # the same tip again: recognised
    assert again.status_code == 303 and again.headers["location"] == "/tips/1"
    # tips become findings (family tip) in the dataset's findings store
    from gridaudit.findings import load_findings

    found = load_findings(client.app.state.settings.dataset, analyzers=["tips"])
    assert found.column("entity_id").to_pylist() == [people["customer"]]
    assert _events(client, "tip_reporter_view") == []
    for uid in ("auditor1", "manager1", "viewer1", "admin", "lead2"):
        _login(client, uid)
        for path in ("/tips", "/tips/1"):
            r = client.get(path)
            assert r.status_code in (200, 404), (uid, path)
            for secret in (CONTACT, NAME, PHONE):
                assert secret not in r.text, (uid, path)
            if uid != "lead2":  # an audit lead, of the other unit: sees the note, not this tip
                assert "举报人" not in r.text, (uid, path)  # not even the column
    assert client.get("/tips/1").status_code == 404  # lead2: UNIT2's lead, outside the tip's unit
    _login(client, "lead1")
    assert PHONE in client.get("/tips").text and PHONE in client.get("/tips/1").text
    views = _events(client, "tip_reporter_view")
    assert [(e.actor, e.entity_id) for e in views] == [("lead1", "1"), ("lead1", "1")]
    assert not any(PHONE in e.payload for e in views)


def test_roles_csrf_and_menu(client, people) -> None:
    token = _login(client, "inspector1")
    assert 'href="/tips"' not in client.get("/tasks").text
    assert client.get("/tips").status_code == 403
    assert _add(client, token, customer=people["customer"]).status_code == 403
    token = _login(client, "viewer1")
    assert client.get("/tips").status_code == 200
    assert client.get("/tips/new").status_code == 403
    assert _add(client, token, customer=people["customer"]).status_code == 403
    token = _login(client, "auditor1")
    no_csrf = client.post("/tips", data={"customer": people["customer"], "what": "x", "channel": "phone"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    bad = _add(client, "not-the-token", customer=people["customer"])
    assert bad.status_code == 403
    assert "没有举报" in client.get("/tips").text  # nothing was stored


def test_bad_input_is_a_clear_400_in_the_users_language(client, people) -> None:
    token = _login(client, "auditor1")
    cases = [
        ({}, "举报对象为空", "the tip names no subject"),
        ({"customer": people["customer"], "what": " "}, "请写明举报内容", "say what was reported"),
        ({"customer": people["customer"], "channel": "fax"}, "举报渠道", "tip channel"),
        ({"customer": people["customer"], "received_on": "2024-13-40"}, "YYYY-MM-DD", "YYYY-MM-DD"),
        ({"customer": people["customer"], "received_on": "2999-01-01"}, "在将来", "in the future"),
    ]
    for fields, zh, _en in cases:
        r = _add(client, token, **fields)
        assert r.status_code == 400 and zh in r.text, (fields, r.text[:300])
    client.get("/tasks?lang=en")
    for fields, _zh, en in cases:
        r = _add(client, token, **fields)
        assert r.status_code == 400 and en in r.text, (fields, r.text[:300])
    assert "No tips" in client.get("/tips").text


def _unbound_auditor(client: Any, uid: str = "hq") -> None:
    from gridaudit.audit.credentials import set_password
    from gridaudit.audit.users import add_user

    from .conftest import password

    with client.app.state.store.transaction() as s:
        add_user(s, "admin", uid, "HQ", "auditor", None)
    with client.app.state.store.transaction() as s:
        set_password(s, "admin", uid, password(uid))


def test_ambiguous_tip_choose_the_customer(client, people) -> None:
    token = _login(client, "auditor1")
    held = _add(client, token, area=people["area"])
    assert held.status_code == 303 and held.headers["location"] == "/tips?held=1"
    assert "举报 1 已登记" in client.get(held.headers["location"]).text
    assert client.get("/tips/1").status_code == 404  # no unit yet: outside a bound auditor's scope
    _unbound_auditor(client)
    token = _login(client, "hq")
    page = client.get("/tips/1")
    assert "待确认" in page.text and all(c in page.text for c in people["area_customers"][:2])
    assert 'action="/tips/1/match"' in page.text
    listed = client.get("/tips?status=ambiguous").text
    assert people["area_customers"][0] in listed
    assert client.get("/tips?status=nope").status_code == 400
    bad = client.post("/tips/1/match", data={"customer_id": "NOPE", "csrf_token": token})
    assert bad.status_code == 404 and "NOPE" in bad.text
    token = _login(client, "viewer1")
    chosen = people["area_customers"][1]
    assert client.post("/tips/1/match", data={"customer_id": chosen, "csrf_token": token}).status_code == 403
    token = _login(client, "hq")
    ok = client.post("/tips/1/match", data={"customer_id": chosen, "csrf_token": token})
    assert ok.status_code == 303
    page = client.get("/tips/1").text
    assert "已匹配" in page and chosen in page
    assert [e.actor for e in _events(client, "tip_match")] == ["hq"]
    _login(client, "auditor1")  # matched: now in UNIT1, the bound auditor sees it
    assert client.get("/tips/1").status_code == 200


def test_reward_proposed_then_approved_by_a_second_person(client, people) -> None:
    from gridaudit.audit import actions
    from gridaudit.audit.plans import create_plan, entity_units
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs

    token = _login(client, "auditor1")
    assert _add(client, token, customer=people["customer"], contact=CONTACT).status_code == 303
    ds = client.app.state.settings.dataset
    runs = [r for r in latest_runs(ds) if r.analyzer == "tips"]
    store = client.app.state.store
    with store.transaction() as s:
        [task] = create_plan(s, "lead1", "2024-05", read_runs(runs), unit_map=entity_units(ds)).tasks
        tid = task.task_id
    assert "尚未生成稽查任务" not in client.get("/tips/1").text
    propose = client.post("/tips/1/reward", data={"csrf_token": token})
    assert propose.status_code == 400 and "尚未查实" in propose.text
    with store.transaction() as s:
        actions.assign(s, "lead1", tid, "inspector1")
    with store.transaction() as s:
        actions.record_result(s, "inspector1", tid, "theft", "field", 5000, 3000.0, inspected_on=None)
    page = client.get("/tips/1").text
    assert 'action="/tips/1/reward"' in page
    assert client.post("/tips/1/reward", data={"csrf_token": token}).status_code == 303
    page = client.get("/tips/1").text
    assert "待审批" in page and "300.00" in page
    assert "/rewards/1/decide" not in page  # the auditor may not decide
    approve = {"decision": "approve", "csrf_token": token}
    assert client.post("/tips/1/rewards/1/decide", data=approve).status_code == 403
    token = _login(client, "manager1")
    approve["csrf_token"] = token
    assert client.post("/tips/1/rewards/1/decide", data={**approve, "decision": "reject"}).status_code == 400
    assert client.post("/tips/1/rewards/9/decide", data=approve).status_code == 404
    assert client.post("/tips/1/rewards/1/decide", data=approve).status_code == 303
    page = client.get("/tips/1").text
    assert "已批准" in page and "manager1" in page
    for secret in (NAME, PHONE):  # the manager never sees the reporter
        assert secret not in page
        assert secret not in client.get(f"/tasks/{tid}").text
        assert secret not in client.get(f"/api/v1/tasks/{tid}").text
    twice = client.post("/tips/1/rewards/1/decide", data=approve)
    assert twice.status_code == 400 and "已审批" in twice.text  # decided once


def test_proposer_cannot_approve_their_own(client, people) -> None:
    from gridaudit.audit import actions
    from gridaudit.audit.plans import create_plan, entity_units
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs

    token = _login(client, "lead1")
    assert _add(client, token, customer=people["customer"]).status_code == 303
    ds = client.app.state.settings.dataset
    store = client.app.state.store
    with store.transaction() as s:
        runs = [r for r in latest_runs(ds) if r.analyzer == "tips"]
        [task] = create_plan(s, "lead1", "2024-05", read_runs(runs), unit_map=entity_units(ds)).tasks
    with store.transaction() as s:
        actions.assign(s, "lead1", task.task_id, "inspector1")
    with store.transaction() as s:
        actions.record_result(s, "inspector1", task.task_id, "theft", "field", 100, 1000.0)
    assert client.post("/tips/1/reward", data={"csrf_token": token}).status_code == 303
    assert "/rewards/1/decide" not in client.get("/tips/1").text
    own = client.post("/tips/1/rewards/1/decide", data={"decision": "approve", "csrf_token": token})
    assert own.status_code == 403 and "须由另一人审批" in own.text
    page = client.get("/tips/1").text
    assert "待审批" in page and PHONE not in page  # no contact given with this tip


def test_enter_a_tip_in_the_browser(live_server, browser_page, people) -> None:
    from .test_browser import DOCS, _login

    page, base = browser_page, live_server
    DOCS.mkdir(parents=True, exist_ok=True)
    _login(page, base, "auditor1")
    page.goto(f"{base}/tips/new")
    page.fill("#customer", people["customer"])
    page.fill("#what", "表箱封印被剪，夜间私拉电线")
    page.select_option("#channel", "95598")
    page.fill("#received_on", "2024-03-10")
    page.screenshot(path=str(DOCS / "tip-form.png"), full_page=True)
    page.fill("#contact", CONTACT)
    page.click("form[action='/tips'] button[type=submit]")
    page.wait_for_url("**/tips/1")
    assert page.locator("#tip-status").inner_text() == "已匹配"
    assert PHONE not in page.content() and page.locator("#reporter").count() == 0
    assert "web" in page.locator("dl.facts").inner_text()  # entered from the web form
    page.screenshot(path=str(DOCS / "tip.png"), full_page=True)
