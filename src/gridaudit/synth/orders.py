"""Work orders (业扩与服务工单) with steps timed in official working days, and process irregularities.

Step limits (working days, ``Model.limit_*``) run from the previous step: plan_replied from accepted
(single / dual supply), design_reviewed from plan_replied, mid_checked from design_reviewed,
completion_checked from the step before it, energized from completion_checked. Low-voltage new
connections skip design review and mid-construction check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridaudit.synth.config import Model, Rates
from gridaudit.synth.customers import LI, RES, Customers
from gridaudit.synth.inject import choose
from gridaudit.synth.timeaxis import TimeAxis, WorkCalendar
from gridaudit.synth.topology import Topology
from gridaudit.synth.truth import Truth

US_DAY = 86_400_000_000
US_MIN = 60_000_000
LV_STEPS = [
    "accepted",
    "plan_replied",
    "completion_checked",
    "contract_signed",
    "meter_installed",
    "energized",
    "archived",
]
HV_STEPS = [
    "accepted",
    "plan_replied",
    "design_reviewed",
    "mid_checked",
    "completion_checked",
    "contract_signed",
    "meter_installed",
    "energized",
    "archived",
]
CAP_STEPS = ["accepted", "plan_replied", "completion_checked", "energized", "archived"]


@dataclass
class Orders:
    """Work orders and steps of a chunk (columns), plus the orders that touch seals."""

    orders: dict[str, list] = field(
        default_factory=lambda: {
            k: [] for k in ("order_id", "order_type", "accepted_at", "customer_id", "voltage_kv", "supply", "status")
        }
    )
    steps: dict[str, list] = field(
        default_factory=lambda: {k: [] for k in ("order_id", "step", "finished_at", "started_at", "handler_id")}
    )
    seal_jobs: list[tuple[int, int, str, str, str]] = field(default_factory=list)  # (cust, day, kind, order, staff)
    new_order: dict[int, str] = field(default_factory=dict)  # customer -> new_connection order


def _limits(m: Model, steps: list[str], dual: bool) -> dict[str, int]:
    lim = {
        "plan_replied": m.limit_plan_dual if dual else m.limit_plan_single,
        "design_reviewed": m.limit_design,
        "mid_checked": m.limit_mid,
        "completion_checked": m.limit_completion,
    }
    return {s: v for s, v in lim.items() if s in steps}


def _is_dual(cu: Customers, c: int) -> bool:
    """Whether customer ``c``'s orders are dual supply (one large-industrial customer in five)."""
    return bool(cu.cat[c] == LI and (cu.first + c) % 5 == 0)


class _OrderBook:
    def __init__(self, cu: Customers, ax: TimeAxis, topo: Topology, cal: WorkCalendar, rng: np.random.Generator):
        self.cu, self.ax, self.topo, self.cal, self.rng = cu, ax, topo, cal, rng
        self.out = Orders()
        self.count = np.zeros(cu.n, dtype=np.int64)
        self.sid = topo.staff["staff_id"]

    def ts(self, day_idx: int) -> int:
        return int(self.ax.day_epoch[0] + day_idx) * US_DAY + int(self.rng.integers(8 * 60 + 30, 17 * 60 + 30)) * US_MIN

    def new_id(self, c: int) -> str:
        self.count[c] += 1
        return f"W{self.cu.first + c + 1:07d}{self.count[c]:02d}"

    def add(self, c: int, otype: str, steps: list[tuple[str, int]], order_id: str | None = None) -> str:
        """Add an order for customer ``c`` with (step, day index) pairs in the given order."""
        cu, rng = self.cu, self.rng
        oid = order_id or self.new_id(c)
        stamps: list[int] = []
        for i, (_, d) in enumerate(steps):
            t = self.ts(d)
            if i and d == steps[i - 1][1] and t <= stamps[-1]:  # same day: later than the step before
                t = stamps[-1] + int(self.rng.integers(10, 120)) * US_MIN
            stamps.append(t)
        o = self.out.orders
        o["order_id"].append(oid)
        o["order_type"].append(otype)
        o["accepted_at"].append(stamps[0])
        o["customer_id"].append(cu.cid[c])
        o["voltage_kv"].append(float(cu.voltage[c]))
        o["supply"].append("dual" if _is_dual(cu, c) else "single")
        o["status"].append("archived")
        st = self.out.steps
        s = int(cu.station[c])
        prev = None
        for (name, _), t in zip(steps, stamps, strict=True):
            role = (
                "clerk"
                if name in ("accepted", "archived", "contract_signed")
                else ("reader" if name in ("meter_installed", "energized") else "inspector")
            )
            st["order_id"].append(oid)
            st["step"].append(name)
            st["finished_at"].append(t)
            st["started_at"].append(prev)
            st["handler_id"].append(self.sid[int(rng.choice(self.topo.station_staff[role][s]))])
            prev = t
        return oid


def _chain(book: _OrderBook, c: int, steps: list[str], accept_day: int, m: Model, overdue: str | None) -> list[int]:
    """Day indices of each step, legit durations within limits, ``overdue`` step past its limit."""
    cal, rng, ax = book.cal, book.rng, book.ax
    lim = _limits(m, steps, dual=_is_dual(book.cu, c))
    days = [accept_day]
    completion = None
    for name in steps[1:]:
        if name in lim:
            n = int(rng.integers(1, lim[name])) if name != overdue else lim[name] + int(rng.integers(2, 13))
        elif name == "energized":
            room = m.limit_energize - cal.between(ax.day_epoch[0] + completion, ax.day_epoch[0] + days[-1])
            n = int(rng.integers(0, max(1, int(room)))) if overdue != "energized" else m.limit_energize + 3
        else:
            n = int(rng.integers(0, 2))
        e = ax.day_epoch[0] + days[-1]
        days.append(int(cal.add(np.array([e]), np.array([n]))[0] - ax.day_epoch[0]))
        if name == "completion_checked":
            completion = days[-1]
    return days


def build_orders(
    rng: np.random.Generator,
    cu: Customers,
    ax: TimeAxis,
    topo: Topology,
    cal: WorkCalendar,
    m: Model,
    rates: Rates,
    force: bool,
    truth: Truth,
) -> _OrderBook:
    """New connections (setting each new customer's connection day), capacity increases, suspensions,
    closures, fault repairs, complaints and tariff changes, with overdue and out-of-order steps."""
    book = _OrderBook(cu, ax, topo, cal, rng)
    years = (ax.days - ax.first_out) / 365.0
    lo = ax.first_out
    # orders whose steps have limits: new connections and capacity increases
    new = np.flatnonzero(cu.new_conn)
    cap = np.flatnonzero(
        (cu.cat != RES) & ~cu.new_conn & (cu.status == 0) & (rng.random(cu.n) < m.capacity_change_rate_per_year * years)
    )
    limited = np.concatenate([new, cap])
    kinds = np.concatenate([np.zeros(len(new), dtype=int), np.ones(len(cap), dtype=int)])
    n_lim = len(limited)
    over_idx = choose(rng, np.ones(n_lim, dtype=bool), n_lim, rates.process_overdue_step, force)
    free = np.ones(n_lim, dtype=bool)
    free[over_idx] = False
    ooo = set(choose(rng, free, n_lim, rates.process_out_of_order, force).tolist())
    over = set(over_idx.tolist())
    for j, c in enumerate(limited):
        c = int(c)
        steps = (HV_STEPS if cu.cat[c] == LI else LV_STEPS) if kinds[j] == 0 else CAP_STEPS
        target = int(cu.conn_day[c]) if kinds[j] == 0 else int(ax.pick(rng, 0, 60))
        accept = target - (75 if cu.cat[c] == LI else 30) if kinds[j] == 0 else target
        accept = min(accept, ax.days - (130 if cu.cat[c] == LI else 75))
        overdue = str(rng.choice(list(_limits(m, steps, _is_dual(cu, c))) + ["energized"])) if j in over else None
        days = _chain(book, c, steps, accept, m, overdue)
        variant = None
        if j in ooo:
            ie, ic = steps.index("energized"), steps.index("completion_checked")
            days[ie] = days[ic] - int(rng.integers(1, 4))
            variant = "energized_before_completion_check"
        oid = book.add(
            c, "new_connection" if kinds[j] == 0 else "capacity_increase", list(zip(steps, days, strict=True))
        )
        if kinds[j] == 0:
            book.out.new_order[c] = oid
            cu.conn_day[c] = days[steps.index("energized")]
        if overdue:
            i = steps.index(overdue)
            frm = steps.index("completion_checked") if overdue == "energized" else i - 1
            taken = int(cal.between(ax.day_epoch[0] + days[frm], ax.day_epoch[0] + days[i]))
            limit = m.limit_energize if overdue == "energized" else _limits(m, steps, _is_dual(cu, c))[overdue]
            truth.add(
                "process_overdue_step",
                "work_order",
                oid,
                str(ax.day_of(days[frm])),
                str(ax.day_of(days[i])),
                step=overdue,
                from_step=steps[frm],
                limit_workdays=limit,
                workdays=taken,
                customer_id=cu.cid[c],
            )
        if variant:
            truth.add(
                "process_out_of_order",
                "work_order",
                oid,
                str(ax.day_of(min(days))),
                str(ax.day_of(max(days))),
                variant=variant,
                customer_id=cu.cid[c],
            )
    cu.conn_epoch[new] = cu.conn_day[new] + ax.day_epoch[0]
    cu.installed_epoch[new] = cu.conn_epoch[new]
    cu.verification_epoch[new] = cu.installed_epoch[new] + m.verification_years * 365

    # suspensions and closures end on the status day
    for c in np.flatnonzero(cu.status > 0):
        d = int(cu.status_day[c])
        a = d - int(rng.integers(2, 6))
        oid = book.add(int(c), "suspension" if cu.status[c] == 1 else "closure", [("accepted", a), ("archived", d)])
        if cu.status[c] == 2 and not cu.secret_use[c]:
            book.out.seal_jobs.append((int(c), d, "all", oid, book.out.steps["handler_id"][-1]))
    # service orders
    for otype, rate in (
        ("fault_repair", m.fault_repair_rate_per_year),
        ("complaint", m.complaint_rate_per_year),
        ("tariff_change", m.tariff_change_rate_per_year),
    ):
        who = np.flatnonzero((rng.random(cu.n) < rate * years) & (cu.status == 0))
        for c in who:
            lo_c = max(lo, int(cu.conn_day[c]) + 1)
            if lo_c >= ax.days - 5:
                continue
            d = int(rng.integers(lo_c, ax.days - 4))
            done = d + int(rng.integers(0, 3))
            oid = book.add(int(c), otype, [("accepted", d), ("archived", done)])
            if otype == "fault_repair":
                book.out.seal_jobs.append((int(c), d, "box", oid, book.out.steps["handler_id"][-1]))
    return book


def adjustment_orders(book: _OrderBook, jobs: list[tuple[int, int, str]]) -> None:
    """Complaint orders approving bill adjustments (accepted a few days before the bill)."""
    for c, day, oid in jobs:
        a = day - int(book.rng.integers(2, 8))
        book.add(c, "complaint", [("accepted", a), ("archived", day)], order_id=oid)


def replacement_orders(book: _OrderBook, idx: np.ndarray, days: np.ndarray) -> None:
    """A ``meter_replacement`` order per replaced meter: accepted 1–5 days before, meter installed on the swap
    day, archived within 2 days; the installer moves the seals to the new meter under the order."""
    for c, d in zip(idx, days, strict=True):
        d = int(d)
        accepted = d - int(book.rng.integers(1, 6))
        archived = min(d + int(book.rng.integers(0, 3)), book.ax.days - 1)
        steps = [("accepted", accepted), ("meter_installed", d), ("archived", archived)]
        oid = book.add(int(c), "meter_replacement", steps)
        installer = book.out.steps["handler_id"][-2]
        book.out.seal_jobs.append((int(c), d, "replace", oid, installer))
