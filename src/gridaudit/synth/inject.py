"""Customer- and meter-level irregularities: choose who, change the records or the physics, write truth.

Physics: theft lowers *metered* use only (the area total meter still sees the true use, so area
loss rises); contract violations change *true* use (tariff misuse, capacity overuse, use on a
suspended account) and are metered; a mapping error changes the *recorded* area only.
Staff irregularities on readings and bills live in ``billing.py``; process and seal ones in ``orders.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridaudit.synth.config import Model, Rates
from gridaudit.synth.customers import AGR, COM, CT_PRIMARY, IND, LI, NEVER, RES, Customers
from gridaudit.synth.profiles import SHAPES
from gridaudit.synth.timeaxis import TimeAxis, epoch_days
from gridaudit.synth.topology import Topology
from gridaudit.synth.truth import Truth, day_str

THEFTS = (
    "theft_bypass",
    "theft_intermittent",
    "theft_ct_short",
    "theft_cover_open",
    "theft_reverse",
    "theft_stopped_meter",
)
CONTRACTS = ("contract_tariff_misuse", "contract_capacity_overuse", "contract_suspended_use", "contract_no_bill")


@dataclass
class Case:
    """Customers chosen for one customer-level kind, with start/end day and strength."""

    kind: str
    idx: np.ndarray
    start: np.ndarray
    end: np.ndarray
    alpha: np.ndarray
    detail: list[dict] = field(default_factory=list)


def choose(
    rng: np.random.Generator,
    eligible: np.ndarray,
    n_all: int,
    rate: float,
    force: bool,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Draw Binomial(n_all, rate) items among ``eligible`` (a mask), optionally weighted; at least one when
    ``force``."""
    pool = np.flatnonzero(eligible)
    if rate <= 0 or len(pool) == 0:
        return np.array([], dtype=np.int64)
    k = min(len(pool), max(int(rng.binomial(n_all, rate)), 1 if force else 0))
    p = None if weight is None else weight[pool] / weight[pool].sum()
    return np.sort(rng.choice(pool, k, replace=False, p=p))


def plan_customers(
    rng: np.random.Generator, cu: Customers, ax: TimeAxis, topo: Topology, rates: Rates, m: Model, force: bool
) -> dict[str, Case]:
    """Choose customers for every theft and contract kind and change their records (status, dates)."""
    plan: dict[str, Case] = {}
    base = (cu.status == 0) & ~cu.new_conn

    hot = np.where(cu.area >= 0, topo.area_hotspot[np.maximum(cu.area, 0)], False)
    theft_weight = np.where(hot, m.theft_hotspot_weight, 1.0)

    def take(kind: str, extra: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        idx = choose(rng, base & ~cu.taken & extra, cu.n, getattr(rates, kind), force, weight)
        cu.taken[idx] = True
        return idx

    for kind in THEFTS:
        extra = cu.cat != LI
        if kind == "theft_ct_short":
            extra = (cu.mult_real > 1) if (cu.mult_real > 1).any() else extra
        idx = take(kind, extra, theft_weight)
        k = len(idx)
        cu.level[idx] *= rng.uniform(m.thief_level_min, m.thief_level_max, k)  # heavy users steal
        alpha = {
            "theft_bypass": rng.uniform(0.1, 0.6, k),
            "theft_intermittent": rng.uniform(0.0, 0.4, k),
            "theft_ct_short": rng.choice([1 / 3, 2 / 3], k),
            "theft_cover_open": rng.uniform(0.2, 0.6, k),
            "theft_reverse": rng.uniform(0.2, 0.6, k),
            "theft_stopped_meter": np.zeros(k),
        }[kind]
        plan[kind] = Case(kind, idx, ax.pick(rng, 15, 40, k), np.full(k, ax.days - 1), alpha)

    idx = take("contract_tariff_misuse", cu.cat == RES)
    k = len(idx)
    start = np.where(rng.random(k) < 0.5, ax.first_out, ax.pick(rng, 15, 40, k))
    plan["contract_tariff_misuse"] = Case(
        "contract_tariff_misuse", idx, start, np.full(k, ax.days - 1), rng.uniform(25, 80, k)
    )
    idx = take("contract_capacity_overuse", np.isin(cu.cat, [COM, IND, LI, AGR]))
    peak = cu.level[idx] * SHAPES[cu.cat[idx]].max(axis=1)
    factor = np.maximum(1.3, rng.uniform(1.3, 1.7, len(idx)) * cu.kva[idx] / np.maximum(peak, 1e-6))
    plan["contract_capacity_overuse"] = Case(
        "contract_capacity_overuse", idx, ax.pick(rng, 15, 40, len(idx)), np.full(len(idx), ax.days - 1), factor
    )
    idx = take("contract_suspended_use", cu.cat != LI)
    s = ax.pick(rng, 15, 40, len(idx))
    cu.status[idx] = np.where(rng.random(len(idx)) < 0.6, 1, 2)
    cu.status_day[idx] = s
    cu.secret_use[idx] = True
    plan["contract_suspended_use"] = Case(
        "contract_suspended_use", idx, s, np.full(len(idx), ax.days - 1), rng.uniform(0.4, 0.9, len(idx))
    )
    idx = take("contract_no_bill", cu.cat != LI)
    cu.new_conn[idx] = True
    cu.conn_day[idx] = ax.pick(rng, 10, 60, len(idx))
    plan["contract_no_bill"] = Case(
        "contract_no_bill", idx, cu.conn_day[idx], np.full(len(idx), ax.days - 1), np.ones(len(idx))
    )
    return plan


def plan_records(
    rng: np.random.Generator,
    cu: Customers,
    ax: TimeAxis,
    topo: Topology,
    rates: Rates,
    force: bool,
    truth: Truth,
    m: Model | None = None,
) -> None:
    """Mapping errors, wrong multipliers and overdue verification: record-only changes, with truth.

    Mis-mapped customers are drawn with weight ``level ** m.mapping_error_energy_power`` (by energy by
    default): a household of 5 kWh/day moves ~0.05 % of an area's supply, far below the day-to-day noise of
    the area's loss (tens to hundreds of kWh, BENCHMARKS.md issue 17), so no balance can see it.
    """
    m = m or Model()
    first, last = day_str(ax.sim_start, ax.first_out), day_str(ax.sim_start, ax.days - 1)
    feeder_areas = np.bincount(topo.area_feeder, minlength=len(topo.feeder_id))
    ok = (cu.area >= 0) & ~cu.taken & (feeder_areas[cu.feeder] >= 2)
    idx = choose(rng, ok, cu.n, rates.data_mapping_error, force)
    if m.mapping_error_energy_power != 0 and len(idx):
        # as many as before, drawn by energy from a child stream: every other kind's draws stay as they were
        child = rng.spawn(1)[0]
        idx = choose(child, ok, len(idx), 1.0, force, np.maximum(cu.level, 1e-6) ** m.mapping_error_energy_power)
    cu.taken[idx] = True
    for c in idx:
        a = int(cu.area[c])
        same = np.flatnonzero(topo.area_feeder == cu.feeder[c])
        pos = int(np.searchsorted(same, a))
        other = int(same[pos + 1] if pos + 1 < len(same) else same[pos - 1])
        cu.rec_area[c] = other
        truth.add(
            "data_mapping_error",
            "customer",
            cu.cid[c],
            first,
            last,
            true_area_id=topo.area_id[a],
            recorded_area_id=topo.area_id[other],
        )

    idx = choose(rng, (cu.mult_real > 1) & ~cu.taken, cu.n, rates.staff_wrong_multiplier, force)
    for c in idx:
        pt = 100.0 if cu.cat[c] == LI else 1.0
        options = CT_PRIMARY / 5 * pt
        wrong = float(rng.choice(options[options != cu.mult_real[c]]))
        # file_wrong: the meter file (and so billing and loss) uses a wrong ratio;
        # billing_wrong: the file is right but billing multiplies by another ratio
        variant = "file_wrong" if rng.random() < 0.5 else "billing_wrong"
        if variant == "file_wrong":
            cu.mult_file[c] = wrong
        cu.mult_bill[c] = wrong
        truth.add(
            "staff_wrong_multiplier",
            "meter",
            cu.mid[c],
            first,
            last,
            customer_id=cu.cid[c],
            variant=variant,
            real_multiplier=float(cu.mult_real[c]),
            file_multiplier=float(cu.mult_file[c]),
            billing_multiplier=wrong,
        )

    start_e, end_e = epoch_days(ax.start), epoch_days(ax.end)
    ok = (cu.removed_day == NEVER) & ~cu.new_conn
    idx = choose(rng, ok, cu.n, rates.meter_verification_overdue, force)
    cu.verification_epoch[idx] = rng.integers(start_e, end_e - 15, len(idx))
    for c in idx:
        due = int(cu.verification_epoch[c] - ax.day_epoch[0])
        truth.add(
            "meter_verification_overdue", "meter", cu.mid[c], day_str(ax.sim_start, due), last, customer_id=cu.cid[c]
        )


def apply_contract(
    rng: np.random.Generator, use: np.ndarray, cu: Customers, ax: TimeAxis, plan: dict[str, Case]
) -> None:
    """Change true use for tariff misuse (a shop's profile), capacity overuse and use while suspended."""
    c = plan["contract_tariff_misuse"]
    shop_week = np.where(ax.workday, 1.0, 0.8) * (1 + 0.6 * np.clip((ax.temperature - 24) / 8, 0, None))
    for i, s, lvl in zip(c.idx, c.start, c.alpha, strict=True):
        use[i, s:] = lvl * shop_week[s:] * rng.lognormal(-0.01, 0.12, ax.days - s)
    c = plan["contract_capacity_overuse"]
    for i, s, f in zip(c.idx, c.start, c.alpha, strict=True):
        use[i, s:] *= f
    c = plan["contract_suspended_use"]
    for i, s, f in zip(c.idx, c.start, c.alpha, strict=True):
        use[i, s:] *= f


def apply_theft(rng: np.random.Generator, use: np.ndarray, plan: dict[str, Case]) -> np.ndarray:
    """Metered use: true use with each thief's reduction between its start and (caught) end day."""
    metered = use.copy()
    for kind in THEFTS:
        c = plan[kind]
        for j, (i, s, e, a) in enumerate(zip(c.idx, c.start, c.end, c.alpha, strict=True)):
            span = slice(s, e + 1)
            if kind == "theft_intermittent":
                on = rng.random(e + 1 - s) < 0.4
                metered[i, span] = np.where(on, use[i, span] * a, use[i, span])
                c.detail.append({"share_of_days": round(float(on.mean()), 3)})
            else:
                metered[i, span] = use[i, span] * a
                c.detail.append({})
            stolen = float((use[i, span] - metered[i, span]).sum())
            c.detail[j]["stolen_kwh"] = round(stolen, 1)
            c.detail[j]["metered_share"] = round(float(a), 3)
    return metered


def customer_truth(cu: Customers, ax: TimeAxis, plan: dict[str, Case], truth: Truth) -> None:
    """One truth row per chosen customer of every theft and contract kind."""
    for kind in (*THEFTS, *CONTRACTS):
        c = plan[kind]
        for j, (i, s, e) in enumerate(zip(c.idx, c.start, c.end, strict=True)):
            det = dict(c.detail[j]) if j < len(c.detail) else {}
            if kind == "contract_tariff_misuse":
                det["shop_kwh_per_day"] = float(c.alpha[j])
            elif kind == "contract_capacity_overuse":
                det.update(contract_kva=float(cu.kva[i]), use_factor=float(c.alpha[j]))
            elif kind == "contract_suspended_use":
                det["status"] = ["active", "suspended", "closed"][int(cu.status[i])]
            truth.add(
                kind,
                "customer",
                cu.cid[i],
                day_str(ax.sim_start, s),
                day_str(ax.sim_start, e),
                meter_id=cu.mid[i],
                **det,
            )
