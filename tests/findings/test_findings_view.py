"""The findings list of the web app: filters, unit scope, the plans' priority, paging, plans from a selection."""

from __future__ import annotations

import pytest

from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.findings_view import (
    FindingQuery,
    FindingQueryError,
    list_findings,
    may_plan,
    parse_query,
    plan_from_selection,
    query_params,
)
from gridaudit.findings import RunProvenance, append_run
from gridaudit.findings.query import FindingFilter

from .conftest import finding, table

ROWS = [
    # customers C1 (U1, A1), C3 (U2, A2); meter M2 of C2 (U1, A1); area A2; one with its area in the evidence
    finding("billing_a", entity_id="C1", yuan_at_stake=900.0, severity="critical", period="2024-05"),
    finding("billing_a", entity_id="C3", yuan_at_stake=50.0, severity="low", period="2024-04",
            responsible_staff_id="S2"),
    finding("meter_b", family="metering", entity_type="meter", entity_id="M2", yuan_at_stake=300.0,
            severity="high", period="2024-01..2024-06", responsible_staff_id="S1"),
    finding("loss_c", family="loss", entity_type="area", entity_id="A2", yuan_at_stake=700.0, severity="medium",
            period="2024-06"),
    finding("theft_d", family="theft", entity_id="C4", yuan_at_stake=None, severity="high", period="2024-05",
            evidence={"area_id": "A9", "money_unknown": "no_tariff"}),
]  # fmt: skip


@pytest.fixture
def ds(dataset):
    """The tiny dataset with one rules run holding ROWS."""
    append_run(dataset, table(*ROWS), RunProvenance(analyzer="rules"))
    return dataset


@pytest.fixture
def store(store_url, tmp_path):
    """A case store with a lead and an auditor seeing all, a U1 lead, a U1 inspector and an unbound inspector."""
    from gridaudit.audit.store import open_store
    from gridaudit.audit.users import add_user

    st = open_store(store_url, tmp_path / "att", create=True)
    for uid, role, unit in (
        ("admin", "admin", None),
        ("lead", "audit_lead", None),
        ("li", "auditor", None),
        ("lead1", "audit_lead", "U1"),
        ("zhang", "inspector", "U1"),
        ("wang", "inspector", None),
        ("view", "viewer", None),
    ):
        with st.transaction() as s:
            add_user(s, None if uid == "admin" else "admin", uid, uid.title(), role, unit)
    yield st
    st.dispose()


def _list(store, user_id, ds, **kw):
    from gridaudit.audit.users import get_user

    limit = kw.pop("limit", 50)
    offset = kw.pop("offset", 0)
    with store.transaction() as s:
        return list_findings(s, get_user(s, user_id), ds, FindingQuery(FindingFilter(**kw), limit, offset))


def _entities(page) -> list[str]:
    return [f"{i['entity_type']}:{i['entity_id']}" for i in page.items]


@pytest.mark.parametrize(
    "flt, expected",
    [
        ({}, {"customer:C1", "customer:C3", "meter:M2", "area:A2", "customer:C4"}),
        ({"families": ["billing"]}, {"customer:C1", "customer:C3"}),
        ({"rules": ["meter_b", "loss_c"]}, {"meter:M2", "area:A2"}),
        ({"severities": ["high"]}, {"meter:M2", "customer:C4"}),
        ({"units": ["U1"]}, {"customer:C1", "meter:M2"}),
        ({"areas": ["A1"]}, {"customer:C1", "meter:M2"}),  # C1's area; M2 through its customer C2
        ({"areas": ["A2"]}, {"customer:C3", "area:A2"}),  # C3's area; the area itself
        ({"areas": ["A9"]}, {"customer:C4"}),  # the evidence's area
        ({"staff": ["S1"]}, {"meter:M2"}),
        ({"period": "2024-04"}, {"customer:C3", "meter:M2"}),  # M2's range overlaps April
        ({"period": "2024-05..2024-06"}, {"customer:C1", "meter:M2", "area:A2", "customer:C4"}),
        ({"statuses": ["new"]}, {"customer:C1", "customer:C3", "meter:M2", "area:A2", "customer:C4"}),
        ({"statuses": ["under_audit"]}, set()),
    ],
)
def test_each_filter(ds, store, flt, expected):
    page = _list(store, "lead", ds, **flt)
    assert set(_entities(page)) == expected and page.total == len(expected)


def test_sorted_by_the_priority_a_plan_gives_and_paged(ds, store):
    page = _list(store, "lead", ds)
    prios = [i["priority"] for i in page.items]
    assert prios == sorted(prios, reverse=True) and page.total == 5
    assert page.items[0]["entity_id"] == "C1"  # critical and ¥900
    assert all(i["plannable"] for i in page.items)
    # the same numbers a plan made from these findings stores on its tasks
    with store.transaction() as s:
        out = plan_from_selection(s, "lead", ds, [i["finding_id"] for i in page.items], "2024-07")
        by_finding = {t.finding_id: t.priority for t in out.tasks}
    assert by_finding == {i["finding_id"]: i["priority"] for i in page.items}
    first = _list(store, "lead", ds, limit=2)
    second = _list(store, "lead", ds, limit=2, offset=2)
    last = _list(store, "lead", ds, limit=2, offset=4)
    assert [i["finding_id"] for i in first.items + second.items + last.items] == [i["finding_id"] for i in page.items]
    assert (first.total, len(first.items), len(second.items), len(last.items)) == (5, 2, 2, 1)
    assert _list(store, "lead", ds, limit=2, offset=10).items == []
    # now under audit, with their task
    under = _list(store, "lead", ds, statuses=["under_audit"])
    assert under.total == 5 and all(i["tasks"] and i["tasks"][0]["state"] == "new" for i in under.items)
    assert not any(i["plannable"] for i in under.items)


def test_a_finding_whose_entity_has_an_open_task_is_not_plannable(ds, store):
    from gridaudit.findings import RunProvenance, append_run

    ids = {i["entity_id"]: i["finding_id"] for i in _list(store, "lead", ds).items}
    with store.transaction() as s:
        plan_from_selection(s, "lead", ds, [ids["C1"]], "2024-07")
    # a second analyzer finds something else on C1: listed, but a plan would not take it
    append_run(ds, table(finding("loss_x", family="loss", entity_id="C1", yuan_at_stake=5.0)),
               RunProvenance(analyzer="loss"))  # fmt: skip
    (other,) = [i for i in _list(store, "lead", ds, rules=["loss_x"]).items]
    assert other["audit_status"] == "new" and not other["plannable"]
    with pytest.raises(AuditError, match="open task for entity"), store.transaction() as s:
        plan_from_selection(s, "lead", ds, [other["finding_id"]], "2024-07")


def test_money_unknown_ranks_by_the_severity_floor(ds, store):
    (c4,) = [i for i in _list(store, "lead", ds).items if i["entity_id"] == "C4"]
    assert c4["yuan_at_stake"] is None and c4["evidence"].get("money_unknown")
    assert c4["hit_rate"] == 0.25 and c4["hit_record"] == [0, 0]  # the prior: no closed task yet


@pytest.mark.parametrize(
    "user, expected",
    [
        ("lead", 5),
        ("li", 5),
        ("view", 5),
        ("lead1", 2),  # U1 only: C1 and M2
        ("zhang", 2),
        ("wang", 0),  # an inspector bound to no unit sees no unit's findings
    ],
)
def test_unit_scope(ds, store, user, expected):
    page = _list(store, user, ds)
    assert page.total == expected
    if user in ("lead1", "zhang"):
        assert {i["unit_id"] for i in page.items} == {"U1"}


def test_plan_from_a_selection_respects_roles_scope_and_duplicates(ds, store):
    ids = {i["entity_id"]: i["finding_id"] for i in _list(store, "lead", ds).items}
    for who in ("zhang", "view", "wang"):
        with pytest.raises(Forbidden), store.transaction() as s:
            plan_from_selection(s, who, ds, [ids["C1"]], "2024-07")
    with pytest.raises(NotFound, match="nope"), store.transaction() as s:
        plan_from_selection(s, "lead", ds, [ids["C1"], "nope"], "2024-07")
    with pytest.raises(AuditError, match="select at least one"), store.transaction() as s:
        plan_from_selection(s, "lead", ds, [" "], "2024-07")
    # a U1 lead selecting a U2 finding gets no task for it
    with pytest.raises(AuditError, match="no plan created"), store.transaction() as s:
        plan_from_selection(s, "lead1", ds, [ids["C3"]], "2024-07")
    with store.transaction() as s:
        out = plan_from_selection(s, "lead1", ds, [ids["C1"], ids["C3"], ids["C1"]], "2024-07", title="选中")
        assert [t.entity_id for t in out.tasks] == ["C1"] and out.plan.title == "选中"
        assert out.skipped == {"outside the planner's units": 1}
    with pytest.raises(AuditError, match="no plan created"), store.transaction() as s:
        plan_from_selection(s, "li", ds, [ids["C1"]], "2024-07")  # already taken
    from sqlalchemy import func, select

    from gridaudit.audit.models import Plan

    with store.transaction() as s:
        assert s.execute(select(func.count()).select_from(Plan)).scalar_one() == 1  # the refusals stored nothing
    with store.transaction() as s:
        from gridaudit.audit.users import get_user

        assert may_plan(get_user(s, "lead")) and may_plan(get_user(s, "li"))
        assert not may_plan(get_user(s, "zhang")) and not may_plan(get_user(s, "view")) and not may_plan(None)


def test_parse_query_reads_repeats_and_commas_and_links_back():
    q = parse_query(
        [("family", "billing,theft"), ("family", "loss"), ("severity", "high"), ("period", "2024-01..2024-06"),
         ("status", "under-audit"), ("limit", "20"), ("offset", "40"), ("lang", "en")],
        ignore=("lang",),
    )  # fmt: skip
    assert q.filter.families == ["billing", "theft", "loss"] and q.filter.statuses == ["under_audit"]
    assert (q.limit, q.offset, q.filter.period) == (20, 40, "2024-01..2024-06")
    assert parse_query(query_params(q)) == q
    assert ("offset", "60") in query_params(q, offset=60) and parse_query([]) == FindingQuery()


@pytest.mark.parametrize(
    "params, zh, en",
    [
        ([("familly", "billing")], "未知参数 familly", "unknown parameter familly"),
        ([("severity", "urgent")], "severity 的取值无效：urgent", "bad severity value: urgent"),
        ([("family", "nofam")], "family 的取值无效", "bad family value: nofam"),
        ([("status", "open")], "status 的取值无效", "bad status value: open"),
        ([("entity_type", "cat")], "entity_type 的取值无效", "bad entity_type value: cat"),
        ([("period", "2024-13")], "period 应为 YYYY-MM", "period must be YYYY-MM"),
        ([("period", "2024-06..2024-01")], "period", "ending no earlier"),
        ([("period", "2024-01"), ("period", "2024-02")], "只能有一个值", "takes one value"),
        ([("limit", "0")], "limit 应在 1–500 之间", "limit must be 1–500"),
        ([("limit", "501")], "limit", "must be 1–500"),
        ([("limit", "x")], "limit 应为整数", "limit must be a whole number"),
        ([("offset", "-1")], "offset", "offset must be 0 or more"),
    ],
)
def test_bad_parameters_get_a_clear_message_in_both_languages(params, zh, en):
    with pytest.raises(FindingQueryError) as err:
        parse_query(params)
    assert zh in err.value.zh and en in err.value.en


def test_entity_maps_limited_to_the_findings_entities_agree_with_the_whole_maps(ds):
    from gridaudit.audit.findings_view import entity_areas
    from gridaudit.audit.plans import entity_units

    asked = table(*ROWS, finding("x", entity_type="bill", entity_id="B2"), finding("y", entity_type="meter",
                                                                                    entity_id="MA1"))  # fmt: skip
    keys = {(r["entity_type"], r["entity_id"]) for r in asked.to_pylist()}
    for whole, part in ((entity_units(ds), entity_units(ds, asked)), (entity_areas(ds), entity_areas(ds, asked))):
        assert part == {k: v for k, v in whole.items() if k in keys} and part
    assert entity_areas(ds, asked)[("meter", "MA1")] == "A1" and entity_units(ds, asked)[("bill", "B2")] == "U1"
    assert entity_areas(ds, asked)[("meter", "M2")] == "A1"  # through its customer C2


def test_one_finding_in_scope_with_its_evidence(ds, store):
    from gridaudit.audit.findings_view import finding_detail
    from gridaudit.audit.users import get_user

    ids = {i["entity_id"]: i for i in _list(store, "lead", ds).items}
    with store.transaction() as s:
        c4 = finding_detail(s, get_user(s, "lead"), ds, ids["C4"]["finding_id"])
        assert c4 == ids["C4"] and c4["evidence"]["area_id"] == "A9"
        assert finding_detail(s, get_user(s, "lead1"), ds, ids["C1"]["finding_id"])["unit_id"] == "U1"
        for who, fid in (("lead1", ids["C3"]["finding_id"]), ("lead", "0" * 20), ("wang", ids["C1"]["finding_id"])):
            with pytest.raises(NotFound, match="outside your units"):
                finding_detail(s, get_user(s, who), ds, fid)
