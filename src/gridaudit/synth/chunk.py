"""Generate every table of one chunk of feeders (their areas and customers), in dependency order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gridaudit.synth import ami, events
from gridaudit.synth.bills import build_bills
from gridaudit.synth.config import Model, SynthConfig
from gridaudit.synth.customers import CATEGORIES, NEVER, RES, STATUS, Customers, build_customers
from gridaudit.synth.inject import apply_contract, apply_theft, customer_truth, plan_customers, plan_records
from gridaudit.synth.orders import adjustment_orders, build_orders, replacement_orders
from gridaudit.synth.profiles import daily_use
from gridaudit.synth.readings import READ_TYPES, build_readings
from gridaudit.synth.replacements import Swaps, plan_replacements, swap_registers
from gridaudit.synth.seals import build_seals
from gridaudit.synth.tariffs import CODES, TariffBook
from gridaudit.synth.timeaxis import TimeAxis, WorkCalendar
from gridaudit.synth.topology import Topology
from gridaudit.synth.truth import Truth


@dataclass
class Shared:
    """What every chunk reads: configuration, time axis, network, tariffs and working-day calendar."""

    cfg: SynthConfig
    ax: TimeAxis
    topo: Topology
    tb: TariffBook
    cal: WorkCalendar


def generate_chunk(sh: Shared, ci: int) -> tuple[dict[str, Any], Truth]:
    """All contract rows and truth rows of chunk ``ci`` (deterministic in seed and chunk index): per table a
    dict of columns or a list of such parts."""
    cfg, ax, topo, m, rates = sh.cfg, sh.ax, sh.topo, sh.cfg.model, sh.cfg.rates
    rng = np.random.default_rng([cfg.seed, 1, ci])
    force = ci == 0
    truth = Truth()
    f0, f1 = topo.chunks[ci]
    cu = build_customers(rng, topo, f0, f1, ax, m)
    plan = plan_customers(rng, cu, ax, topo, rates, m, force)
    plan_records(rng, cu, ax, topo, rates, force, truth, m)
    book = build_orders(rng, cu, ax, topo, sh.cal, m, rates, force, truth)
    nb = plan["contract_no_bill"]
    nb.start = np.maximum(cu.conn_day[nb.idx], ax.first_out)
    use = daily_use(rng, cu, ax, m)
    apply_contract(rng, use, cu, ax, plan)
    visits = events.plan_inspections(rng, cu, plan, ax, m)
    metered = apply_theft(rng, use, plan)
    customer_truth(cu, ax, plan, truth)
    regs = ami.customer_registers(rng, metered, cu, ax, m)
    sup = ami.supply(rng, use, cu, topo, ax, m)
    # meter replacements draw after use, theft and supply, so adding them left those draws as they were
    sw = plan_replacements(rng, cu, ax, m, rates, force, truth)
    replacement_orders(book, sw.idx, sw.day)
    swap_registers(sw, regs, cu)
    rd = build_readings(rng, cu, regs, ax, topo, m, rates, force, truth, sw)
    bills = build_bills(rng, cu, rd, ax, sh.tb, topo, m, rates, force, truth, nb, sw.new_mult)
    adjustment_orders(book, bills.adjust_orders)
    new_meter = {int(c): sw.new_mid[j] for j, c in enumerate(sw.idx)}
    seals = build_seals(rng, cu, ax, topo, book.out.seal_jobs, book.out.new_order, rates, force, truth, new_meter)

    area_mids = [f"MA{a + 1:05d}" for a in sup.area_idx]
    feeder_mids = [f"MF{f + 1:04d}" for f in sup.feeder_idx]
    all_mids = cu.mid + area_mids + feeder_mids + sw.new_mid
    log = events.EventLog()
    events.background_events(rng, log, cu, regs.reported, ax, m)
    area_meter = {int(a): cu.n + j for j, a in enumerate(sup.area_idx)}
    events.outage_events(rng, log, cu, regs.reported, area_meter, ax, m)
    events.theft_events(rng, log, cu, plan, ax)
    insp = events.inspections(rng, cu, visits, plan, use, metered, sh.tb, topo, ax, m, force)
    first_new = len(all_mids) - len(sw.new_mid)
    log.move((np.minimum(sw.cut, ax.days) + 1 + int(ax.day_epoch[0])) * events.US_DAY, first_new + sw.slot)
    mult_now = cu.mult_real.copy()
    mult_now[sw.idx] = sw.new_mult

    shop = np.zeros(cu.n, dtype=bool)
    shop[plan["contract_tariff_misuse"].idx] = True
    interval = ami.interval_rows(
        rng,
        sw.current_ids(cu.mid),
        regs.kwh,
        regs.reported,
        ami.shape_index(cu, shop),
        cu.cat == RES,
        mult_now,
        ax,
        m.interval_days,
    )
    a_interval = ami.interval_rows(
        rng,
        area_mids,
        sup.area_regs.kwh,
        sup.area_regs.reported,
        np.zeros(len(area_mids), dtype=np.int64),
        np.zeros(len(area_mids), dtype=bool),
        sup.area_mult,
        ax,
        m.interval_days,
    )
    tables: dict[str, Any] = {
        "customers": _customers(cu, topo, ax),
        "meters": [_meters(rng, cu, sup, topo, ax, area_mids, feeder_mids, sw), _new_meters(cu, sw, topo, ax, m)],
        "readings": [_readings(cu, rd, ax, topo, sw), *_supply_readings(sup, topo, ax, area_mids, feeder_mids)],
        "bills": bills.cols,
        "payments": bills.payments,
        "daily_usage": _concat(
            [
                ami.daily_rows(cu.mid + sw.new_mid, regs, ax, lambda c, d: sw.meter_index(c, d, cu.n)),
                ami.daily_rows(area_mids, sup.area_regs, ax),
                ami.daily_rows(feeder_mids, sup.feeder_regs, ax),
            ]
        ),
        "interval_usage": _concat([interval, a_interval]),
        "meter_events": log.columns(all_mids),
        "work_orders": book.out.orders,
        "work_order_steps": book.out.steps,
        "seals": seals,
        "inspections": insp,
    }
    return tables, truth


def _concat(parts: list[dict]) -> list[dict]:
    """Parts of one table, written as separate row groups (no copy)."""
    return [p for p in parts if p]


def _customers(cu: Customers, topo: Topology, ax: TimeAxis) -> dict[str, Any]:
    sid = topo.staff["staff_id"]
    epoch0 = int(ax.day_epoch[0])
    closed = cu.status == 2
    return {
        "customer_id": cu.cid,
        "unit_id": [topo.station_unit[s] for s in cu.station],
        "category": [CATEGORIES[c] for c in cu.cat],
        "tariff_code": [CODES[c] for c in cu.code],
        "voltage_kv": cu.voltage,
        "contract_kva": cu.kva,
        "status": [STATUS[s] for s in cu.status],
        "area_id": [topo.area_id[a] if a >= 0 else None for a in cu.rec_area],
        "feeder_id": [topo.feeder_id[f] for f in cu.feeder],
        "name": cu.name,
        "connected_on": cu.conn_epoch.astype(np.int32),
        "closed_on": ((np.where(closed, cu.status_day, 0) + epoch0).astype(np.int32), ~closed),
        "reader_id": [sid[r] for r in cu.reader],
    }


def _meters(
    rng: np.random.Generator,
    cu: Customers,
    sup: ami.Supply,
    topo: Topology,
    ax: TimeAxis,
    area_mids: list[str],
    feeder_mids: list[str],
    sw: Swaps,
) -> dict[str, Any]:
    epoch0 = int(ax.day_epoch[0])
    na, nf = len(area_mids), len(feeder_mids)
    off_day = np.minimum(cu.removed_day, sw.cut)  # closure or replacement
    removed = off_day < NEVER
    other_installed = epoch0 - rng.integers(100, 2500, na + nf)
    return {
        "meter_id": cu.mid + area_mids + feeder_mids,
        "role": ["customer"] * cu.n + ["area_total"] * na + ["feeder_head"] * nf,
        "multiplier": np.concatenate([cu.mult_file, sup.area_mult, sup.feeder_mult]),
        "customer_id": cu.cid + [None] * (na + nf),
        "area_id": [topo.area_id[a] if a >= 0 else None for a in cu.rec_area]
        + [topo.area_id[a] for a in sup.area_idx]
        + [None] * nf,
        "feeder_id": [topo.feeder_id[f] for f in cu.feeder]
        + [topo.feeder_id[topo.area_feeder[a]] for a in sup.area_idx]
        + [topo.feeder_id[f] for f in sup.feeder_idx],
        "installed_on": np.concatenate([cu.installed_epoch, other_installed]).astype(np.int32),
        "removed_on": (
            np.concatenate([np.where(removed, off_day + epoch0, 0), np.zeros(na + nf)]).astype(np.int32),
            ~np.concatenate([removed, np.zeros(na + nf, dtype=bool)]),
        ),
        "verification_due": np.concatenate(
            [cu.verification_epoch, ax.day_epoch[-1] + rng.integers(30, 2500, na + nf)]
        ).astype(np.int32),
    }


def _new_meters(cu: Customers, sw: Swaps, topo: Topology, ax: TimeAxis, m: Model) -> dict[str, Any]:
    """The meters installed by replacements: same customer, area and feeder; installed on the swap day."""
    if not len(sw.idx):
        return {}
    installed = sw.day + int(ax.day_epoch[0])
    return {
        "meter_id": sw.new_mid,
        "role": ["customer"] * len(sw.idx),
        "multiplier": sw.new_mult,
        "customer_id": [cu.cid[c] for c in sw.idx],
        "area_id": [topo.area_id[a] if a >= 0 else None for a in cu.rec_area[sw.idx]],
        "feeder_id": [topo.feeder_id[f] for f in cu.feeder[sw.idx]],
        "installed_on": installed.astype(np.int32),
        "verification_due": (installed + m.verification_years * 365).astype(np.int32),
    }


def _readings(cu: Customers, rd: Any, ax: TimeAxis, topo: Topology, sw: Swaps) -> dict[str, Any]:
    import pyarrow as pa

    return {
        "meter_id": pa.array(cu.mid + sw.new_mid, pa.string()).take(pa.array(rd.meter)),
        "period": pa.array(ax.periods).take(pa.array(rd.period)),
        "read_on": pa.array(ax.day_epoch[rd.day], pa.date32()),
        "reading": pa.array(rd.value),
        "read_type": pa.array(READ_TYPES).take(pa.array(rd.rtype)),
        "reader_id": pa.array(topo.staff["staff_id"], pa.string()).take(pa.array(cu.reader[rd.cust])),
    }


def _supply_readings(
    sup: ami.Supply, topo: Topology, ax: TimeAxis, area_mids: list[str], feeder_mids: list[str]
) -> list[dict[str, Any]]:
    """Monthly AMI readings of area-total meters (on the area's read day) and feeder heads (on the 1st)."""
    import pyarrow as pa

    first_idx = np.array([(d - ax.sim_start).days for d in ax.month_first])
    parts = []
    for mids, regs, day_of_month in (
        (area_mids, sup.area_regs, topo.area_read_day[sup.area_idx]),
        (feeder_mids, sup.feeder_regs, np.ones(len(feeder_mids), dtype=np.int64)),
    ):
        rd = np.minimum(first_idx[None, :] + day_of_month[:, None] - 1, ax.days - 1)
        mi, ki = np.nonzero(np.ones_like(rd, dtype=bool))
        d = rd[mi, ki]
        parts.append(
            {
                "meter_id": pa.array(mids, pa.string()).take(pa.array(mi)),
                "period": pa.array(ax.periods).take(pa.array(ki)),
                "read_on": pa.array(ax.day_epoch[d], pa.date32()),
                "reading": pa.array(regs.reg_h[mi, d] / 100.0),
                "read_type": pa.array(["ami"] * len(mi), pa.string()),
                "reader_id": pa.nulls(len(mi), pa.string()),
            }
        )
    return _concat(parts)
