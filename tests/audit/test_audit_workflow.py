from datetime import date

import pytest
from sqlalchemy import func, select

from gridaudit.audit import actions, trail, workflow
from gridaudit.audit.errors import AuditError, Forbidden, IllegalTransition, NotFound
from gridaudit.audit.models import Event, Rectification, Task, User
from gridaudit.audit.plans import create_plan
from gridaudit.audit.recheck import RecheckResult
from gridaudit.audit.users import add_user

from .conftest import add_people, make_findings


def _plan(store, n=12, top=None):
    with store.transaction() as s:
        out = create_plan(s, "lead", "2025-07", make_findings(n), top=top)
        return [t.task_id for t in out.tasks]


def _reading_task(store, ids):
    with store.transaction() as s:
        return next(i for i in ids if s.get(Task, i).family == "reading")


def test_full_loop_and_history(store):
    add_people(store)
    ids = _plan(store)
    tid = _reading_task(store, ids)
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "irregular", "desk", recovered_kwh=120, recovered_yuan=66)
    with store.transaction() as s:
        rect = actions.rectify(s, "li", tid, "zhou", 5, "补抄", today=date(2025, 9, 29))
        # National Day 2025: Oct 1–8 off, Sat Oct 11 is a make-up working day (调休)
        assert rect.deadline == date(2025, 10, 13)
    with store.transaction() as s:
        actions.reply(s, "zhou", tid, "已补抄", today=date(2025, 10, 9))
    with store.transaction() as s:
        v = actions.verify(s, "li", tid, accept=False, reason="与现场不符")
        assert v.recheck_status == "unavailable"
    with store.transaction() as s:
        assert s.get(Task, tid).state == "rectifying"
        actions.reply(s, "zhou", tid, "已更正电量", today=date(2025, 10, 10))
    with store.transaction() as s:
        actions.verify(s, "li", tid, accept=True, recheck=lambda t: RecheckResult("clear", "gone"))
    with store.transaction() as s:
        actions.close(s, "lead", tid)
    with store.transaction() as s:
        task = s.get(Task, tid)
        assert task.state == "closed"
        r = s.execute(select(Rectification).where(Rectification.task_id == tid)).scalar_one()
        assert (r.rounds, r.status, r.on_time) == (2, "accepted", True)
        acts = [(e.actor, e.action) for e in trail.history(s, "task", tid)]
        assert acts == [
            ("lead", "task_create"),
            ("li", "assign"),
            ("zhang", "result"),
            ("li", "rectify"),
            ("zhou", "reply"),
            ("li", "reject"),
            ("zhou", "reply"),
            ("li", "accept"),
            ("lead", "close"),
        ]
        n, problems = trail.verify_log(s)
        assert problems == [] and n == s.execute(select(func.count()).select_from(Event)).scalar_one()
        assert task.version == 9  # created + 8 moves


def test_illegal_transition_names_task_state_action(store):
    add_people(store)
    tid = _plan(store)[0]
    with pytest.raises(IllegalTransition) as e, store.transaction() as s:
        actions.close(s, "li", tid)
    assert f"task {tid}" in e.value.en and "new" in e.value.en and "close" in e.value.en
    assert f"任务 {tid}" in e.value.zh and "待派发" in e.value.zh and "关闭" in e.value.zh


def test_wrong_role_refused(store):
    add_people(store)
    tid = _plan(store)[0]
    with pytest.raises(Forbidden, match="may not assign"), store.transaction() as s:
        actions.assign(s, "zhang", tid, "zhang")
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with pytest.raises(Forbidden, match="assigned to zhang"), store.transaction() as s:
        actions.record_result(s, "sun", tid, "normal")  # another inspector
    with pytest.raises(NotFound), store.transaction() as s:
        actions.assign(s, "li", 9999, "zhang")


def test_bad_outcome_and_unknown_user(store):
    add_people(store)
    tid = _plan(store)[0]
    with pytest.raises(AuditError, match="outcome 'bogus'"), store.transaction() as s:
        actions.record_result(s, "li", tid, "bogus")
    with pytest.raises(NotFound, match="unknown user nobody"), store.transaction() as s:
        actions.assign(s, "nobody", tid, "zhang")


def _to_replied(store, tid):
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "irregular")
    with store.transaction() as s:
        actions.rectify(s, "li", tid, "zhou", 10)
    with store.transaction() as s:
        actions.reply(s, "zhou", tid, "done")


def test_segregation_of_duties(store):
    add_people(store)
    tid = _reading_task(store, _plan(store))  # responsible_staff_id S01 = users wu (auditor) and zhou (rectifier)
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with pytest.raises(Forbidden, match="segregation"), store.transaction() as s:
        actions.record_result(s, "wu", tid, "normal")  # auditor wu is the responsible staff
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "irregular")
    # an inspector's result needs an auditor to close (and whoever recorded it may not close it)
    with pytest.raises(Forbidden, match="recorded this task's result and may not close"), store.transaction() as s:
        actions.close(s, "zhang", tid)
    with store.transaction() as s:
        actions.rectify(s, "li", tid, "zhou", 10)
    with pytest.raises(Forbidden, match="rectifier is zhou"), store.transaction() as s:
        actions.reply(s, "qian", tid, "not mine")
    with store.transaction() as s:
        actions.reply(s, "zhou", tid, "done")
    for who in ("wu", "zhou"):
        with pytest.raises(Forbidden, match="segregation"), store.transaction() as s:
            actions.verify(s, who, tid, accept=True)
    with store.transaction() as s:
        actions.verify(s, "li", tid, accept=True)
    with pytest.raises(Forbidden, match="segregation"), store.transaction() as s:
        actions.close(s, "wu", tid)
    with store.transaction() as s:
        actions.close(s, "li", tid)
        assert s.get(Task, tid).state == "closed"


def test_reject_needs_reason_and_recurring_finding_cannot_be_accepted(store):
    add_people(store)
    tid = _plan(store)[0]
    _to_replied(store, tid)
    with pytest.raises(AuditError, match="needs a reason"), store.transaction() as s:
        actions.verify(s, "li", tid, accept=False)
    recurs = lambda t: RecheckResult("recurs", f"{t.rule_id} again")  # noqa: E731
    with pytest.raises(AuditError, match="recurs"), store.transaction() as s:
        actions.verify(s, "li", tid, accept=True, recheck=recurs)
    with store.transaction() as s:
        v = actions.verify(s, "li", tid, accept=False, reason="数据仍异常", recheck=recurs)
        assert v.recheck_status == "recurs"
        assert s.get(Task, tid).state == "rectifying"


def test_failed_command_leaves_store_unchanged(store):
    add_people(store)
    tid = _plan(store)[0]
    with store.transaction() as s:
        before = (s.get(Task, tid).state, s.get(Task, tid).version, s.execute(select(func.count(Event.seq))).scalar())
    with pytest.raises(NotFound), store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")  # task moves and an event is appended …
        actions.assign(s, "li", tid, "ghost")  # … then the command fails: nothing may stay
    with pytest.raises(AuditError), store.transaction() as s:
        add_user(s, "admin", "new1", "N", "auditor")
        add_user(s, "admin", "new1", "N", "auditor")  # duplicate → whole command rolled back
    with store.transaction() as s:
        after = (s.get(Task, tid).state, s.get(Task, tid).version, s.execute(select(func.count(Event.seq))).scalar())
        assert after == before
        assert s.get(User, "new1") is None
        assert trail.verify_log(s)[1] == []


def test_escalation_of_overdue(store):
    add_people(store)
    tid = _plan(store)[0]
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "violation")
    with store.transaction() as s:
        actions.rectify(s, "li", tid, "zhou", 3, today=date(2025, 8, 1))  # due Wed 2025-08-06
    with store.transaction() as s:
        assert actions.escalate(s, "li", date(2025, 8, 6)) == []
    with store.transaction() as s:
        done = actions.escalate(s, "li", date(2025, 8, 11))
        assert [(e.task_id, e.manager_id, e.workdays_overdue) for e in done] == [(tid, "mgr", 3)]
    with store.transaction() as s:  # once per day
        assert actions.escalate(s, "li", date(2025, 8, 11)) == []
        assert [e.action for e in trail.history(s, "task", tid)][-1] == "escalate"
    with pytest.raises(Forbidden), store.transaction() as s:
        actions.escalate(s, "zhou", date(2025, 8, 12))


def test_state_machine_table_is_closed():
    for name, t in workflow.TRANSITIONS.items():
        assert set(t.sources) <= set(workflow.STATES), name
        assert t.target is None or t.target in workflow.STATES, name
        assert set(t.roles) <= set(workflow.ROLES), name
    # every open state has a way forward; closed/cancelled have none
    sources = {s for t in workflow.TRANSITIONS.values() if t.target for s in t.sources}
    assert set(workflow.OPEN_STATES) <= sources
    assert not {"closed", "cancelled"} & sources


def test_docs_show_the_state_machine_and_every_command():
    from pathlib import Path

    import gridaudit.audit.cli  # noqa: F401 - imports every command module, which register their commands
    from gridaudit.audit.cli_common import audit_app, plan_app, tasks_app, users_app
    from gridaudit.audit.cli_people import units_app

    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    assert workflow.transition_table_markdown() in doc
    for role in workflow.ROLES:
        assert f"`{role}`" in doc
    names = [c.name for c in audit_app.registered_commands]
    for prefix, sub in (("tasks", tasks_app), ("plan", plan_app), ("users", users_app), ("units", units_app)):
        names += [f"{prefix} {c.name}" for c in sub.registered_commands]
    assert len(names) == 34  # evidence, users passwd, users token joined the 31
    for name in names:
        assert f"`gridaudit audit {name}" in doc, name
