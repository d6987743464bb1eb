"""Working days by the official Chinese calendar, including make-up working days (调休).

Uses ``chinese-calendar``; for years it does not cover yet, weekends are the only days off
and a warning is given once, so a deadline is never silently wrong.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import chinese_calendar

_warned: set[int] = set()


def is_workday(day: date) -> bool:
    """Whether ``day`` is an official working day (调休 Saturdays count, holidays do not)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            warnings.warn(
                f"official holiday calendar for {day.year} is not known to chinese-calendar; "
                "counting Monday–Friday as working days",
                stacklevel=2,
            )
        return day.weekday() < 5


def add_workdays(start: date, n: int) -> date:
    """The date ``n`` working days after ``start`` (``start`` itself not counted)."""
    day = start
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))


def workday_calendar(first: date, last: date) -> list[tuple[date, bool]]:
    """Every day from ``first`` to ``last`` with its working-day flag (a table SQL rules can join)."""
    return [(first + timedelta(days=i), is_workday(first + timedelta(days=i))) for i in range((last - first).days + 1)]
