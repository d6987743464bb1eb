"""The task page links to the task's evidence pack; the pack downloads as PDF or HTML for a user who sees the
task, is refused outside the user's unit scope, and is logged in the task's trail."""

from __future__ import annotations

import json

from .conftest import UNIT1, UNIT2


def test_task_page_links_to_the_pack_and_it_downloads(client, logged_in, tasks, web_store):
    logged_in("lead1")
    tid = tasks[(UNIT1, "closed")]
    page = client.get(f"/tasks/{tid}")
    assert f'href="/tasks/{tid}/evidence.pdf"' in page.text and f'href="/tasks/{tid}/evidence.html"' in page.text
    html = client.get(f"/tasks/{tid}/evidence.html")
    assert html.status_code == 200, html.text
    assert html.headers["content-disposition"] == f'attachment; filename="task-{tid}-evidence.html"'
    assert f"稽查任务 {tid} 证据包" in html.text and "处理经过" in html.text
    assert "数据集版本" in html.text  # the app's dataset was read
    pdf = client.get(f"/tasks/{tid}/evidence.pdf?lang=en")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"

    from gridaudit.audit.store import open_store
    from gridaudit.audit.trail import history

    st = open_store(str(web_store))
    try:
        with st.transaction() as s:
            logged = [json.loads(e.payload) for e in history(s, "task", tid) if e.action == "evidence"]
    finally:
        st.dispose()
    assert [p["out"] for p in logged] == ["evidence.html", "evidence.pdf"]
    assert "生成证据包" in client.get(f"/tasks/{tid}?lang=zh").text  # the task page's timeline names the event


def test_pack_outside_the_users_units_is_refused(client, logged_in, tasks):
    logged_in("inspector2")
    tid = tasks[(UNIT1, "closed")]
    response = client.get(f"/tasks/{tid}/evidence.html")
    assert response.status_code == 403
    assert "pack" not in response.headers.get("content-disposition", "")
    assert client.get(f"/tasks/{tasks[(UNIT2, 'closed')]}/evidence.docx").status_code == 404
