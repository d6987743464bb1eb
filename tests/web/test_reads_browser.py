"""The findings, rules and SQL pages in real Chromium: filter, select findings and make a plan, read a rule,
run a query; axe-core finds no serious or critical violation on them. Screenshots go to docs/web/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import make_app, password
from .test_browser import _login, _logout
from .test_findings_pages import plannable_dataset

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web"


@pytest.fixture
def app(web_store, web_dataset, tmp_path) -> Any:
    """The app on a dataset with plannable findings, plus ``hq``: an auditor bound to no unit (SQL console)."""
    from gridaudit.audit.credentials import set_password
    from gridaudit.audit.users import add_user

    application = make_app(web_store, plannable_dataset(web_store, web_dataset, tmp_path))
    with application.state.store.transaction() as s:
        add_user(s, "admin", "hq", "总部稽查", "auditor")
    with application.state.store.transaction() as s:
        set_password(s, "admin", "hq", password("hq"))
    yield application
    application.state.store.dispose()


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in found if v.get("impact") in ("serious", "critical")]


def test_filter_select_and_plan_then_rules_then_sql(live_server, browser_page):
    page, base = browser_page, live_server
    DOCS.mkdir(parents=True, exist_ok=True)
    _login(page, base, "lead1")
    page.goto(f"{base}/findings")
    assert page.locator("h1").inner_text() == "问题清单"
    page.screenshot(path=str(DOCS / "findings.png"))
    page.select_option("#f-family", "loss")
    page.select_option("#f-status", "new")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/findings?*family=loss*")
    assert "status=new" in page.url
    boxes = page.locator("input[name=finding_id]:not([disabled])")
    assert boxes.count() == 4  # the new loss findings of U01's customers
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#p-title", "线损嫌疑户专项")
    page.click("#plan-form fieldset button[type=submit]")
    page.wait_for_url("**/plans/*")
    assert "线损嫌疑户专项" in page.content()
    page.goto(f"{base}/findings?family=loss&status=under_audit")
    assert page.locator("table.findings tbody tr").count() == 2

    page.goto(f"{base}/rules")
    page.screenshot(path=str(DOCS / "rules.png"))
    page.locator("table tbody a").first.click()
    page.wait_for_url("**/rules/*")
    assert page.locator("pre.sql").count() >= 1
    page.screenshot(path=str(DOCS / "rule.png"), full_page=True)
    page.goto(f"{base}/sql")  # lead1 is bound to one county: the console says why it is closed to them
    assert "SQL 查询台读取整个数据集" in page.content()
    _logout(page)

    _login(page, base, "hq")
    page.goto(f"{base}/sql")
    page.fill("#sql", "select unit_id, count(*) as customers from customers group by unit_id order by unit_id")
    page.click("#sql-form button[formaction='/sql.csv'] >> xpath=preceding-sibling::button")
    page.wait_for_selector("#sql-summary")
    assert page.locator("table.results tbody tr").count() >= 2
    page.screenshot(path=str(DOCS / "sql.png"))
    page.fill("#sql", "drop table customers")
    page.click("#sql-form button:not([formaction])")
    page.wait_for_selector("#sql-error")
    assert "DROP" in page.locator("#sql-error").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_have_no_serious_accessibility_violations(live_server, browser_page, lang):
    page, base = browser_page, live_server
    _login(page, base, "lead1")
    for path in ("/findings", "/findings?limit=5&offset=5", "/findings?severity=urgent", "/rules",
                 "/rules/billing_adjustment_unapproved"):  # fmt: skip
        page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert _serious(page) == [], path
    _logout(page)
    _login(page, base, "hq")
    page.goto(f"{base}/sql?lang={lang}")
    assert _serious(page) == [], "/sql"
    page.click("#sql-form button:not([formaction])")
    page.wait_for_selector("#sql-summary")
    assert _serious(page) == [], "/sql with a result"
