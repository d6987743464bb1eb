"""The permission matrix: every user (each role, in each of two units) × every task action × the task's unit,
through the task page (is the form shown?) and through POSTs on the page and the API (is it refused?).

The expected table is written out here, from the roles and rules in docs/audit.md, independently of the code."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import UNITS, USERS, csrf_of, login, n_of

# action → (task state it is tried in, user prefixes who may do it on a task of their own unit)
EXPECTED: dict[str, tuple[str, set[str]]] = {
    "assign": ("new", {"lead", "auditor"}),
    "result": ("assigned", {"lead", "auditor", "inspector"}),  # the inspector it is assigned to
    "penalty": ("checked", {"lead", "auditor", "inspector"}),
    "rectify": ("checked", {"lead", "auditor"}),
    "reply": ("rectifying", {"resp"}),  # the rectifier named
    "accept": ("replied", {"lead", "auditor"}),
    "reject": ("replied", {"lead", "auditor"}),
    "close": ("checked", {"lead", "auditor"}),
    "cancel": ("new", {"lead"}),
}


def values(action: str, n: int) -> dict[str, str]:
    """Valid form values of ``action`` for a task of unit n."""
    return {
        "assign": {"to_user": f"inspector{n}"},
        "result": {"outcome": "normal", "check_kind": "desk"},
        "penalty": {"kind": "theft", "violation_date": "2024-03-01", "tariff_yuan_kwh": "0.56", "kwh": "100"},
        "rectify": {"responsible_id": f"resp{n}", "workdays": "5"},
        "reply": {"text": "已整改"},
        "accept": {},
        "reject": {"reason": "依据不足"},
        "close": {},
        "cancel": {"reason": "重复"},
    }[action]


def may(uid: str, action: str, unit: str) -> bool:
    """The expected answer: the user's role prefix is allowed and the task is in the user's unit."""
    prefix = uid.rstrip("0123456789")
    return prefix in EXPECTED[action][1] and uid.endswith(str(n_of(unit)))


CASES = [(a, u) for a in EXPECTED for u in UNITS]


@pytest.mark.parametrize(("action", "unit"), CASES)
def test_pages_show_and_allow_exactly_the_expected_users(app, tasks, action, unit):
    state = EXPECTED[action][0]
    tid = tasks[(unit, state)]
    allowed_users = [uid for uid in USERS if may(uid, action, unit)]
    assert allowed_users, "the table names at least one user per action"
    for uid in USERS:
        with TestClient(app, follow_redirects=False) as c:
            assert login(c, uid).status_code == 303
            page = c.get(f"/tasks/{tid}")
            shown = f'action="/tasks/{tid}/{action}"' in page.text
            if page.status_code == 200:
                assert shown == may(uid, action, unit), f"{uid} {action}: form shown={shown}"
            else:  # a task out of the user's scope is not shown at all
                assert page.status_code == 403 and not may(uid, action, unit), (uid, page.status_code)
                token = csrf_of(c.get("/tasks").text)
            token = csrf_of(page.text) if page.status_code == 200 else token
            if not may(uid, action, unit):
                refused = c.post(f"/tasks/{tid}/{action}", data={**values(action, n_of(unit)), "csrf_token": token})
                assert refused.status_code in (403, 409), (uid, action, refused.status_code)
    # the refused POSTs changed nothing; one allowed user now does it
    with TestClient(app, follow_redirects=False) as c:
        login(c, allowed_users[0])
        token = csrf_of(c.get(f"/tasks/{tid}").text)
        done = c.post(f"/tasks/{tid}/{action}", data={**values(action, n_of(unit)), "csrf_token": token})
        assert done.status_code == 303, done.text
        assert "已完成" in c.get(done.headers["location"]).text


@pytest.mark.parametrize(("action", "unit"), CASES)
def test_api_allows_exactly_the_expected_users(app, tasks, action, unit):
    from gridaudit.audit.credentials import issue_token

    state = EXPECTED[action][0]
    tid = tasks[(unit, state)]
    with app.state.store.transaction() as s:
        tokens = {uid: issue_token(s, "admin", uid) for uid in USERS}
    client = TestClient(app)
    for uid in USERS:
        auth = {"Authorization": f"Bearer {tokens[uid]}"}
        seen = client.get(f"/api/v1/tasks/{tid}", headers=auth)
        if seen.status_code == 200:
            assert (action in seen.json()["allowed_actions"]) == may(uid, action, unit), uid
        if not may(uid, action, unit):
            refused = client.post(f"/api/v1/tasks/{tid}/{action}", json=values(action, n_of(unit)), headers=auth)
            assert refused.status_code in (403, 409), (uid, refused.status_code, refused.text)
            assert refused.json()["error"]["zh"]
    uid = next(u for u in USERS if may(u, action, unit))
    done = client.post(
        f"/api/v1/tasks/{tid}/{action}",
        json=values(action, n_of(unit)),
        headers={"Authorization": f"Bearer {tokens[uid]}"},
    )
    assert done.status_code == 200, done.text
