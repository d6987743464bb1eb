"""Meter replacements (换表): the old meter is removed (final reading taken) and a new one installed.

A background share of customer meters is replaced during the run (rotation ahead of verification, faults):
a ``meter_replacement`` work order (accepted → meter_installed on the swap day → archived), the old meter's
seals removed and three new ones applied under the order, the old meter's ``removed_on`` and the new
meter's ``installed_on`` both the swap day. The old meter counts the swap day (its AMI register and its final
reading, dated the swap day, are the register at the end of that day); the new meter counts from the next
day, starting from a small factory register (its install reading, dated the swap day). CT-metered customers
sometimes get another CT ratio with the new meter. Both readings belong to the billing period of the next
scheduled read, whose bill is the old meter's last stretch × its multiplier + the new meter's first stretch ×
its multiplier (bills keep their monthly spans).

Injected (``staff_replaced_no_final_read``): the final reading of the old meter is never recorded, so the
old meter's energy since its last scheduled reading is never billed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridaudit.synth.ami import Registers
from gridaudit.synth.config import Model, Rates
from gridaudit.synth.customers import CT_PRIMARY, LI, NEVER, Customers
from gridaudit.synth.inject import choose
from gridaudit.synth.timeaxis import TimeAxis, epoch_days
from gridaudit.synth.truth import Truth, day_str

KIND = "staff_replaced_no_final_read"


@dataclass
class Swaps:
    """Replaced meters of a chunk; per-customer ``cut`` (swap day or NEVER) and ``slot`` (index or -1)."""

    idx: np.ndarray  # customers whose meter is replaced (chunk index, sorted)
    day: np.ndarray  # swap day index: the old meter's last day
    new_mid: list[str]
    new_mult: np.ndarray
    start: np.ndarray  # new meter's starting register (before the multiplier)
    no_final: np.ndarray  # injected: the old meter's final reading never recorded
    cut: np.ndarray
    slot: np.ndarray

    def meter_index(self, cust: np.ndarray, day: np.ndarray, n: int) -> np.ndarray:
        """Index of the meter counting customer ``cust`` on ``day`` in ``cu.mid + new_mid`` (``n`` customers)."""
        return np.where(day > self.cut[cust], n + self.slot[cust], cust)

    def current_ids(self, mids: list[str]) -> list[str]:
        """The meter id in service at the end of the run, per customer."""
        out = list(mids)
        for j, c in enumerate(self.idx):
            out[int(c)] = self.new_mid[j]
        return out


def _read_days(cu: Customers, ax: TimeAxis, c: int) -> set[int]:
    first_idx = [(d - ax.sim_start).days for d in ax.month_first]
    return {min(f + int(cu.read_day[c]) - 1, ax.days - 1) for f in first_idx}


def plan_replacements(
    rng: np.random.Generator,
    cu: Customers,
    ax: TimeAxis,
    m: Model,
    rates: Rates,
    force: bool,
    truth: Truth,
) -> Swaps:
    """Choose replaced meters (active customers without another irregularity), their swap days, new meters,
    and the replacements whose final reading goes missing (truth)."""
    years = (ax.days - ax.first_out) / 365.0
    end_e = epoch_days(ax.end)
    ok = (
        (cu.status == 0)
        & ~cu.new_conn
        & ~cu.taken
        & (cu.mult_file == cu.mult_real)
        & (cu.mult_bill == cu.mult_real)
        & (cu.verification_epoch > end_e)
    )
    lo, hi = ax.first_out + 3, ax.days - m.interval_days - 3
    n = cu.n
    cut = np.full(n, NEVER, dtype=np.int64)
    slot = np.full(n, -1, dtype=np.int64)
    if hi <= lo:
        idx = np.array([], dtype=np.int64)
    else:
        idx = choose(rng, ok, n, min(1.0, m.meter_replacement_rate_per_year * years), force)
    day = rng.integers(lo, max(hi, lo + 1), len(idx))
    for j, c in enumerate(idx):  # never on a read day or the day after (the final reading stands apart)
        reads = _read_days(cu, ax, int(c))
        while day[j] in reads or day[j] - 1 in reads:
            day[j] += 1
    k = len(idx)
    new_mult = cu.mult_real[idx].copy()
    change = (new_mult > 1) & (rng.random(k) < m.replacement_ct_change_share)
    for r in np.flatnonzero(change):
        pt = 100.0 if cu.cat[idx[r]] == LI else 1.0
        i = int(np.argmin(np.abs(CT_PRIMARY / 5 * pt - new_mult[r])))
        i = i + 1 if i + 1 < len(CT_PRIMARY) else i - 1
        new_mult[r] = CT_PRIMARY[i] / 5 * pt
    start = np.round(rng.uniform(0, 5, k), 2)
    cut[idx] = day
    slot[idx] = np.arange(k)
    # the old meter was put in well before the swap: rotated ahead of its verification, or failed
    term = m.verification_years * 365
    swap_e = day + int(ax.day_epoch[0])
    cu.installed_epoch[idx] = np.maximum(cu.conn_epoch[idx], swap_e - term + rng.integers(0, 180, k))
    cu.verification_epoch[idx] = cu.installed_epoch[idx] + term
    new_mid = [f"{cu.mid[int(c)]}B" for c in idx]
    no_final = np.zeros(k, dtype=bool)
    for j in choose(rng, np.ones(k, dtype=bool), k, rates.staff_replaced_no_final_read, force):
        no_final[j] = True
        c = int(idx[j])
        d = day_str(ax.sim_start, int(day[j]))
        truth.add(KIND, "meter", cu.mid[c], d, d, customer_id=cu.cid[c], new_meter_id=new_mid[j], removed_on=d)
    return Swaps(idx, day, new_mid, new_mult, start, no_final, cut, slot)


def swap_registers(sw: Swaps, regs: Registers, cu: Customers) -> None:
    """From the day after each swap, the registers count on the new meter (its start + energy / its ratio)."""
    for j, c in enumerate(sw.idx):
        s = int(sw.day[j])
        if s + 1 >= regs.reg_h.shape[1]:
            continue
        seg = regs.reg_h[c, s + 1 :] - regs.reg_h[c, s]
        start_h = int(round(sw.start[j] * 100))
        new = start_h + np.round(seg * cu.mult_real[c] / sw.new_mult[j]).astype(np.int64)
        regs.reg_h[c, s + 1 :] = new
        regs.kwh[c, s + 1 :] = np.diff(new, prepend=start_h) / 100.0


def swap_readings(sw: Swaps, regs: Registers, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Final readings of the old meters (unless injected missing) and install readings of the new ones:
    (customer, day, meter index, value), the final reading before the install reading on the same day."""
    fin = np.flatnonzero(~sw.no_final)
    cust = np.concatenate([sw.idx[fin], sw.idx])
    day = np.concatenate([sw.day[fin], sw.day])
    meter = np.concatenate([sw.idx[fin], n + np.arange(len(sw.idx))])
    value = np.concatenate([regs.reg_h[sw.idx[fin], sw.day[fin]] / 100.0, sw.start])
    return cust, day, meter, value
