"""``gridaudit audit assess --dataset DIR``: the indicator assessment from the command line (one command:
the case store's counts are indicators of the catalogue, see docs/indicators.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from gridaudit.console import console, die
from gridaudit.i18n import Text, both, msg
from gridaudit.indicators.catalog import LEVELS, IndicatorError
from gridaudit.indicators.method import MethodError


def _has_store(store: str | None) -> bool:
    from gridaudit.audit.store import sqlite_path

    path = sqlite_path(store)
    return path is None or path.is_file()


def indicator_assess(
    month: str,
    dataset: Path,
    as_of: date | None,
    as_json: bool,
    book: bool,
    method: Path | None,
    explain: str | None,
    levels: list[str] | None,
    top: int,
    store: str | None,
    user: str | None,
) -> None:
    """Assess ``month`` by the indicators, print rankings (or JSON, or one entity's explanation), optionally book."""
    from gridaudit.dataset import DatasetError
    from gridaudit.indicators.assess import assess_month
    from gridaudit.indicators.render import assessment_data, print_explain, print_rankings

    bad = [x for x in levels or [] if x not in LEVELS]
    if bad:
        die(both(f"--level 未知层级 {', '.join(bad)}（可用 {', '.join(LEVELS)}）",
                 f"--level: unknown level(s) {', '.join(bad)} (known: {', '.join(LEVELS)})"))  # fmt: skip
    if method is not None and not method.is_file():
        die(both(f"--method 文件不存在：{method}", f"--method file not found: {method}"))
    day = as_of or date.today()

    def go(session: Any) -> Any:
        try:
            return assess_month(dataset, month, session=session, method_file=method, as_of=day, explain=explain)
        except (IndicatorError, MethodError, DatasetError) as exc:
            die(str(exc))

    if _has_store(store):
        from gridaudit.audit.cli_common import run

        def in_store(s: Any, _st: Any) -> Any:
            from gridaudit.audit.access import reader, visible_units
            from gridaudit.indicators.assess import restrict

            a = go(s)
            if not book:  # a booking is the whole month; reading shows the user's unit scope only
                a = restrict(a, visible_units(s, reader(s, user)))
            if book:
                from gridaudit.indicators.book import book as book_it

                run_row = book_it(s, user or "", a, day)
                return a, run_row
            return a, None

        a, booked = run(store, in_store, user=user, read=not book)
    else:
        if book:
            die(both("--book 需要案件库（--store）", "--book needs a case store (--store)"))
        a, booked = go(None), None
        a.notes.append(
            Text(
                "未找到案件库：稽查类指标不可计算", "no case store found: the audit-loop indicators are not computable"
            )
        )
    if booked is not None:
        tail = (
            msg(f"，取代编号 {booked.supersedes_id}", f", supersedes id {booked.supersedes_id}")
            if booked.supersedes_id
            else ""
        )
        console.print(
            msg(
                f"{month} 指标考核已写入台账：第 {booked.version} 版（编号 {booked.run_id}{tail}）",
                f"{month} indicator assessment booked: version {booked.version} (id {booked.run_id}{tail})",
            ),  # fmt: skip
            highlight=False,
        )
    if as_json:
        typer.echo(json.dumps(assessment_data(a), ensure_ascii=False, indent=1, default=str))
        return
    if explain is not None:
        print_explain(a, explain)
        return
    print_rankings(a, levels, top)
