"""The audit-loop indicators (the case store's counts folded into the catalogue) against the scenario's facts
worked out by hand, and the reading / billing error rates that join store results to dataset reads."""

from __future__ import annotations

import pytest

from gridaudit.indicators.assess import assess_month, value_of
from gridaudit.indicators.catalog import load_catalog

from .conftest import AS_OF
from .test_values import MONTH, check, expected

STORE_INDICATORS = [i.id for i in load_catalog() if "audit_tasks_month" in i.inputs]


def scenario_facts(pen) -> list[dict]:
    """The 2025-03 tasks as the scenario made them (conftest.cases), written out by hand."""
    money4 = round(pen.backbill_yuan + pen.penalty_yuan, 2)
    return [
        # T1: confirmed, rectified on time, the same customer and rule were rectified in 2025-01 → recurs
        dict(family="reading", staff="R1", unit="U11", has_result=1, confirmed=1, rect_counted=1, on_time=1,
             recurs=1, recovered=0.0, penalty=0.0, escalations=0),
        # T2: inspected, normal
        dict(family="reading", staff="R1", unit="U11", has_result=1, confirmed=0, rect_counted=0, on_time=0,
             recurs=0, recovered=0.0, penalty=0.0, escalations=0),
        # T3: confirmed, back-billing ¥20 from the result, rectification overdue and escalated once
        dict(family="billing", staff="K1", unit="U11", has_result=1, confirmed=1, rect_counted=1, on_time=0,
             recurs=0, recovered=20.0, penalty=0.0, escalations=1),
        # T4: theft, a penalty booking replaces the result's money (each yuan once)
        dict(family="theft", staff=None, unit="U21", has_result=1, confirmed=1, rect_counted=0, on_time=0,
             recurs=0, recovered=money4, penalty=round(pen.penalty_yuan, 2), escalations=0),
        # T5: planned, not inspected
        dict(family="tariff", staff="K2", unit="U21", has_result=0, confirmed=0, rect_counted=0, on_time=0,
             recurs=0, recovered=0.0, penalty=0.0, escalations=0),
    ]  # fmt: skip


@pytest.fixture
def store_assessed(utility, cases):
    root, tables = utility
    st, facts = cases
    with st.transaction() as s:
        a = assess_month(root, MONTH, session=s, as_of=AS_OF, compare=False)
    return a, tables, scenario_facts(facts["penalty"])


def test_every_store_indicator_matches_the_scenario(store_assessed):
    """Each audit-loop indicator, per staff member and unit (rolled up), equals the hand-worked value."""
    a, tables, tasks = store_assessed
    for ind_id in STORE_INDICATORS:
        assert check(a, ind_id, expected(ind_id, tables, tasks)) >= 3, ind_id


def test_a_few_values_by_hand(store_assessed):
    """Spot values, so a wrong shared helper cannot hide: R1's reading error rate, U0's recovered money."""
    a, _, tasks = store_assessed
    r1 = value_of(a, "reading_error_rate", "staff", "R1")
    assert (r1.num, r1.den) == (1.0, 5.0) and r1.value == pytest.approx(200.0)  # 1 confirmed / 5 reads × 1000
    assert value_of(a, "inspection_completion_rate", "company", "U0").value == pytest.approx(80.0)  # 4 of 5
    assert value_of(a, "rectification_on_time_rate", "staff", "K1").value == 0.0
    assert value_of(a, "recovered_yuan", "company", "U0").value == pytest.approx(sum(t["recovered"] for t in tasks))
    assert value_of(a, "escalation_count", "county", "U1").value == 1.0
