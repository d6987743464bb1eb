"""Metering data collection (用电信息采集): registers, daily frozen kWh, area and feeder supply, load curves.

* Customer register (before the multiplier) accumulates *metered* energy / real CT ratio, in 0.01 steps.
  AMI data is in register units like readings: ``daily_usage.kwh`` = register difference of the day and
  ``daily_usage.register`` the frozen register at the end of ``day``; energy = kwh × meters.multiplier.
  Interval ``kwh`` likewise; ``current_a`` is the meter-terminal (CT secondary) current.
* Area total = Σ true use of the customers physically on the area × (1 + technical loss), the loss
  rising with load; feeder head = (Σ area totals + Σ true use of its large customers) × (1 + feeder loss).
* Gaps: meters in not-yet-upgraded areas never report; other meters drop out for short spells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gridaudit.synth.config import Model
from gridaudit.synth.customers import LI, RES, Customers, ct_multiplier
from gridaudit.synth.profiles import SHAPES
from gridaudit.synth.timeaxis import TimeAxis
from gridaudit.synth.topology import Topology

US_DAY = 86_400_000_000
US_HOUR = 3_600_000_000


@dataclass
class Registers:
    """Register values (hundredths, int64) at the end of each day and the AMI row mask."""

    reg_h: np.ndarray  # (meters, days)
    kwh: np.ndarray  # (meters, days) register advance per day (before the multiplier)
    reported: np.ndarray  # (meters, days) AMI has the day


def gap_mask(rng: np.random.Generator, n: int, days: int, spells_per_year: float, mean_days: float) -> np.ndarray:
    """True where a meter's AMI day is missing (short random outage spells)."""
    k = rng.poisson(spells_per_year * days / 365.0, n)
    owner = np.repeat(np.arange(n), k)
    start = rng.integers(0, days, len(owner))
    stop = np.minimum(start + rng.geometric(1 / mean_days, len(owner)), days)
    diff = np.zeros((n, days + 1), dtype=np.int32)
    np.add.at(diff, (owner, start), 1)
    np.add.at(diff, (owner, stop), -1)
    return np.cumsum(diff[:, :days], axis=1) > 0


def registers(rng: np.random.Generator, energy: np.ndarray, mult: np.ndarray, start_max: float) -> Registers:
    """Integrate daily energy into registers of 0.01 resolution; kwh recomputed from register steps."""
    r0 = np.round(rng.uniform(0, start_max, len(mult)) * 100).astype(np.int64)
    reg_h = r0[:, None] + np.round(np.cumsum(energy / mult[:, None], axis=1) * 100).astype(np.int64)
    steps = np.diff(reg_h, axis=1, prepend=r0[:, None])
    return Registers(reg_h, steps / 100.0, np.ones_like(energy, dtype=bool))


def customer_registers(
    rng: np.random.Generator, metered: np.ndarray, cu: Customers, ax: TimeAxis, m: Model
) -> Registers:
    """Customer meter registers and which days AMI reports."""
    start_max = np.where(cu.cat == RES, 30000.0, 5000.0)
    regs = registers(rng, metered, cu.mult_real, 1.0)
    regs.reg_h += (np.round(rng.uniform(0, 1, cu.n) * start_max * 100) * ~cu.new_conn).astype(np.int64)[:, None]
    day = np.arange(ax.days)[None, :]
    alive = (day >= np.maximum(cu.conn_day, 0)[:, None]) & (day < cu.removed_day[:, None])
    gaps = gap_mask(rng, cu.n, ax.days, m.ami_gap_spells_per_year, m.ami_gap_mean_days)
    regs.reported = alive & ~gaps & cu.ami[:, None] & (day >= ax.first_out)
    return regs


@dataclass
class Supply:
    """Area-total and feeder-head meters of a chunk with their daily energy and registers."""

    area_idx: np.ndarray
    area_regs: Registers
    area_mult: np.ndarray
    feeder_idx: np.ndarray
    feeder_regs: Registers
    feeder_mult: np.ndarray


def supply(rng: np.random.Generator, use: np.ndarray, cu: Customers, topo: Topology, ax: TimeAxis, m: Model) -> Supply:
    """Area and feeder supply from true use (theft does not lower it), with load-dependent losses."""
    areas = np.unique(cu.area[cu.area >= 0])
    a_energy = np.empty((len(areas), ax.days))
    for j, a in enumerate(areas):
        s = int(topo.area_cust_start[a] - cu.first)
        load = use[s : s + int(topo.area_size[a])].sum(axis=0)
        ratio = load / max(load[ax.first_out :].mean(), 1e-9)
        a_energy[j] = load * (1 + topo.area_loss[a] * (0.7 + 0.3 * ratio))
    feeders = np.unique(cu.feeder)
    f_energy = np.empty((len(feeders), ax.days))
    for j, f in enumerate(feeders):
        load = a_energy[topo.area_feeder[areas] == f].sum(axis=0) + use[(cu.feeder == f) & (cu.area < 0)].sum(axis=0)
        ratio = load / max(load[ax.first_out :].mean(), 1e-9)
        f_energy[j] = load * (1 + topo.feeder_loss[f] * (0.7 + 0.3 * ratio))
    a_mult = ct_multiplier(topo.area_kva[areas], 400.0)
    f_mult = np.full(len(feeders), 120.0 * 100)  # 600/5 CT × 10000/100 PT
    a_regs = registers(rng, a_energy, a_mult, 50000.0)
    f_regs = registers(rng, f_energy, f_mult, 20000.0)
    day = np.arange(ax.days)[None, :] >= ax.first_out
    a_regs.reported = day & ~gap_mask(rng, len(areas), ax.days, m.supply_gap_spells_per_year, 1.5)
    f_regs.reported = day & ~gap_mask(rng, len(feeders), ax.days, m.supply_gap_spells_per_year / 2, 1.0)
    return Supply(areas, a_regs, a_mult, feeders, f_regs, f_mult)


def daily_rows(
    meter_ids: list[str],
    regs: Registers,
    ax: TimeAxis,
    meter_index: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> dict[str, pa.Array]:
    """daily_usage columns for the reported (row, day) cells, row-major; ``meter_index(row, day)`` names the
    meter counting a cell when a row's meter was replaced (an index into ``meter_ids``)."""
    mi, di = np.nonzero(regs.reported)
    ids = mi if meter_index is None else meter_index(mi, di)
    return {
        "meter_id": pa.array(meter_ids, pa.string()).take(pa.array(ids)),
        "day": pa.array(ax.day_epoch[di], pa.date32()),
        "kwh": pa.array(np.round(regs.kwh[mi, di], 2)),
        "register": pa.array(regs.reg_h[mi, di] / 100.0),
    }


def interval_rows(
    rng: np.random.Generator,
    meter_ids: list[str],
    energy: np.ndarray,
    reported: np.ndarray,
    shape_idx: np.ndarray,
    single_phase: np.ndarray,
    mult: np.ndarray,
    ax: TimeAxis,
    days: int,
) -> dict[str, pa.Array]:
    """Hourly load curve (ts = start of the hour) for the last ``days`` days: kWh, voltage, current, pf."""
    d0 = max(ax.first_out, ax.days - days)
    mi, di = np.nonzero(reported[:, d0:])
    di = di + d0
    if len(mi) == 0:
        return {}
    shares = SHAPES[shape_idx[mi]] * rng.lognormal(0, 0.15, (len(mi), 24))
    shares /= shares.sum(axis=1, keepdims=True)
    kwh = np.round(energy[mi, di][:, None] * shares, 3).ravel()
    hv = mult[mi] >= 100
    volts = np.where(hv, 57.7, 220.0)[:, None] + rng.normal(0, 1.5, (len(mi), 24)) * np.where(hv, 0.3, 1.0)[:, None]
    pf = np.clip(rng.uniform(0.86, 0.98, len(mi))[:, None] + rng.normal(0, 0.01, (len(mi), 24)), 0.5, 1.0)
    phases = np.where(single_phase[mi], 1.0, 3.0)[:, None]
    amps = kwh.reshape(-1, 24) * 1000 / (volts * pf * phases)
    ts = (ax.day_epoch[di].astype(np.int64) * US_DAY)[:, None] + np.arange(24, dtype=np.int64)[None, :] * US_HOUR
    rep = np.repeat(mi, 24)
    return {
        "meter_id": pa.array(meter_ids, pa.string()).take(pa.array(rep)),
        "ts": pa.array(ts.ravel(), pa.timestamp("us")),
        "kwh": pa.array(kwh),
        "voltage_v": pa.array(np.round(volts, 1).ravel()),
        "current_a": pa.array(np.round(amps, 3).ravel()),
        "power_factor": pa.array(np.round(pf, 3).ravel()),
    }


def shape_index(cu: Customers, shop: np.ndarray) -> np.ndarray:
    """Hourly shape per customer: its category's, a shop's for tariff misusers."""
    idx = cu.cat.copy()
    idx[shop] = 1
    return np.where(cu.cat == LI, 3, idx)
