"""Working days by the official Chinese calendar, including make-up working days (调休).

Sources, per year (docs/calendar.md): the utility's calendar file (``--calendar FILE`` or
``$GRIDAUDIT_CALENDAR``; :mod:`gridaudit.calendar_file`) first, then ``chinese-calendar``. A year known
to neither counts Monday–Friday as working days, says so once on stderr (one bilingual line), and every
deadline computed over it is *provisional* (:class:`Deadline`, :func:`provisional_between`), so a
deadline is never silently wrong. Every part (rules' ``workday_calendar``, rectification deadlines,
the synthetic utility) asks this module, so all use the same calendar.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar

from gridaudit.calendar_file import CalendarFile, load_calendar_file
from gridaudit.i18n import both, msg

ENV_VAR = "GRIDAUDIT_CALENDAR"

SOURCE_CC = "chinese-calendar"
SOURCE_FILE = "file"
SOURCE_WEEKENDS = "weekends-only"

# chinese-calendar's holiday names (English) → the Chinese name
CC_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

PROVISIONAL_MARK = "(暂定/provisional)"


@dataclass(frozen=True)
class Deadline:
    """A deadline in working days: the date, and whether a year it spans had no official calendar."""

    day: date
    provisional: bool

    def label(self) -> str:
        """``2027-03-05`` or ``2027-03-05 (暂定/provisional)``."""
        return f"{self.day.isoformat()} {PROVISIONAL_MARK}" if self.provisional else self.day.isoformat()


@dataclass(frozen=True)
class DayInfo:
    """One day of a year as :func:`year_days` describes it."""

    day: date
    workday: bool
    name: str | None  # holiday or make-up day name (Chinese where known), None for an ordinary day
    source: str  # chinese-calendar | file | weekends-only


def _print_warning(text: str) -> None:
    from gridaudit.console import err_console

    err_console.print(f"[yellow]warning[/]: {text}", highlight=False, soft_wrap=True)


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.configured = False
        self.file: CalendarFile | None = None
        self.warned: set[int] = set()
        self.notify: Callable[[str], None] = _print_warning


_STATE = _State()


def configure(path: str | Path | None, notify: Callable[[str], None] | None = None) -> CalendarFile | None:
    """Use the calendar file at ``path`` (None: none, chinese-calendar only) for this process.

    Raises :class:`gridaudit.calendar_file.CalendarError` for an unusable file. Resets the
    once-per-year warnings; ``notify`` receives each warning's text (default: one line on stderr).
    """
    cal = load_calendar_file(path) if path else None
    with _STATE.lock:
        _STATE.file = cal
        _STATE.configured = True
        _STATE.warned = set()
        _STATE.notify = notify or _print_warning
    return cal


def calendar_file() -> CalendarFile | None:
    """The calendar file in use (first use without :func:`configure` reads ``$GRIDAUDIT_CALENDAR``)."""
    if not _STATE.configured:
        configure(os.environ.get(ENV_VAR) or None)
    return _STATE.file


@lru_cache(maxsize=512)
def chinese_calendar_knows(year: int) -> bool:
    """Whether the installed chinese-calendar has the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_source(year: int) -> str:
    """Where ``year``'s holidays come from: ``file`` (complete in the calendar file), ``chinese-calendar``
    (possibly amended by the file) or ``weekends-only`` (known to neither: provisional)."""
    cal = calendar_file()
    entry = cal.years.get(year) if cal else None
    if entry is not None and entry.complete:
        return SOURCE_FILE
    return SOURCE_CC if chinese_calendar_knows(year) else SOURCE_WEEKENDS


def is_provisional(day: date) -> bool:
    """Whether ``day``'s year has no official calendar (a deadline over it is provisional)."""
    return year_source(day.year) == SOURCE_WEEKENDS


def provisional_between(start: date, end: date) -> bool:
    """Whether any day after ``start`` up to ``end`` lies in a year with no official calendar."""
    first = start + timedelta(days=1)
    return any(year_source(y) == SOURCE_WEEKENDS for y in range(first.year, max(first, end).year + 1))


def deadline_text(start: date, end: date) -> str:
    """A stored deadline ``end`` (counted from ``start``) as shown to people, marked when provisional."""
    return Deadline(end, provisional_between(start, end)).label()


def _warn(year: int) -> None:
    with _STATE.lock:
        if year in _STATE.warned:
            return
        _STATE.warned.add(year)
        notify = _STATE.notify
    cal = _STATE.file
    where_zh = where_en = ""
    if cal is not None and year in cal.years:  # a calendar file covers the year without marking it complete
        where_zh = f"日历文件 {cal.path} 中 {year} 年未标记 complete: true，"
        where_en = f"calendar file {cal.path} does not mark {year} complete; "
    last = max(y for y in range(2004, date.today().year + 5) if chinese_calendar_knows(y))
    notify(
        both(
            f"{where_zh}{year} 年的法定节假日与调休未知（chinese-calendar 只到 {last} 年）：暂按周一至周五为工作日，"
            f"按此计算的期限标为“暂定”；请用 --calendar 文件或 {ENV_VAR} 提供该年日历（见 docs/calendar.md）",
            f"{where_en}the official holidays and make-up working days of {year} are unknown (chinese-calendar "
            f"ends at {last}): counting Monday–Friday as working days, deadlines over it are marked provisional; "
            f"supply the year with --calendar FILE or {ENV_VAR} (see docs/calendar.md)",
        )
    )


def _cc_name(name: str | None) -> str | None:
    return None if name is None else CC_NAMES_ZH.get(name, name)


def day_info(day: date) -> DayInfo:
    """Whether ``day`` is a working day, its holiday / make-up name and the source that decided it."""
    cal = calendar_file()
    entry = cal.years.get(day.year) if cal else None
    if entry is not None:
        if day in entry.holidays:
            return DayInfo(day, False, entry.holidays[day], SOURCE_FILE)
        if day in entry.workdays:
            return DayInfo(day, True, entry.workdays[day], SOURCE_FILE)
        if entry.complete:
            return DayInfo(day, day.weekday() < 5, None, SOURCE_FILE)
    if chinese_calendar_knows(day.year):
        _off, name = chinese_calendar.get_holiday_detail(day)
        return DayInfo(day, bool(chinese_calendar.is_workday(day)), _cc_name(name), SOURCE_CC)
    return DayInfo(day, day.weekday() < 5, None, SOURCE_WEEKENDS)


def is_workday(day: date) -> bool:
    """Whether ``day`` is an official working day (调休 Saturdays count, holidays do not).

    A year known to neither the calendar file nor chinese-calendar counts Monday–Friday and warns once."""
    cal = calendar_file()
    entry = cal.years.get(day.year) if cal else None
    if entry is not None and (entry.complete or day in entry.holidays or day in entry.workdays):
        return day_info(day).workday
    if chinese_calendar_knows(day.year):
        return bool(chinese_calendar.is_workday(day))
    _warn(day.year)
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


def deadline(start: date, n: int) -> Deadline:
    """The deadline ``n`` working days after ``start``, provisional when it spans a year with no calendar."""
    end = add_workdays(start, n)
    return Deadline(end, provisional_between(start, end))


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))


def workday_calendar(first: date, last: date) -> list[tuple[date, bool]]:
    """Every day from ``first`` to ``last`` with its working-day flag (a table SQL rules can join)."""
    return [(first + timedelta(days=i), is_workday(first + timedelta(days=i))) for i in range((last - first).days + 1)]


def year_days(year: int) -> list[DayInfo]:
    """Every day of ``year`` with its flag, name and source (no warning: the caller shows the source)."""
    first = date(year, 1, 1)
    return [day_info(first + timedelta(days=i)) for i in range((date(year + 1, 1, 1) - first).days)]


def source_label(source: str) -> str:
    """A source code as people read it."""
    return {
        SOURCE_CC: "chinese-calendar",
        SOURCE_FILE: msg("日历文件", "calendar file"),
        SOURCE_WEEKENDS: msg("仅周末（暂定）", "weekends only (provisional)"),
    }[source]
