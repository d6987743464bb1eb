"""The time axis of a run: simulated days, billing months, working days, weather and holidays.

Days are simulated from the first day of the month *before* ``start`` (so the opening meter
reading exists) to the last day of the last month; tables hold the window from ``start`` on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from gridaudit.workdays import is_workday

EPOCH = date(1970, 1, 1)

# Lunar New Year's Day (春节) by year; the dip spans the official holiday and the weeks around it.
SPRING_FESTIVAL = {
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s month."""
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def epoch_days(d: date) -> int:
    """Days since 1970-01-01 (Arrow date32)."""
    return (d - EPOCH).days


@dataclass
class TimeAxis:
    """Day-level arrays of one run (index 0 = first simulated day)."""

    sim_start: date
    start: date
    end: date  # last day of data (inclusive)
    periods: list[str]  # billing months, the opening month first
    month_first: list[date]  # first day of each period in ``periods``
    days: int
    first_out: int  # index of ``start``
    day_epoch: np.ndarray  # date32 value of each day
    month_idx: np.ndarray  # index into ``periods`` of each day
    doy: np.ndarray
    weekday: np.ndarray
    workday: np.ndarray  # official working day (调休 included)
    spring: np.ndarray  # 1.0 inside the Spring Festival dip window, ramped edges
    temperature: np.ndarray  # common daily temperature of the region (°C)

    def day_of(self, idx: int) -> date:
        """The date of day index ``idx``."""
        return self.sim_start + timedelta(days=int(idx))

    def pick(self, rng: np.random.Generator, after: int, before: int, size: int | None = None) -> np.ndarray:
        """Random day indices in the window, ``after`` days past its start and ``before`` days before its
        end; margins shrink to a quarter of the window each when the window is short."""
        w = self.days - self.first_out
        lo = self.first_out + min(after, w // 4)
        hi = max(lo + 1, self.days - min(before, w // 4))
        return rng.integers(lo, hi, size)

    def index_of(self, d: date) -> int:
        """The day index of date ``d`` (may fall outside the axis)."""
        return (d - self.sim_start).days


def build_time_axis(start: date, months: int, rng: np.random.Generator, weather_sigma: float) -> TimeAxis:
    """Build the axis for ``months`` billing months from ``start``; weather noise comes from ``rng``."""
    sim_start = add_months(start, -1)
    end = add_months(start, months) - timedelta(days=1)
    n = (end - sim_start).days + 1
    dates = [sim_start + timedelta(days=i) for i in range(n)]
    month_first = [add_months(sim_start, k) for k in range(months + 1)]
    periods = [f"{d.year:04d}-{d.month:02d}" for d in month_first]
    month_idx = np.array([(d.year - sim_start.year) * 12 + d.month - sim_start.month for d in dates])
    doy = np.array([d.timetuple().tm_yday for d in dates])
    weekday = np.array([d.weekday() for d in dates])
    workday = np.array([is_workday(d) for d in dates])
    spring = np.zeros(n)
    for d0 in SPRING_FESTIVAL.values():
        off = np.array([(d - d0).days for d in dates])
        core = (off >= -3) & (off <= 10)
        ramp = ((off >= -10) & (off < -3)) | ((off > 10) & (off <= 20))
        spring = np.maximum(spring, np.where(core, 1.0, np.where(ramp, 0.5, 0.0)))
    weather = np.zeros(n)
    eps = rng.normal(0, weather_sigma, n)
    for i in range(1, n):
        weather[i] = 0.7 * weather[i - 1] + eps[i]
    temperature = 17.0 + 12.0 * np.cos(2 * np.pi * (doy - 200) / 365.25) + weather
    return TimeAxis(
        sim_start=sim_start,
        start=start,
        end=end,
        periods=periods,
        month_first=month_first,
        days=n,
        first_out=(start - sim_start).days,
        day_epoch=np.arange(epoch_days(sim_start), epoch_days(sim_start) + n, dtype=np.int32),
        month_idx=month_idx,
        doy=doy,
        weekday=weekday,
        workday=workday,
        spring=spring,
        temperature=temperature,
    )


class WorkCalendar:
    """Vectorised working-day arithmetic over a date range (official calendar with 调休)."""

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        n = (last - first).days + 1
        self.is_work = np.array([is_workday(first + timedelta(days=i)) for i in range(n)])
        self.cum = np.cumsum(self.is_work)

    def add(self, day_epoch: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Date32 values ``n`` working days after each ``day_epoch`` (the start day not counted)."""
        idx = np.asarray(day_epoch) - epoch_days(self.first)
        target = self.cum[idx] + np.asarray(n)
        out = np.searchsorted(self.cum, target, side="left")
        return (np.minimum(out, len(self.cum) - 1) + epoch_days(self.first)).astype(np.int32)

    def between(self, a_epoch: np.ndarray, b_epoch: np.ndarray) -> np.ndarray:
        """Working days after ``a`` up to and including ``b`` (0 when ``b`` ≤ ``a``)."""
        ia = np.asarray(a_epoch) - epoch_days(self.first)
        ib = np.asarray(b_epoch) - epoch_days(self.first)
        return np.maximum(self.cum[ib] - self.cum[ia], 0)
