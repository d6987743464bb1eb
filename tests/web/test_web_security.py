"""Security of the web layer: CSRF, session renewal and idle expiry, login throttling, bearer tokens, the 500
page leaking nothing, bad input answered in the user's language with 400."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.testclient import TestClient

from .conftest import csrf_of, login, make_app


def test_post_without_or_with_a_wrong_csrf_token_is_refused(client, logged_in, tasks):
    logged_in("lead1")
    tid = tasks[("U01", "new")]
    for data in ({}, {"csrf_token": "forged"}):
        refused = client.post(f"/tasks/{tid}/cancel", data={"reason": "x", **data})
        assert refused.status_code == 403
        assert "CSRF" in refused.text
    assert "待派发" in client.get(f"/tasks/{tid}").text  # still new


def test_login_form_needs_the_csrf_token(client):
    client.get("/login")
    refused = client.post("/login", data={"username": "lead1", "password": "lead1-secret-pw"})
    assert refused.status_code == 403


def test_session_id_is_renewed_at_login_and_ended_at_logout(client):
    client.get("/login")
    before = client.cookies.get("ga_session")
    assert login(client, "lead1").status_code == 303
    after = client.cookies.get("ga_session")
    assert before and after and before != after
    page = client.get("/tasks")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    stale = TestClient(client.app, follow_redirects=False, cookies={"ga_session": after})
    assert stale.get("/tasks").status_code == 303  # the old id no longer works


def test_cookie_flags(client):
    response = client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_idle_session_expires(app, client, logged_in):
    from sqlalchemy import update

    from gridaudit.audit.trail import now_utc
    from gridaudit.audit.web_models import WebSession

    logged_in("lead1")
    assert client.get("/tasks").status_code == 200
    with app.state.store.transaction() as s:
        s.execute(update(WebSession).values(last_seen=now_utc() - timedelta(minutes=31)))
    assert client.get("/tasks").status_code == 303


def test_failed_logins_are_throttled_in_the_users_language(client):
    for _ in range(5):
        assert login(client, "lead1", "wrong-password").status_code == 401
    blocked = login(client, "lead1")  # even the right password, for a while
    assert blocked.status_code == 429 and "登录失败次数过多" in blocked.text
    client.get("/login?lang=en")
    assert "too many failed logins" in login(client, "lead1").text
    assert login(client, "lead2").status_code == 303  # another user is not affected


def test_bearer_token_and_bad_token(app):
    from gridaudit.audit.credentials import issue_token

    with app.state.store.transaction() as s:
        token = issue_token(s, "admin", "lead1")
    c = TestClient(app)
    assert c.get("/api/v1/tasks").status_code == 401
    assert c.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401
    listed = c.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()["total"] > 0
    assert all(t["unit_id"].startswith("U01") for t in listed.json()["items"])  # unit scope


def test_an_exception_in_a_handler_shows_only_the_500_page(web_store, web_dataset):
    app = make_app(web_store, web_dataset)
    boom = APIRouter()

    @boom.get("/boom")
    def _boom() -> None:
        raise RuntimeError("SELECT secret FROM audit_users -- Traceback")

    app.include_router(boom)
    c = TestClient(app, raise_server_exceptions=False)
    response = c.get("/boom")
    assert response.status_code == 500
    assert "服务器内部错误" in response.text
    assert "SELECT" not in response.text and "Traceback" not in response.text and "RuntimeError" not in response.text
    assert response.headers["content-security-policy"]
    app.state.store.dispose()


def test_bad_form_input_is_a_clear_400_in_zh_and_en(client, logged_in, tasks):
    logged_in("lead1")
    tid = tasks[("U01", "checked")]
    token = csrf_of(client.get(f"/tasks/{tid}").text)
    bad = client.post(f"/tasks/{tid}/rectify", data={"responsible_id": "resp1", "workdays": "ten", "csrf_token": token})
    assert bad.status_code == 400
    assert "整改期限（工作日）（workdays）应为整数" in bad.text and "Traceback" not in bad.text
    client.get(f"/tasks/{tid}?lang=en")
    bad = client.post(f"/tasks/{tid}/rectify", data={"responsible_id": "resp1", "workdays": "ten", "csrf_token": token})
    assert bad.status_code == 400 and "must be a whole number" in bad.text
    bad = client.get("/tasks/not-a-number")
    assert bad.status_code == 400 and "task_id must be a whole number" in bad.text
    bad = client.get("/tasks?state=nonsense")
    assert bad.status_code == 400 and "unknown state nonsense" in bad.text


def test_api_bad_input_is_json_400(app, tasks):
    from gridaudit.audit.credentials import issue_token

    with app.state.store.transaction() as s:
        token = issue_token(s, "admin", "lead1")
    c = TestClient(app, headers={"Authorization": f"Bearer {token}", "Cookie": "ga_lang=en"})
    tid = tasks[("U01", "checked")]
    bad = c.post(f"/api/v1/tasks/{tid}/rectify", json={"responsible_id": "resp1", "workdays": "x"})
    assert bad.status_code == 400 and "whole number" in bad.json()["error"]["message"]
    assert c.post(f"/api/v1/tasks/{tid}/fly", json={}).status_code == 400
    assert c.get("/api/v1/tasks/999999").status_code == 404
