"""Dashboard, customer, area, feeder, staff and loss-list pages and their API, in-process: numbers with
their links, charts as JSON data blocks (no inline script), unit scope (403), bad ids and months (404/400)
in the user's language."""

from __future__ import annotations

import json
import re

import pytest
from tests.web.conftest import UNIT1, UNIT2

BLOCK = re.compile(r'<script type="application/json" data-chart="chart-([a-z_]+)">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def ids(web_dataset):
    """A customer, area, feeder and staff member of each unit, and the dataset's last month."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine

    eng = DuckDBEngine(open_dataset(web_dataset))
    try:

        def first(sql: str, unit: str) -> str:
            return str(eng.query(sql, {"u": unit}).column(0)[0])

        out = {}
        for unit in (UNIT1, UNIT2):
            sub = "(SELECT unit_id FROM units WHERE unit_id = $u OR parent_id = $u)"
            out[unit] = {
                "customer": first(
                    "SELECT c.customer_id FROM customers c JOIN meters m ON m.customer_id = c.customer_id "
                    f"WHERE c.unit_id IN {sub} ORDER BY 1 LIMIT 1",
                    unit,
                ),
                "area": first(f"SELECT area_id FROM areas WHERE unit_id IN {sub} ORDER BY 1 LIMIT 1", unit),
                "feeder": first(f"SELECT feeder_id FROM feeders WHERE unit_id IN {sub} ORDER BY 1 LIMIT 1", unit),
                "staff": first(f"SELECT staff_id FROM staff WHERE unit_id IN {sub} ORDER BY 1 LIMIT 1", unit),
            }
        out["month"] = str(eng.query("SELECT strftime(MAX(day), '%Y-%m') FROM daily_usage").column(0)[0])
        return out
    finally:
        eng.close()


def _no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_dashboard_numbers_link_to_their_lists_and_charts_are_data_blocks(logged_in, ids):
    client = logged_in("lead1")
    page = client.get(f"/dashboard?month={ids['month']}")
    assert page.status_code == 200, page.text
    assert "稽查总览" in page.text and ids["month"] in page.text
    assert f"/findings?period={ids['month']}" in page.text.replace("&amp;", "&")
    assert "/loss?level=area&band=" in page.text.replace("&amp;", "&")
    assert "/tasks?state=" in page.text.replace("&amp;", "&")
    charts = dict(BLOCK.findall(page.text))
    assert {"findings_count", "bands", "trend"} <= set(charts)
    spec = json.loads(charts["findings_count"])
    assert spec["usermeta"]["lang"] == "zh" and spec["encoding"]["href"]["field"] == "href"
    assert '<script src="/runtime/vega.js?v=' in page.text and '<script src="/static/charts.js"' in page.text
    _no_inline_script(page.text)
    en = client.get(f"/dashboard?month={ids['month']}&lang=en")
    assert (
        "Audit dashboard" in en.text and json.loads(dict(BLOCK.findall(en.text))["bands"])["usermeta"]["lang"] == "en"
    )


def test_dashboard_default_month_bad_month_and_other_unit(logged_in, ids):
    client = logged_in("lead1")
    assert ids["month"] in client.get("/dashboard").text
    bad = client.get("/dashboard?month=2024-13")
    assert bad.status_code == 400 and "YYYY-MM" in bad.text and "月份" in bad.text
    assert "must be a month" in client.get("/dashboard?month=2024-13&lang=en").text
    other = client.get(f"/dashboard?unit={UNIT2}&lang=zh")
    assert other.status_code == 403 and "查看范围" in other.text
    assert client.get("/dashboard?unit=NOPE").status_code == 404


def test_customer_page_and_its_scope(logged_in, ids):
    cid = ids[UNIT1]["customer"]
    client = logged_in("inspector1")
    page = client.get(f"/customers/{cid}")
    assert page.status_code == 200, page.text
    assert "客户全景" in page.text and cid in page.text and "倍率" in page.text
    charts = dict(BLOCK.findall(page.text))
    spec = json.loads(charts["daily_use"])
    assert spec["layer"][-1]["mark"]["type"] in ("line", "rule") and spec["data"]["values"]
    _no_inline_script(page.text)
    assert client.get(f"/customers/{ids[UNIT2]['customer']}").status_code == 403
    missing = client.get("/customers/NO-SUCH-CUSTOMER?lang=en")
    assert missing.status_code == 404 and "no customer NO-SUCH-CUSTOMER" in missing.text
    assert client.get(f"/customers/{cid}?month=24-01").status_code == 400


def test_area_feeder_staff_and_loss_list_pages(logged_in, ids):
    client = logged_in("auditor1")
    unit = ids[UNIT1]
    page = client.get(f"/areas/{unit['area']}?period={ids['month']}")
    assert page.status_code == 200, page.text
    assert "分档历史" in page.text and "采集覆盖率" in page.text and "技术线损估算" in page.text
    assert {"daily", "trend"} <= set(dict(BLOCK.findall(page.text)))
    assert "可算日" in page.text
    used = re.search(r'data-days-used="(\d+)">(\d+) / (\d+)', page.text)
    assert used and used[1] == used[2] and 0 < int(used[2]) <= int(used[3]) <= 31  # the month's days used / days
    feeder = client.get(f"/feeders/{unit['feeder']}?period={ids['month']}&lang=en")
    assert feeder.status_code == 200 and "Areas on this feeder" in feeder.text
    assert "Computable days" in feeder.text and "Area-meter days" in feeder.text  # its areas' meters, measured
    staff = client.get(f"/staff/{unit['staff']}?lang=zh")
    assert staff.status_code == 200 and "整改记录" in staff.text
    loss = client.get(f"/loss?level=area&period={ids['month']}")
    assert loss.status_code == 200 and f"/areas/{unit['area']}" in loss.text
    assert client.get(f"/areas/{ids[UNIT2]['area']}").status_code == 403
    assert client.get(f"/feeders/{ids[UNIT2]['feeder']}").status_code == 403
    assert client.get(f"/staff/{ids[UNIT2]['staff']}").status_code == 403
    assert client.get(f"/areas/{unit['area']}?period=1999-01").status_code == 400
    assert client.get("/loss?level=planet").status_code == 400
    assert client.get(f"/loss?level=area&unit={UNIT2}").status_code == 403


def test_api_customer_and_area_loss(logged_in, ids):
    client = logged_in("lead1")
    cid = ids[UNIT1]["customer"]
    body = client.get(f"/api/v1/customers/{cid}").json()
    assert body["customer"]["customer_id"] == cid and body["meters"] and "usage" in body
    aid = ids[UNIT1]["area"]
    loss = client.get(f"/api/v1/areas/{aid}/loss", params={"period": ids["month"]})
    assert loss.status_code == 200
    data = loss.json()
    assert data["month"] == ids["month"] and data["daily"] and data["entity"]["area_id"] == aid
    assert all(r["entity_id"] == aid for r in data["daily"])
    refused = client.get(f"/api/v1/areas/{ids[UNIT2]['area']}/loss")
    assert refused.status_code == 403 and refused.json()["error"]["status"] == 403
    page = client.get(f"/areas/{aid}", params={"period": ids["month"], "lang": "en"}).text
    shown = page.split("Customers behind the loss")[1].split("Mapping-error candidates")[0]
    assert shown.count('href="/customers/') == min(20, len(data["behind"]))  # the page shows the top 20
    assert len(data["behind"]) > 20 and f"top 20 of {len(data['behind'])}" in shown  # the area has more
    bad = client.get(f"/api/v1/areas/{aid}/loss", params={"period": "June"})
    assert bad.status_code == 400 and "YYYY-MM" in bad.json()["error"]["en"]
    assert client.get("/api/v1/customers/NOPE").status_code == 404
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers/{customer_id}" in schema["paths"] and "/api/v1/areas/{area_id}/loss" in schema["paths"]


def test_pages_need_a_login_and_the_runtime_is_served(client):
    assert client.get("/dashboard").status_code == 303
    assert client.get("/api/v1/customers/X").status_code == 401
    js = client.get("/runtime/vega.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and "window.vegaEmbed" in js.text
    assert client.get("/static/charts.js").status_code == 200


def test_dashboard_is_the_start_page_of_leads_and_managers_not_of_inspectors(logged_in):
    client = logged_in("manager1")
    assert client.get("/").headers["location"] == "/dashboard"
    assert 'href="/dashboard"' in client.get("/tasks").text


def test_inspectors_start_on_their_tasks(client):
    from tests.web.conftest import login

    assert login(client, "inspector1").status_code == 303
    assert client.get("/").headers["location"] != "/dashboard"
    assert 'href="/dashboard"' not in client.get("/tasks").text


def test_api_with_a_bearer_token_keeps_the_unit_scope(app, ids):
    from fastapi.testclient import TestClient

    from gridaudit.audit.credentials import issue_token

    with app.state.store.transaction() as s:
        token = issue_token(s, "admin", "auditor2")
    with TestClient(app) as c:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        own = c.get(f"/api/v1/customers/{ids[UNIT2]['customer']}", headers=headers)
        assert own.status_code == 200 and own.json()["customer"]["unit_id"].startswith(UNIT2)
        other = c.get(f"/api/v1/customers/{ids[UNIT1]['customer']}", headers=headers)
        assert other.status_code == 403 and "scope" in other.json()["error"]["en"]
        loss = c.get(f"/api/v1/areas/{ids[UNIT2]['area']}/loss", headers=headers)
        assert loss.status_code == 200 and loss.json()["history"]


def test_feeder_page_sums_its_areas_technical_estimates(web_dataset, ids):
    """The feeder's technical loss per month is the sum of its areas' estimates (read from the loss outputs
    directly here, not through the index the page uses), and the page shows it."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine
    from gridaudit.views.area import feeder
    from gridaudit.views.loss import loss_outputs

    eng = DuckDBEngine(open_dataset(web_dataset))
    try:
        fid = ids[UNIT1]["feeder"]
        view = feeder(eng, None, None, fid, ids["month"])
        result = loss_outputs(eng, *view.months)
        monthly = result.balance.monthly.to_pylist()
        tech = result.technical_monthly.to_pylist()
        assert view.technical, "the feeder has areas with an estimate"
        for row in view.technical:
            areas = {
                r["entity_id"]
                for r in monthly
                if r["level"] == "area" and r["feeder_id"] == fid and r["period"] == row["period"]
            }
            want = [t["technical_kwh"] for t in tech if t["area_id"] in areas and t["period"] == row["period"]]
            assert row["areas"] == len(areas) and row["estimated"] == len([w for w in want if w is not None])
            assert row["technical_kwh"] == pytest.approx(sum(w for w in want if w is not None))
            supply = next(r["supply_kwh"] for r in view.history if r["period"] == row["period"])
            assert row["technical_rate_pct"] == pytest.approx(100 * row["technical_kwh"] / supply)
        # the index gives the same rows as a scan of the whole tables
        assert view.history == [r for r in monthly if r["level"] == "feeder" and r["entity_id"] == fid]
    finally:
        eng.close()


def test_feeder_page_shows_the_technical_estimate(logged_in, ids):
    client = logged_in("auditor1")
    page = client.get(f"/feeders/{ids[UNIT1]['feeder']}?period={ids['month']}&lang=en")
    assert page.status_code == 200, page.text
    assert "Technical-loss estimate" in page.text and "Areas estimated" in page.text
    assert "own 10 kV line is not estimated" in page.text


def test_dashboard_shows_the_booked_standings_with_links_in_scope(web_store, web_dataset, ids):
    """No booking: the dashboard says how to book one; once booked, each level's standings link to their pages,
    and a user of one unit sees only the standings of that unit's entities."""
    from datetime import date

    from fastapi.testclient import TestClient

    from gridaudit.indicators.assess import assess_month
    from gridaudit.indicators.book import book

    from .conftest import login, make_app

    month = ids["month"]
    web = make_app(web_store, web_dataset)
    with TestClient(web, follow_redirects=False) as c:
        assert login(c, "lead1").status_code == 303
        before = c.get(f"/dashboard?month={month}&lang=en").text
        assert "No assessment booked for this month" in before
        with web.state.store.transaction() as s:
            a = assess_month(web_dataset, month, session=s, as_of=date(2030, 1, 1), compare=False)
            run = book(s, "lead1", a, date(2030, 1, 1))
            assert a.standings
        page = c.get(f"/dashboard?month={month}&lang=en").text.replace("&amp;", "&")
        assert "Indicator standings" in page and f"v{run.version}" in page
        units = {s.entity_id for s in a.standings if s.level not in ("staff", "area_manager")}
        assert any(f"/dashboard?month={month}&unit={u}" in page for u in units)
        people = {s.entity_id for s in a.standings if s.level in ("staff", "area_manager")}
        assert any(f"/staff/{p}?month={month}" in page for p in people)
    with TestClient(web, follow_redirects=False) as c:  # a user of U01 sees no standing of U02's stations
        assert login(c, "auditor1").status_code == 303
        scoped = c.get(f"/dashboard?month={month}&lang=en").text.replace("&amp;", "&")
        assert "Indicator standings" in scoped
        assert f"unit={UNIT2}" not in scoped
    web.state.store.dispose()
