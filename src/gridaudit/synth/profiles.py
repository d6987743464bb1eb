"""True daily consumption of each customer (what flows through the service drop) and hourly shapes.

use[c, d] = level × season × week × Spring Festival × AR(1) lognormal noise, with vacant homes,
vacancy spells, moves (level steps) and the customer's life (connection, suspension, closure).
Residential noise and zero days are calibrated against the London LCL households (docs/synth.md).
"""

from __future__ import annotations

import numpy as np

from gridaudit.synth.config import Model
from gridaudit.synth.customers import AGR, COM, IND, LI, RES, Customers
from gridaudit.synth.timeaxis import TimeAxis

# Hourly shares (24 values, sum 1) of a day's energy, per shape.
_H = np.arange(24)
_RES = 0.6 + 0.5 * np.exp(-((_H - 7.5) ** 2) / 3) + 1.4 * np.exp(-((_H - 20) ** 2) / 6)
_SHOP = 0.15 + np.where((_H >= 9) & (_H < 21), 1.0, 0.0) + 0.3 * np.exp(-((_H - 14) ** 2) / 8)
_WORKS = 0.2 + np.where((_H >= 8) & (_H < 20), 1.0, 0.0)
_THREE_SHIFT = 0.9 + 0.1 * np.where((_H >= 8) & (_H < 20), 1.0, 0.0)
_PUMP = 0.3 + np.where((_H >= 6) & (_H < 18), 1.0, 0.0)
SHAPES = np.stack([s / s.sum() for s in (_RES, _SHOP, _WORKS, _THREE_SHIFT, _PUMP)])  # index = category


def _ar1(rng: np.random.Generator, n: int, days: int, phi: float) -> np.ndarray:
    """Standard-normal AR(1) noise, shape (n, days)."""
    eps = rng.standard_normal((n, days))
    out = np.empty_like(eps)
    out[:, 0] = eps[:, 0]
    k = np.sqrt(1 - phi * phi)
    for d in range(1, days):
        out[:, d] = phi * out[:, d - 1] + k * eps[:, d]
    return out


def daily_use(rng: np.random.Generator, cu: Customers, ax: TimeAxis, m: Model) -> np.ndarray:
    """True daily kWh, shape (customers, days), float64."""
    n, days = cu.n, ax.days
    cat = cu.cat
    t = ax.temperature
    cdd = np.clip((t - 24) / 8, 0, None)
    hdd = np.clip((10 - t) / 10, 0, None)
    cool = np.select(
        [cat == RES, cat == COM], [rng.uniform(0, m.cooling_max, n), rng.uniform(0.3, 0.9, n)], rng.uniform(0, 0.15, n)
    )
    heat = np.select(
        [cat == RES, cat == COM], [rng.uniform(0, m.heating_max, n), rng.uniform(0, 0.3, n)], rng.uniform(0, 0.05, n)
    )
    season = 1 + cool[:, None] * cdd[None, :] + heat[:, None] * hdd[None, :]
    irrigation = 0.25 + 1.5 * np.exp(-(((ax.doy - 170) / 45.0) ** 2))
    season[cat == AGR] = irrigation[None, :] * (1 + 0.2 * cdd[None, :])

    off = ~ax.workday
    week = np.ones((n, days))
    week_res = np.where(off, m.weekend_residential, 1.0)
    week[cat == RES] = week_res
    com_off = rng.uniform(0.55, 1.0, n)
    week[cat == COM] = np.where(off[None, :], com_off[cat == COM, None], 1.0)
    week[cat == IND] = np.where(off, 0.5, 1.0)
    week[cat == LI] = np.where(off, 0.85, 1.0)

    dip_res = 1 - m.spring_festival_residential
    dip = np.select(
        [cat == RES, cat == COM, cat == IND, cat == LI],
        [
            rng.uniform(-0.6, 2.0, n) * dip_res,
            np.full(n, 1 - m.spring_festival_commercial),
            np.full(n, 1 - m.spring_festival_industrial),
            np.full(n, 0.5),
        ],
        0.2,
    )
    spring = 1 - dip[:, None] * ax.spring[None, :]

    sigma = np.clip(rng.lognormal(np.log(m.noise_sigma_median), m.noise_sigma_spread, n), 0.04, 1.0)
    sigma = np.where(cat == RES, sigma, sigma * 0.5)
    noise = np.exp(sigma[:, None] * _ar1(rng, n, days, m.noise_ar1) - sigma[:, None] ** 2 / 2)

    use = cu.level[:, None] * season * week * spring * noise
    _vacancy_and_moves(rng, use, cu, ax, m)
    day = np.arange(days)[None, :]
    use[
        (day < cu.conn_day[:, None]) | ((day >= cu.status_day[:, None]) & ((cu.status > 0) & ~cu.secret_use)[:, None])
    ] = 0.0
    return use


def _vacancy_and_moves(rng: np.random.Generator, use: np.ndarray, cu: Customers, ax: TimeAxis, m: Model) -> None:
    """Vacant homes (standby load, some zero days), vacancy spells and moves (level steps), in place."""
    days = ax.days
    res = np.flatnonzero(cu.cat == RES)
    r = rng.random(len(res))
    vacant = res[r < m.vacant_share]
    standby = rng.uniform(0.05, 0.6, (len(vacant), 1))
    use[vacant] = standby * rng.lognormal(0, 0.4, (len(vacant), days)) * (rng.random((len(vacant), days)) > 0.04)
    spell = res[(r >= m.vacant_share) & (r < m.vacant_share + m.vacancy_spell_share)]
    for c in spell:
        s = int(rng.integers(0, days - 10))
        e = min(days, s + int(rng.integers(7, 90)))
        use[c, s:e] = rng.uniform(0.05, 0.5) * rng.lognormal(0, 0.4, e - s) * (rng.random(e - s) > 0.04)
    years = days / 365.0
    movers = res[rng.random(len(res)) < m.move_rate_per_year * years]
    for c in movers:
        d = int(rng.integers(5, days - 5))
        gap = int(rng.integers(0, 25))
        use[c, d:] *= rng.lognormal(0, 0.5)
        use[c, d : d + gap] = rng.uniform(0.05, 0.3, min(gap, days - d))
