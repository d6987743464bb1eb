"""Customers of one chunk and their meters: category, tariff, capacity, CT ratio, lifecycle, staff.

Arrays are per customer (one customer meter each). Day indices refer to the run's ``TimeAxis``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridaudit.synth.config import Model
from gridaudit.synth.names import business_names, person_names, place_names
from gridaudit.synth.tariffs import CODE_INDEX
from gridaudit.synth.timeaxis import TimeAxis, epoch_days
from gridaudit.synth.topology import Topology

CATEGORIES = ["residential", "commercial", "industrial", "large_industrial", "agricultural"]
RES, COM, IND, LI, AGR = range(5)
STATUS = ["active", "suspended", "closed"]
NEVER = 10**6  # a day index beyond any run

# CT primary currents (A) with 5 A secondary; large customers add a 10000/100 PT.
CT_PRIMARY = np.array([50, 75, 100, 150, 200, 300, 400, 600, 800], dtype=float)
LI_KVA = np.array([315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150], dtype=float)


@dataclass
class Customers:
    """One chunk's customers (index 0 = first customer of the chunk)."""

    first: int  # global index of customer 0
    n: int
    cid: list[str]
    mid: list[str]
    area: np.ndarray  # physical area (global index), -1 for feeder customers
    rec_area: np.ndarray  # area in the records (differs under a mapping error)
    feeder: np.ndarray
    station: np.ndarray
    cat: np.ndarray
    code: np.ndarray  # tariff code index
    voltage: np.ndarray
    kva: np.ndarray
    mult_real: np.ndarray
    mult_file: np.ndarray  # multiplier in the meter file
    mult_bill: np.ndarray  # multiplier billing applies
    level: np.ndarray  # base daily kWh
    ami: np.ndarray  # meter reports to AMI
    conn_day: np.ndarray  # day index of connection (negative: before the run)
    conn_epoch: np.ndarray
    installed_epoch: np.ndarray
    verification_epoch: np.ndarray
    status: np.ndarray
    status_day: np.ndarray  # suspension / closure day (NEVER if none)
    removed_day: np.ndarray  # meter removal day (NEVER if in service)
    reader: np.ndarray  # staff index
    read_day: np.ndarray  # day of month
    clerk: np.ndarray
    collector: np.ndarray
    inspector: np.ndarray
    name: list[str]
    new_conn: np.ndarray  # connected during the run (gets a new_connection work order)
    taken: np.ndarray  # chosen for a customer-level irregularity (exclusive)
    secret_use: np.ndarray  # keeps using power after suspension / closure (injected)


def ct_multiplier(kva: np.ndarray, volts: float) -> np.ndarray:
    """CT ratio (primary/5) fitting a capacity at a voltage; × 100 (PT 10000/100) at 10 kV."""
    amps = kva * 1000 / (np.sqrt(3) * volts)
    prim = CT_PRIMARY[np.minimum(np.searchsorted(CT_PRIMARY, amps * 1.2), len(CT_PRIMARY) - 1)]
    pt = 100.0 if volts > 1000 else 1.0
    return prim / 5 * pt


def build_customers(rng: np.random.Generator, topo: Topology, f0: int, f1: int, ax: TimeAxis, m: Model) -> Customers:
    """Customers of feeders ``f0``..``f1 - 1``."""
    first, last = int(topo.feeder_cust_start[f0]), int(topo.feeder_cust_start[f1])
    n = last - first
    area = np.full(n, -1, dtype=np.int64)
    feeder = np.empty(n, dtype=np.int64)
    a_idx = np.flatnonzero((topo.area_feeder >= f0) & (topo.area_feeder < f1))
    for a in a_idx:
        s = topo.area_cust_start[a] - first
        area[s : s + topo.area_size[a]] = a
    for f in range(f0, f1):
        feeder[topo.feeder_cust_start[f] - first : topo.feeder_cust_start[f + 1] - first] = f
    station = topo.feeder_station[feeder]
    direct = area < 0
    rural = np.where(direct, False, topo.area_rural[np.maximum(area, 0)])

    mix = np.array([m.mix_residential, m.mix_commercial, m.mix_industrial, 0.0, m.mix_agricultural])
    mix_rural = mix * np.array([1.0, 0.6, 0.8, 0.0, 2.5])
    u = rng.random(n)
    cat = np.where(
        rural,
        np.searchsorted(np.cumsum(mix_rural / mix_rural.sum()), u),
        np.searchsorted(np.cumsum(mix / mix.sum()), u),
    )
    cat = np.minimum(cat, AGR)
    cat[direct] = LI

    kva = np.select(
        [cat == RES, cat == COM, cat == IND, cat == LI],
        [
            rng.choice([4.0, 6.0, 8.0, 10.0], n),
            np.round(rng.uniform(10, 100, n)),
            np.round(rng.uniform(50, 250, n)),
            rng.choice(LI_KVA, n),
        ],
        np.round(rng.uniform(10, 60, n)),
    )
    voltage = np.select([cat == RES, cat == LI], [0.22, 10.0], 0.4)
    mult = np.ones(n)
    ct = (cat != RES) & (kva > 30) & (cat != LI)
    mult[ct] = ct_multiplier(kva[ct], 400.0)
    mult[cat == LI] = ct_multiplier(kva[cat == LI], 10000.0)
    code = np.select(
        [cat == RES, cat == COM, cat == IND, cat == LI],
        [
            CODE_INDEX["RES-LV"],
            np.where(rng.random(n) < m.tou_share_commercial, CODE_INDEX["COM-LV-TOU"], CODE_INDEX["COM-LV"]),
            np.where(kva >= m.tou_min_kva_industrial, CODE_INDEX["IND-LV-TOU"], CODE_INDEX["IND-LV"]),
            CODE_INDEX["LI-10"],
        ],
        CODE_INDEX["AGR-LV"],
    )

    # daily level: residential lognormal; others from capacity × utilisation × 24 h
    util = np.select(
        [cat == COM, cat == IND, cat == LI],
        [rng.uniform(0.06, 0.3, n), rng.uniform(0.08, 0.3, n), rng.uniform(0.25, 0.55, n)],
        rng.uniform(0.05, 0.2, n),
    )
    level = np.where(
        cat == RES, rng.lognormal(np.log(m.residential_median_kwh), m.residential_level_sigma, n), kva * 0.9 * util * 24
    )

    poor = np.where(direct, False, topo.area_poor_ami[np.maximum(area, 0)])
    ami = ~(poor & (rng.random(n) > m.ami_poor_area_coverage))

    # lifecycle: connected long ago, during the run, suspended or closed during the run
    start_e, end_e = epoch_days(ax.start), epoch_days(ax.end)
    sim_e = int(ax.day_epoch[0])
    conn_epoch = sim_e - rng.integers(30, 20 * 365, n)
    new = rng.random(n) < m.new_connection_share
    conn_day = conn_epoch - sim_e
    conn_day[new] = ax.pick(rng, 10, 30, int(new.sum()))
    status = np.zeros(n, dtype=np.int64)
    status_day = np.full(n, NEVER, dtype=np.int64)
    r = rng.random(n)
    sus = ~new & (r < m.suspended_share)
    clo = ~new & (r >= m.suspended_share) & (r < m.suspended_share + m.closed_share)
    status[sus], status[clo] = 1, 2
    status_day[sus | clo] = ax.pick(rng, 10, 10, int((sus | clo).sum()))
    removed_day = np.where(clo, status_day, NEVER)
    # meters are rotated every ``verification_years``; the current one is still within its term
    term = m.verification_years * 365
    installed = np.maximum(conn_day + sim_e, end_e - term + 30 + rng.integers(0, term - 60 - (end_e - start_e), n))
    installed = np.minimum(installed, sim_e - 1)
    installed = np.where(new, conn_day + sim_e, installed)
    verification = installed + term

    f_area = np.maximum(area, 0)
    reader = np.where(direct, -1, topo.area_reader[f_area])
    read_day = np.where(direct, 1 + rng.integers(0, 3, n), topo.area_read_day[f_area])
    ss = topo.station_staff

    def pick(role: str) -> np.ndarray:
        out = np.empty(n, dtype=np.int64)
        for s in np.unique(station):
            idx = np.flatnonzero(station == s)
            out[idx] = rng.choice(ss[role][s], len(idx))
        return out

    readers = pick("reader")
    reader = np.where(direct, readers, reader)
    places = place_names(rng, n)
    persons = person_names(rng, n)
    biz = business_names(rng, places, (cat == IND) | (cat == LI))
    name = [
        p if c == RES else (pl + "村排灌站" if c == AGR else b)
        for p, pl, b, c in zip(persons, places, biz, cat, strict=True)
    ]
    return Customers(
        first=first,
        n=n,
        cid=[f"C{first + i + 1:07d}" for i in range(n)],
        mid=[f"M{first + i + 1:07d}" for i in range(n)],
        area=area,
        rec_area=area.copy(),
        feeder=feeder,
        station=station,
        cat=cat,
        code=code,
        voltage=voltage,
        kva=kva,
        mult_real=mult,
        mult_file=mult.copy(),
        mult_bill=mult.copy(),
        level=level,
        ami=ami,
        conn_day=conn_day,
        conn_epoch=conn_day + sim_e,
        installed_epoch=installed,
        verification_epoch=verification,
        status=status,
        status_day=status_day,
        removed_day=removed_day,
        reader=reader,
        read_day=read_day,
        clerk=pick("clerk"),
        collector=pick("collector"),
        inspector=pick("inspector"),
        name=name,
        new_conn=new,
        taken=np.zeros(n, dtype=bool),
        secret_use=np.zeros(n, dtype=bool),
    )
