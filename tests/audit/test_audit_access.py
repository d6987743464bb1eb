"""People, roles and units: the role × action × unit matrix (functions and CLI), segregation of duties,
users deactivate/activate/role/unit with their trail events, the unit tree, and the read-only viewer.

Unit tree: ROOT ─┬─ U1 ── U11
                 └─ U2
Tasks in U1, U11, U2 and one with no unit (None)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from sqlalchemy import select

from gridaudit.audit import access, actions, trail
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Task, User
from gridaudit.audit.penalties import calculate
from gridaudit.audit.penalties.book import book_penalty
from gridaudit.audit.plans import create_plan
from gridaudit.audit.units import subtree, sync_units
from gridaudit.audit.users import add_user, get_user, set_active, set_role, set_unit
from gridaudit.findings import findings_table

TREE = [
    {"unit_id": "ROOT", "name": "县公司", "parent_id": None, "level": "county"},
    {"unit_id": "U1", "name": "一所", "parent_id": "ROOT", "level": "station"},
    {"unit_id": "U11", "name": "一所一班", "parent_id": "U1", "level": "team"},
    {"unit_id": "U2", "name": "二所", "parent_id": "ROOT", "level": "station"},
]
UNITS = ("U1", "U11", "U2", None)  # the task units of the matrix
EVERYTHING = set(UNITS)

# user, role, unit, staff_id
PEOPLE = [
    ("admin", "admin", None, None),
    ("lead", "audit_lead", None, "S80"),
    ("lead1", "audit_lead", "U1", "S81"),
    ("aud1", "auditor", "U1", "S71"),
    ("aud11", "auditor", "U11", "S72"),
    ("aud2", "auditor", "U2", "S73"),
    ("audroot", "auditor", "ROOT", "S74"),
    ("li", "auditor", None, "S70"),
    ("ins0", "inspector", None, "S60"),
    ("ins1", "inspector", "U1", "S61"),
    ("res0", "responsible", None, "S50"),
    ("res1", "responsible", "U1", "S51"),
    ("mgr1", "manager", "U1", "S90"),
    ("view", "viewer", None, None),
    ("view2", "viewer", "U2", None),
]

# What each user sees, written out by hand (not computed by the code under test).
SEES = {
    "lead": EVERYTHING,
    "li": EVERYTHING,
    "view": EVERYTHING,
    "lead1": {"U1", "U11"},
    "aud1": {"U1", "U11"},  # its unit and the child unit
    "mgr1": {"U1", "U11"},
    "aud11": {"U11"},  # a child unit does not see its parent
    "aud2": {"U2"},
    "view2": {"U2"},
    "audroot": {"U1", "U11", "U2"},  # the parent sees every unit under it, not the unit-less task
    "ins1": {"U1", "U11"},
    "ins0": set(),  # unbound field role: only what is personally assigned
}
AUDITORS = ("li", "aud1", "aud11", "aud2", "audroot", "lead", "lead1")


def _finding(i: int, unit: str | None, staff: str | None = None) -> dict:
    return dict(
        rule_id="reading.estimated",
        family="reading",
        severity="high",
        entity_type="customer",
        entity_id=f"C{i:03d}",
        period="2025-06",
        score=float(i),
        kwh_at_stake=10.0,
        yuan_at_stake=5.0,
        responsible_staff_id=staff,
        evidence={"unit_id": unit} if unit else {},
        run_id="t",
    )


def _people(store, tree: bool = True) -> None:
    with store.transaction() as s:
        add_user(s, None, "admin", "Admin", "admin")
        if tree:
            sync_units(s, get_user(s, "admin"), TREE, "test")
    for uid, role, unit, staff in PEOPLE[1:]:
        with store.transaction() as s:
            add_user(s, "admin", uid, uid, role, unit, staff)


def _tasks(store, n_sets: int) -> list[dict[str | None, int]]:
    """``n_sets`` sets of one task per unit of UNITS; returns [{unit: task_id}]."""
    rows = [_finding(k * 10 + j, u) for k in range(n_sets) for j, u in enumerate(UNITS)]
    with store.transaction() as s:
        out = create_plan(s, "lead", "2025-07", findings_table(rows))
        by_entity = {t.entity_id: t.task_id for t in out.tasks}
    return [{u: by_entity[f"C{k * 10 + j:03d}"] for j, u in enumerate(UNITS)} for k in range(n_sets)]


class _Rollback(Exception):
    pass


def attempt(store, fn):
    """Run ``fn(session)`` and roll back; returns ("ok", value) or ("forbidden", error)."""
    session = store.sessions()
    try:
        with session.begin():
            value = fn(session)
            raise _Rollback
    except _Rollback:
        return "ok", value
    except Forbidden as exc:
        return "forbidden", exc
    finally:
        session.close()


def _do(store, fn) -> None:
    with store.transaction() as s:
        fn(s)


def _advance(store, tid: int, to: str) -> None:
    """Bring a task to ``to`` by unbound people (lead, ins0, res0), who are none of the actors tested."""
    steps = [
        ("assigned", lambda s: actions.assign(s, "lead", tid, "ins0")),
        ("checked", lambda s: actions.record_result(s, "ins0", tid, "irregular", "desk")),
        ("rectifying", lambda s: actions.rectify(s, "lead", tid, "res0", 3, today=date(2025, 8, 1))),
        ("replied", lambda s: actions.reply(s, "res0", tid, "done", today=date(2025, 8, 4))),
    ]
    for state, fn in steps:
        _do(store, fn)
        if state == to:
            return


PEN = calculate("meter_moved", date(2023, 5, 10), times=1, residential=True)

# action → (state the task must be in, the call made by ``who`` on task ``tid``)
ACTIONS = {
    "assign": ("new", lambda s, who, tid: actions.assign(s, who, tid, "ins0")),
    "result": ("assigned", lambda s, who, tid: actions.record_result(s, who, tid, "normal", "desk")),
    "rectify": ("checked", lambda s, who, tid: actions.rectify(s, who, tid, "res0", 5)),
    "close": ("checked", lambda s, who, tid: actions.close(s, who, tid)),
    "penalty": ("checked", lambda s, who, tid: book_penalty(s, who, tid, PEN, date(2023, 5, 10))),
    "accept": ("replied", lambda s, who, tid: actions.verify(s, who, tid, True)),
    "reject": ("replied", lambda s, who, tid: actions.verify(s, who, tid, False, "no")),
    "show": ("new", lambda s, who, tid: access.can(s, get_user(s, who), "show", actions.get_task(s, tid))),
}


@pytest.fixture
def matrix_store(store):
    _people(store)
    sets = _tasks(store, 4)
    by_state = {"new": sets[0], "assigned": sets[1], "checked": sets[2], "replied": sets[3]}
    for state, tasks in by_state.items():
        if state != "new":
            for tid in tasks.values():
                _advance(store, tid, state)
    return store, by_state


def test_matrix_role_action_unit(matrix_store):
    """Every auditor-role user × every action × a task in U1, U11 (child), U2 (other), ROOT-less (None)."""
    store, by_state = matrix_store
    wrong = []
    for action, (state, call) in ACTIONS.items():
        for who in AUDITORS:
            for unit, tid in by_state[state].items():
                expect = "ok" if unit in SEES[who] else "forbidden"
                got, detail = attempt(store, lambda s, c=call, w=who, t=tid: c(s, w, t))
                if got != expect:
                    wrong.append((action, who, unit, got, detail))
                elif got == "forbidden":
                    assert "outside" in detail.en and "范围" in detail.zh, detail.en
    assert wrong == []


def test_matrix_field_roles_and_viewers(matrix_store):
    store, by_state = matrix_store
    for who in ("view", "view2", "ins0", "ins1", "mgr1"):
        for unit, tid in by_state["new"].items():
            got, _ = attempt(store, lambda s, w=who, t=tid: ACTIONS["show"][1](s, w, t))
            assert got == ("ok" if unit in SEES[who] else "forbidden"), (who, unit)
    # a bound inspector records results only of tasks assigned to them; ins0 got the tasks by name
    for unit, tid in by_state["assigned"].items():
        assert attempt(store, lambda s, t=tid: ACTIONS["result"][1](s, "ins0", t))[0] == "ok", unit
        got, err = attempt(store, lambda s, t=tid: ACTIONS["result"][1](s, "ins1", t))
        assert got == "forbidden" and "assigned to ins0" in err.en
    # the named rectifier replies wherever the task is (the rectification was ordered from them)
    tid = by_state["checked"]["U2"]
    _do(store, lambda s: actions.rectify(s, "lead", tid, "res1", 3))
    assert attempt(store, lambda s: actions.reply(s, "res1", tid, "ok"))[0] == "ok"
    got, err = attempt(store, lambda s: actions.reply(s, "res0", tid, "ok"))
    assert got == "forbidden" and "rectifier is res1" in err.en


def test_cancel_by_bound_and_unbound_leads(matrix_store):
    store, by_state = matrix_store
    for who in ("lead", "lead1"):
        for unit, tid in by_state["new"].items():
            got, _ = attempt(store, lambda s, w=who, t=tid: actions.cancel(s, w, t, "dup"))
            assert got == ("ok" if unit in SEES[who] else "forbidden"), (who, unit)


def test_list_filter_and_visible_units(matrix_store):
    store, by_state = matrix_store
    with store.transaction() as s:
        unit_of = {t.task_id: t.unit_id for t in s.execute(select(Task)).scalars()}
        for who, sees in SEES.items():
            user = get_user(s, who)
            listed = {t.task_id for t in actions.list_tasks(s, user=user)}
            expected = {tid for tid, u in unit_of.items() if u in sees}
            if who == "ins0":  # every task of sets 1-3 was assigned to ins0 by name
                expected = {tid for st in ("assigned", "checked", "replied") for tid in by_state[st].values()}
            assert listed == expected, who
        assert access.visible_units(s, get_user(s, "aud1")) == {"U1", "U11"}
        assert access.visible_units(s, get_user(s, "audroot")) == {"ROOT", "U1", "U11", "U2"}
        assert access.visible_units(s, get_user(s, "li")) is None
        assert access.visible_units(s, get_user(s, "ins0")) == set()
        assert subtree(s, "U11") == {"U11"}


def test_assignee_unit_brings_a_task_into_scope(matrix_store):
    store, by_state = matrix_store
    tid = by_state["new"]["U2"]
    assert attempt(store, lambda s: ACTIONS["show"][1](s, "aud1", tid))[0] == "forbidden"
    _do(store, lambda s: actions.assign(s, "lead", tid, to_unit="U11"))
    assert attempt(store, lambda s: ACTIONS["show"][1](s, "aud1", tid))[0] == "ok"
    # a bound lead cannot pull a foreign task into its scope by assigning it to its own unit
    other = by_state["new"][None]
    got, err = attempt(store, lambda s: actions.assign(s, "aud1", other, to_unit="U1"))
    assert got == "forbidden" and "outside" in err.en


def test_escalate_only_over_visible_tasks(store):
    _people(store)
    (tasks,) = _tasks(store, 1)
    for tid in tasks.values():
        _advance(store, tid, "rectifying")  # due 2025-08-06
    for who, sees in (("mgr1", {"U1", "U11"}), ("aud2", {"U2"}), ("li", EVERYTHING)):
        got, done = attempt(store, lambda s, w=who: actions.escalate(s, w, date(2025, 8, 11)))
        assert got == "ok"
        assert {e.task_id for e in done} == {tid for u, tid in tasks.items() if u in sees}, who


def test_assess_and_export_scope(store, tmp_path):
    from gridaudit.audit.assess import assess
    from gridaudit.audit.export import export_xlsx, inspection_rows

    _people(store)
    (tasks,) = _tasks(store, 1)
    for tid in tasks.values():
        _advance(store, tid, "checked")
    with store.transaction() as s:
        units = lambda who: {r.key for r in assess(s, "2025-07", user=get_user(s, who)) if r.level == "unit"}  # noqa: E731
        assert units("aud1") == {"U1", "U11"}
        assert units("aud2") == {"U2"}
        assert units("li") == {"U1", "U11", "U2", "-"}
        counts = export_xlsx(s, "2025-07", tmp_path / "a.xlsx", user=get_user(s, "aud1"))
        assert counts["tasks"] == 2 and counts["results"] == 2
        assert inspection_rows(s, "2025-07", get_user(s, "aud2")).num_rows == 1
        assert inspection_rows(s, "2025-07").num_rows == 4


def test_viewer_refused_every_write(matrix_store, tmp_path):
    store, by_state = matrix_store
    for action, (state, call) in ACTIONS.items():
        if action == "show":
            continue
        got, err = attempt(store, lambda s, c=call, t=by_state[state]["U1"]: c(s, "view", t))
        assert got == "forbidden", action
    got, err = attempt(store, lambda s: actions.cancel(s, "view", by_state["new"]["U1"], "x"))
    assert got == "forbidden"
    with pytest.raises(Forbidden, match="read-only viewer"), store.transaction() as s:
        access.can(s, get_user(s, "view"), "close", s.get(Task, by_state["checked"]["U1"]))
    assert attempt(store, lambda s: actions.escalate(s, "view", date(2025, 8, 11)))[0] == "forbidden"
    for fn in (
        lambda s: add_user(s, "view", "x", "x", "auditor"),
        lambda s: set_active(s, "view", "aud1", False),
        lambda s: set_role(s, "view", "aud1", "viewer"),
        lambda s: set_unit(s, "view", "aud1", "U2"),
        lambda s: sync_units(s, get_user(s, "view"), TREE, "x"),
        lambda s: create_plan(s, "view", "2025-09", findings_table([_finding(99, "U1")])),
    ):
        assert attempt(store, fn)[0] == "forbidden"


# ---------------------------------------------------------------- segregation of duties


def test_segregation_recorder_may_not_verify_or_close(store):
    _people(store)
    (tasks,) = _tasks(store, 1)
    a, b = tasks["U1"], tasks["U2"]
    for tid in (a, b):
        _do(store, lambda s, t=tid: actions.assign(s, "lead", t, "li"))
        _do(store, lambda s, t=tid: actions.record_result(s, "li", t, "irregular", "desk"))  # li checks
    with pytest.raises(Forbidden, match="recorded this task's result and may not close"), store.transaction() as s:
        actions.close(s, "li", a)
    _do(store, lambda s: actions.close(s, "aud1", a))  # somebody else closes
    _do(store, lambda s: actions.rectify(s, "li", b, "res0", 5))  # ordering rectification is allowed
    _do(store, lambda s: actions.reply(s, "res0", b, "done"))
    for accept in (True, False):
        with pytest.raises(Forbidden, match="recorded this task's result"), store.transaction() as s:
            actions.verify(s, "li", b, accept, "no")
    _do(store, lambda s: actions.verify(s, "aud2", b, True))


def test_no_assigning_to_the_responsible_staff(store):
    _people(store)
    rows = [_finding(1, "U1", staff="S61")]  # ins1's staff id
    with store.transaction() as s:
        tid = create_plan(s, "lead", "2025-07", findings_table(rows)).tasks[0].task_id
    with pytest.raises(Forbidden, match="ins1 is the staff responsible") as e, store.transaction() as s:
        actions.assign(s, "lead", tid, "ins1")
    assert "职责分离" in e.value.zh
    _do(store, lambda s: actions.assign(s, "lead", tid, "ins0"))


def test_named_users_and_units_must_exist_and_be_active(store):
    _people(store)
    (tasks,) = _tasks(store, 1)
    tid = tasks["U1"]
    with pytest.raises(NotFound, match="unknown user ghost"), store.transaction() as s:
        actions.assign(s, "lead", tid, "ghost")
    with pytest.raises(NotFound, match="unknown responsible unit U9"), store.transaction() as s:
        actions.assign(s, "lead", tid, to_unit="U9")
    with pytest.raises(NotFound, match="unknown unit U9"), store.transaction() as s:
        add_user(s, "admin", "x", "x", "auditor", "U9")
    with pytest.raises(NotFound, match="unknown user nomgr"), store.transaction() as s:
        add_user(s, "admin", "x", "x", "responsible", "U1", None, "nomgr")
    _do(store, lambda s: set_active(s, "admin", "ins0", False))
    with pytest.raises(Forbidden, match="ins0 is deactivated"), store.transaction() as s:
        actions.assign(s, "lead", tid, "ins0")  # a deactivated assignee
    _do(store, lambda s: actions.assign(s, "lead", tid, "ins1"))
    _do(store, lambda s: actions.record_result(s, "ins1", tid, "irregular"))
    _do(store, lambda s: set_active(s, "admin", "res0", False))
    with pytest.raises(Forbidden, match="res0 is deactivated"), store.transaction() as s:
        actions.rectify(s, "lead", tid, "res0", 5)  # a deactivated rectifier
    with pytest.raises(Forbidden, match="mgr1 is deactivated"), store.transaction() as s:
        set_active(s, "admin", "mgr1", False)
        add_user(s, "admin", "y", "y", "responsible", None, None, "mgr1")  # a deactivated manager


def test_store_without_unit_tree_accepts_units_unchecked(store):
    _people(store, tree=False)
    with store.transaction() as s:
        ev = trail.history(s, "user", "aud1")[-1]
        assert '"unit_checked":false' in ev.payload
        assert access.visible_units(s, get_user(s, "aud1")) == {"U1"}  # no tree: the unit alone
        add_user(s, "admin", "x", "x", "auditor", "U9")  # not refused: nothing to check against


def test_escalation_skips_a_deactivated_manager(store):
    _people(store)
    with store.transaction() as s:
        add_user(s, "admin", "boss", "boss", "manager")
        add_user(s, "admin", "res9", "res9", "responsible", None, None, "mgr1")
    (tasks,) = _tasks(store, 1)
    tid = tasks["U1"]
    _advance(store, tid, "checked")
    _do(store, lambda s: actions.rectify(s, "lead", tid, "res9", 3, today=date(2025, 8, 1)))
    _do(store, lambda s: set_active(s, "admin", "mgr1", False))
    with store.transaction() as s:
        (esc,) = actions.escalate(s, "li", date(2025, 8, 11))
        assert esc.manager_id == "boss"


# ---------------------------------------------------------------- users commands


def test_deactivate_role_unit_and_their_trail(store):
    _people(store)
    _do(store, lambda s: set_active(s, "admin", "aud1", False))
    with pytest.raises(Forbidden, match="aud1 is deactivated"), store.transaction() as s:
        get_user(s, "aud1")
    with store.transaction() as s:
        assert s.get(User, "aud1").active is False  # still there, in history
        assert [e.action for e in trail.history(s, "user", "aud1")] == ["user_add", "user_deactivate"]
    with pytest.raises(AuditError, match="already deactivated"), store.transaction() as s:
        set_active(s, "admin", "aud1", False)
    _do(store, lambda s: set_active(s, "admin", "aud1", True))
    _do(store, lambda s: set_role(s, "admin", "aud1", "audit_lead"))
    _do(store, lambda s: set_unit(s, "admin", "aud1", "U2"))
    _do(store, lambda s: set_unit(s, "admin", "aud1", None))
    with store.transaction() as s:
        u = get_user(s, "aud1")
        assert (u.role, u.unit_id, u.active) == ("audit_lead", None, True)
        events = [(e.actor, e.action, e.payload) for e in trail.history(s, "user", "aud1")]
        assert [a for _, a, _ in events] == [
            "user_add",
            "user_deactivate",
            "user_activate",
            "user_role",
            "user_unit",
            "user_unit",
        ]
        assert all(actor == "admin" for actor, _, _ in events[1:])
        assert '"from":"auditor"' in events[3][2] and '"to":"audit_lead"' in events[3][2]
        assert '"from":"U1"' in events[4][2] and '"to":"U2"' in events[4][2]
        assert trail.verify_log(s)[1] == []
    with pytest.raises(AuditError, match="unknown role boss"), store.transaction() as s:
        set_role(s, "admin", "aud1", "boss")
    with pytest.raises(Forbidden, match="only an admin"), store.transaction() as s:
        set_role(s, "lead", "aud1", "viewer")


def test_last_active_admin_is_kept(store):
    _people(store)
    with pytest.raises(Forbidden, match="last active admin"), store.transaction() as s:
        set_active(s, "admin", "admin", False)
    with pytest.raises(Forbidden, match="last active admin"), store.transaction() as s:
        set_role(s, "admin", "admin", "auditor")
    with store.transaction() as s:
        add_user(s, "admin", "admin2", "A2", "admin")
    _do(store, lambda s: set_active(s, "admin2", "admin", False))  # now there is another admin
    with pytest.raises(Forbidden, match="admin is deactivated"), store.transaction() as s:
        add_user(s, "admin", "z", "z", "auditor")
    with pytest.raises(Forbidden, match="last active admin"), store.transaction() as s:
        set_role(s, "admin2", "admin2", "viewer")


def test_sync_units_from_records(store):
    _people(store)
    with store.transaction() as s:
        out = sync_units(
            s, get_user(s, "admin"), TREE[:3] + [{"unit_id": "U3", "name": "三所", "parent_id": "ROOT"}], "v2"
        )
        assert (out.added, out.removed, out.orphaned_users) == (["U3"], ["U2"], ["aud2", "view2"])
        assert subtree(s, "ROOT") == {"ROOT", "U1", "U11", "U3"}
        assert trail.history(s, "unit", "*")[-1].action == "units_sync"
    with pytest.raises(AuditError, match="duplicate unit_id U1"), store.transaction() as s:
        sync_units(s, get_user(s, "admin"), [TREE[1], TREE[1]], "bad")
    with pytest.raises(Forbidden, match="only an admin"), store.transaction() as s:
        sync_units(s, get_user(s, "lead"), TREE, "x")


def test_reader_needs_a_user_once_the_store_has_users(store):
    with store.transaction() as s:
        assert access.reader(s, None) is None
    _people(store)
    with pytest.raises(AuditError, match="--user"), store.transaction() as s:
        access.reader(s, None)


# ---------------------------------------------------------------- through the CLI


def _dataset(tmp_path):
    from gridaudit.dataset import commit_version, stage_version

    staged = stage_version(tmp_path / "ds")
    staged.write_table(
        "units",
        pa.table(
            {
                "unit_id": [r["unit_id"] for r in TREE],
                "name": [r["name"] for r in TREE],
                "parent_id": [r["parent_id"] for r in TREE],
            }
        ),
    )
    commit_version(staged, {"sources": []})
    return tmp_path / "ds"


def test_cli_people_units_and_scope(store_url, tmp_path):
    from gridaudit.findings import write_findings

    from .test_audit_cli import cli

    cli(store_url, "init")
    cli(store_url, "users", "add", "admin", "--role", "admin")
    out = cli(store_url, "units", "list", user="admin")
    assert "no unit tree" in out and "units sync" in out
    out = cli(store_url, "users", "add", "early", "--role", "auditor", "--unit", "U1", user="admin")
    assert "was not checked" in out and "units sync" in out  # no tree yet: said clearly
    out = cli(store_url, "units", "sync", "--dataset", str(_dataset(tmp_path)), user="admin")
    assert "4 units, 4 added" in out
    assert "U11" in cli(store_url, "units", "list", user="admin")
    out = cli(store_url, "units", "sync", "--dataset", str(tmp_path / "nope"), user="admin", code=2)
    for uid, role, unit, staff in PEOPLE[1:]:
        args = ["users", "add", uid, "--role", role] + (["--unit", unit] if unit else [])
        cli(store_url, *args, *(["--staff-id", staff] if staff else []), user="admin")
    out = cli(store_url, "users", "add", "bad", "--role", "auditor", "--unit", "U9", user="admin", code=2)
    assert "unknown unit U9" in out
    f = tmp_path / "f.parquet"
    write_findings(findings_table([_finding(j, u) for j, u in enumerate(UNITS)]), f)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), user="lead")
    ids = {}
    st_out = cli(store_url, "tasks", "list", user="li")
    assert "4 rows" in st_out
    from gridaudit.audit.store import open_store

    st = open_store(store_url, tmp_path / "att")
    with st.transaction() as s:
        ids = {t.unit_id: str(t.task_id) for t in s.execute(select(Task)).scalars()}
    st.dispose()
    # reads: scope applies, and a user is required
    assert "2 rows" in cli(store_url, "tasks", "list", user="aud1")  # U1 + child U11
    assert "1 rows" in cli(store_url, "tasks", "list", user="aud11")
    assert "3 rows" in cli(store_url, "tasks", "list", user="audroot")
    out = cli(store_url, "tasks", "list", code=2)
    assert "--user" in out and "Traceback" not in out
    out = cli(store_url, "tasks", "show", ids["U1"], user="aud2", code=2)
    assert "outside aud2's scope" in out
    cli(store_url, "tasks", "show", ids["U11"], user="aud1")
    # writes: in scope (child unit) works, out of scope refused, viewer refused
    cli(store_url, "tasks", "assign", ids["U11"], "--to", "ins0", user="aud1")
    out = cli(store_url, "tasks", "assign", ids["U2"], "--to", "ins0", user="aud1", code=2)
    assert "outside aud1's scope" in out
    out = cli(store_url, "tasks", "assign", ids["U2"], "--to", "ins0", user="view", code=2)
    assert "read-only viewer" in out
    out = cli(store_url, "tasks", "assign", ids["U2"], "--unit", "U9", user="lead", code=2)
    assert "unknown responsible unit U9" in out
    cli(store_url, "tasks", "result", ids["U11"], "--outcome", "irregular", "--kind", "desk", user="ins0")
    out = cli(store_url, "assess", "--month", "2025-07", "--json", user="aud2")
    assert '"key": "U2"' in out and '"U11"' not in out
    out = cli(store_url, "export", "--month", "2025-07", "--out", str(tmp_path / "x.xlsx"), user="aud1")
    assert "tasks 2" in out and "results 1" in out
    # users commands
    cli(store_url, "users", "deactivate", "aud1", user="admin")
    out = cli(store_url, "tasks", "close", ids["U11"], user="aud1", code=2)
    assert "aud1 is deactivated" in out
    assert "aud1" in cli(store_url, "users", "list", user="view")  # a viewer may list users
    cli(store_url, "users", "activate", "aud1", user="admin")
    out = cli(store_url, "users", "role", "aud1", "viewer", user="admin")
    assert "now has role viewer" in out
    out = cli(store_url, "tasks", "close", ids["U11"], user="aud1", code=2)
    assert "read-only viewer" in out
    cli(store_url, "users", "role", "aud1", "auditor", user="admin")
    cli(store_url, "users", "unit", "aud1", "U2", user="admin")
    out = cli(store_url, "tasks", "close", ids["U11"], user="aud1", code=2)
    assert "outside aud1's scope" in out
    cli(store_url, "users", "unit", "aud1", "--clear", user="admin")
    cli(store_url, "tasks", "close", ids["U11"], user="aud1")  # unbound auditor: sees all
    out = cli(store_url, "users", "role", "admin", "viewer", user="admin", code=2)
    assert "last active admin" in out
    out = cli(store_url, "users", "deactivate", "aud2", user="lead", code=2)
    assert "only an admin" in out
    st = open_store(store_url, tmp_path / "att")
    with st.transaction() as s:
        acts = [(e.actor, e.action) for e in trail.history(s, "user", "aud1")]
        assert acts == [
            ("admin", "user_add"),
            ("admin", "user_deactivate"),
            ("admin", "user_activate"),
            ("admin", "user_role"),
            ("admin", "user_role"),
            ("admin", "user_unit"),
            ("admin", "user_unit"),
        ]
        assert trail.verify_log(s)[1] == []
    st.dispose()


def test_a_planner_bound_to_a_unit_plans_only_its_unit_tree(store):
    _people(store)
    rows = [_finding(j, u) for j, u in enumerate(UNITS)]
    with store.transaction() as s:
        out = create_plan(s, "aud1", "2025-07", findings_table(rows))
        assert sorted(t.unit_id for t in out.tasks) == ["U1", "U11"]
        assert out.skipped["outside the planner's units"] == 2
    with store.transaction() as s:  # an unbound planner plans every unit (the rest of the same findings)
        out = create_plan(s, "li", "2025-08", findings_table(rows))
        assert sorted(t.unit_id or "-" for t in out.tasks) == ["-", "U2"]
