"""The rules pages and API: the catalog, one rule with its SQL and hit-rate history, bad input, login required."""

from __future__ import annotations

import html

from gridaudit.rules.loader import load_catalog


def test_login_required(client):
    assert client.get("/rules").status_code == 303
    assert client.get("/api/v1/rules").status_code == 401


def test_catalog_page_lists_every_rule(logged_in):
    c = logged_in("inspector1")  # every role may read the catalog
    page = c.get("/rules")
    assert page.status_code == 200
    rules = load_catalog()
    for r in rules:
        assert f'href="/rules/{r.id}"' in page.text
    billing = c.get("/rules", params={"family": "billing"})
    assert billing.status_code == 200
    assert all((f'href="/rules/{r.id}"' in billing.text) is (r.family == "billing") for r in rules)
    en = c.get("/rules", params={"lang": "en"})
    some = rules[0]
    assert html.escape(some.header.title.en) in en.text and "Hit rate" in en.text


def test_a_rule_page_shows_texts_params_sql_and_history(logged_in):
    c = logged_in("lead1")
    rule = next(r for r in load_catalog() if r.header.params)
    page = c.get(f"/rules/{rule.id}")
    assert page.status_code == 200
    assert html.escape(rule.header.title.zh) in page.text and html.escape(rule.header.description.zh) in page.text
    for name in rule.header.params:
        assert f"${name}" in page.text
    assert html.escape(rule.sql.splitlines()[0]) in page.text
    assert f"/findings?rule={rule.id}" in page.text


def test_hit_rate_history_comes_from_closed_tasks(app, logged_in):
    from sqlalchemy import select

    from gridaudit.audit.models import Plan, Task

    with app.state.store.transaction() as s:
        rule_id, month = s.execute(
            select(Task.rule_id, Plan.month).join(Plan, Plan.plan_id == Task.plan_id).where(Task.state == "closed")
        ).first()
    data = logged_in("viewer1").get(f"/api/v1/rules/{rule_id}").json()
    assert data["rule_id"] == rule_id and data["sql"] and data["hit_rate"]["n"] >= 1
    assert [h["month"] for h in data["history"]] == [month] and data["history"][0]["n"] >= 1


def test_unknown_rule_and_family(logged_in):
    c = logged_in("lead1")
    r = c.get("/rules/no_such_rule")
    assert r.status_code == 404 and "no_such_rule" in r.text
    r = c.get("/rules", params={"family": "nofam"})
    assert r.status_code == 400 and "family 的取值无效" in r.text
    r = c.get("/rules", params={"family": "nofam", "lang": "en"})
    assert r.status_code == 400 and "bad family value: nofam" in r.text
    api = c.get("/api/v1/rules", params={"family": "nofam"})
    assert api.status_code == 404 and "nofam" in api.json()["error"]["en"]
    assert c.get("/api/v1/rules/no_such_rule").status_code == 404
    listed = c.get("/api/v1/rules", params={"family": "theft"}).json()
    assert listed and {r["family"] for r in listed} == {"theft"}
