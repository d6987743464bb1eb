"""Monthly meter readings (抄表) on each area's scheduled read day, with reader irregularities.

``readings.reading`` is the register at the end of ``read_on`` (before the multiplier), equal to
``daily_usage.register`` of that day when the reader is honest. The opening month (before
``start``) is read too, so the first billing month has a previous reading. New meters get an
install reading on their connection day; suspended and closed accounts a final reading; a replaced
meter a final reading and its successor an install reading on the swap day (``replacements.py``), in the
billing period of the next scheduled read, whose bill carries both meters' energy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridaudit.synth.ami import Registers
from gridaudit.synth.config import Model, Rates
from gridaudit.synth.customers import Customers
from gridaudit.synth.inject import choose
from gridaudit.synth.replacements import Swaps, swap_readings
from gridaudit.synth.timeaxis import TimeAxis
from gridaudit.synth.topology import Topology
from gridaudit.synth.truth import Truth

READ_TYPES = ["actual", "estimated", "ami", "customer"]
ACTUAL, ESTIMATED, AMI, CUSTOMER = range(4)


@dataclass
class Readings:
    """Reading rows sorted by customer and day."""

    cust: np.ndarray
    meter: np.ndarray  # index into cu.mid + Swaps.new_mid
    period: np.ndarray  # index into ax.periods
    day: np.ndarray  # day index
    value: np.ndarray  # register (before multiplier)
    rtype: np.ndarray
    regular: np.ndarray  # a scheduled monthly read (not install / final)


def _digit_swap(v: float, rng: np.random.Generator) -> float:
    s = f"{int(v):d}"
    pairs = [i for i in range(len(s) - 1) if s[i] != s[i + 1]]
    if not pairs:
        return v * 10
    i = int(rng.choice(pairs))
    return float(s[:i] + s[i + 1] + s[i] + s[i + 2 :]) + (v - int(v))


def build_readings(
    rng: np.random.Generator,
    cu: Customers,
    regs: Registers,
    ax: TimeAxis,
    topo: Topology,
    m: Model,
    rates: Rates,
    force: bool,
    truth: Truth,
    sw: Swaps,
) -> Readings:
    """Scheduled, install and final readings of every customer meter, with estimated/missed/wrong reads."""
    first_idx = np.array([(d - ax.sim_start).days for d in ax.month_first])
    rd = first_idx[None, :] + cu.read_day[:, None] - 1  # (n, K)
    rd = np.minimum(rd, ax.days - 1)
    alive = (rd > cu.conn_day[:, None]) & (rd < np.minimum(cu.status_day, cu.removed_day)[:, None])
    c_idx, k_idx = np.nonzero(alive)
    day = rd[c_idx, k_idx]
    meter = sw.meter_index(c_idx, day, cu.n)
    mids = cu.mid + sw.new_mid
    value = cu_value = regs.reg_h[c_idx, day] / 100.0
    rtype = np.full(len(c_idx), ACTUAL)
    on_ami = cu.ami[c_idx] & regs.reported[c_idx, np.maximum(day, ax.first_out)] & (day >= ax.first_out)
    r = rng.random(len(c_idx))
    rtype[on_ami & (r < m.ami_read_share)] = AMI
    manual_only = ~cu.ami[c_idx]
    rtype[manual_only & (r < m.legit_estimated_share)] = ESTIMATED
    rtype[manual_only & (r >= m.legit_estimated_share) & (r < m.legit_estimated_share + 0.01)] = CUSTOMER
    value = cu_value.copy()
    keep = np.ones(len(c_idx), dtype=bool)

    # consumption of the period in register units (for estimates), from the true registers
    prev_day = np.where(k_idx > 0, rd[c_idx, np.maximum(k_idx - 1, 0)], day)
    prev_true = regs.reg_h[c_idx, np.maximum(prev_day, 0)] / 100.0
    cons = np.maximum(value - prev_true, 0)
    # a period in which the meter was replaced is read off both meters, never estimated
    swapped = (sw.cut[c_idx] < day) & (sw.cut[c_idx] >= prev_day)
    rtype[swapped & (rtype == ESTIMATED)] = ACTUAL
    est = ~on_ami & (rtype == ESTIMATED)
    value[est] = prev_true[est] + cons[est] * rng.uniform(0.75, 0.98, int(est.sum()))

    in_window = (k_idx >= 1) & (day >= cu.conn_day[c_idx] + 1)
    estimators = np.isin(cu.reader[c_idx], topo.estimating_readers)
    # install readings (new meters), final readings (suspension / closure), meter replacements
    inst = np.flatnonzero(cu.new_conn & (cu.conn_day >= 0))
    stop = np.flatnonzero((cu.status > 0) & (cu.status_day < ax.days))
    own_c = np.concatenate([inst, stop])
    own_day = np.concatenate([cu.conn_day[inst], cu.status_day[stop]])
    sw_c, sw_day, sw_meter, sw_val = swap_readings(sw, regs, cu.n)
    # the swap's readings belong to the billing period of the next scheduled read (换表电量并入当期电费)
    nxt = (rd[sw_c] < sw_day[:, None]).sum(axis=1)
    sw_period = np.where(nxt < rd.shape[1], nxt, ax.month_idx[sw_day])
    # reader irregularities only where the scheduled read is the customer's one reading of its period
    busy = np.zeros(rd.shape, dtype=bool)
    busy[own_c, ax.month_idx[own_day]] = True
    busy[sw_c, sw_period] = True
    free = in_window & ~swapped & ~busy[c_idx, k_idx]
    idx = choose(rng, free & estimators & on_ami, len(c_idx), rates.staff_estimated_read, force)
    for j in idx:
        c = c_idx[j]
        f = rng.uniform(0.5, 0.85) if rng.random() < 0.5 else rng.uniform(1.15, 1.6)
        guess = prev_true[j] + cons[j] * f
        if abs(guess - cu_value[j]) * cu.mult_file[c] < 5:
            guess = cu_value[j] + 5 / cu.mult_file[c] + 1
        value[j] = round(max(guess, prev_true[j]), 2)
        rtype[j] = ACTUAL
        free[j] = False
        truth.add(
            "staff_estimated_read",
            "meter",
            mids[meter[j]],
            ax.periods[k_idx[j]],
            ax.periods[k_idx[j]],
            customer_id=cu.cid[c],
            reader_id=topo.staff["staff_id"][cu.reader[c]],
            read_on=str(ax.day_of(day[j])),
            true_register=float(cu_value[j]),
            read_register=float(value[j]),
        )
    idx = choose(rng, free, len(c_idx), rates.staff_missed_read, force)
    keep[idx] = False
    free[idx] = False
    for j in idx:
        c = c_idx[j]
        truth.add(
            "staff_missed_read",
            "meter",
            mids[meter[j]],
            ax.periods[k_idx[j]],
            ax.periods[k_idx[j]],
            customer_id=cu.cid[c],
            reader_id=topo.staff["staff_id"][cu.reader[c]],
        )
    idx = choose(rng, free & (value >= 10), len(c_idx), rates.staff_wrong_read, force)
    for j in idx:
        c = c_idx[j]
        how = "digit_swap" if rng.random() < 0.5 else "decimal_shift"
        wrong = _digit_swap(value[j], rng) if how == "digit_swap" else value[j] * rng.choice([10.0, 0.1])
        truth.add(
            "staff_wrong_read",
            "meter",
            mids[meter[j]],
            ax.periods[k_idx[j]],
            ax.periods[k_idx[j]],
            customer_id=cu.cid[c],
            reader_id=topo.staff["staff_id"][cu.reader[c]],
            error=how,
            true_register=float(value[j]),
            read_register=round(float(wrong), 2),
        )
        value[j] = round(wrong, 2)
        rtype[j] = ACTUAL

    ex_c = np.concatenate([own_c, sw_c])
    ex_day = np.concatenate([own_day, sw_day])
    ex_val = np.concatenate([regs.reg_h[own_c, own_day] / 100.0, sw_val])
    cust = np.concatenate([c_idx[keep], ex_c])
    dayall = np.concatenate([day[keep], ex_day])
    meter_all = np.concatenate([meter[keep], own_c, sw_meter])
    order = np.lexsort((meter_all >= cu.n, dayall, cust))  # an old meter's final reading before the new one's
    return Readings(
        cust=cust[order],
        meter=meter_all[order],
        period=np.concatenate([k_idx[keep], ax.month_idx[own_day], sw_period])[order],
        day=dayall[order],
        value=np.round(np.concatenate([value[keep], ex_val]), 2)[order],
        rtype=np.concatenate([rtype[keep], np.full(len(ex_c), ACTUAL)])[order],
        regular=np.concatenate([np.ones(int(keep.sum()), dtype=bool), np.zeros(len(ex_c), dtype=bool)])[order],
    )
