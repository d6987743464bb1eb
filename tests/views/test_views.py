"""Read models on a dataset built in code: numbers checked against what the data makes them by hand,
unit scope (a user of another unit is refused), bad ids and months refused clearly."""

from __future__ import annotations

from datetime import date

import pytest

from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.views.area import area, feeder
from gridaudit.views.customer import customer
from gridaudit.views.dashboard import dashboard
from gridaudit.views.staff import staff

from .views_data import AREA_FACTOR, FEEDER_FACTOR, area_sales, energy

LATE = date(2025, 3, 20)


def test_dashboard_findings_by_family_and_severity_with_money_and_links(engine, session, user):
    d = dashboard(engine, session, user("lead"), "2025-02", today=LATE)
    cells = {(r["family"], r["severity"]): (r["count"].value, r["yuan"].value) for r in d.findings}
    assert cells == {
        ("billing", "low"): (1, 20.0),
        ("reading", "medium"): (1, 5.0),
        ("theft", "high"): (1, 100.0),
        ("theft", "critical"): (1, 0.0),
    }
    assert d.findings_total.value == 4 and d.yuan_total.value == 125.0
    theft_high = next(r for r in d.findings if r["severity"] == "high")
    assert theft_high["count"].href == "/findings?family=theft&severity=high&period=2025-02"
    assert d.findings_total.href == "/findings?period=2025-02"


def test_dashboard_tasks_money_hit_rate_and_overdue(engine, session, user, world):
    d = dashboard(engine, session, user("lead"), "2025-02", today=LATE)
    states = {s: f.value for s, f in d.tasks_by_state.items() if f.value}
    assert states == {"assigned": 1, "checked": 1, "rectifying": 1}
    assert d.tasks_by_state["rectifying"].href == "/tasks?state=rectifying&month=2025-02&all=1"
    assert d.money["recovered_yuan"].value == 300.0 and d.money["backbill_kwh"].value == 500.0
    assert (d.checked, d.confirmed, d.hit_rate.value) == (2, 2, 1.0)
    assert d.hit_rate.href == "/tasks?month=2025-02&all=1&checked=1"
    from gridaudit.audit.actions import list_tasks

    assert len(list_tasks(session, month="2025-02", user=user("lead"), checked=True)) == d.checked
    assert [o["task_id"] for o in d.overdue] == [world[2]["theft"]] and d.overdue_count.value == 1
    assert d.overdue[0]["responsible_id"] == "zhou" and d.overdue[0]["workdays_overdue"] > 0
    assert dashboard(engine, session, user("lead"), "2025-02", today=date(2025, 3, 4)).overdue == []


def test_dashboard_loss_bands_and_trend(engine, session, user):
    d = dashboard(engine, session, user("lead"), "2025-02", today=LATE)
    assert d.loss is not None
    # A1 loses 20 % (high), A2 4.8 % (normal); feeders lose 2 % of what they feed (normal)
    assert d.loss.bands["area"]["high"].value == 1 and d.loss.bands["area"]["normal"].value == 1
    assert d.loss.bands["feeder"]["normal"].value == 2
    assert d.loss.bands["area"]["high"].href == "/loss?level=area&band=high&period=2025-02"
    u0 = [r for r in d.loss.trend if r["name"] == "U0"]
    assert [r["period"] for r in u0] == ["2025-01", "2025-02"]
    supply = sum(area_sales(a) * k * FEEDER_FACTOR for a, k in AREA_FACTOR.items())
    sales = sum(energy(c) for c in ("C1", "C2", "C3"))
    assert u0[1]["loss_rate_pct"] == pytest.approx(100 * (supply - sales) / supply, abs=1e-6)
    assert [r["entity_id"] for r in d.loss.worst] == ["A1", "A2"]
    jan = {(r["level"], r["band"]): r["count"] for r in d.loss.history if r["period"] == "2025-01"}
    assert jan[("area", "high")] == 1


def test_dashboard_unit_scope(engine, session, user):
    u1 = dashboard(engine, session, user("lead"), "2025-02", "U1", today=LATE)
    assert {r["family"] for r in u1.findings} == {"theft", "reading"} and u1.yuan_total.value == 105.0
    assert u1.loss is not None and u1.loss.bands["area"]["normal"].value == 0
    assert u1.findings_total.href == "/findings?unit=U1&period=2025-02"
    sun = dashboard(engine, session, user("sun"), "2025-02", today=LATE)  # bound to U2: sees U2 only
    assert {r["family"] for r in sun.findings} == {"billing"} and sun.units == ["U2"]
    with pytest.raises(Forbidden, match="U1"):
        dashboard(engine, session, user("sun"), "2025-02", "U1")
    with pytest.raises(NotFound, match="U9"):
        dashboard(engine, session, user("lead"), "2025-02", "U9")
    with pytest.raises(AuditError, match="YYYY-MM"):
        dashboard(engine, session, user("lead"), "2025-2")


def test_customer_profile_meters_usage_events_window_and_risk(engine, session, user, world):
    c = customer(engine, session, user("lead"), "C1")
    assert (
        c.customer["name"] == "用户C1"
        and c.customer["area_name"] == "东街1号台区"
        and c.customer["reader_name"] == "张三"
    )
    assert [(m["meter_id"], m["multiplier"], m["verification_due"]) for m in c.meters] == [
        ("MC1", 2.0, date(2030, 6, 30))
    ]
    assert len(c.usage) == 59 and {u["kwh"] for u in c.usage} == {energy("C1")}
    assert [(e["event_type"], e["ts"].day) for e in c.events] == [("cover_open", 10)]
    assert c.theft_window == (date(2025, 2, 1), date(2025, 2, 28))
    (r,) = c.readings
    assert (r["reading"], r["ami_register"], r["diff"]) == (1255.0, 1250.0, 5.0)
    assert [b["bill_id"] for b in c.bills] == ["B1"] and [p["payment_id"] for p in c.payments] == ["P1"]
    assert [i["inspection_id"] for i in c.inspections] == ["I1"]
    assert {f["rule_id"] for f in c.findings} == {"theft_sustained_drop_own_history", "theft_risk"}
    assert {t["task_id"] for t in c.tasks} == {world[2]["theft"]}
    assert c.risk is not None and c.risk.score == 0.95 and c.risk.rank == 1
    assert "80%" in c.risk.explanation("zh") and "below" in c.risk.explanation("en")
    early = customer(engine, session, user("lead"), "C1", month="2025-01")
    assert len(early.usage) == 31 and early.events == []


def test_customer_scope_and_errors(engine, session, user):
    assert customer(engine, session, user("sun"), "C3").customer["unit_id"] == "U2"
    assert customer(engine, session, user("zhang"), "C3").findings  # U1's inspector has a task on C3
    with pytest.raises(Forbidden, match="C3"):
        customer(engine, session, user("zhou"), "C3")
    with pytest.raises(Forbidden):
        customer(engine, session, user("v2"), "C1")
    with pytest.raises(NotFound, match="C404"):
        customer(engine, session, user("lead"), "C404")
    with pytest.raises(AuditError, match="invalid customer id"):
        customer(engine, session, user("lead"), "C1' OR '1'='1")


def test_area_daily_supply_sales_loss_and_band_history(engine, session, user):
    a = area(engine, session, user("lead"), "A1", "2025-02")
    supply, sales = area_sales("A1") * AREA_FACTOR["A1"], area_sales("A1")
    assert len(a.daily) == 28
    assert {round(r["supply_kwh"], 6) for r in a.daily} == {round(supply, 6)}
    assert {round(r["sales_kwh"], 6) for r in a.daily} == {round(sales, 6)}
    assert a.month_row is not None and a.month_row["loss_kwh"] == pytest.approx(28 * (supply - sales))
    assert a.month_row["loss_rate_pct"] == pytest.approx(20.0) and a.month_row["band"] == "high"
    assert a.coverage == 1.0
    assert [(h["period"], h["band"]) for h in a.history] == [("2025-01", "high"), ("2025-02", "high")]
    assert a.entity["feeder_name"] == "东一线" and a.entity["manager_name"] == "张三"
    assert [t["period"] for t in a.technical] == ["2025-02"] or [t["period"] for t in a.technical] == [
        "2025-01",
        "2025-02",
    ]
    assert all(t["technical_kwh"] is None or t["technical_kwh"] >= 0 for t in a.technical)
    assert {b["customer_id"] for b in a.behind} <= {"C1", "C2"}
    assert area(engine, session, user("lead"), "A1").month == "2025-02"  # default: the last month of data


def test_feeder_lists_its_areas(engine, session, user):
    f = feeder(engine, session, user("lead"), "F1", "2025-02")
    assert [r["entity_id"] for r in f.areas] == ["A1"]
    assert f.month_row is not None and f.month_row["loss_rate_pct"] == pytest.approx(100 * (1 - 1 / FEEDER_FACTOR))


def test_area_scope_and_errors(engine, session, user):
    with pytest.raises(Forbidden):
        area(engine, session, user("zhou"), "A2", "2025-02")
    with pytest.raises(NotFound):
        feeder(engine, session, user("lead"), "F9")
    with pytest.raises(AuditError, match="YYYY-MM"):
        area(engine, session, user("lead"), "A1", "2025-13")
    with pytest.raises(AuditError, match="2024-01"):
        area(engine, session, user("lead"), "A1", "2024-01")


def test_staff_findings_error_rate_and_rectifications(engine, session, user, world):
    s = staff(engine, session, user("lead"), "S1", "2025-02")
    assert s.staff["name"] == "张三" and s.staff["unit_name"] == "城东供电所"
    assert [f["rule_id"] for f in s.findings] == ["reading_y"]
    (feb,) = [r for r in s.assessment if r["month"] == "2025-02"]
    # one reading finding confirmed; S1 took one reading in 2025-02 (C2's estimated read)
    assert (feb["wrong_reads"], feb["reads"], feb["error_rate"]) == (1, 1, 1000.0)
    assert [r["task_id"] for r in s.rectifications] == [world[2]["theft"]] and s.users == ["zhou"]
    with pytest.raises(Forbidden):
        staff(engine, session, user("sun"), "S1")
    with pytest.raises(NotFound):
        staff(engine, session, user("lead"), "S404")


def test_loss_list_is_the_list_behind_a_band_count(engine, session, user):
    from gridaudit.views.area import loss_list

    d = dashboard(engine, session, user("lead"), "2025-02", today=LATE)
    assert d.loss is not None
    high = loss_list(engine, session, user("lead"), "area", "2025-02", "high")
    assert (
        [r["entity_id"] for r in high.rows] == ["A1"] == [r["entity_id"] for r in d.loss.worst if r["band"] == "high"]
    )
    assert len(high.rows) == d.loss.bands["area"]["high"].value
    u2 = loss_list(engine, session, user("lead"), "area", "2025-02", unit="U2")
    assert [r["entity_id"] for r in u2.rows] == ["A2"]
    assert [r["entity_id"] for r in loss_list(engine, session, user("sun"), "feeder", "2025-02").rows] == ["F2"]
    with pytest.raises(Forbidden):
        loss_list(engine, session, user("zhou"), "area", "2025-02", unit="U2")
    with pytest.raises(AuditError, match="level"):
        loss_list(engine, session, user("lead"), "planet", "2025-02")
    with pytest.raises(AuditError, match="band"):
        loss_list(engine, session, user("lead"), "area", "2025-02", "awful")
