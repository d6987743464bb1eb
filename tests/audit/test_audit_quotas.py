"""Plan quotas (定性、定量): syntax, validation, filling, and how far each was filled (create and plan show)."""

import pytest

from gridaudit.audit import actions
from gridaudit.audit.errors import AuditError
from gridaudit.audit.plan_view import plan_summary
from gridaudit.audit.plans import create_plan
from gridaudit.audit.quotas import Quota, parse_quota

from .conftest import add_people, make_findings
from .test_audit_cli import cli, setup_store

THEFT, READING = "theft.sustained_drop", "reading.estimated"


def test_quota_syntax():
    assert parse_quota("family=reading:30") == Quota("family=reading:30", family="reading", count=30)
    assert parse_quota(" rule=loss_area_high, unit=U0101 :ALL") == Quota(
        "rule=loss_area_high, unit=U0101 :ALL", rule="loss_area_high", unit="U0101", count=None
    )
    for bad, why in [
        ("family=reading", "KEY=VALUE[,KEY=VALUE]:COUNT"),
        (":3", "KEY=VALUE[,KEY=VALUE]:COUNT"),
        ("family=reading:0", "positive number or all"),
        ("family=reading:-2", "positive number or all"),
        ("family=reading:lots", "positive number or all"),
        ("family:3", "must be KEY=VALUE"),
        ("family=:3", "must be KEY=VALUE"),
        ("area=A1:3", "unknown key 'area'"),
        ("family=reading,family=theft:3", "key family is given twice"),
    ]:
        with pytest.raises(AuditError, match=f"bad quota '{bad}'") as exc:
            parse_quota(bad)
        assert why in exc.value.en and "配额" in exc.value.zh


def _plan(store, month="2025-07", n=12, **kw):
    with store.transaction() as s:
        out = create_plan(s, "lead", month, make_findings(n), **kw)
        return out, [(t.family, t.rule_id, t.unit_id, t.entity_id) for t in out.tasks]


def test_quotas_filled_first_then_the_rest_by_priority(store):
    """make_findings(12): theft on even customers, reading on odd; C000–C005 in U1, C006–C011 in U2; priority
    rises with the customer number."""
    add_people(store)
    quotas = [parse_quota("rule=reading.estimated,unit=U1:2"), parse_quota("rule=theft.sustained_drop,unit=U1:all")]
    out, tasks = _plan(store, top=6, quotas=quotas)
    assert len(tasks) == 6
    u1 = sorted(e for _f, _r, u, e in tasks if u == "U1")
    assert u1 == ["C000", "C002", "C003", "C004", "C005"]  # best two U1 readings (C005, C003), all U1 theft
    assert [e for *_x, u, e in tasks if u == "U2"] == ["C011"]  # the rest of --top: highest priority
    assert [(f.quota.spec, f.target, f.available, f.filled, f.met) for f in out.quotas] == [
        ("rule=reading.estimated,unit=U1:2", 2, 3, 2, True),
        ("rule=theft.sustained_drop,unit=U1:all", 3, 3, 3, True),
    ]
    assert out.over_top == 0 and out.skipped == {"beyond top": 6}


def test_quota_partly_filled_and_over_top(store):
    add_people(store)
    out, tasks = _plan(store, top=8, quotas=[parse_quota("family=reading,unit=U2:5")])
    f = out.quotas[0]
    assert (f.target, f.available, f.filled, f.met) == (5, 3, 3, False)  # only 3 U2 reading findings exist
    assert f.as_dict() == dict(
        spec="family=reading,unit=U2:5",
        family="reading",
        rule=None,
        unit="U2",
        asked=5,
        available=3,
        filled=3,
        met=False,
    )
    out, tasks = _plan(store, "2025-08", n=0, top=2, quotas=[parse_quota("family=theft:all")])
    assert tasks == [] and out.quotas[0].met  # nothing left (all taken): all of nothing is met


def test_quotas_win_over_top(store):
    add_people(store)
    out, tasks = _plan(store, top=2, quotas=[parse_quota("family=theft:all")])
    assert len(tasks) == 6 and {f for f, *_ in tasks} == {"theft"} and out.over_top == 4


def test_unknown_family_rule_or_unit_is_an_error_not_an_empty_plan(store):
    add_people(store)
    cases = [
        (dict(quotas=[parse_quota("family=nosuch:3")]), "bad quota 'family=nosuch:3': no finding family 'nosuch'"),
        (dict(quotas=[parse_quota("rule=nosuch_rule:all")]), "no rule 'nosuch_rule' in the catalog or the findings"),
        (dict(families=["theft", "nosuch"]), "no finding family nosuch"),
        (dict(rules=["nosuch_rule"]), "no rule nosuch_rule"),
        (
            dict(quotas=[parse_quota("unit=U9:1")], unit_map={("customer", "C000"): "U1"}),
            "bad quota 'unit=U9:1': no unit 'U9'",
        ),
    ]
    for kw, text in cases:
        with pytest.raises(AuditError, match=text), store.transaction() as s:
            create_plan(s, "lead", "2025-07", make_findings(4), **kw)
    # a rule of the catalog (or of the loss / risk analyzers) that did not fire is known: quota of nothing
    out, tasks = _plan(store, top=2, quotas=[parse_quota("rule=metering_event_with_use_drop:all")])
    assert len(tasks) == 2 and (out.quotas[0].available, out.quotas[0].filled) == (0, 0)
    out, _ = _plan(store, "2025-08", top=2, quotas=[parse_quota("rule=loss_area_extreme:3")])
    assert not out.quotas[0].met


def test_plan_summary_shows_quotas_and_counts(store):
    add_people(store)
    out, tasks = _plan(store, top=4, quotas=[parse_quota("family=reading:3")])
    plan_id = out.plan.plan_id
    first_reading = next(t.task_id for t in out.tasks if t.family == "reading")
    with store.transaction() as s:
        actions.cancel(s, "lead", first_reading, "duplicate")
    with store.transaction() as s:
        sm = plan_summary(s, plan_id)
    assert (sm.month, sm.kind, sm.created_by, sm.tasks) == ("2025-07", "special", "lead", 4)
    assert sm.by_state == {"cancelled": 1, "new": 3}
    assert sm.by_family == {"reading": 3, "theft": 1}
    q = sm.quotas[0]
    assert (q["spec"], q["asked"], q["available"], q["filled"], q["now"]) == ("family=reading:3", 3, 6, 3, 2)
    assert sm.scope["top"] == 4 and sm.scope["max_rule_share"] == 0.2
    with pytest.raises(AuditError, match="no plan 99"), store.transaction() as s:
        plan_summary(s, 99)


def test_cli_quotas_and_plan_show(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    out = cli(
        store_url,
        "plan",
        "create",
        "--month",
        "2025-07",
        "--findings",
        str(f),
        "--top",
        "4",
        "--quota",
        "family=reading,unit=U2:5",
        "--quota",
        "rule=theft.sustained_drop:all",
        user="lead",
    )
    assert "created 9 tasks" in out and "quotas need 5 tasks more than --top 4" in " ".join(out.split())
    assert "family=reading,unit=U2:5" in out and "partly" in out
    shown = " ".join(cli(store_url, "plan", "show", "1", user="li").split())
    assert "plan 1" in shown and "9 tasks" in shown and "rule=theft.sustained_drop:all" in shown
    assert "new │ 9" in shown and "reading │ 3" in shown and "theft │ 6" in shown
    import json

    data = json.loads(cli(store_url, "plan", "show", "1", "--json", user="li"))
    assert [(q["asked"], q["filled"], q["now"]) for q in data["quotas"]] == [(5, 3, 3), ("all", 6, 6)]
    bad = cli(
        store_url,
        "plan",
        "create",
        "--month",
        "2025-07",
        "--findings",
        str(f),
        "--quota",
        "unit=U1",
        code=2,
        user="lead",
    )
    assert "bad quota 'unit=U1'" in bad and "配额 'unit=U1' 无效" in bad
    bad = cli(
        store_url,
        "plan",
        "create",
        "--month",
        "2025-07",
        "--findings",
        str(f),
        "--family",
        "nosuch",
        code=2,
        user="lead",
    )
    assert "no finding family nosuch" in bad
    bad = cli(
        store_url,
        "plan",
        "create",
        "--month",
        "2025-07",
        "--findings",
        str(f),
        "--max-rule-share",
        "0",
        code=2,
        user="lead",
    )
    assert "--max-rule-share must be in (0, 1]" in bad
    assert "no plan 7" in cli(store_url, "plan", "show", "7", user="li", code=2)
    rates = " ".join(cli(store_url, "hit-rates", user="li").split())
    assert "no closed tasks yet: every rule is at the prior 0.25" in rates
    assert "--level must be one of" in cli(store_url, "hit-rates", "--level", "unit", user="li", code=2)


def test_loss_rule_ids_match_the_documented_table():
    """Quotas and --rule know the line-loss rules from ``to_findings.RULE_IDS``; it must list the module's table."""
    import re

    from gridaudit.lineloss import to_findings

    documented = re.findall(r"^(loss_\w+)\s", to_findings.__doc__, flags=re.M)
    assert sorted(documented) == sorted(to_findings.RULE_IDS) and len(documented) == 7
