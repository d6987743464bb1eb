"""``gridaudit calendar show YEAR``: the working-day calendar every deadline and rule uses."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer

from gridaudit.console import console, die, example
from gridaudit.i18n import both, msg

calendar_app = typer.Typer(
    help="The working-day calendar: holidays and 调休 make-up days (工作日历).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

WEEKDAYS_ZH = "一二三四五六日"


def _ranges(days: list) -> list[tuple]:
    """Consecutive days with the same name and source as (first, last, name, source, count)."""
    out = []
    for _key, group in groupby(enumerate(days), key=lambda p: (p[1].day.toordinal() - p[0], p[1].name, p[1].source)):
        items = [d for _, d in group]
        out.append((items[0].day, items[-1].day, items[0].name, items[0].source, len(items)))
    return out


def _print_or_none(table: object, rows: list) -> None:
    if rows:
        console.print(table)
    else:
        console.print(f"{table.title}: " + msg("无", "none"))  # type: ignore[attr-defined]


@calendar_app.command(
    "show",
    epilog=example("gridaudit calendar show 2026", "gridaudit calendar show 2027 --calendar holidays.yaml"),
)
def show_cmd(
    year: Annotated[int, typer.Argument(help="Year, e.g. 2027 / 年份")],
    calendar: Annotated[
        Path | None,
        typer.Option("--calendar", help="Calendar file (YAML; default: gridaudit --calendar or $GRIDAUDIT_CALENDAR)"),
    ] = None,
) -> None:
    """Print a year's holidays, make-up working days (调休) and working days per month, with their source."""
    from rich.table import Table

    from gridaudit import workdays
    from gridaudit.calendar_file import CalendarError

    if not 1900 <= year <= 2200:
        die(both(f"年份无效：{year}", f"not a year: {year}"))
    if calendar is not None:
        try:
            workdays.configure(calendar)
        except CalendarError as exc:
            die(str(exc))
    cal = workdays.calendar_file()
    source = workdays.year_source(year)
    days = workdays.year_days(year)
    amended = cal is not None and year in cal.years and source != workdays.SOURCE_FILE
    where = f"{workdays.source_label(source)}" + (f" + {cal.path}" if cal and year in cal.years else "")
    console.print(msg(f"{year} 年工作日历，来源：{where}", f"working-day calendar {year}, source: {where}"))
    if amended:
        console.print(msg("（日历文件修正了其中部分日期）", "(the calendar file amends some of its days)"))
    if source == workdays.SOURCE_WEEKENDS:
        console.print(
            both(
                f"{year} 年没有官方节假日安排（chinese-calendar 和日历文件都没有）：只按周末计，期限为暂定",
                f"{year} has no official holiday schedule (neither chinese-calendar nor a calendar file): "
                "weekends only, deadlines are provisional",
            ),
            style="yellow",
        )
    holidays = _ranges([d for d in days if not d.workday and d.name])
    makeup = [d for d in days if d.workday and d.day.weekday() >= 5]
    t = Table(title=msg("节假日", "Holidays"), title_justify="left")
    for col in (msg("日期", "dates"), msg("天数", "days"), msg("名称", "name"), msg("来源", "source")):
        t.add_column(col)
    for first, last, name, src, n in holidays:
        span = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        t.add_row(span, str(n), name or "", workdays.source_label(src))
    _print_or_none(t, holidays)
    t = Table(title=msg("调休上班日", "Make-up working days (调休)"), title_justify="left")
    for col in (msg("日期", "date"), msg("星期", "weekday"), msg("名称", "name"), msg("来源", "source")):
        t.add_column(col)
    for d in makeup:
        wd = msg(f"周{WEEKDAYS_ZH[d.day.weekday()]}", d.day.strftime("%a"))
        t.add_row(d.day.isoformat(), wd, d.name or "", workdays.source_label(d.source))
    _print_or_none(t, makeup)
    t = Table(title=msg("每月工作日", "Working days per month"), title_justify="left")
    for col in (msg("月份", "month"), msg("工作日", "working days"), msg("来源", "source")):
        t.add_column(col)
    for month in range(1, 13):
        in_month = [d for d in days if d.day.month == month]
        sources = sorted({d.source for d in in_month})
        t.add_row(
            f"{year}-{month:02d}",
            str(sum(d.workday for d in in_month)),
            ", ".join(workdays.source_label(s) for s in sources),
        )
    t.add_row(msg("全年", "year"), str(sum(d.workday for d in days)), "")
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add ``gridaudit calendar`` to the CLI."""
    app.add_typer(calendar_app, name="calendar")
