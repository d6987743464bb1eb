"""Plans pages: the list, a plan's progress against its targets, creating a plan with a topic and quotas."""

from __future__ import annotations

from .conftest import csrf_of


def test_plan_list_and_page_show_progress(client, logged_in):
    logged_in("lead1")
    page = client.get("/plans")
    assert page.status_code == 200 and "稽查计划" in page.text
    first = client.get("/plans/1")
    assert first.status_code == 200
    assert "共 10 个任务，已办结 2 个" in first.text  # closed + cancelled of the fixture's states
    assert "/tasks/" in first.text


def test_create_a_plan_with_topic_and_quota(client, logged_in):
    logged_in("lead1")
    form = client.get("/plans/new")
    assert form.status_code == 200
    token = csrf_of(form.text)
    made = client.post(
        "/plans",
        data={"month": "2024-05", "title": "计量专项", "top": "3", "quotas": "family=metering:2", "csrf_token": token},
    )
    assert made.status_code == 303, made.text
    plan = client.get(made.headers["location"])
    assert "计量专项" in plan.text and "family=metering:2" in plan.text
    again = client.post("/plans", data={"month": "2024-13", "csrf_token": token})
    assert again.status_code == 400 and "YYYY-MM" in again.text


def test_only_planners_create_and_readers_read(client, logged_in):
    logged_in("inspector1")
    assert client.get("/plans").status_code == 403
    assert "稽查计划" not in client.get("/tasks").text  # not in this role's menu
    token = csrf_of(client.get("/tasks").text)
    assert client.post("/plans", data={"month": "2024-05", "csrf_token": token}).status_code == 403


def test_a_plan_with_no_finding_left_is_refused_and_not_stored(client, logged_in):
    logged_in("lead1")
    token = csrf_of(client.get("/plans/new").text)
    assert client.post("/plans", data={"month": "2024-05", "csrf_token": token}).status_code == 303  # takes the rest
    empty = client.post("/plans", data={"month": "2024-06", "csrf_token": token})
    assert empty.status_code == 400 and "没有问题符合范围" in empty.text
    listed = client.get("/plans").text
    assert 'href="/plans/3"' in listed and 'href="/plans/4"' not in listed  # 1, 2: the fixture's; 3: just made
