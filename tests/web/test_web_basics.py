"""The skeleton: login, logout, the menu by role, language switch, headers, error pages."""

from __future__ import annotations

from .conftest import csrf_of, login


def test_login_then_tasks_then_logout(client):
    assert client.get("/tasks").status_code == 303  # to the login page
    response = login(client, "lead1")
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = client.get("/tasks")
    assert page.status_code == 200
    assert "我的任务" in page.text and "lead1" in page.text
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303
    assert client.get("/tasks").status_code == 303


def test_wrong_password_is_refused_in_the_users_language(client):
    response = login(client, "lead1", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text
    client.get("/login?lang=en")
    response = login(client, "lead1", "not-the-password")
    assert "wrong username or password" in response.text


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert "<script>" not in response.text


def test_unknown_page_is_the_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert client.get("/api/v1/no-such").json()["error"]["status"] == 404
