"""Each built-in indicator against an independent computation in plain Python on the utility built in code."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest

from gridaudit.indicators.assess import assess_month, value_of
from gridaudit.indicators.catalog import load_catalog

from .utility import AREAS, FEEDERS, UNITS, days_of

MONTH = "2025-03"
SUBTREE = {u["unit_id"]: {u["unit_id"]} for u in UNITS}
for _u in UNITS:  # ancestors: every unit is in its ancestors' subtrees (three levels here)
    p = _u["parent_id"]
    while p is not None:
        SUBTREE[p].add(_u["unit_id"])
        p = next(x["parent_id"] for x in UNITS if x["unit_id"] == p)
LEVEL = {u["unit_id"]: u["level"] for u in UNITS}


def roll(items: list[tuple[str | None, str | None, float, float]], scale: float, ratio: bool) -> dict:
    """(unit, person, num, den) items → {(level, entity): value} with units summed over their subtree."""
    out: dict[tuple[str, str], float | None] = {}
    person: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for _u, p, n, d in items:
        if p is not None:
            person[p][0] += n
            person[p][1] += d
    for p, (n, d) in person.items():
        out[("person", p)] = (n / d * scale if ratio else n) if d else None
    for unit, members in SUBTREE.items():
        n = sum(i[2] for i in items if i[0] in members)
        d = sum(i[3] for i in items if i[0] in members)
        out[(LEVEL[unit], unit)] = (n / d * scale if ratio else n) if d else None
    return out


def _month_usage(t: dict, meter: str) -> list[dict]:
    return [u for u in t["daily_usage"] if u["meter_id"] == meter and u["day"].strftime("%Y-%m") == MONTH]


def wh(rows: list[dict]) -> float:
    """Energy of daily rows in kWh, summed as integer Wh per meter-day (docs/lineloss.md)."""
    return sum(round(u["kwh"] * 1000) for u in rows) / 1000


def area_balance(t: dict) -> dict[str, dict]:
    """Per area: supply, sales, loss, band — from the raw daily rows (the rule of docs/lineloss.md)."""
    out = {}
    days = len(days_of(MONTH))
    for a in AREAS:
        cust = [c for c in t["customers"] if c["area_id"] == a["area_id"] and c["status"] == "active"]
        supply_rows = _month_usage(t, "MT_" + a["area_id"])
        sales_rows = [u for c in cust for u in _month_usage(t, "M" + c["customer_id"])]
        supply, sales = wh(supply_rows), wh(sales_rows)
        coverage = len(sales_rows) / (len(cust) * days)
        if len(supply_rows) < days or supply <= 0 or coverage < 0.95:
            band = "not_computable"
        else:
            rate = 100 * (supply - sales) / supply
            band = "negative" if rate < 0 else "extreme" if rate > 30 else "high" if rate > 10 else (
                "watch" if rate > 7 else "normal")  # fmt: skip
        out[a["area_id"]] = {"supply": supply, "sales": sales, "loss": supply - sales, "band": band, **a}
    return out


def feeder_balance(t: dict, areas: dict, computable_only: bool = True) -> dict[str, dict]:
    """Per feeder: head supply, loss = supply − Σ area supply (no customer is fed directly here).

    A feeder with an area that has customers but no area meter is not computable (its sales side is not
    measured on any day), so it is left out, as line loss leaves it out.
    """
    metered = {m["area_id"] for m in t["meters"] if m.get("role") == "area_total"}
    served = {c["area_id"] for c in t["customers"]}
    blocked = {a["feeder_id"] for a in AREAS if a["area_id"] in served and a["area_id"] not in metered}
    out = {}
    for f in FEEDERS:
        if computable_only and f["feeder_id"] in blocked:
            continue
        supply = wh(_month_usage(t, "MF_" + f["feeder_id"]))
        into = sum(a["supply"] for a in areas.values() if a["feeder_id"] == f["feeder_id"])
        out[f["feeder_id"]] = {"supply": supply, "loss": supply - into, **f}
    return out


def expected(ind_id: str, t: dict, tasks: list[dict] | None = None) -> dict:
    """The indicator's values computed from the raw rows without SQL."""
    areas = area_balance(t)
    active = {c["customer_id"]: c for c in t["customers"] if c["status"] == "active"}
    manager = {a["area_id"]: a["manager_id"] for a in AREAS}
    cmeter = {m["meter_id"]: m["customer_id"] for m in t["meters"] if m["role"] == "customer"}
    month_reads = [r for r in t["readings"] if r["period"] == MONTH]
    items: list[tuple] = []
    if ind_id.startswith("area_") and ind_id != "area_loss_rate":
        test = {
            "area_loss_qualified_rate": lambda b: b in ("normal", "watch"),
            "area_high_loss_count": lambda b: b in ("high", "extreme"),
            "area_negative_loss_count": lambda b: b == "negative",
            "area_not_computable_count": lambda b: b == "not_computable",
        }[ind_id]
        items = [(a["unit_id"], a["manager_id"], 1.0 if test(a["band"]) else 0.0, 1.0) for a in areas.values()]
        return roll(items, 100, ind_id == "area_loss_qualified_rate")
    if ind_id == "area_loss_rate":
        items = [(a["unit_id"], a["manager_id"], a["loss"], a["supply"]) for a in areas.values()
                 if a["band"] != "not_computable"]  # fmt: skip
        return roll(items, 100, True)
    feeders = feeder_balance(t, areas)
    if ind_id == "feeder_loss_rate":
        return roll([(f["unit_id"], None, f["loss"], f["supply"]) for f in feeders.values()], 100, True)
    if ind_id == "unit_loss_rate":  # a unit's balance is heads − all customers: area meters do not decide its days
        feeders = feeder_balance(t, areas, computable_only=False)
        funit = {f["feeder_id"]: f["unit_id"] for f in FEEDERS}
        items = [(f["unit_id"], None, f["loss"], f["supply"]) for f in feeders.values()]
        items += [(funit[a["feeder_id"]], None, a["loss"], 0.0) for a in areas.values()]
        return roll(items, 100, True)
    if ind_id in ("ami_coverage", "collection_success_rate"):
        days = len(days_of(MONTH))
        for c in active.values():
            n = len(_month_usage(t, "M" + c["customer_id"]))
            if ind_id == "ami_coverage":
                items.append((c["unit_id"], manager[c["area_id"]], 1.0 if n else 0.0, 1.0))
            elif n:
                items.append((c["unit_id"], manager[c["area_id"]], float(n), float(days)))
        return roll(items, 100, True)
    if ind_id == "estimated_read_share":
        items = [(active[cmeter[r["meter_id"]]]["unit_id"], r["reader_id"], float(r["read_type"] == "estimated"), 1.0)
                 for r in month_reads]  # fmt: skip
        return roll(items, 100, True)
    if ind_id == "missed_read_rate":
        read = {r["meter_id"] for r in month_reads}
        items = [
            (c["unit_id"], c["reader_id"], float("M" + c["customer_id"] not in read), 1.0) for c in active.values()
        ]
        return roll(items, 100, True)
    if ind_id == "process_time_compliance":
        import chinese_calendar

        def workdays(start: date, end: date) -> int:  # the start day not counted
            return sum(chinese_calendar.is_workday(start + timedelta(days=k)) for k in range(1, (end - start).days + 1))

        done: dict[str, dict[str, date]] = {}
        handler: dict[str, str] = {}
        for s in t["work_order_steps"]:
            done.setdefault(s["order_id"], {})[s["step"]] = s["finished_at"].date()
            if s["step"] == "energized":
                handler[s["order_id"]] = s["handler_id"]
        for o in t["work_orders"]:
            steps = done.get(o["order_id"], {})
            if o["order_type"] not in ("new_connection", "capacity_increase") or "energized" not in steps:
                continue
            if steps["energized"].strftime("%Y-%m") != MONTH:
                continue
            timed = []  # (working days, limit) of the steps whose clock can start
            if "plan_replied" in steps:
                limit = 30 if o.get("supply") == "dual" else 15
                timed.append((workdays(o["accepted_at"].date(), steps["plan_replied"]), limit))
            before = [steps[k] for k in ("completion_checked", "contract_signed") if k in steps]
            if before:
                timed.append((workdays(max(before), steps["energized"]), 5))
            if timed:
                ok = all(days <= limit for days, limit in timed)
                items.append((active[o["customer_id"]]["unit_id"], handler[o["order_id"]], float(ok), 1.0))
        return roll(items, 100, True)
    tasks = tasks or []
    if ind_id == "reading_error_rate":
        items = [(x["unit"], x["staff"], float(x["confirmed"]), 0.0) for x in tasks if x["family"] == "reading"]
        items += [(active[cmeter[r["meter_id"]]]["unit_id"], r["reader_id"], 0.0, 1.0) for r in month_reads]
        return roll(items, 1000, True)
    if ind_id == "billing_error_rate":
        items = [
            (x["unit"], x["staff"], float(x["confirmed"]), 0.0) for x in tasks if x["family"] in ("billing", "tariff")
        ]
        items += [
            (active[b["customer_id"]]["unit_id"], b["clerk_id"], 0.0, 1.0) for b in t["bills"] if b["period"] == MONTH
        ]
        return roll(items, 1000, True)
    store = {
        "rectification_on_time_rate": (lambda x: (x["on_time"], x["rect_counted"]), True, 100),
        "recurrence_rate": (lambda x: (x["recurs"], 1), True, 100),
        "inspection_completion_rate": (lambda x: (x["has_result"], 1), True, 100),
        "inspection_hit_rate": (lambda x: (x["confirmed"], x["has_result"]), True, 100),
        "confirmed_findings": (lambda x: (x["confirmed"], 1), False, 1),
        "recovered_yuan": (lambda x: (x["recovered"], 1), False, 1),
        "penalty_yuan": (lambda x: (x["penalty"], 1), False, 1),
        "escalation_count": (lambda x: (x["escalations"], 1), False, 1),
    }
    fn, ratio, scale = store[ind_id]
    items = [(x["unit"], x["staff"], float(fn(x)[0]), float(fn(x)[1])) for x in tasks]
    return roll(items, scale, ratio)


DATASET_ONLY = [i.id for i in load_catalog() if "audit_tasks_month" not in i.inputs]


def check(a, ind_id: str, want: dict) -> int:
    """Compare every expected value with the assessment's; returns how many were compared."""
    ind = next(i for i in load_catalog() if i.id == ind_id)
    n = 0
    for (level, entity), v in want.items():
        levels = [ind.person_level] if level == "person" else [level]
        if levels[0] is None or levels[0] not in ind.levels:
            continue
        got = value_of(a, ind_id, levels[0], entity)
        assert got is not None, (ind_id, level, entity)
        if v is None:
            assert got.value is None, (ind_id, level, entity, got.value)
        else:
            assert got.value == pytest.approx(v, abs=1e-4), (ind_id, level, entity, got.value, v)
        n += 1
    return n


@pytest.fixture(scope="module")
def assessed(utility):
    root, _ = utility
    return assess_month(root, MONTH, compare=False)


@pytest.mark.parametrize("ind_id", DATASET_ONLY)
def test_dataset_indicator_matches_plain_python(assessed, utility, ind_id):
    """Every dataset / line-loss indicator, at every level and entity, equals the plain-Python value."""
    _, tables = utility
    assert check(assessed, ind_id, expected(ind_id, tables)) >= 6


def test_the_scenario_exercises_every_band(utility):
    """The utility has a normal, high, negative, watch and not-computable area (so the checks can fail)."""
    bands = {a: b["band"] for a, b in area_balance(utility[1]).items()}
    assert bands == {"A1": "normal", "A2": "high", "A3": "negative", "A4": "watch", "A5": "not_computable"}


def test_roll_up_sums_numerators_and_denominators_not_rates(assessed):
    """A county's rate is Σnum/Σden over its stations (not the mean of their rates); the company covers all."""
    s11 = value_of(assessed, "missed_read_rate", "station", "U11")
    s12 = value_of(assessed, "missed_read_rate", "station", "U12")
    county = value_of(assessed, "missed_read_rate", "county", "U1")
    assert county.num == s11.num + s12.num and county.den == s11.den + s12.den
    assert county.value == pytest.approx(100 * county.num / county.den)
    assert county.value != pytest.approx((s11.value + s12.value) / 2)
    company = value_of(assessed, "ami_coverage", "company", "U0")
    assert company.den == sum(value_of(assessed, "ami_coverage", "county", u).den for u in ("U1", "U2"))


def test_store_indicators_not_computable_without_a_store(assessed):
    """Without a case store the audit-loop indicators have no value and say why (never zero)."""
    v = value_of(assessed, "recovered_yuan", "company", "U0")
    assert v.value is None and "case store" in v.reason.en


def test_connection_time_limits_count_working_days(assessed):
    """业扩时限 counts working days (holidays skipped, 调休 counted) per step, as the step-overdue rules do:
    O1 and O3 (22 working days over the Spring Festival, dual supply: limit 30) are in time, O2 (energizing 7 > 5)
    and O6 (plan reply 16 > 15) are late, O7 (no step with a start) is not counted."""
    v = value_of(assessed, "process_time_compliance", "company", "U0")
    assert (v.num, v.den) == (2.0, 4.0) and v.value == pytest.approx(50.0)


def test_connection_limits_equal_the_step_rules_defaults():
    """The indicator's working-day limits are the step-overdue rules' defaults (one set of SG186 numbers)."""
    from gridaudit.rules.loader import load_catalog as load_rules

    ind = {i.id: i for i in load_catalog()}["process_time_compliance"]
    steps = [r for r in load_rules() if r.id.startswith("process_")]
    defaults = {name: p.default for r in steps for name, p in r.header.params.items()}
    for name, limit in ind.params.items():
        assert defaults[name] == limit, name
