"""Seals (三封: meter, terminal cover, meter box): applied at installation, replaced under work orders
(a meter replacement moves all three to the new meter), and — injected — removed with no work order."""

from __future__ import annotations

import numpy as np

from gridaudit.synth.config import Rates
from gridaudit.synth.customers import NEVER, Customers
from gridaudit.synth.inject import choose
from gridaudit.synth.timeaxis import TimeAxis
from gridaudit.synth.topology import Topology
from gridaudit.synth.truth import Truth

US_DAY = 86_400_000_000
US_MIN = 60_000_000
POSITIONS = ("meter", "terminal", "box")


def build_seals(
    rng: np.random.Generator,
    cu: Customers,
    ax: TimeAxis,
    topo: Topology,
    jobs: list[tuple[int, int, str, str, str]],
    new_order: dict[int, str],
    rates: Rates,
    force: bool,
    truth: Truth,
    new_meter: dict[int, str],
) -> dict[str, list]:
    """Seal rows: three per meter at installation; ``jobs`` (customer, day, 'box'|'all'|'replace', order,
    staff) replace or remove seals under an order ('replace': all three removed, three applied on the
    customer's new meter ``new_meter[c]``); injected removals have no order."""
    sid = topo.staff["staff_id"]
    n = cu.n
    applied_at = cu.installed_epoch.astype(np.int64) * US_DAY + rng.integers(9 * 60, 17 * 60, n) * US_MIN
    insp = [sid[int(i)] for i in cu.inspector]
    k = 3 * n
    order0 = [new_order.get(c) for c in range(n)]
    rows: dict[str, list] = {
        "seal_id": [f"SL{cu.first + c + 1:07d}{p[0].upper()}1" for c in range(n) for p in POSITIONS],
        "meter_id": [m for m in cu.mid for _ in POSITIONS],
        "position": list(POSITIONS) * n,
        "applied_at": np.repeat(applied_at, 3).tolist(),
        "applied_by": [i for i in insp for _ in POSITIONS],
        "removed_at": [None] * k,
        "removed_by": [None] * k,
        "order_id": [o for o in order0 for _ in POSITIONS],
    }
    current = np.arange(k).reshape(n, 3)
    counter = np.ones(n, dtype=np.int64)
    meter_of = list(cu.mid)

    def apply(c: int, pos: str, at: int, by: str, order: str | None) -> None:
        counter[c] += 1
        current[c, POSITIONS.index(pos)] = len(rows["seal_id"])
        rows["seal_id"].append(f"SL{cu.first + c + 1:07d}{pos[0].upper()}{counter[c]}")
        rows["meter_id"].append(meter_of[c])
        rows["position"].append(pos)
        rows["applied_at"].append(at)
        rows["applied_by"].append(by)
        rows["removed_at"].append(None)
        rows["removed_by"].append(None)
        rows["order_id"].append(order)

    def remove(c: int, pos: str, at: int, by: str, order: str | None) -> None:
        r = int(current[c, POSITIONS.index(pos)])
        if rows["removed_at"][r] is not None:
            return
        rows["removed_at"][r] = at
        rows["removed_by"][r] = by
        if order is not None:
            rows["order_id"][r] = order

    events: list[tuple[int, int, str, str | None, str]] = [
        (c, d, what, order, staff) for c, d, what, order, staff in jobs
    ]
    ok = (cu.removed_day == NEVER) & (cu.status == 0)
    ok[list(new_meter)] = False
    for c in choose(rng, ok, n, rates.seal_no_order, force):
        lo = max(ax.first_out, int(cu.conn_day[c]) + 1)
        d = int(rng.integers(min(lo, ax.days - 1), max(lo + 1, ax.days - 2)))
        pos = str(rng.choice(["terminal", "box", "meter"], p=[0.45, 0.45, 0.1]))
        who = sid[int(rng.choice(topo.station_staff["reader"][cu.station[c]]))]
        events.append((int(c), d, pos, None, who))
        truth.add(
            "seal_no_order",
            "meter",
            cu.mid[c],
            str(ax.day_of(d)),
            str(ax.day_of(d)),
            customer_id=cu.cid[c],
            position=pos,
            removed_by=who,
        )
    for c, d, what, order, staff in sorted(events, key=lambda e: (e[0], e[1], e[3] or "")):
        at = int(ax.day_epoch[0] + d) * US_DAY + int(rng.integers(9 * 60, 17 * 60)) * US_MIN
        for pos in POSITIONS if what in ("all", "replace") else (what,):
            remove(c, pos, at, staff, order)
        if what == "replace":
            meter_of[c] = new_meter[c]
        if what != "all":
            for pos in POSITIONS if what == "replace" else (what,):
                apply(c, pos, at + 5 * US_MIN, staff, order)
    return rows
