"""Meter events (终端/电能表事件) at a background rate, area outages, the events thefts leave behind,
and the inspection history (用电检查) that the risk model learns from."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from gridaudit.synth.config import Model
from gridaudit.synth.customers import RES, Customers
from gridaudit.synth.inject import CONTRACTS, THEFTS, Case
from gridaudit.synth.tariffs import TariffBook
from gridaudit.synth.timeaxis import TimeAxis
from gridaudit.synth.topology import Topology

US_DAY = 86_400_000_000
US_SEC = 1_000_000
# background event types: (type, weight three-phase, weight single-phase, lasts)
BACKGROUND = [
    ("power_down", 0.30, 0.45, True),
    ("clock_error", 0.15, 0.2, False),
    ("voltage_loss", 0.10, 0.0, True),
    ("current_imbalance", 0.12, 0.0, True),
    ("voltage_imbalance", 0.08, 0.0, True),
    ("phase_break", 0.05, 0.0, True),
    ("parameter_changed", 0.05, 0.1, False),
    ("terminal_cover_open", 0.04, 0.08, False),
    ("cover_open", 0.02, 0.05, False),
    ("magnetic", 0.01, 0.02, True),
    ("meter_racing", 0.01, 0.02, True),
    ("meter_cleared", 0.01, 0.02, False),
    ("current_loss", 0.03, 0.0, True),
    ("reverse_power", 0.02, 0.05, True),
    ("meter_stopped", 0.01, 0.01, True),
]
VIOLATION = {
    "contract_tariff_misuse": "tariff_misuse",
    "contract_capacity_overuse": "capacity_overuse",
    "contract_suspended_use": "suspended_use",
}


class EventLog:
    """Collects (meter, ts, type, ended_at, detail) rows; ended_at < 0 means still open."""

    def __init__(self) -> None:
        self.meter: list[np.ndarray] = []
        self.ts: list[np.ndarray] = []
        self.etype: list[np.ndarray] = []
        self.end: list[np.ndarray] = []

    def add(self, meter: np.ndarray, ts: np.ndarray | list[int], etype: np.ndarray | str, end: np.ndarray) -> None:
        """Add events; ``meter`` indexes the chunk's meter id list."""
        n = len(meter)
        self.meter.append(np.asarray(meter, dtype=np.int64))
        self.ts.append(np.asarray(ts, dtype=np.int64))
        self.etype.append(np.broadcast_to(np.asarray(etype, dtype=object), (n,)))
        self.end.append(np.asarray(end, dtype=np.int64))

    def move(self, cut_ts: np.ndarray, new_idx: np.ndarray) -> None:
        """Events of meter ``i`` (< len(cut_ts)) from ``cut_ts[i]`` on belong to meter ``new_idx[i]`` (a
        replacement)."""
        for j, (m, t) in enumerate(zip(self.meter, self.ts, strict=True)):
            inside = m < len(cut_ts)
            later = inside & (t >= cut_ts[np.where(inside, m, 0)])
            if later.any():
                self.meter[j] = np.where(later, new_idx[np.where(inside, m, 0)], m)

    def columns(self, meter_ids: list[str]) -> dict[str, pa.Array]:
        """Columns sorted by meter and time, duplicates of (meter, ts, type) dropped."""
        if not self.meter:
            return {}
        m, t, e, x = (np.concatenate(v) for v in (self.meter, self.ts, self.etype, self.end))
        order = np.lexsort((e.astype(str), t, m))
        m, t, e, x = m[order], t[order], e[order], x[order]
        keep = np.ones(len(m), dtype=bool)
        keep[1:] = (m[1:] != m[:-1]) | (t[1:] != t[:-1]) | (e[1:] != e[:-1])
        m, t, e, x = m[keep], t[keep], e[keep], x[keep]
        return {
            "meter_id": pa.array(meter_ids).take(pa.array(m)),
            "ts": pa.array(t, pa.timestamp("us")),
            "event_type": pa.array(e.tolist(), pa.string()),
            "ended_at": pa.array(x, pa.timestamp("us"), mask=x < 0),
        }


def background_events(
    rng: np.random.Generator, log: EventLog, cu: Customers, reported: np.ndarray, ax: TimeAxis, m: Model
) -> None:
    """Random events on AMI meters at ``Model.event_rate_per_year``."""
    years = (ax.days - ax.first_out) / 365.0
    k = rng.poisson(m.event_rate_per_year * years, cu.n) * cu.ami
    owner = np.repeat(np.arange(cu.n), k)
    day = rng.integers(ax.first_out, ax.days, len(owner))
    ok = reported[owner, day]
    owner, day = owner[ok], day[ok]
    single = cu.cat[owner] == RES
    names = np.array([b[0] for b in BACKGROUND], dtype=object)
    w3 = np.array([b[1] for b in BACKGROUND])
    w1 = np.array([b[2] for b in BACKGROUND])
    u = rng.random(len(owner))
    i3 = np.searchsorted(np.cumsum(w3 / w3.sum()), u)
    i1 = np.searchsorted(np.cumsum(w1 / w1.sum()), u)
    typ = np.where(single, i1, i3)
    lasts = np.array([b[3] for b in BACKGROUND])[typ]
    ts = (ax.day_epoch[day].astype(np.int64) * US_DAY) + rng.integers(0, 86_400, len(owner)) * US_SEC
    end = np.where(lasts, ts + rng.integers(60, 6 * 3600, len(owner)) * US_SEC, -1)
    log.add(owner, ts, names[typ], end)


def outage_events(
    rng: np.random.Generator,
    log: EventLog,
    cu: Customers,
    reported: np.ndarray,
    area_meter: dict,
    ax: TimeAxis,
    m: Model,
) -> None:
    """Area-wide outages: power_down on every reporting meter of the area and its total meter."""
    years = (ax.days - ax.first_out) / 365.0
    for a, total_idx in area_meter.items():
        members = np.flatnonzero(cu.area == a)
        for _ in range(rng.poisson(m.outages_per_area_year * years)):
            d = int(rng.integers(ax.first_out, ax.days))
            t0 = int(ax.day_epoch[d]) * US_DAY + int(rng.integers(0, 86_000)) * US_SEC
            dur = int(rng.integers(600, 4 * 3600)) * US_SEC
            who = members[reported[members, d]]
            jitter = rng.integers(0, 60, len(who)) * US_SEC
            log.add(who, t0 + jitter, "power_down", t0 + dur + jitter)
            log.add(np.array([total_idx]), np.array([t0]), "power_down", np.array([t0 + dur]))


def theft_events(rng: np.random.Generator, log: EventLog, cu: Customers, plan: dict[str, Case], ax: TimeAxis) -> None:
    """The events a theft leaves on an AMI meter: 失流, cover opened, reverse power, meter stopped."""

    def at(day: int) -> int:
        return int(ax.day_epoch[min(max(day, 0), ax.days - 1)]) * US_DAY + int(rng.integers(0, 86_400)) * US_SEC

    for kind in ("theft_ct_short", "theft_cover_open", "theft_reverse", "theft_stopped_meter"):
        c = plan[kind]
        for i, s, e in zip(c.idx, c.start, c.end, strict=True):
            if not cu.ami[i]:
                continue
            if kind == "theft_ct_short":
                days = np.arange(s, e + 1, int(rng.integers(7, 21)))
                log.add(np.full(len(days), i), [at(d) for d in days], "current_loss", np.full(len(days), -1))
            elif kind == "theft_cover_open":
                t = at(int(s) - int(rng.integers(0, 3)))
                log.add(np.array([i]), np.array([t]), "cover_open", np.array([-1]))
                if rng.random() < 0.5:
                    log.add(np.array([i]), np.array([t + 30 * US_SEC]), "terminal_cover_open", np.array([-1]))
            elif kind == "theft_reverse":
                days = np.arange(s, e + 1)[rng.random(e + 1 - s) < 0.4]
                ts = np.array([at(d) for d in days], dtype=np.int64)
                log.add(
                    np.full(len(days), i), ts, "reverse_power", ts + rng.integers(1800, 8 * 3600, len(days)) * US_SEC
                )
            else:
                log.add(np.array([i]), np.array([at(int(s))]), "meter_stopped", np.array([-1]))


def plan_inspections(rng: np.random.Generator, cu: Customers, plan: dict[str, Case], ax: TimeAxis, m: Model) -> list:
    """Targeted inspections of irregular customers; a found theft ends the day before the visit."""
    visits = []
    for kind in (*THEFTS, *CONTRACTS[:3]):
        c = plan[kind]
        for j, (i, s) in enumerate(zip(c.idx, c.start, strict=True)):
            if rng.random() >= m.targeted_inspection_share:
                continue
            d = int(s) + int(rng.integers(20, 150))
            if d >= ax.days - 3:
                continue
            found = rng.random() >= m.inspection_miss_share
            if found and kind in THEFTS:
                c.end[j] = d - 1
            visits.append((int(i), d, kind if found else None, j))
    return visits


def inspections(
    rng: np.random.Generator,
    cu: Customers,
    visits: list,
    plan: dict[str, Case],
    use: np.ndarray,
    metered: np.ndarray,
    tb: TariffBook,
    topo: Topology,
    ax: TimeAxis,
    m: Model,
    force: bool,
) -> dict[str, list]:
    """Inspection rows: targeted visits (theft / violation found, or missed) and random normal ones
    (at least one when ``force``, so every table has rows)."""
    years = (ax.days - ax.first_out) / 365.0
    ok = ~cu.taken & (cu.conn_day < ax.days - 20)
    rand = np.flatnonzero(ok & (rng.random(cu.n) < m.random_inspection_rate_per_year * years))
    if force and not visits and not len(rand) and ok.any():
        rand = np.flatnonzero(ok)[:1]
    for i in rand:
        lo = max(ax.first_out, int(cu.conn_day[i]) + 1)
        visits.append((int(i), int(rng.integers(min(lo, ax.days - 1), max(lo + 1, ax.days - 2))), "random", -1))
    rows: dict[str, list] = {
        k: []
        for k in (
            "inspection_id",
            "customer_id",
            "inspected_on",
            "outcome",
            "inspector_id",
            "violation_type",
            "recovered_kwh",
            "penalty_yuan",
        )
    }
    sid = topo.staff["staff_id"]
    count: dict[int, int] = {}
    for i, d, kind, j in sorted(visits, key=lambda v: (v[0], v[1])):
        count[i] = count.get(i, 0) + 1
        outcome, vtype, rec, pen = "normal", None, None, None
        price = float(tb.price(cu.code[i : i + 1], ax.day_epoch[d : d + 1])[0])
        if kind == "random":
            if rng.random() < 0.08:
                outcome, vtype = "irregular", str(rng.choice(["seal_broken", "other"]))
        elif kind in THEFTS:
            s = int(plan[kind].start[j])
            rec = round(float((use[i, s:d] - metered[i, s:d]).sum()), 1)
            outcome, pen = "theft", round(3 * rec * price, 2)
        elif kind is not None:
            outcome, vtype = "violation", VIOLATION[kind]
            s = int(plan[kind].start[j])
            if kind == "contract_tariff_misuse":
                rec = round(float(use[i, s:d].sum()), 1)
                pen = round(2 * rec * 0.17, 2)
            elif kind == "contract_capacity_overuse":
                pen = round(50.0 * float(cu.kva[i]) * (float(plan[kind].alpha[j]) - 1), 2)
            else:
                rec = round(float(use[i, s:d].sum()), 1)
                pen = round(30.0 * float(cu.kva[i]), 2)
        rows["inspection_id"].append(f"I{cu.first + i + 1:07d}{count[i]:02d}")
        rows["customer_id"].append(cu.cid[i])
        rows["inspected_on"].append(int(ax.day_epoch[d]))
        rows["outcome"].append(outcome)
        rows["inspector_id"].append(sid[int(cu.inspector[i])])
        rows["violation_type"].append(vtype)
        rows["recovered_kwh"].append(rec)
        rows["penalty_yuan"].append(pen)
    return rows
