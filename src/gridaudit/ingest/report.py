"""What a person sees after an ingest: progress lines and a summary of accepted and rejected rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow.compute as pc
from rich.table import Table as RichTable

from gridaudit.console import console
from gridaudit.i18n import msg

CHECK_NAMES = {
    "required": ("必填为空", "required value blank"),
    "type": ("类型/格式错误", "wrong type or format"),
    "domain": ("取值不在范围", "value not in domain"),
    "finite": ("NaN/无穷", "NaN or infinite"),
    "range": ("超出范围", "out of range"),
    "not_future": ("未来日期", "date in the future"),
    "unique": ("主键重复", "duplicate key"),
    "foreign_key": ("关联不存在", "unknown reference"),
    "fields": ("字段数多于表头", "more fields than the header"),
    "period_date": ("账期与日期不符", "period does not fit the date"),
}


def progress_printer() -> Callable[[str, dict[str, Any]], None]:
    """A progress callback printing one line per step."""

    def show(event: str, info: dict[str, Any]) -> None:
        if event == "open":
            console.print(
                msg(f"打开 {info['source']} → {info['table']}", f"opening {info['source']} → {info['table']}"),
                highlight=False,
            )
        elif event == "read":
            console.print(
                msg(f"读取并校验 {info['source']}", f"reading and validating {info['source']}"), highlight=False
            )
        elif event == "recheck":
            console.print(
                msg(f"再次读取 {info['source']}, 列出失败行", f"reading {info['source']} again to list failing rows"),
                highlight=False,
            )
        elif event == "skip_fk":
            console.print(
                msg(
                    f"跳过 {info['table']}.{info['column']} 的关联检查: 数据集中没有 {info['ref']}",
                    f"foreign-key check of {info['table']}.{info['column']} skipped: no {info['ref']} in the dataset",
                ),
                style="yellow",
                highlight=False,
            )
        elif event == "skip_file":
            console.print(
                msg(
                    f"跳过 {info['source']}: 文件名不对应任何表 (可用 --mapping 指定)",
                    f"skipped {info['source']}: its name names no table (use --mapping to place it)",
                ),
                style="yellow",
                highlight=False,
            )
        elif event == "skip_sheet":
            console.print(info["reason"], style="yellow", highlight=False)
        elif event == "commit":
            console.print(msg("写入新版本…", "writing the new version…"), highlight=False)

    return show


def _failure_kinds(f: Any, title: str, top: int, style: str | None = None) -> None:
    """The most frequent kinds of failure in ``f`` (table, column, check) with a count and an example."""
    grouped = f.group_by(["table_name", "column_name", "check_name"]).aggregate([("row", "count"), ("row", "min")])
    grouped = grouped.sort_by([("row_count", "descending")])
    ft = RichTable(title=title, title_justify="left", title_style=style)
    for col in (
        msg("表", "table"),
        msg("列", "column"),
        msg("检查", "check"),
        msg("次数", "count"),
        msg("示例", "example"),
    ):
        ft.add_column(col)
    for r in grouped.slice(0, top).to_pylist():
        mask = pc.and_(
            pc.and_(pc.equal(f["table_name"], r["table_name"]), pc.equal(f["column_name"], r["column_name"])),
            pc.equal(f["check_name"], r["check_name"]),
        )
        ex = f.filter(mask).slice(0, 1).to_pylist()[0]
        zh, en = CHECK_NAMES.get(r["check_name"], (r["check_name"], r["check_name"]))
        where = msg(
            f"{ex['source']} 第 {ex['row']} 行 值={ex['value']!r}",
            f"{ex['source']} row {ex['row']} value={ex['value']!r}",
        )
        ft.add_row(r["table_name"], r["column_name"], msg(zh, en), f"{r['row_count']:,}", where)
    console.print(ft)


def print_summary(result: Any, top: int = 10) -> None:
    """Rows accepted/rejected per table, the most frequent failure kinds, where failure cases are saved."""
    if result.errors:
        return
    t = RichTable(title=msg("导入结果", "Ingest summary"), title_justify="left")
    for col in (
        msg("表", "table"),
        msg("接受", "accepted"),
        msg("拒绝", "rejected"),
        msg("新增", "inserted"),
        msg("更新", "updated"),
        msg("相同", "unchanged"),
        msg("重复行合并", "duplicates merged"),
    ):
        t.add_column(col, justify="right" if col not in ("表", "table") else "left")
    for name, s in sorted(result.tables.items()):
        t.add_row(
            name,
            f"{s.get('accepted', 0):,}",
            f"{s.get('rejected', 0):,}",
            f"{s.get('inserted', 0):,}",
            f"{s.get('updated', 0):,}",
            f"{s.get('unchanged', 0):,}",
            f"{s.get('duplicates_dropped', 0):,}",
        )
    console.print(t)
    for p in result.skipped:
        console.print(p.text(), style="yellow", highlight=False)
    f = result.failures
    if f.num_rows:
        if "severity" in f.column_names:
            warn = pc.equal(f["severity"], "warning")
            errors, warnings = f.filter(pc.invert(warn)), f.filter(warn)
        else:  # a failure_cases table written before severities existed
            errors, warnings = f, f.slice(0, 0)
        if errors.num_rows:
            _failure_kinds(
                errors,
                msg(
                    f"校验失败 {errors.num_rows:,} 处 (前 {top} 类)", f"{errors.num_rows:,} failures (top {top} kinds)"
                ),
                top,
            )
        if warnings.num_rows:
            _failure_kinds(
                warnings,
                msg(
                    f"警告 {warnings.num_rows:,} 处 (行已保留, 未丢失; 前 {top} 类)",
                    f"{warnings.num_rows:,} warning(s) (rows kept, nothing lost; top {top} kinds)",
                ),
                top,
                style="yellow",
            )
    if result.failures_path:
        console.print(
            msg(f"校验失败明细: {result.failures_path}", f"failure cases saved to: {result.failures_path}"),
            highlight=False,
        )
    ds = result.dataset
    if result.changed and ds is not None:
        console.print(
            msg(
                f"[green]数据集 {ds.root} 已更新为版本 {ds.version}[/]",
                f"[green]dataset {ds.root} is now at version {ds.version}[/]",
            )
        )
    elif ds is not None:
        console.print(
            msg(
                f"数据集未变化, 未写入任何内容 (仍为版本 {ds.version})",
                f"dataset unchanged, nothing written (still version {ds.version})",
            )
        )
    else:
        console.print(msg("未写入任何内容", "nothing was written"))
