"""axe-core (shipped by axe-playwright-python) on the login, tasks, task and plan pages: no serious or critical
violation."""

from __future__ import annotations

import pytest

from .test_browser import _login


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in found if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_main_pages_have_no_serious_violations(live_server, browser_page, tasks, lang):
    page, base = browser_page, live_server
    page.goto(f"{base}/login?lang={lang}")
    assert _serious(page) == []
    _login(page, base, "lead1")
    for path in ("/tasks", "/tasks?all=1", f"/tasks/{tasks[('U01', 'checked')]}", "/plans", "/plans/1", "/plans/new"):
        page.goto(base + path)
        assert _serious(page) == [], path
