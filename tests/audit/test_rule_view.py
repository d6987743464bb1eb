"""The rule catalog view: every rule's texts, parameters and SQL, with its hit rate now and per plan month."""

from __future__ import annotations

import pytest

from gridaudit.audit import actions
from gridaudit.audit.errors import NotFound
from gridaudit.audit.hitrates import hit_rates
from gridaudit.audit.plans import create_plan
from gridaudit.audit.rule_view import catalog, rule_detail
from gridaudit.findings import findings_table
from gridaudit.rules.loader import load_catalog

from .conftest import add_people

RULE = "billing_adjustment_unapproved"


def _findings(month: str, n: int) -> object:
    return findings_table(
        [
            dict(
                rule_id=RULE,
                family="billing",
                severity="high",
                entity_type="customer",
                entity_id=f"C{month}-{i}",
                period=month,
                score=1.0,
                kwh_at_stake=10.0,
                yuan_at_stake=5.0,
                responsible_staff_id=None,
                evidence={"unit_id": "U1"},
                run_id="t",
            )  # fmt: skip
            for i in range(n)
        ]
    )


def _close(store, tid, outcome):
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, outcome, "desk")
    with store.transaction() as s:
        actions.close(s, "li", tid)


def test_catalog_lists_every_rule_with_texts_params_and_sql():
    entries = catalog(None)
    rules = load_catalog()
    assert [e.rule_id for e in entries] == [r.id for r in rules]
    by_id = {e.rule_id: e for e in entries}
    r = next(r for r in rules if r.header.params)
    e = by_id[r.id]
    assert e.title.zh == r.header.title.zh and e.description.en == r.header.description.en
    assert [p.name for p in e.params] == list(r.header.params) and e.sql == r.sql and e.basis == r.header.basis
    assert e.hit_rate.rate == 0.25 and e.hit_rate.n == 0  # the prior
    with_derived = next(x for x in entries if x.derived)
    assert set(with_derived.derived_sql) >= set(with_derived.derived)
    assert {x.family for x in catalog(None, family="billing")} == {"billing"}
    with pytest.raises(NotFound, match="nofam"):
        catalog(None, family="nofam")
    d = by_id[RULE].as_dict()
    assert d["title"]["zh"] and d["hit_rate"] == {"rate": 0.25, "hits": 0, "n": 0} and d["history"] == []


def test_hit_rate_history_per_plan_month(store):
    add_people(store)
    with store.transaction() as s:
        june = [t.task_id for t in create_plan(s, "lead", "2025-06", _findings("2025-06", 2)).tasks]
    with store.transaction() as s:
        july = [t.task_id for t in create_plan(s, "lead", "2025-07", _findings("2025-07", 3)).tasks]
    _close(store, june[0], "theft")
    _close(store, june[1], "normal")
    for tid in july:
        _close(store, tid, "violation")
    with store.transaction() as s:
        entry = rule_detail(s, RULE)
        now = hit_rates(s).for_rule(RULE, "billing")
        listed = {e.rule_id: e for e in catalog(s)}[RULE]
    assert entry.hit_rate == now == listed.hit_rate and now.hits == 4 and now.n == 5
    assert [(m.month, m.hits, m.n) for m in entry.history] == [("2025-06", 1, 2), ("2025-07", 3, 3)]
    assert entry.history[-1].rate == now.rate and entry.history[0].rate < now.rate
    with pytest.raises(NotFound, match="nope"), store.transaction() as s:
        rule_detail(s, "nope")
