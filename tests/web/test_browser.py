"""The app in real Chromium (Playwright, Debian's /usr/bin/chromium): log in, open the tasks, and take one task
through its whole life by four different users — audit lead assigns, inspector records the result, lead orders
rectification, the responsible person replies, an auditor accepts, the lead closes. Screenshots go to docs/web/."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web"


def _login(page, base: str, uid: str) -> None:
    from .conftest import password

    page.goto(f"{base}/login")
    page.fill("#username", uid)
    page.fill("#password", password(uid))
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)  # the first page of the user's menu


def _logout(page) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def _act(page, tid: int, action: str) -> None:
    page.click(f"form[data-action='{action}'] button[type=submit]")
    page.wait_for_url(f"**/tasks/{tid}?done={action}")


def test_one_task_through_its_whole_life(live_server, browser_page, tasks):
    page, base = browser_page, live_server
    tid = tasks[("U01", "new")]
    DOCS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/login")
    page.screenshot(path=str(DOCS / "login.png"))
    _login(page, base, "lead1")
    page.goto(f"{base}/tasks")
    assert page.locator("h1").inner_text() == "我的任务"
    page.screenshot(path=str(DOCS / "tasks.png"), full_page=False)
    page.goto(f"{base}/tasks/{tid}")
    assert page.locator("#task-state").inner_text() == "待派发"
    page.select_option("#assign-to", "inspector1")
    _act(page, tid, "assign")
    assert page.locator("#task-state").inner_text() == "已派发"
    _logout(page)

    _login(page, base, "inspector1")
    assert page.locator(f"a[href='/tasks/{tid}']").count() == 1  # in the inspector's tasks
    page.goto(f"{base}/tasks/{tid}")
    assert page.locator("form[data-action='assign']").count() == 0  # not the inspector's to assign
    page.select_option("#outcome", "irregular")
    page.select_option("#check-kind", "desk")
    page.fill("#result-note", "抄表示数录入错误")
    page.set_input_files("#attachments", files=[{"name": "现场照片.txt", "mimeType": "text/plain", "buffer": b"photo"}])
    page.screenshot(path=str(DOCS / "task-result-form.png"), full_page=True)
    _act(page, tid, "result")
    assert page.locator("#task-state").inner_text() == "已核查"
    assert "现场照片.txt" in page.content()
    _logout(page)

    _login(page, base, "lead1")
    page.goto(f"{base}/tasks/{tid}")
    page.select_option("#rect-who", "resp1")
    page.fill("#rect-days", "5")
    page.fill("#rect-req", "更正示数并回复")
    _act(page, tid, "rectify")
    _logout(page)

    _login(page, base, "resp1")
    page.goto(f"{base}/tasks/{tid}")
    assert page.locator("form[data-action]").count() == 1  # only the reply
    page.fill("#reply-text", "已更正示数，附工单")
    _act(page, tid, "reply")
    assert page.locator("#task-state").inner_text() == "已回复待复核"
    _logout(page)

    _login(page, base, "auditor1")
    page.goto(f"{base}/tasks/{tid}")
    _act(page, tid, "accept")
    assert page.locator("#task-state").inner_text() == "已复核"
    _logout(page)

    _login(page, base, "lead1")
    page.goto(f"{base}/tasks/{tid}?lang=en")
    _act(page, tid, "close")
    assert page.locator("#task-state").inner_text() == "closed"
    timeline = page.locator("ol.timeline").inner_text()
    for who in ("lead1", "inspector1", "resp1", "auditor1"):
        assert who in timeline
    page.screenshot(path=str(DOCS / "task-closed-en.png"), full_page=True)
    page.goto(f"{base}/plans/1?lang=zh")
    page.screenshot(path=str(DOCS / "plan.png"), full_page=True)


def test_no_console_errors_and_csp_holds(live_server, browser_page):
    page, base = browser_page, live_server
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, base, "lead1")
    page.goto(f"{base}/plans")
    assert errors == []
