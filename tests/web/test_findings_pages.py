"""The findings page and ``GET /api/v1/findings``: filters, paging, unit scope, plans from selected findings, CSRF,
bad parameters in the user's language."""

from __future__ import annotations

import re
import shutil

import pytest
from tests.web.conftest import UNIT1, UNIT2, csrf_of, login, make_app

CHECKBOX = re.compile(r'name="finding_id" value="([0-9a-f]+)"(?![^>]*disabled)')


def _units_under(app, unit: str) -> set[str]:
    from gridaudit.audit.units import subtree

    with app.state.store.transaction() as s:
        return subtree(s, unit)


def _api(client, **params) -> dict:
    r = client.get("/api/v1/findings", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def plannable_dataset(web_store, web_dataset, tmp_path):
    """A copy of the dataset with one more run (analyzer loss): findings on 4 customers of each county that no
    task names yet, so a plan can take them (the fixture's plans took every other entity)."""
    from sqlalchemy import select

    from gridaudit.audit.models import Task
    from gridaudit.audit.store import open_store
    from gridaudit.audit.units import subtree
    from gridaudit.dataset import open_dataset
    from gridaudit.findings import RunProvenance, append_run, findings_table

    ds = tmp_path / "ds"
    shutil.copytree(web_dataset, ds, symlinks=True)
    customers = open_dataset(ds).read("customers", ["customer_id", "unit_id"]).to_pylist()
    st = open_store(web_store)
    with st.transaction() as s:
        taken = set(s.execute(select(Task.entity_id).where(Task.entity_type == "customer")).scalars())
        trees = {u: subtree(s, u) for u in (UNIT1, UNIT2)}
    st.dispose()
    rows = []
    for tree in trees.values():
        free = [c["customer_id"] for c in customers if c["unit_id"] in tree and c["customer_id"] not in taken]
        for i, cid in enumerate(free[:4]):
            money = dict(kwh_at_stake=100.0 * (i + 1), yuan_at_stake=60.0 * (i + 1))
            rows.append(dict(rule_id="loss_customer_suspect", family="loss", severity="high", entity_type="customer",
                             entity_id=cid, period="2024-03", score=0.5 + i / 10, responsible_staff_id=None,
                             evidence={}, run_id="", **money))  # fmt: skip
    assert len(rows) == 8
    append_run(ds, findings_table(rows), RunProvenance(analyzer="loss"))
    return ds


@pytest.fixture
def papp(web_store, web_dataset, tmp_path):
    """The app on ``plannable_dataset``."""
    application = make_app(web_store, plannable_dataset(web_store, web_dataset, tmp_path))
    yield application
    application.state.store.dispose()


def _plannable(client, n: int) -> list[str]:
    """``n`` new findings of distinct entities that have no open task (a plan accepts them)."""
    data = _api(client, limit=500)["items"]
    busy = {(i["entity_type"], i["entity_id"]) for i in data if i["audit_status"] == "under_audit"}
    out: dict[tuple[str, str], str] = {}
    for i in data:
        key = (i["entity_type"], i["entity_id"])
        if i["audit_status"] == "new" and key not in busy and key not in out:
            out[key] = i["finding_id"]
    assert len(out) >= n, "too few plannable findings in the fixture"
    return list(out.values())[:n]


def test_anonymous_is_sent_to_login_and_the_api_answers_401(client):
    assert client.get("/findings").status_code == 303
    assert client.get("/api/v1/findings").status_code == 401


def test_page_lists_the_users_units_findings_by_priority(app, logged_in):
    c = logged_in("lead1")
    page = c.get("/findings")
    assert page.status_code == 200 and "问题清单" in page.text
    data = _api(c, limit=500)
    assert data["total"] > 0 and data["runs"]
    assert {i["unit_id"] for i in data["items"]} <= _units_under(app, UNIT1)
    prios = [i["priority"] for i in data["items"]]
    assert prios == sorted(prios, reverse=True)
    other = _api(login_as(app, "inspector2"), limit=500)
    assert other["total"] > 0 and {i["unit_id"] for i in other["items"]} <= _units_under(app, UNIT2)
    assert not {i["finding_id"] for i in data["items"]} & {i["finding_id"] for i in other["items"]}


def test_the_admin_sees_every_unit(app, logged_in):
    one = _api(login_as(app, "lead1"))["total"]
    two = _api(login_as(app, "lead2"))["total"]
    every = _api(logged_in("admin"))["total"]
    assert one and two and every >= one + two


def test_filters_as_query_parameters(logged_in):
    c = logged_in("lead1")
    base = _api(c, limit=500)["items"]
    fam = base[0]["family"]
    got = _api(c, family=fam, limit=500)
    assert got["total"] == sum(1 for i in base if i["family"] == fam) and {i["family"] for i in got["items"]} == {fam}
    sev = base[-1]["severity"]
    assert {i["severity"] for i in _api(c, severity=sev, limit=500)["items"]} == {sev}
    rule = base[0]["rule_id"]
    assert {i["rule_id"] for i in _api(c, rule=rule, limit=500)["items"]} == {rule}
    under = _api(c, status="under_audit", limit=500)
    assert under["total"] > 0 and all(i["tasks"] and i["audit_status"] == "under_audit" for i in under["items"])
    new = _api(c, status="new", limit=500)
    assert all(not i["tasks"] for i in new["items"])
    period = base[0]["period"]
    assert _api(c, period=period)["total"] >= 1
    assert _api(c, period="1999-01")["total"] == 0
    area = next(i["area_id"] for i in base if i["area_id"])
    assert {i["area_id"] for i in _api(c, area=area, limit=500)["items"]} == {area}
    both = _api(c, family=f"{fam},{base[-1]['family']}", limit=500)
    assert both["total"] == sum(1 for i in base if i["family"] in (fam, base[-1]["family"]))
    # the page reads the same parameters (bookmarkable), and shows the filter it applied
    page = c.get("/findings", params={"family": fam, "severity": sev})
    assert page.status_code == 200 and f'value="{fam}" selected' in page.text


def test_paging_page_one_and_a_later_page(logged_in):
    c = logged_in("lead1")
    whole = _api(c, limit=12)["items"]
    first, second = _api(c, limit=6), _api(c, limit=6, offset=6)
    assert first["total"] == second["total"] >= 12
    assert [i["finding_id"] for i in first["items"] + second["items"]] == [i["finding_id"] for i in whole]
    page1 = c.get("/findings", params={"limit": 6})
    assert 'rel="next"' in page1.text and "offset=6" in page1.text and 'rel="prev"' not in page1.text
    page2 = c.get("/findings", params={"limit": 6, "offset": 6})
    assert 'rel="prev"' in page2.text
    for item in second["items"]:
        assert item["finding_id"] in page2.text
    assert not any(i["finding_id"] in page2.text for i in first["items"])


@pytest.mark.parametrize(
    "params, zh, en",
    [
        ({"severity": "urgent"}, "severity 的取值无效：urgent", "bad severity value: urgent"),
        ({"period": "2024-13"}, "period 应为 YYYY-MM", "period must be YYYY-MM"),
        ({"limit": "lots"}, "limit 应为整数", "limit must be a whole number"),
        ({"offset": "-3"}, "offset", "offset must be 0 or more"),
        ({"familly": "billing"}, "未知参数 familly", "unknown parameter familly"),
    ],
)
def test_bad_parameters_are_a_400_in_the_users_language(logged_in, params, zh, en):
    c = logged_in("lead1")
    page = c.get("/findings", params=params)
    assert page.status_code == 400 and zh in page.text and "Traceback" not in page.text
    page = c.get("/findings", params={**params, "lang": "en"})
    assert page.status_code == 400 and en in page.text
    api = c.get("/api/v1/findings", params=params)
    assert api.status_code == 400
    err = api.json()["error"]
    assert zh in err["zh"] and en in err["en"]


@pytest.mark.parametrize(
    "user, may",
    [("lead1", True), ("auditor1", True), ("inspector1", False), ("resp1", False), ("manager1", False),
     ("viewer1", False)],
)  # fmt: skip
def test_only_planners_see_the_selection_form_and_the_server_refuses_others(papp, user, may):
    c = login_as(papp, user)
    page = c.get("/findings", params={"status": "new"})
    assert page.status_code == 200
    assert ('action="/findings/plan"' in page.text) is may
    ids = CHECKBOX.findall(page.text)
    assert bool(ids) is may
    target = _plannable(c, 1) if may else [_api(c, status="new", limit=1)["items"][0]["finding_id"]]
    r = c.post("/findings/plan", data={"csrf_token": csrf_of(page.text), "finding_id": target, "month": "2024-05"})
    if may:
        assert r.status_code == 303 and r.headers["location"].startswith("/plans/")
    else:
        assert r.status_code == 403 and "只有稽查组长和稽查员" in r.text


def test_a_plan_from_selected_findings(papp):
    from sqlalchemy import select

    from gridaudit.audit.models import Plan, Task

    app = papp
    c = login_as(app, "lead1")
    page = c.get("/findings", params={"status": "new", "limit": 5})
    ids = _plannable(c, 3)
    r = c.post(
        "/findings/plan",
        data={"csrf_token": csrf_of(page.text), "finding_id": ids, "month": "2024-05", "title": "页面选中"},
    )
    assert r.status_code == 303
    assert c.get(r.headers["location"]).status_code == 200  # the plan's page
    plan_id = int(r.headers["location"].rsplit("/", 1)[1])
    with app.state.store.transaction() as s:
        plan = s.get(Plan, plan_id)
        tasks = list(s.execute(select(Task.finding_id).where(Task.plan_id == plan_id)).scalars())
    assert plan.title == "页面选中" and plan.created_by == "lead1" and sorted(tasks) == sorted(ids)
    after = _api(c, status="under_audit", limit=500)
    assert set(ids) <= {i["finding_id"] for i in after["items"]}


def test_plan_refusals_store_nothing(papp):
    from sqlalchemy import func, select

    from gridaudit.audit.models import Plan

    app = papp
    with app.state.store.transaction() as s:
        plans = s.execute(select(func.count()).select_from(Plan)).scalar_one()
    c = login_as(app, "lead1")
    page = c.get("/findings", params={"status": "new"})
    token = csrf_of(page.text)
    fid = _plannable(c, 1)[0]
    assert c.post("/findings/plan", data={"finding_id": fid, "month": "2024-05"}).status_code == 403  # no CSRF
    bad = c.post("/findings/plan", data={"csrf_token": "forged", "finding_id": fid, "month": "2024-05"})
    assert bad.status_code == 403
    r = c.post("/findings/plan", data={"csrf_token": token, "finding_id": fid, "month": "2024-5"})
    assert r.status_code == 400 and "YYYY-MM" in r.text
    r = c.post("/findings/plan", data={"csrf_token": token, "month": "2024-05"})
    assert r.status_code == 400 and "请先勾选问题" in r.text
    r = c.post("/findings/plan", data={"csrf_token": token, "finding_id": "0" * 20, "month": "2024-05"})
    assert r.status_code == 404
    # a finding of the other unit: lead1 plans only U01's tree
    other = _plannable(login_as(app, "lead2"), 1)[0]
    r = c.post("/findings/plan", data={"csrf_token": token, "finding_id": other, "month": "2024-05"})
    assert r.status_code == 400 and "未制定计划" in r.text
    with app.state.store.transaction() as s:
        assert s.execute(select(func.count()).select_from(Plan)).scalar_one() == plans


def login_as(app, uid: str):
    """A second client of the same app, logged in as ``uid``."""
    from fastapi.testclient import TestClient

    other = TestClient(app, follow_redirects=False)
    assert login(other, uid).status_code == 303
    return other


def test_a_findings_page_of_its_own(app, logged_in):
    c = logged_in("lead1")
    item = next(i for i in _api(c, limit=50)["items"] if i["evidence"])
    page = c.get(f"/findings/{item['finding_id']}")
    assert page.status_code == 200 and item["rule_id"] in page.text
    assert all(key in page.text for key in item["evidence"])
    first = _api(c, limit=1)["items"][0]["finding_id"]
    assert f'href="/findings/{first}"' in c.get("/findings").text  # the list links to it
    assert c.get(f"/api/v1/findings/{item['finding_id']}").json()["finding_id"] == item["finding_id"]
    other = _api(login_as(app, "lead2"))["items"][0]["finding_id"]
    assert c.get(f"/findings/{other}").status_code == 404  # another county's finding
    assert c.get(f"/api/v1/findings/{other}").status_code == 404
    assert c.get("/findings/nope", params={"lang": "en"}).status_code == 404
