"""Tips in bulk: a CSV (UTF-8 or GBK/GB18030, through ``ingest.encoding``) or XLSX file (first sheet, through
``ingest.xlsx``), one tip per row; and tips from the dataset's ``work_orders`` rows of type ``tip_off``.

Headers are English or Chinese (``COLUMNS``). Every bad row is named with file, row and column; one bad row
refuses the whole file, so nothing of it is stored half-way.
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.audit.errors import AuditError
from gridaudit.tips.subjects import Subject, TipInput, clean, parse_channel

# column → Chinese aliases (headers are matched case-insensitively, spaces ignored)
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": ("用户编号", "户号", "被举报用户", "客户编号"),
    "meter_id": ("电能表编号", "表号", "电能表"),
    "address": ("地址", "用电地址", "被举报地址"),
    "area_id": ("台区编号", "台区"),
    "what": ("举报内容", "内容", "description"),
    "channel": ("渠道", "举报渠道", "来源"),
    "received_on": ("日期", "举报日期", "受理日期", "举报时间", "date"),
    "contact": ("联系方式", "举报人联系方式", "举报人", "reporter"),
}
REQUIRED = ("what", "channel", "received_on")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")


@dataclass(frozen=True)
class RowProblem:
    """One bad cell or row of a tips file."""

    file: str
    row: int
    column: str
    zh: str
    en: str


class TipFileError(AuditError):
    """A tips file with bad rows: every problem named by file, row and column."""

    def __init__(self, problems: list[RowProblem]) -> None:
        shown = problems[:20]
        more_zh = f"\n……另有 {len(problems) - 20} 处" if len(problems) > 20 else ""
        more_en = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        zh = "举报文件有误，未导入任何举报:\n" + "\n".join(
            f"{p.file} 第 {p.row} 行 列 {p.column}: {p.zh}" for p in shown
        )
        en = "the tips file has errors, no tip was imported:\n" + "\n".join(
            f"{p.file} row {p.row} column {p.column}: {p.en}" for p in shown
        )
        super().__init__(zh + more_zh, en + more_en)
        self.problems = problems


def parse_day(text: str | None) -> date | None:
    """A date as exports write it: 2025-07-03, 2025/7/3, 2025年7月3日 (a time after it is ignored)."""
    m = _DATE.fullmatch((text or "").strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _header_map(headers: list[str], name: str) -> dict[int, str]:
    lookup = {k: k for k in COLUMNS} | {a.lower(): k for k, al in COLUMNS.items() for a in al}
    out: dict[int, str] = {}
    for i, h in enumerate(headers):
        key = lookup.get((h or "").strip().lower().replace(" ", "").lstrip("\ufeff"))
        if key is not None and key not in out.values():
            out[i] = key
    missing = [c for c in REQUIRED if c not in out.values()]
    if missing:
        raise TipFileError(
            [
                RowProblem(
                    name,
                    1,
                    c,
                    f"缺少列 {c}（或 {'、'.join(COLUMNS[c])}）",
                    f"missing column {c} (or {', '.join(COLUMNS[c])})",
                )
                for c in missing
            ]
        )
    if not {"customer_id", "meter_id", "address", "area_id"} & set(out.values()):
        raise TipFileError(
            [
                RowProblem(
                    name,
                    1,
                    "customer_id",
                    "缺少举报对象列（用户编号、电能表、地址或台区）",
                    "no subject column (customer_id, meter_id, address or area_id)",
                )
            ]
        )
    return out


def _raw_rows(path: Path) -> list[list[str | None]]:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        from gridaudit.ingest.xlsx import _open, cell_text

        wb = _open(path, path.name)
        sheet = wb.get_sheet_by_index(0).to_python()
        return [[cell_text(v) for v in row] for row in sheet]
    from gridaudit.ingest.encoding import prepare_csv

    with tempfile.TemporaryDirectory() as work:
        text = prepare_csv(path, path.name, Path(work))
        with open(text.path, encoding="utf-8-sig", newline="") as fh:
            return [list(r) for r in csv.reader(fh)]


def read_tip_file(path: str | Path) -> list[TipInput]:
    """The tips of a CSV/XLSX file; ``TipFileError`` naming every bad row (file, row, column)."""
    from gridaudit.ingest.errors import UnusableSource

    path = Path(path)
    if not path.is_file():
        raise AuditError(f"找不到举报文件 {path}", f"tips file not found: {path}")
    try:
        rows = _raw_rows(path)
    except UnusableSource as exc:
        raise AuditError(f"{path}: {exc}", f"{path}: {exc}") from exc
    rows = [r for r in rows if any(clean(v) for v in r)]
    if not rows:
        raise TipFileError([RowProblem(path.name, 1, "-", "文件为空", "the file is empty")])
    cols = _header_map([str(h or "") for h in rows[0]], path.name)
    out: list[TipInput] = []
    problems: list[RowProblem] = []
    for n, raw in enumerate(rows[1:], start=2):
        rec: dict[str, Any] = {key: clean(raw[i]) if i < len(raw) else None for i, key in cols.items()}
        tip, bad = _tip_of_row(rec, path.name, n)
        problems += bad
        if tip is not None:
            out.append(tip)
    if problems:
        raise TipFileError(problems)
    return out


def _tip_of_row(rec: dict[str, Any], name: str, n: int) -> tuple[TipInput | None, list[RowProblem]]:
    bad: list[RowProblem] = []
    subject = Subject(rec.get("customer_id"), rec.get("meter_id"), rec.get("address"), rec.get("area_id"))
    if not subject.as_dict():
        bad.append(
            RowProblem(
                name,
                n,
                "customer_id",
                "没有举报对象（用户编号、电能表、地址或台区）",
                "no subject (customer_id, meter_id, address or area_id)",
            )
        )
    if not rec.get("what"):
        bad.append(RowProblem(name, n, "what", "举报内容为空", "what was reported is empty"))
    channel = None
    try:
        channel = parse_channel(rec.get("channel"))
    except AuditError as exc:
        bad.append(RowProblem(name, n, "channel", exc.zh, exc.en))
    day = parse_day(rec.get("received_on"))
    if day is None:
        v = rec.get("received_on")
        bad.append(
            RowProblem(
                name, n, "received_on", f"日期无效 {v!r}（应为 YYYY-MM-DD）", f"bad date {v!r} (expected YYYY-MM-DD)"
            )
        )
    elif day > date.today():
        bad.append(RowProblem(name, n, "received_on", f"日期 {day} 在将来", f"date {day} is in the future"))
    if bad or channel is None or day is None:
        return None, bad
    return (
        TipInput(subject, str(rec["what"]), channel, day, rec.get("contact"), "file", f"{name}:{n}"),
        [],
    )


def work_order_tips(dataset_dir: str | Path, channel: str = "95598") -> tuple[list[TipInput], list[str]]:
    """Tips from the dataset's ``work_orders`` rows of type ``tip_off`` (subject: the order's customer; what:
    its ``detail``), and the order ids left out because they name no customer."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    if not ds.has("work_orders"):
        return [], []
    eng = open_engine(ds)
    try:
        cols = eng.query("select * from work_orders limit 0").column_names
        cust = "cast(customer_id as varchar)" if "customer_id" in cols else "null"
        detail = "cast(detail as varchar)" if "detail" in cols else "null"
        rows = eng.query(
            f"select cast(order_id as varchar) o, cast(accepted_at as date) d, {cust} c, {detail} x "
            "from work_orders where order_type = 'tip_off' order by 1"
        ).to_pylist()
    finally:
        eng.close()
    tips, skipped = [], []
    for r in rows:
        if not r["c"]:
            skipped.append(r["o"])
            continue
        what = r["x"] or f"举报工单 {r['o']} / tip-off work order {r['o']}"
        tips.append(TipInput(Subject(customer=r["c"]), what, channel, r["d"], None, "work_order", r["o"]))
    return tips, skipped
