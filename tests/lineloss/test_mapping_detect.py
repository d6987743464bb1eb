"""Mapping errors on a feeder built in code: found with the true area, AMI gaps filled, areas peeled round by round."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np

from gridaudit.lineloss.mapping import _feeder, day_types
from gridaudit.lineloss.settings import LossSettings, Mapping

DAYS = 240
START = date(2024, 3, 1)


def _feeder_data(
    moves: dict[str, int],
    big_kwh: dict[str, float],
    gaps: dict[str, float] | None = None,
    seed: int = 3,
) -> tuple[dict, dict, dict[int, str]]:
    """Three areas of 30 households (4–12 kWh/day) and one large customer each (``big_kwh``, named B1..B3),
    plus customers M1.. whose kWh/day is in ``big_kwh`` too; ``moves`` records a customer on another area;
    ``gaps`` drops that share of a customer's AMI days. Returns (areas, customers, number → name)."""
    rng = np.random.default_rng(seed)
    names: list[str] = []
    true_area: list[int] = []
    level: list[float] = []
    for a in (1, 2, 3):
        for k in range(30):
            names.append(f"H{a}_{k}")
            true_area.append(a)
            level.append(float(rng.uniform(4, 12)))
    for name, kwh in big_kwh.items():
        names.append(name)
        true_area.append(int(name[-1]) if name.startswith("B") else int(name.split("_")[1]))
        level.append(kwh)
    n = len(names)
    wd = np.arange(DAYS) % 7 >= 5
    use = np.array(level)[:, None] * rng.lognormal(0, 0.3, (n, DAYS)) * np.where(wd, 1.1, 1.0)[None, :]
    true = np.array(true_area)
    recorded = true.copy()
    for name, a in moves.items():
        recorded[names.index(name)] = a
    reported = np.ones((n, DAYS), dtype=bool)
    for name, share in (gaps or {}).items():
        reported[names.index(name)] = rng.random(DAYS) >= share
    areas = {}
    for a in (1, 2, 3):
        load = use[true == a].sum(0)
        supply = load * (1 + 0.04 * (0.7 + 0.3 * load / load.mean())) + rng.normal(0, 3, DAYS)
        sales = np.where(reported[recorded == a], use[recorded == a], 0.0).sum(0)
        areas[a] = (np.arange(DAYS), supply, supply - sales)
    rows, days = np.nonzero(reported)
    cust = {
        "cust_no": rows.astype(np.int64),
        "area_no": recorded[rows].astype(np.int64),
        "di": days.astype(np.int64),
        "use": use[rows, days],
    }
    return areas, cust, dict(enumerate(names))


def _found(areas: dict, cust: dict, names: dict[int, str], **mapping) -> dict[str, int]:
    settings = LossSettings(mapping=dataclasses.replace(Mapping(), **mapping))
    out = _feeder(areas, cust, DAYS, settings, day_types(START, DAYS))
    return {names[r["cust_no"]]: r["likely_no"] for r in out}


def test_moved_customer_found_with_its_true_area_and_no_one_else():
    big = {"B1": 400.0, "B2": 400.0, "B3": 400.0, "M_2": 250.0}
    areas, cust, names = _feeder_data({"M_2": 1}, big)
    assert _found(areas, cust, names) == {"M_2": 2}  # fed from area 2, billed on area 1


def test_no_finding_when_every_customer_is_recorded_right():
    big = {"B1": 400.0, "B2": 400.0, "B3": 400.0, "M_2": 250.0}
    areas, cust, names = _feeder_data({}, big)
    assert _found(areas, cust, names) == {}


def test_ami_gaps_of_a_large_customer_are_filled_not_taken_for_loss():
    """B3 (1,500 kWh/day) misses 5 % of its AMI days: unfilled, its gaps swamp area 3's loss."""
    big = {"B1": 400.0, "B2": 400.0, "B3": 1500.0, "M_3": 200.0}
    areas, cust, names = _feeder_data({"M_3": 2}, big, gaps={"B3": 0.05})
    assert _found(areas, cust, names) == {"M_3": 3}
    assert "M_3" not in _found(areas, cust, names, fill_gaps=False)


def test_an_area_corrected_for_one_error_reveals_the_next():
    """X (1,500 kWh/day, fed from 2) is billed on 1, so area 1's loss is negative and cannot hold Y's energy
    (300 kWh/day, fed from 1, billed on 3) until X is taken out of area 1's sales."""
    big = {"B1": 400.0, "B2": 400.0, "B3": 400.0, "X_2": 1500.0, "Y_1": 300.0}
    areas, cust, names = _feeder_data({"X_2": 1, "Y_1": 3}, big)
    assert _found(areas, cust, names) == {"X_2": 2, "Y_1": 1}
    assert _found(areas, cust, names, rounds=1) == {"X_2": 2}


def test_local_level_is_the_mean_of_reported_days_around_each_day():
    from gridaudit.lineloss.mapping import local_level

    u = np.array([[1.0, np.nan, 3.0, 10.0, np.nan, np.nan, np.nan]])
    got = local_level(u, 3, np.array([99.0]))
    assert got[0, 1] == 2.0  # days 0 and 2
    assert got[0, 4] == 10.0  # day 3 only
    assert got[0, 5] == 99.0  # no reported day within ±1: the fallback
    assert (local_level(u, 0, np.array([7.0])) == 7.0).all()


def test_theft_controls_take_the_thief_and_never_a_customer_that_lowers_the_loss():
    """Area loss = 0.8 × the thief's swings − 1 × a mis-recorded customer's swings + noise."""
    from gridaudit.lineloss.mapping import _theft_controls

    rng = np.random.default_rng(5)
    n = 300
    u = rng.normal(0, 10, (6, n))  # 0: thief, 1: fed elsewhere but recorded here, 2–5: honest
    s = rng.normal(0, 50, n)
    y = 0.8 * u[0] - u[1] + rng.normal(0, 2, n)
    members = np.ones(6, dtype=bool)
    m = dataclasses.replace(Mapping(), theft_regressors=3)
    z = _theft_controls(u, s, y, np.arange(n), members, m)
    assert len(z) == 1 and np.allclose(z[0], u[0] - u[0].mean())
    assert len(_theft_controls(u, s, y, np.arange(n), members, Mapping())) == 0  # off by default


def test_options_keep_the_moved_customer_and_add_no_one():
    big = {"B1": 400.0, "B2": 400.0, "B3": 400.0, "M_2": 250.0}
    areas, cust, names = _feeder_data({"M_2": 1}, big, gaps={"B2": 0.05})
    assert _found(areas, cust, names, gap_fill_days=15, theft_regressors=8) == {"M_2": 2}
