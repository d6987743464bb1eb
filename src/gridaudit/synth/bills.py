"""Bills (核算) and payments (收费), with the clerks' and collectors' irregularities.

A bill for period P: kwh = (last reading in P − the reading before it) × multiplier in the meter file (a
replaced meter: the old and the new meter's stretches at their own multipliers) + adjustment_kwh;
amount_yuan = energy charge of kwh under the customer's tariff version in force on the read day — tier by
tier for residential tiers, peak/flat/valley quantities for time-of-use codes (the split follows the
customer's hourly load shape), kwh × price otherwise — (+ contract kVA × monthly demand price for two-part
tariffs); adjustment_yuan = the charge with the adjustment − the charge without it.
An approved adjustment names a complaint work order in ``adjustment_order_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridaudit.synth.ami import shape_index
from gridaudit.synth.config import Model, Rates
from gridaudit.synth.customers import Customers
from gridaudit.synth.inject import Case, choose
from gridaudit.synth.profiles import SHAPES
from gridaudit.synth.readings import Readings
from gridaudit.synth.tariffs import CODE_INDEX, CODES, PEAK_HOURS, TIER1_KWH, VALLEY_HOURS, TariffBook
from gridaudit.synth.timeaxis import TimeAxis
from gridaudit.synth.topology import Topology
from gridaudit.synth.truth import Truth

US_DAY = 86_400_000_000
US_MIN = 60_000_000
CHANNELS = np.array(["wechat", "alipay", "bank", "counter"])


@dataclass
class Bills:
    """Bill rows; ``adjust_orders`` lists (customer, day, order_id) of approved adjustments."""

    cols: dict
    adjust_orders: list[tuple[int, int, str]]
    payments: dict


def build_bills(
    rng: np.random.Generator,
    cu: Customers,
    rd: Readings,
    ax: TimeAxis,
    tb: TariffBook,
    topo: Topology,
    m: Model,
    rates: Rates,
    force: bool,
    truth: Truth,
    no_bill: Case,
    new_mult: np.ndarray,
) -> Bills:
    """Bills from consecutive readings, then virtual/withheld quantities, wrong tariffs and adjustments."""
    # the last reading of each (customer, period) closes the bill; the reading before it opens it
    last = np.ones(len(rd.cust), dtype=bool)
    last[:-1] = (rd.cust[:-1] != rd.cust[1:]) | (rd.period[:-1] != rd.period[1:])
    li = np.flatnonzero(last)
    # opening reading: the previous period's closing reading; for a new meter, its install reading
    first_in_group = np.ones(len(rd.cust), dtype=bool)
    first_in_group[1:] = (rd.cust[1:] != rd.cust[:-1]) | (rd.period[1:] != rd.period[:-1])
    gs = np.maximum.accumulate(np.where(first_in_group, np.arange(len(rd.cust)), 0))[li]
    same = (gs >= 1) & (rd.cust[np.maximum(gs - 1, 0)] == rd.cust[li])
    prev = np.where(same, gs - 1, np.where(li > gs, gs, -1))
    ok = (prev >= 0) & (rd.period[li] >= 1)
    ok &= ~np.isin(rd.cust[li], no_bill.idx)
    li, prev = li[ok], prev[ok]
    c = rd.cust[li]
    k = rd.period[li]
    # a meter replaced inside the bill: the old meter's stretch at its ratio + the new meter's at its ratio
    first_of_meter = np.ones(len(rd.cust), dtype=bool)
    first_of_meter[1:] = rd.meter[1:] != rd.meter[:-1]
    ms = np.maximum.accumulate(np.where(first_of_meter, np.arange(len(rd.cust)), 0))[li]
    mult = np.concatenate([cu.mult_bill, new_mult])[rd.meter[li]]
    crossed = ms > prev
    metered = np.where(
        crossed,
        (rd.value[li] - rd.value[ms]) * mult + (rd.value[np.maximum(ms - 1, 0)] - rd.value[prev]) * cu.mult_bill[c],
        (rd.value[li] - rd.value[prev]) * mult,
    )
    metered = np.round(metered, 2)
    bill_id = _ids("B", cu, c, [p.replace("-", "") for p in ax.periods], k)
    kwh = metered.copy()
    code = cu.code[c].copy()
    read_epoch = ax.day_epoch[rd.day[li]]
    version = tb.version(read_epoch)
    adj = np.zeros(len(c))
    adj_order: list[str | None] = [None] * len(c)
    clerk = cu.clerk[c]
    free = np.ones(len(c), dtype=bool)
    sid = topo.staff["staff_id"]

    def mark(kind: str, j: int, **detail: object) -> None:
        free[j] = False
        truth.add(
            kind,
            "bill",
            str(bill_id[j]),
            ax.periods[k[j]],
            ax.periods[k[j]],
            customer_id=cu.cid[c[j]],
            clerk_id=sid[clerk[j]],
            metered_kwh=float(metered[j]),
            **detail,
        )

    for j in choose(rng, free & (metered > 0), len(c), rates.staff_virtual_qty, force):
        kwh[j] = round(metered[j] + max(metered[j] * rng.uniform(0.1, 0.5), 20.0), 2)
        mark("staff_virtual_qty", j, billed_kwh=float(kwh[j]))
    for j in choose(rng, free & (metered > 20), len(c), rates.staff_withheld_qty, force):
        kwh[j] = round(metered[j] * rng.uniform(0.3, 0.8), 2)
        mark("staff_withheld_qty", j, billed_kwh=float(kwh[j]))
    # the price version a bill is charged at (a stale version for injected wrong tariffs)
    charged = version.copy()
    no_tiers = np.zeros(len(c), dtype=bool)
    for j in choose(rng, free, len(c), rates.staff_wrong_tariff, force):
        stale = 1 - version[j]
        u = rng.random()
        if tb.flat[code[j], stale] != tb.flat[code[j], version[j]] and u < 0.5:
            mark(
                "staff_wrong_tariff",
                j,
                variant="stale_version",
                tariff_code=CODES[code[j]],
                price_used=float(tb.flat[code[j], stale]),
                price_in_force=float(tb.flat[code[j], version[j]]),
            )
            charged[j] = stale
        elif tb.tiered[code[j]] and metered[j] > TIER1_KWH + 60 and u < 0.5:
            mark("staff_wrong_tariff", j, variant="tiers_ignored", tariff_code=CODES[code[j]])
            no_tiers[j] = True
        else:
            other = CODE_INDEX["RES-LV"] if CODES[code[j]] != "RES-LV" else CODE_INDEX["COM-LV"]
            mark("staff_wrong_tariff", j, variant="other_code", tariff_code=CODES[code[j]], billed_code=CODES[other])
            code[j] = other
    bad = np.isin(clerk, topo.bad_clerks)
    for j in choose(rng, free & bad & (metered > 20), len(c), rates.staff_unapproved_adjustment, force):
        adj[j] = -round(metered[j] * rng.uniform(0.2, 0.6), 2)
        kwh[j] = round(metered[j] + adj[j], 2)
        mark("staff_unapproved_adjustment", j, adjustment_kwh=float(adj[j]))
    adjust_orders = []
    for j in choose(rng, free & (metered > 20), len(c), m.legit_adjustment_rate, False):
        adj[j] = round(float(rng.choice([-1, 1]) * metered[j] * rng.uniform(0.05, 0.3)), 2)
        kwh[j] = round(metered[j] + adj[j], 2)
        adj_order[j] = f"WA{bill_id[j][1:]}"
        adjust_orders.append((int(c[j]), int(rd.day[li[j]]), adj_order[j]))

    # time-of-use quantities: the energy read off the meter split by the customer's hourly shape
    tou = tb.tou[code]
    shape = SHAPES[shape_index(cu, np.zeros(cu.n, dtype=bool))[c]]
    noise = rng.lognormal(0, 0.04, (2, len(c)))
    read_kwh = kwh - adj
    peak = np.where(tou, np.round(read_kwh * shape[:, PEAK_HOURS].sum(axis=1) * noise[0], 2), np.nan)
    valley = np.where(tou, np.round(read_kwh * shape[:, VALLEY_HOURS].sum(axis=1) * noise[1], 2), np.nan)
    charge = tb.energy_charge(code, charged, kwh, peak, valley)
    charge_read = tb.energy_charge(code, charged, read_kwh, peak, valley)
    flat_all = kwh * tb.flat[code, charged]
    charge = np.where(no_tiers, flat_all, charge)
    demand = tb.demand[code] * cu.kva[c]
    amount = np.round(charge + demand, 2)
    issued = read_epoch + rng.integers(1, 4, len(c))
    has_adj = adj != 0
    cols = {
        "bill_id": pa.array(bill_id, pa.string()),
        "customer_id": _take(cu.cid, c),
        "period": _take(ax.periods, k),
        "kwh": kwh,
        "tariff_code": _take(CODES, code),
        "amount_yuan": amount,
        "adjustment_kwh": (adj, ~has_adj),
        "adjustment_yuan": (np.round(charge - charge_read, 2), ~has_adj),
        "adjustment_order_id": adj_order,
        "clerk_id": _take(sid, clerk),
        "issued_on": issued.astype(np.int32),
        "peak_kwh": (np.nan_to_num(peak), ~tou),
        "valley_kwh": (np.nan_to_num(valley), ~tou),
    }
    pays = build_payments(rng, cu, c, bill_id, amount, issued, m, rates, force, truth, sid, ax)
    return Bills(cols, adjust_orders, pays)


def build_payments(
    rng: np.random.Generator,
    cu: Customers,
    c: np.ndarray,
    bill_id: np.ndarray,
    amount: np.ndarray,
    issued: np.ndarray,
    m: Model,
    rates: Rates,
    force: bool,
    truth: Truth,
    sid: list[str],
    ax: TimeAxis,
) -> dict:
    """One payment per paid bill; counter payments posted by the collector, some never or late."""
    paid = (amount > 0) & (rng.random(len(c)) >= m.unpaid_share)
    j = np.flatnonzero(paid)
    paid_at = (issued[j].astype(np.int64) + rng.integers(0, 26, len(j))) * US_DAY + rng.integers(
        8 * 60, 21 * 60, len(j)
    ) * US_MIN
    channel = CHANNELS[np.searchsorted([0.35, 0.6, 0.8], rng.random(len(j)), side="right")]
    counter = channel == "counter"
    delay = np.where(counter, rng.integers(30, 20 * 60, len(j)), rng.integers(1, 30, len(j))) * US_MIN
    posted = paid_at + delay
    posted_null = np.zeros(len(j), dtype=bool)
    pid = np.char.add("P", np.char.lstrip(bill_id[j], "B")) if len(j) else np.array([], dtype=str)
    collector = [sid[cu.collector[c[i]]] if counter[n] else None for n, i in enumerate(j)]
    for n in choose(rng, counter, len(j), rates.staff_unposted_payment, force):
        late = rng.random() < 0.6
        if late:
            posted[n] = paid_at[n] + int(rng.integers(10, 46)) * US_DAY
        else:
            posted_null[n] = True
        paid_day = str(np.datetime64(int(paid_at[n]), "us").astype("datetime64[D]"))
        truth.add(
            "staff_unposted_payment",
            "customer",
            cu.cid[c[j[n]]],
            paid_day,
            paid_day,
            payment_id=str(pid[n]),
            collector_id=collector[n],
            amount_yuan=float(amount[j[n]]),
            posted="late" if late else "never",
        )
    return {
        "payment_id": pa.array(pid, pa.string()),
        "customer_id": _take(cu.cid, c[j]),
        "amount_yuan": amount[j],
        "paid_at": paid_at,
        "bill_id": pa.array(bill_id[j], pa.string()),
        "posted_at": (posted, posted_null),
        "collector_id": collector,
        "channel": pa.array(channel, pa.string()),
    }


def _ids(prefix: str, cu: Customers, c: np.ndarray, suffixes: list[str], k: np.ndarray) -> np.ndarray:
    """``prefix`` + customer number + suffix[k] for each row (vectorised through Arrow)."""
    nums = pa.array(cu.cid).take(pa.array(c))
    joined = pc.binary_join_element_wise(
        prefix, pc.utf8_slice_codeunits(nums, 1), pa.array(suffixes).take(pa.array(k)), ""
    )
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=str)


def _take(values: list[str], idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as an Arrow string array."""
    return pa.array(values, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))
