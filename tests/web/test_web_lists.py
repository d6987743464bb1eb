"""Every dashboard number opens exactly its list (tasks by state, overdue, escalated; findings), the task list's
filters in the page, the API and the CLI, and plans in unit scope (web and CLI)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from .conftest import UNIT1, UNIT2

MONTH = "2024-04"  # the month of the fixture's plans
COUNT_LINK = re.compile(r'<a href="(/(?:tasks|findings)\?[^"]+)">([\d,]+)</a>')


def _make_overdue_and_escalate(app, tasks) -> dict[str, int]:
    """U01's checked task: rectification ordered long ago (overdue), then escalated; U02's: overdue only."""
    from gridaudit.audit import actions

    store = app.state.store
    late1, late2 = tasks[(UNIT1, "checked")], tasks[(UNIT2, "checked")]
    with store.transaction() as s:
        actions.rectify(s, "lead1", late1, "resp1", 5, "限期整改", today=date(2024, 4, 1))
        actions.rectify(s, "lead2", late2, "resp2", 5, "限期整改", today=date(2024, 4, 1))
    with store.transaction() as s:
        done = actions.escalate(s, "lead1", today=date.today())
    assert [e.task_id for e in done] == [late1]
    with store.transaction() as s:  # a second escalation of the same task (another day): still one task
        actions.escalate(s, "lead1", today=date.today() - timedelta(days=1))
    return {"late1": late1, "late2": late2}


def _task_rows(client, href: str) -> int:
    page = client.get(href)
    assert page.status_code == 200, (href, page.text[:300])
    found = re.search(r"共 (\d+) 个任务", page.text)
    return int(found.group(1)) if found else 0


def _finding_rows(client, href: str) -> int:
    page = client.get(href + "&lang=zh")
    assert page.status_code == 200, (href, page.text[:300])
    found = re.search(r"共 (\d+) 条", page.text)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("uid,unit", [("lead1", None), ("admin", None), ("admin", UNIT2), ("manager2", None)])
def test_every_dashboard_count_equals_the_rows_of_its_list(app, client, logged_in, tasks, uid, unit):
    _make_overdue_and_escalate(app, tasks)
    logged_in(uid)
    page = client.get(f"/dashboard?month={MONTH}" + (f"&unit={unit}" if unit else ""))
    assert page.status_code == 200, page.text[:300]
    links = [(h.replace("&amp;", "&"), int(n.replace(",", ""))) for h, n in COUNT_LINK.findall(page.text)]
    kinds = {h.split("?")[0] + ("?overdue" if "overdue=1" in h else "?escalated" if "escalated=1" in h else "")
             for h, _ in links}  # fmt: skip
    assert {"/tasks", "/tasks?overdue", "/tasks?escalated", "/findings"} <= kinds, kinds
    nonzero = 0
    for href, shown in links:
        rows = _task_rows(client, href) if href.startswith("/tasks") else _finding_rows(client, href)
        assert rows == shown, (uid, unit, href, shown, rows)
        if href.startswith("/tasks"):  # the API's list with the same filters has the same total
            api_href = href.replace("overdue=1", "overdue=true").replace("escalated=1", "escalated=true")
            api = client.get("/api/v1" + api_href)
            assert api.status_code == 200 and api.json()["total"] == shown, (href, api.text[:300])
        nonzero += shown > 0
    assert nonzero >= 3
    esc = next(n for h, n in links if "escalated=1" in h)
    late = next(n for h, n in links if "overdue=1" in h)
    if uid == "lead1":
        assert (esc, late) == (1, 1)  # escalated twice, counted once; U02's overdue task is out of scope
    if uid == "admin" and unit is None:
        assert (esc, late) == (1, 2)


def test_task_filters_by_unit_month_overdue_escalated(app, client, logged_in, tasks):
    made = _make_overdue_and_escalate(app, tasks)
    logged_in("admin")
    api = client.get(f"/api/v1/tasks?unit={UNIT2}&overdue=true").json()
    assert [t["task_id"] for t in api["items"]] == [made["late2"]]
    api = client.get("/api/v1/tasks?escalated=true").json()
    assert [t["task_id"] for t in api["items"]] == [made["late1"]]
    assert client.get("/api/v1/tasks?month=2024-05").json()["total"] == 0
    both = client.get(f"/api/v1/tasks?month={MONTH}").json()["total"]
    one = client.get(f"/api/v1/tasks?month={MONTH}&unit={UNIT1}").json()["total"]
    assert 0 < one < both
    page = client.get(f"/tasks?all=1&unit={UNIT1}&overdue=1")
    assert f"/tasks/{made['late1']}" in page.text and f"/tasks/{made['late2']}" not in page.text
    bad = client.get("/tasks?all=1&month=2024-13&lang=en")
    assert bad.status_code == 400 and "YYYY-MM" in bad.text
    assert client.get("/tasks?all=1&overdue=yes&lang=en").status_code == 400
    assert client.get("/tasks?all=1&unit=NOPE").status_code == 404


def test_a_unit_outside_scope_is_refused_in_the_task_list(client, logged_in):
    logged_in("lead1")
    assert client.get(f"/tasks?all=1&unit={UNIT2}").status_code == 403
    assert client.get(f"/api/v1/tasks?unit={UNIT2}").status_code == 403


def _plan_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/plans/(\d+)"', html)}


def test_plans_are_scoped_by_unit(app, client, logged_in, tasks):
    from gridaudit.audit import actions

    logged_in("admin")
    assert _plan_ids(client.get("/plans").text) == {1, 2}
    client.cookies.clear()
    logged_in("lead1")
    assert _plan_ids(client.get("/plans").text) == {1}
    assert client.get("/plans/1").status_code == 200
    refused = client.get("/plans/2?lang=en")
    assert refused.status_code == 403 and "outside lead1" in refused.text
    assert client.get("/plans/999").status_code == 404
    client.cookies.clear()
    logged_in("auditor1")
    assert _plan_ids(client.get("/plans").text) == {1}
    with app.state.store.transaction() as s:  # cross-unit audit: lead2 sends a U02 task to auditor1
        actions.assign(s, "lead2", tasks[(UNIT2, "new")], "auditor1")
    assert _plan_ids(client.get("/plans").text) == {1, 2}
    plan2 = client.get("/plans/2")
    assert plan2.status_code == 200 and f"/tasks/{tasks[(UNIT2, 'new')]}" in plan2.text
    assert f"/tasks/{tasks[(UNIT2, 'assigned')]}" not in plan2.text  # only the tasks auditor1 sees


def test_a_plan_made_in_the_unit_tree_is_seen_before_it_has_a_visible_task(app):
    from sqlalchemy import select

    from gridaudit.audit import access, trail
    from gridaudit.audit.models import Plan, User
    from gridaudit.audit.plan_view import list_plans

    with app.state.store.transaction() as s:  # a plan of lead2 (U02) holding no task yet
        plan = Plan(month="2024-06", kind="special", title="空计划", scope="{}", source="{}", created_by="lead2",
                    created_at=datetime(2024, 6, 1, tzinfo=UTC))  # fmt: skip
        s.add(plan)
        s.flush()
        trail.append(s, "lead2", "plan", "plan", plan.plan_id, {"tasks": 0})
    with app.state.store.transaction() as s:
        new = s.execute(select(Plan.plan_id).where(Plan.title == "空计划")).scalar_one()
        seen = {u: {p.plan_id for p, _ in list_plans(s, s.get(User, u))} for u in ("manager2", "manager1", "admin")}
        assert new in seen["manager2"] and new not in seen["manager1"] and new in seen["admin"]
        assert access.check_plan(s, s.get(User, "viewer2"), new).plan_id == new


def test_cli_plan_list_and_show_apply_unit_scope(app):
    from gridaudit.cli import app as cli_app

    url = str(app.state.store.url)
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        res = runner.invoke(cli_app, ["--lang", "en", "audit", *args, "--store", url])
        assert "Traceback" not in res.output
        return res.exit_code, " ".join(res.output.split())

    code, out = cli("plan", "list", "--user", "manager1")
    assert code == 0
    listed = {int(r) for r in re.findall(r"│ (\d+) +│ 2024-04", out)}
    assert listed == {1}, out
    code, out = cli("plan", "list", "--user", "admin")
    assert {int(r) for r in re.findall(r"│ (\d+) +│ 2024-04", out)} == {1, 2}, out
    assert cli("plan", "show", "1", "--user", "manager1")[0] == 0
    code, out = cli("plan", "show", "2", "--user", "manager1")
    assert code == 2 and "outside manager1" in out, out


def test_cli_task_list_has_the_same_filters(app, client, logged_in, tasks):
    from gridaudit.cli import app as cli_app

    made = _make_overdue_and_escalate(app, tasks)
    url = str(app.state.store.url)
    runner = CliRunner()

    def rows(*args: str) -> int:
        res = runner.invoke(cli_app, ["--lang", "en", "audit", "tasks", "list", *args, "--store", url])
        assert res.exit_code == 0, res.output
        return int(re.search(r"(\d+) rows", res.output).group(1))  # type: ignore[union-attr]

    logged_in("admin")
    for query, args in (
        (f"month={MONTH}&unit={UNIT1}", ("--month", MONTH, "--unit", UNIT1)),
        ("escalated=1", ("--escalated",)),
        (f"unit={UNIT2}&overdue=1", ("--unit", UNIT2, "--overdue")),
    ):
        total = client.get(f"/api/v1/tasks?{query}").json()["total"]
        assert rows(*args, "--user", "admin") == total > 0, query
    assert made["late1"] != made["late2"]
