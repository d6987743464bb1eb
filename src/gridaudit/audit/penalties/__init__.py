"""Back-billing and penalty charges (追补电费, 违约使用电费) from versioned schedules.

A schedule is a YAML file in ``schedules/`` (one per edition of 《供电营业规则》) chosen by the date
of the violation: the newest whose ``valid_from`` is on or before it. The 2024 edition is a slot the
utility fills from the official text; until it does, calculations for later dates are refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gridaudit.audit.errors import AuditError, ScheduleNotEntered

SCHEDULES = Path(__file__).parent / "schedules"
KINDS = {
    "theft": "窃电",
    "tariff_misuse": "高价低接",
    "capacity_overuse": "私自增容",
    "suspended_use": "擅自使用已暂停设备",
    "meter_moved": "私自迁移/更动计量装置",
}


@dataclass(frozen=True)
class Schedule:
    """One edition of the penalty rules."""

    id: str
    title_zh: str
    title_en: str
    valid_from: date
    filled: bool
    violations: dict[str, dict[str, Any]]
    path: Path


@dataclass
class PenaltyResult:
    """A calculation: back-billed kWh and ¥, penalty ¥, the article and the formula with numbers."""

    kind: str
    schedule: str
    article: str
    backbill_kwh: float
    backbill_yuan: float
    penalty_yuan: float
    formula_zh: str
    formula_en: str
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def total_yuan(self) -> float:
        """Back-billing plus penalty."""
        return round(self.backbill_yuan + self.penalty_yuan, 2)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON and the event log)."""
        return {**asdict(self), "total_yuan": self.total_yuan}


@cache
def load_schedules(folder: Path = SCHEDULES) -> tuple[Schedule, ...]:
    """Every schedule in ``folder``, oldest first."""
    out = []
    for path in sorted(folder.glob("*.yaml")):
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        vf = d["valid_from"]
        out.append(
            Schedule(
                id=str(d["id"]),
                title_zh=d["title"]["zh"],
                title_en=d["title"]["en"],
                valid_from=vf if isinstance(vf, date) else date.fromisoformat(str(vf)),
                filled=bool(d.get("filled")),
                violations=d.get("violations") or {},
                path=path,
            )
        )
    return tuple(sorted(out, key=lambda s: s.valid_from))


def schedule_for(day: date, folder: Path = SCHEDULES) -> Schedule:
    """The schedule in force on ``day``; refuses an unfilled slot (e.g. 2024) with a clear message."""
    found = [s for s in load_schedules(folder) if s.valid_from <= day]
    if not found:
        raise AuditError(f"{day} 早于所有违约金标准的生效日期", f"{day} is before every penalty schedule")
    s = found[-1]
    if not s.filled:
        raise ScheduleNotEntered(
            f"{day} 的违约行为适用{s.title_zh}（{s.valid_from} 起施行），其标准尚未录入；请供电企业依官方文本填写 "
            f"{s.path.name}（filled: true）后再计算，gridaudit 不会猜测数字",
            f"a violation on {day} falls under {s.title_en} (in force from {s.valid_from}), whose figures have not "
            f"been entered; the utility must fill {s.path.name} from the official text (filled: true) — "
            "gridaudit does not guess them",
        )
    return s


def _need(inputs: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if inputs.get(n) is None]
    if missing:
        raise AuditError(f"缺少参数: {', '.join(missing)}", f"missing inputs: {', '.join(missing)}")
    bad = [n for n in names if float(inputs[n]) < 0]
    if bad:
        raise AuditError(f"参数不能为负: {', '.join(bad)}", f"inputs cannot be negative: {', '.join(bad)}")


def _theft(r: dict, i: dict) -> tuple[float, float, float, str, str]:
    k = r["penalty_multiple"]
    _need(i, "tariff_yuan_kwh")
    price = float(i["tariff_yuan_kwh"])
    if i.get("kwh") is not None:
        _need(i, "kwh")
        kwh = float(i["kwh"])
        how_zh, how_en = f"窃电量 {kwh:g} kWh（已查明）", f"stolen energy {kwh:g} kWh (established)"
    else:
        _need(i, "capacity_kw")
        cap, mult = float(i["capacity_kw"]), float(i.get("multiplier") or 1)
        if i.get("hours") is not None:
            hours = float(i["hours"])
            t_zh, t_en = f"{hours:g} h", f"{hours:g} h"
        else:
            cls = "lighting" if i.get("lighting") else "power"
            days, hpd = r["unknown_duration_days"], r["hours_per_day"][cls]
            hours = days * hpd
            t_zh = f"{days} 天 × {hpd} h/天（时间无法查明，{'照明' if cls == 'lighting' else '电力'}用户）"
            t_en = f"{days} days × {hpd} h/day (duration unknown, {cls} customer)"
        kwh = cap * mult * hours
        how_zh = f"窃电量 = {cap:g} kW × 倍率 {mult:g} × {t_zh} = {kwh:,.0f} kWh"
        how_en = f"stolen energy = {cap:g} kW × multiplier {mult:g} × {t_en} = {kwh:,.0f} kWh"
    back = kwh * price
    pen = k * back
    return (
        kwh,
        back,
        pen,
        f"{how_zh}；补交电费 = {kwh:,.0f} × {price:g} 元/kWh = {back:,.2f} 元；"
        f"违约使用电费 = {k} × 补交电费 = {pen:,.2f} 元",
        f"{how_en}; back-billing = {kwh:,.0f} × ¥{price:g}/kWh = ¥{back:,.2f}; "
        f"penalty = {k} × back-billing = ¥{pen:,.2f}",
    )


def _tariff_misuse(r: dict, i: dict) -> tuple[float, float, float, str, str]:
    k = r["penalty_multiple"]
    _need(i, "high_price", "low_price")
    diff_price = float(i["high_price"]) - float(i["low_price"])
    if diff_price <= 0:
        raise AuditError("高价电价必须高于低价电价", "the high tariff must be above the low tariff")
    if i.get("kwh") is not None:
        _need(i, "kwh")
        kwh = float(i["kwh"])
        how_zh, how_en = f"使用期电量 {kwh:g} kWh", f"energy over the period used {kwh:g} kWh"
    else:
        _need(i, "monthly_kwh")
        months = i.get("months")
        unknown = months is None
        months = r["unknown_period_months"] if months is None else float(months)
        kwh = float(i["monthly_kwh"]) * months
        note_zh = "（起迄日期难以确定，按规定月数）" if unknown else ""
        note_en = " (start and end unknown: the schedule's default)" if unknown else ""
        how_zh = f"电量 = {float(i['monthly_kwh']):g} kWh/月 × {months:g} 月{note_zh} = {kwh:,.0f} kWh"
        how_en = f"energy = {float(i['monthly_kwh']):g} kWh/month × {months:g} months{note_en} = {kwh:,.0f} kWh"
    back = kwh * diff_price
    pen = k * back
    return (
        kwh,
        back,
        pen,
        f"{how_zh}；差额电费 = {kwh:,.0f} × ({float(i['high_price']):g} − {float(i['low_price']):g}) = "
        f"{back:,.2f} 元；违约使用电费 = {k} × 差额电费 = {pen:,.2f} 元",
        f"{how_en}; tariff difference = {kwh:,.0f} × ({float(i['high_price']):g} − {float(i['low_price']):g}) "
        f"= ¥{back:,.2f}; penalty = {k} × difference = ¥{pen:,.2f}",
    )


def _basic_charge(r: dict, i: dict, multiple_key: str, single_key: str, per_time: bool) -> tuple:
    _need(i, "kva")
    kva = float(i["kva"])
    if i.get("two_part"):
        _need(i, "basic_price", "months")
        k = r[multiple_key]
        back = kva * float(i["basic_price"]) * float(i["months"])
        pen = k * back
        return (
            0.0,
            back,
            pen,
            f"补交基本电费 = {kva:g} kVA × {float(i['basic_price']):g} 元/kVA·月 × {float(i['months']):g} 月 = "
            f"{back:,.2f} 元；违约使用电费 = {k} × 基本电费 = {pen:,.2f} 元（两部制）",
            f"back-billed basic charge = {kva:g} kVA × ¥{float(i['basic_price']):g}/kVA·month × "
            f"{float(i['months']):g} months = ¥{back:,.2f}; penalty = {k} × basic charge = ¥{pen:,.2f} (two-part)",
        )
    rate = r[single_key]
    times = float(i.get("times") or 1) if per_time else 1.0
    pen = rate * kva * times
    t_zh = f" × {times:g} 次" if per_time else ""
    t_en = f" × {times:g} times" if per_time else ""
    return (
        0.0,
        0.0,
        pen,
        f"违约使用电费 = {rate} 元/kW × {kva:g} kW{t_zh} = {pen:,.2f} 元（单一制）",
        f"penalty = ¥{rate}/kW × {kva:g} kW{t_en} = ¥{pen:,.2f} (single-part)",
    )


def _meter_moved(r: dict, i: dict) -> tuple:
    times = float(i.get("times") or 1)
    rate = r["residential_yuan_per_time"] if i.get("residential") else r["other_yuan_per_time"]
    who_zh, who_en = ("居民用户", "residential") if i.get("residential") else ("其他用户", "other customer")
    pen = rate * times
    return (
        0.0,
        0.0,
        pen,
        f"违约使用电费 = {rate} 元/次 × {times:g} 次（{who_zh}）= {pen:,.2f} 元",
        f"penalty = ¥{rate}/time × {times:g} ({who_en}) = ¥{pen:,.2f}",
    )


CALCULATORS = {
    "theft": _theft,
    "tariff_misuse": _tariff_misuse,
    "capacity_overuse": lambda r, i: _basic_charge(
        r, i, "two_part_penalty_multiple", "single_part_yuan_per_kw", per_time=False
    ),
    "suspended_use": lambda r, i: _basic_charge(
        r, i, "two_part_penalty_multiple", "single_part_yuan_per_kw_per_time", per_time=True
    ),
    "meter_moved": _meter_moved,
}


def calculate(kind: str, violation_date: date, folder: Path = SCHEDULES, **inputs: Any) -> PenaltyResult:
    """Back-billing and penalty for one violation under the schedule in force on ``violation_date``.

    Inputs by kind — theft: ``tariff_yuan_kwh`` and either ``kwh`` or ``capacity_kw`` [``multiplier``]
    [``hours`` | ``lighting``]; tariff_misuse: ``high_price``, ``low_price`` and ``kwh`` or ``monthly_kwh``
    [``months``]; capacity_overuse / suspended_use: ``kva`` and, if ``two_part``, ``basic_price`` and
    ``months`` (suspended_use single-part: [``times``]); meter_moved: [``residential``] [``times``].
    """
    if kind not in CALCULATORS:
        raise AuditError(
            f"未知违约类型 {kind}，可选: {', '.join(KINDS)}", f"unknown kind {kind}; kinds: {', '.join(KINDS)}"
        )
    sched = schedule_for(violation_date, folder)
    rule = sched.violations.get(kind)
    if rule is None:
        raise ScheduleNotEntered(
            f"{sched.title_zh} 未录入“{KINDS[kind]}”的标准", f"{sched.title_en} has no entry for {kind}"
        )
    kwh, back, pen, fz, fe = CALCULATORS[kind](rule, inputs)
    art = rule["article"]
    return PenaltyResult(
        kind=kind,
        schedule=sched.id,
        article=f"{art['zh']} / {art['en']}",
        backbill_kwh=round(kwh, 2),
        backbill_yuan=round(back, 2),
        penalty_yuan=round(pen, 2),
        formula_zh=f"{sched.title_zh}{art['zh']}：{fz}",
        formula_en=f"{sched.title_en} {art['en']}: {fe}",
        inputs={k: v for k, v in inputs.items() if v is not None},
    )
