"""The task pages: "my tasks" per role, the task page's contents, attachments, and the API's task detail."""

from __future__ import annotations

import re

from gridaudit.web.deps import Engine

from .conftest import csrf_of

LINK = re.compile(r'href="/tasks/(\d+)"')


def _ids(html: str) -> set[int]:
    return {int(x) for x in LINK.findall(html)}


def test_my_tasks_per_role(client, logged_in, tasks):
    logged_in("resp1")
    assert _ids(client.get("/tasks").text) == {tasks[("U01", "rectifying")]}  # only the reply waits for them
    client.cookies.clear()
    logged_in("viewer1")
    assert _ids(client.get("/tasks").text) == set()  # a viewer acts on nothing
    seen = _ids(client.get("/tasks?all=1").text)
    assert {tasks[("U01", s)] for s in ("new", "closed")} <= seen
    assert not seen & {tasks[("U02", s)] for s in ("new", "closed")}  # unit scope
    client.cookies.clear()
    logged_in("lead2")
    mine = _ids(client.get("/tasks").text)
    assert tasks[("U02", "new")] in mine and tasks[("U02", "replied")] in mine
    assert tasks[("U02", "closed")] not in mine and tasks[("U01", "new")] not in mine
    assert _ids(client.get("/tasks?all=1&state=closed").text) == {tasks[("U02", "closed")]}


def test_task_page_shows_finding_timeline_and_result_with_attachment(app, client, logged_in, tasks):
    tid = tasks[("U01", "assigned")]
    logged_in("inspector1")
    page = client.get(f"/tasks/{tid}")
    assert page.status_code == 200 and "证据" in page.text and "处理记录" in page.text
    token = csrf_of(page.text)
    done = client.post(
        f"/tasks/{tid}/result",
        data={"outcome": "违约用电", "check_kind": "field", "recovered_kwh": "120", "csrf_token": token},
        files={"attachments": ("现场.jpg", b"\xff\xd8 photo", "image/jpeg")},
    )
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"])
    assert "已完成" in page.text and "现场.jpg" in page.text and "违约用电" in page.text
    assert "上传附件" in page.text  # the attach event in the timeline
    stored = list(app.state.store.attachments.rglob("*"))
    assert any(p.is_file() and p.read_bytes() == b"\xff\xd8 photo" for p in stored)
    link = re.search(r'href="(/tasks/\d+/attachments/\d+)"', page.text)
    assert link
    got = client.get(link.group(1))
    assert got.status_code == 200 and got.content == b"\xff\xd8 photo"
    assert "attachment" in got.headers["content-disposition"]
    client.cookies.clear()
    from .conftest import login

    login(client, "viewer2")  # another unit: the download is refused like the page
    assert client.get(link.group(1)).status_code == 403


def test_api_task_detail_and_list(app, tasks):
    from fastapi.testclient import TestClient

    from gridaudit.audit.credentials import issue_token

    with app.state.store.transaction() as s:
        token = issue_token(s, "admin", "auditor1")
    c = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    tid = tasks[("U01", "replied")]
    detail = c.get(f"/api/v1/tasks/{tid}").json()
    assert detail["state"] == "replied" and set(detail["allowed_actions"]) >= {"accept", "reject"}
    assert detail["rectification"]["responsible_id"] == "resp1"
    assert [e["action"] for e in detail["events"]][:2] == ["task_create", "assign"]
    page = c.get("/api/v1/tasks?limit=2&offset=1").json()
    assert len(page["items"]) == 2 and page["total"] >= 8
    assert c.get(f"/api/v1/tasks/{tasks[('U02', 'new')]}").status_code == 403  # another unit's task


def test_verdict_with_the_data_recheck(app, client, logged_in, tasks):
    from sqlalchemy import select

    from gridaudit.audit.models import Task, Verification

    tid = tasks[("U01", "replied")]
    with app.state.store.transaction() as s:
        period = s.get(Task, tid).period
    assert period and period < "2024-03"  # the dataset holds 2024-01..03: a later month can be re-checked
    logged_in("auditor1")
    token = csrf_of(client.get(f"/tasks/{tid}").text)
    early = client.post(f"/tasks/{tid}/reject", data={"reason": "复查", "period": period, "csrf_token": token})
    assert early.status_code == 400 and "须晚于" in early.text  # not after the finding's period
    done = client.post(f"/tasks/{tid}/reject", data={"reason": "复查", "period": "2024-03", "csrf_token": token})
    assert done.status_code == 303, done.text
    with app.state.store.transaction() as s:
        verdict = s.execute(select(Verification)).scalars().all()[-1]
    assert verdict.decision == "reject" and verdict.recheck_status in ("clear", "recurs"), verdict.recheck_detail


def test_dataset_engine_dependency(web_store, web_dataset):
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from .conftest import make_app

    app = make_app(web_store, web_dataset)
    probe = APIRouter()

    @probe.get("/probe")
    def _probe(engine: Engine) -> dict:  # Engine resolved from this module's globals (postponed annotations)
        return {"n": engine.query("select count(*) n from customers").column("n")[0].as_py()}

    app.include_router(probe)
    assert TestClient(app).get("/probe").json() == {"n": 300}
    app.state.store.dispose()
