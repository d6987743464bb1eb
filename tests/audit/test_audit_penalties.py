from datetime import date

import pytest
import yaml

from gridaudit.audit import actions
from gridaudit.audit.errors import AuditError, Forbidden, ScheduleNotEntered
from gridaudit.audit.models import Penalty
from gridaudit.audit.penalties import SCHEDULES, calculate, load_schedules, schedule_for
from gridaudit.audit.penalties.book import book_penalty
from gridaudit.audit.plans import create_plan

from .conftest import add_people, make_findings

D96 = date(2020, 3, 1)


def test_schedule_chosen_by_violation_date():
    assert schedule_for(date(1996, 10, 8)).id == "1996"
    assert schedule_for(date(2024, 5, 31)).id == "1996"
    with pytest.raises(ScheduleNotEntered) as e:
        schedule_for(date(2024, 6, 1))
    assert "must fill 2024.yaml" in e.value.en and "不会猜测" in e.value.zh
    with pytest.raises(AuditError, match="before every penalty schedule"):
        schedule_for(date(1990, 1, 1))
    # the 2024 slot really holds no figures
    slot = next(s for s in load_schedules() if s.id == "2024")
    assert not slot.filled and slot.violations == {}


def test_theft_unknown_duration_power_and_lighting():
    power = calculate("theft", D96, capacity_kw=10, multiplier=2, tariff_yuan_kwh=0.5)
    assert power.backbill_kwh == 10 * 2 * 180 * 12
    assert power.backbill_yuan == pytest.approx(43200 * 0.5)
    assert power.penalty_yuan == pytest.approx(3 * 21600)
    assert power.total_yuan == pytest.approx(4 * 21600)
    assert "180 days × 12 h/day" in power.formula_en and "第一百零三条" in power.formula_zh
    light = calculate("theft", D96, capacity_kw=3, tariff_yuan_kwh=0.5, lighting=True)
    assert light.backbill_kwh == 3 * 180 * 6
    known = calculate("theft", D96, capacity_kw=3, tariff_yuan_kwh=0.5, hours=100)
    assert known.backbill_kwh == 300
    direct = calculate("theft", D96, kwh=1234, tariff_yuan_kwh=1.0)
    assert (direct.backbill_yuan, direct.penalty_yuan) == (1234, 3702)


def test_tariff_misuse_difference_and_default_period():
    r = calculate("tariff_misuse", D96, kwh=2000, high_price=0.85, low_price=0.55)
    assert r.backbill_yuan == pytest.approx(600) and r.penalty_yuan == pytest.approx(1200)
    unknown = calculate("tariff_misuse", D96, monthly_kwh=1000, high_price=0.85, low_price=0.55)
    assert unknown.backbill_kwh == 3000  # Art. 100 (1): start/end unknown → 3 months
    assert "schedule's default" in unknown.formula_en
    with pytest.raises(AuditError, match="high tariff"):
        calculate("tariff_misuse", D96, kwh=10, high_price=0.5, low_price=0.6)


def test_capacity_overuse_and_suspended_use():
    two = calculate("capacity_overuse", D96, kva=100, two_part=True, basic_price=30, months=2)
    assert (two.backbill_yuan, two.penalty_yuan) == (6000, 18000)
    single = calculate("capacity_overuse", D96, kva=20)
    assert (single.backbill_yuan, single.penalty_yuan) == (0, 1000)
    s2 = calculate("suspended_use", D96, kva=100, two_part=True, basic_price=30, months=1)
    assert (s2.backbill_yuan, s2.penalty_yuan) == (3000, 6000)
    s1 = calculate("suspended_use", D96, kva=40, times=2)
    assert s1.penalty_yuan == 30 * 40 * 2
    assert calculate("meter_moved", D96, residential=True).penalty_yuan == 500
    assert calculate("meter_moved", D96, times=2).penalty_yuan == 10000


def test_bad_inputs():
    with pytest.raises(AuditError, match="missing inputs: tariff_yuan_kwh"):
        calculate("theft", D96, capacity_kw=5)
    with pytest.raises(AuditError, match="negative"):
        calculate("capacity_overuse", D96, kva=-1)
    with pytest.raises(AuditError, match="unknown kind"):
        calculate("arson", D96)


def test_a_filled_later_schedule_is_used(tmp_path):
    """A utility that enters a new edition gets it for violations from its date on."""
    for f in SCHEDULES.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    d = yaml.safe_load((tmp_path / "1996.yaml").read_text(encoding="utf-8"))
    d.update(id="local-2030", valid_from=date(2030, 1, 1))
    d["violations"]["capacity_overuse"]["single_part_yuan_per_kw"] = 80
    (tmp_path / "2030.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    r = calculate("capacity_overuse", date(2030, 2, 1), folder=tmp_path, kva=10)
    assert (r.schedule, r.penalty_yuan) == ("local-2030", 800)


def test_book_penalty_on_task(store):
    add_people(store)
    with store.transaction() as s:
        tid = create_plan(s, "lead", "2025-07", make_findings(2)).tasks[0].task_id
    res = calculate("theft", D96, capacity_kw=10, tariff_yuan_kwh=0.5)
    with pytest.raises(AuditError, match="needs a result"), store.transaction() as s:
        book_penalty(s, "li", tid, res, D96)
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "theft")
    with pytest.raises(Forbidden), store.transaction() as s:
        book_penalty(s, "zhou", tid, res, D96)
    with store.transaction() as s:
        p = book_penalty(s, "zhang", tid, res, D96)
        assert p.penalty_yuan == res.penalty_yuan and "Art. 102" in p.formula
    with store.transaction() as s:
        assert s.get(Penalty, p.penalty_id).backbill_yuan == res.backbill_yuan
