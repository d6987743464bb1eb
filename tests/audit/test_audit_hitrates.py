"""Hit rates learned from closed tasks (per rule, family, inspector), with the documented prior."""

import pytest

from gridaudit.audit import actions
from gridaudit.audit.corrections import correct_result, effective_results
from gridaudit.audit.hitrates import HitRateSettings, Rate, estimate, hit_rates
from gridaudit.audit.plans import create_plan
from gridaudit.findings import findings_table

from .conftest import add_people, make_findings

THEFT, READING = "theft.sustained_drop", "reading.estimated"


def test_no_history_is_the_prior_and_rules_fall_back_to_family_then_global():
    rates = estimate([])
    assert rates.overall == Rate(0, 0, 0.25)
    assert rates.for_rule("metering_event_with_use_drop", "metering") == Rate(0, 0, 0.25)
    own = estimate([], HitRateSettings(prior_mean=0.4, family_prior_means=(("loss", 0.15),)))
    assert own.for_rule("loss_area_high", "loss").rate == 0.15 and own.for_rule("x", "theft").rate == 0.4
    # history in the family only: an unseen rule of that family gets the family's rate
    rates = estimate([("metering_a", "metering", "zhang", True)] * 4 + [("metering_a", "metering", "zhang", False)])
    g = (4 + 10 * 0.25) / (5 + 10)
    fam = (4 + 10 * g) / (5 + 10)
    assert rates.overall == Rate(4, 5, pytest.approx(g))
    assert rates.for_rule("metering_b", "metering") == Rate(0, 0, pytest.approx(fam, abs=1e-6))
    assert rates.for_rule("metering_a", "metering").rate == pytest.approx((4 + 10 * fam) / 15, abs=1e-6)
    assert rates.for_rule("theft_risk", "theft").rate == pytest.approx(g, abs=1e-6)
    assert rates.inspectors["zhang"] == Rate(4, 5, pytest.approx((4 + 10 * g) / 15, abs=1e-6))


def test_docs_worked_example():
    """The numbers of docs/audit.md, "Priority", worked example."""
    from gridaudit.audit.priority import priority

    outcomes = [("metering_event_with_use_drop", "metering", "zhang", ok) for ok in (True, True, False)]
    outcomes += [
        ("metering_event_cover_open", "metering", "zhang", ok) for ok in (True, True, False, False, False, False, False)
    ]
    outcomes += [("reading_missed", "reading", "sun", i < 8) for i in range(30)]
    rates = estimate(outcomes)
    assert rates.overall == Rate(12, 40, 0.29)
    assert rates.families["metering"] == Rate(4, 10, 0.345)
    drop = rates.for_rule("metering_event_with_use_drop", "metering")
    assert drop.label() == "0.42 (2/3)" and drop.rate == pytest.approx(0.419231)
    assert rates.for_rule("theft_risk", "theft") == Rate(0, 0, 0.29)
    assert priority(1.0, "critical", None, drop.rate) == pytest.approx(2096.155)
    assert priority(1.0, "high", 2070.0, 0.29) == pytest.approx(885.225)
    assert priority(1.0, "high", 519936.0, 0.29) == pytest.approx(113521.08)
    assert priority(0.5, "medium", 100.0, 0.29) == pytest.approx(65.25)


def _close(store, tid, outcome, inspector="zhang"):
    with store.transaction() as s:
        actions.assign(s, "li", tid, inspector)
    with store.transaction() as s:
        actions.record_result(s, inspector, tid, outcome, "desk")
    with store.transaction() as s:
        actions.close(s, "li", tid)


def test_hit_rates_from_closed_tasks(store):
    add_people(store)
    with store.transaction() as s:
        tasks = {t.entity_id: t.task_id for t in create_plan(s, "lead", "2025-07", make_findings(8)).tasks}
    _close(store, tasks["C000"], "theft")
    _close(store, tasks["C002"], "violation", inspector="sun")
    _close(store, tasks["C004"], "normal")
    _close(store, tasks["C001"], "normal")
    with store.transaction() as s:  # checked, not closed: does not count
        actions.assign(s, "li", tasks["C003"], "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tasks["C003"], "irregular", "desk")
    with store.transaction() as s:  # cancelled: does not count
        actions.cancel(s, "lead", tasks["C005"], "duplicate")
    with store.transaction() as s:
        rates = hit_rates(s)
    g = (2 + 2.5) / 14
    theft_f = (2 + 10 * g) / 13
    reading_f = (0 + 10 * g) / 11
    assert rates.overall == Rate(2, 4, pytest.approx(g, abs=1e-6))
    assert rates.families["theft"] == Rate(2, 3, pytest.approx(theft_f, abs=1e-6))
    assert rates.rules[THEFT] == Rate(2, 3, pytest.approx((2 + 10 * theft_f) / 13, abs=1e-6))
    assert rates.rules[READING] == Rate(0, 1, pytest.approx((0 + 10 * reading_f) / 11, abs=1e-6))
    assert rates.inspectors["zhang"].hits == 1 and rates.inspectors["zhang"].n == 3
    assert rates.inspectors["sun"] == Rate(1, 1, pytest.approx((1 + 10 * g) / 11, abs=1e-6))

    # priority follows the record: equal findings of a better-confirmed rule rank first
    fresh = [
        dict(r, entity_id=f"N{r['rule_id'][:1]}", score=0.5, yuan_at_stake=100.0) for r in make_findings(2).to_pylist()
    ]
    for r in fresh:
        r.pop("finding_id")
    with store.transaction() as s:
        out = create_plan(s, "lead", "2025-08", findings_table(fresh))
        assert [t.rule_id for t in out.tasks] == [THEFT, READING]
        assert out.tasks[0].priority > out.tasks[1].priority

    # a corrected result counts instead of the original (corrections.effective_results is the one lookup)
    with store.transaction() as s:
        old = effective_results(s, [tasks["C004"]])[tasks["C004"]]
        assert old.outcome == "normal"
        corrector = "li" if old.recorded_by != "li" else "lead"
        correct_result(s, corrector, old.result_id, "field re-check found a bypass", outcome="theft")
    with store.transaction() as s:
        assert effective_results(s, [tasks["C004"]])[tasks["C004"]].outcome == "theft"
        theft = hit_rates(s).rules[THEFT]
        assert (theft.hits, theft.n) == (3, 3)
