"""The utility's own calendar file: official holidays and 调休 make-up working days per year (YAML).

A utility writes it when the State Council publishes the next year's holiday schedule (usually in
November), before chinese-calendar knows that year, or to correct a day. Format (docs/calendar.md)::

    years:
      2027:
        complete: true            # the file lists every holiday and make-up day of 2027
        holidays:
          - {date: 2027-01-01, name: 元旦}
          - {from: 2027-02-06, to: 2027-02-12, name: 春节}
        workdays:                 # 调休: weekend days worked instead
          - {date: 2027-02-20, name: 春节调休}

``complete: true`` — the year is defined by the file alone (chinese-calendar is not consulted for it);
``complete: false`` — the listed days amend chinese-calendar; the other days keep its answer (or, for a
year chinese-calendar does not know, Monday–Friday, provisional).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gridaudit.i18n import both

MAX_SPAN_DAYS = 40  # no official holiday is longer; a longer range is a typo


class CalendarError(ValueError):
    """A calendar file that cannot be used (message names the file, year and entry)."""


@dataclass(frozen=True)
class CalendarYear:
    """One year of a calendar file: its holidays and make-up working days, each with a name."""

    year: int
    complete: bool
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CalendarFile:
    """A loaded, validated calendar file."""

    path: Path
    years: dict[int, CalendarYear]


def load_calendar_file(path: str | Path) -> CalendarFile:
    """Read and validate a calendar file; raise :class:`CalendarError` naming the file, year and entry."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise CalendarError(both(f"找不到日历文件 {p}", f"calendar file {p} not found"))
    try:
        doc = yaml.load(p.read_text("utf-8"), Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CalendarError(
            both(f"日历文件 {p} 不是有效的 UTF-8 YAML：{first}", f"calendar file {p} is not valid UTF-8 YAML: {first}")
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("years"), dict):
        raise CalendarError(
            both(f"日历文件 {p} 应有顶层键 years（年份 → 节假日与调休）",
                 f"calendar file {p} needs a top-level `years:` mapping (year → holidays and workdays)")
        )  # fmt: skip
    unknown = sorted(set(doc) - {"years"})
    if unknown:
        raise CalendarError(
            both(f"日历文件 {p} 有未知的键：{unknown}", f"calendar file {p} has unknown keys: {unknown}")
        )
    years = {}
    for key, body in doc["years"].items():
        year = _year(p, key)
        years[year] = _parse_year(p, year, body)
    return CalendarFile(p, years)


def _loader() -> type:
    """A safe YAML loader that keeps dates as text, so a bad date is reported with its entry."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
        for ch, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


def _year(p: Path, key: Any) -> int:
    try:
        year = int(key)
    except (TypeError, ValueError):
        year = 0
    if not 1900 <= year <= 2200:
        raise CalendarError(both(f"日历文件 {p}：年份 {key!r} 无效", f"calendar file {p}: {key!r} is not a year"))
    return year


def _parse_year(p: Path, year: int, body: Any) -> CalendarYear:
    where_zh, where_en = f"日历文件 {p} 的 {year} 年", f"calendar file {p}, year {year}"
    if not isinstance(body, dict):
        raise CalendarError(both(f"{where_zh}应为映射（complete、holidays、workdays）",
                                 f"{where_en}: expected a mapping (complete, holidays, workdays)"))  # fmt: skip
    unknown = sorted(set(body) - {"complete", "holidays", "workdays"})
    if unknown:
        raise CalendarError(both(f"{where_zh}有未知的键：{unknown}", f"{where_en}: unknown keys {unknown}"))
    complete = body.get("complete")
    if not isinstance(complete, bool):
        raise CalendarError(
            both(f"{where_zh}须写明 complete: true（本文件列出全年节假日）或 false（只修正个别日期）",
                 f"{where_en}: say `complete: true` (the file lists the whole year) or `false` (it amends some days)")
        )  # fmt: skip
    holidays = _days(p, year, body.get("holidays") or [], "holidays")
    workdays = _days(p, year, body.get("workdays") or [], "workdays")
    both_kinds = sorted(set(holidays) & set(workdays))
    if both_kinds:
        d = both_kinds[0].isoformat()
        raise CalendarError(
            both(f"{where_zh}：{d} 既是节假日又是调休上班日", f"{where_en}: {d} is both a holiday and a workday")
        )
    return CalendarYear(year, complete, holidays, workdays)


def _days(p: Path, year: int, entries: Any, kind: str) -> dict[date, str]:
    """The days of a ``holidays`` or ``workdays`` list, each with its name."""
    if not isinstance(entries, list):
        raise CalendarError(
            both(f"日历文件 {p} 的 {year} 年 {kind} 应为列表", f"calendar file {p}, year {year}: {kind} must be a list")
        )
    out: dict[date, str] = {}
    for n, entry in enumerate(entries, start=1):
        where_zh = f"日历文件 {p} 的 {year} 年 {kind} 第 {n} 项"
        where_en = f"calendar file {p}, year {year}, {kind} entry {n}"
        if not isinstance(entry, dict) or not (set(entry) <= {"date", "from", "to", "name"}):
            raise CalendarError(
                both(f"{where_zh}应为 {{date, name}} 或 {{from, to, name}}：{entry!r}",
                     f"{where_en}: expected {{date, name}} or {{from, to, name}}: {entry!r}")
            )  # fmt: skip
        name = str(entry.get("name") or "").strip()
        if not name:
            raise CalendarError(both(f"{where_zh}缺少 name（节日名称）", f"{where_en}: missing name"))
        if "date" in entry and not ({"from", "to"} & set(entry)):
            first = last = _date(entry["date"], where_zh, where_en)
        elif "from" in entry and "to" in entry and "date" not in entry:
            first, last = _date(entry["from"], where_zh, where_en), _date(entry["to"], where_zh, where_en)
        else:
            raise CalendarError(
                both(f"{where_zh}须给出 date，或同时给出 from 和 to", f"{where_en}: give date, or both from and to")
            )
        if last < first or (last - first).days >= MAX_SPAN_DAYS:
            raise CalendarError(
                both(f"{where_zh}：日期范围 {first}..{last} 无效", f"{where_en}: bad date range {first}..{last}")
            )
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            if day.year != year:
                raise CalendarError(both(f"{where_zh}：{day} 不在 {year} 年", f"{where_en}: {day} is not in {year}"))
            out[day] = name
    return out


def _date(value: Any, where_zh: str, where_en: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarError(
            both(
                f"{where_zh}：日期应为 YYYY-MM-DD，而不是 {value!r}",
                f"{where_en}: date must be YYYY-MM-DD, not {value!r}",
            )
        ) from None
