"""Fixtures: the small utility of ``utility.py`` as a dataset, and a case store with tasks of 2025-03."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gridaudit.findings import findings_table

from .utility import build


@pytest.fixture(scope="session")
def utility(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The dataset folder and its tables as rows."""
    root = tmp_path_factory.mktemp("indicators") / "ds"
    return root, build(root)


# the case-store scenario: (key, rule, family, entity, staff, unit, period, plan month)
TASKS = [
    ("T0", "reading.estimated", "reading", "C_A1_1", "R1", "U11", "2025-01", "2025-02"),
    ("T1", "reading.estimated", "reading", "C_A1_1", "R1", "U11", "2025-03", "2025-04"),
    ("T2", "reading.zero", "reading", "C_A1_2", "R1", "U11", "2025-03", "2025-04"),
    ("T3", "billing.wrong_tariff", "billing", "C_A2_1", "K1", "U11", "2025-03", "2025-04"),
    ("T4", "theft.sustained_drop", "theft", "C_A4_1", None, "U21", "2025-03", "2025-04"),
    ("T5", "tariff.misuse", "tariff", "C_A4_2", "K2", "U21", "2025-03", "2025-04"),
]
AS_OF = date(2025, 6, 30)


def _findings(rows: list[tuple]) -> object:
    return findings_table(
        [
            dict(
                rule_id=rule,
                family=fam,
                severity="high",
                entity_type="customer",
                entity_id=ent,
                period=period,
                score=0.5,
                kwh_at_stake=100.0,
                yuan_at_stake=50.0,
                responsible_staff_id=staff,
                evidence={"unit_id": unit},
                run_id="test",
            )  # fmt: skip
            for _k, rule, fam, ent, staff, unit, period, _m in rows
        ]
    )


@pytest.fixture
def cases(tmp_path: Path) -> tuple[object, dict]:
    """A SQLite case store taken through the scenario; returns (store, facts the test expects)."""
    from gridaudit.audit import actions
    from gridaudit.audit.penalties import calculate
    from gridaudit.audit.penalties.book import book_penalty
    from gridaudit.audit.plans import create_plan
    from gridaudit.audit.store import open_store
    from gridaudit.audit.users import add_user

    st = open_store(tmp_path / "cases.db", tmp_path / "att", create=True)
    people = [("admin", "admin", None), ("mgr", "manager", None), ("lead", "audit_lead", None),
              ("li", "auditor", None), ("zhang", "inspector", None), ("resp", "responsible", None)]  # fmt: skip
    for uid, role, staff in people:
        with st.transaction() as s:
            add_user(
                s, None if uid == "admin" else "admin", uid, uid, role, None, staff, "mgr" if uid == "resp" else None
            )
    ids: dict[str, int] = {}

    def plan(month: str) -> None:
        rows = [t for t in TASKS if t[7] == month]
        with st.transaction() as s:
            out = create_plan(s, "lead", month, _findings(rows))
            for t in out.tasks:
                ids[next(r[0] for r in rows if r[3] == t.entity_id and r[1] == t.rule_id)] = t.task_id

    def do(*steps: object) -> None:
        for step in steps:
            with st.transaction() as s:
                step(s)  # type: ignore[operator]

    plan("2025-02")  # T0: found in 2025-01, rectified and closed
    do(
        lambda s: actions.assign(s, "lead", ids["T0"], "zhang"),
        lambda s: actions.record_result(s, "zhang", ids["T0"], "irregular", "desk", inspected_on=date(2025, 2, 5)),
        lambda s: actions.rectify(s, "li", ids["T0"], "resp", 5, "fix", today=date(2025, 2, 6)),
        lambda s: actions.reply(s, "resp", ids["T0"], "done", today=date(2025, 2, 7)),
        lambda s: actions.verify(s, "li", ids["T0"], True, today=date(2025, 2, 8)),
        lambda s: actions.close(s, "lead", ids["T0"]),
    )
    plan("2025-04")
    pen = calculate("theft", date(2023, 5, 10), capacity_kw=10, tariff_yuan_kwh=0.56)
    d = date(2025, 4, 1)
    do(
        lambda s: [actions.assign(s, "lead", ids[k], "zhang") for k in ("T1", "T2", "T3", "T4")],
        lambda s: actions.record_result(s, "zhang", ids["T1"], "irregular", "desk", inspected_on=d),
        lambda s: actions.rectify(s, "li", ids["T1"], "resp", 10, "fix", today=d),
        lambda s: actions.reply(s, "resp", ids["T1"], "done", today=date(2025, 4, 3)),
        lambda s: actions.verify(s, "li", ids["T1"], True, today=date(2025, 4, 4)),
        lambda s: actions.record_result(s, "zhang", ids["T2"], "normal", "desk", inspected_on=d),
        lambda s: actions.record_result(s, "zhang", ids["T3"], "irregular", "desk", 40.0, 20.0, inspected_on=d),
        lambda s: actions.rectify(s, "li", ids["T3"], "resp", 5, "fix", today=d),
        lambda s: actions.record_result(
            s, "zhang", ids["T4"], "theft", "field", 500.0, 280.0, "seal_broken", inspected_on=d
        ),
        lambda s: book_penalty(s, "zhang", ids["T4"], pen, date(2023, 5, 10)),
        lambda s: actions.escalate(s, "lead", date(2025, 5, 6)),
    )
    facts = {"ids": ids, "penalty": pen}
    yield st, facts
    st.dispose()
