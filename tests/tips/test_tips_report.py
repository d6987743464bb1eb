"""Tip rewards in the monthly report (section 5), and the reporter's identity in none of the report's HTML,
PDF text or XLSX cells, nor the tip task's evidence pack, nor the ``audit export`` workbook."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import CONTACT
from .test_tips_cli import cli, setup, task_of

NAME, PHONE = CONTACT.split()


def _absent(text: str, where: str) -> None:
    for secret in (CONTACT, NAME, PHONE):
        assert secret not in text, f"the reporter ({secret}) is in {where}"


def test_reward_in_report_and_reporter_nowhere(dataset, tmp_path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not on PATH (install poppler-utils)")
    store = str(tmp_path / "cases.db")
    setup(store)
    st, ds = ["--store", store], ["--dataset", str(dataset)]
    cli("tips", "add", *ds, "--customer", "C3", "--what", "夜间私拉电线", "--channel", "电话", "--on", "2025-06-03",
        "--contact", CONTACT, *st, "--user", "li")  # fmt: skip
    cli("audit", "plan", "create", "--month", "2025-07", *ds, *st, "--user", "lead")
    tid, _family = task_of(store, "C3")
    cli("audit", "tasks", "assign", str(tid), "--to", "zhang", *st, "--user", "li")
    cli("audit", "tasks", "result", str(tid), "--outcome", "theft", "--kind", "field", "--recovered-kwh", "5000",
        "--recovered-yuan", "3000", "--on", "2025-07-10", *st, "--user", "zhang")  # fmt: skip
    cli("tips", "reward", "propose", str(tid), *st, "--user", "lead")
    cli("tips", "reward", "approve", "1", *st, "--user", "mgr")
    assert PHONE in cli("tips", "show", "1", *st, "--user", "lead")  # it is on record, for the lead

    # the report model: section 5 lists the approved reward
    from gridaudit.audit.store import open_store
    from gridaudit.reports.monthly.build import build_report

    s0 = open_store(store)
    try:
        with s0.transaction() as s:
            rep = build_report(dataset, s, "2025-07")
    finally:
        s0.dispose()
    [row] = rep.table("tip_rewards").rows
    assert (row[0], row[1], row[2], row[6], row[7]) == (1, tid, 1, 3000.0, 300.0)
    assert row[3].zh == "电话" and row[10] == "mgr"
    assert rep.figure("tip_rewards").value == 300.0

    # every format, as the audit lead makes it (the one who may see the reporter)
    out = tmp_path / "report"
    cli("report", "monthly", "--month", "2025-07", *ds, *st, "--user", "lead", "--out-dir", str(out),
        "--format", "html,pdf,xlsx", "--lang", "zh")  # fmt: skip
    html = next(out.glob("*.html")).read_text("utf-8")
    _absent(html, "the report's HTML")
    assert "举报奖励" in html and "300.00" in html
    pdf = subprocess.run(["pdftotext", str(next(out.glob("*.pdf"))), "-"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    _absent(pdf, "the report's PDF")
    assert "举报奖励" in pdf
    from openpyxl import load_workbook

    def cells(path) -> str:  # type: ignore[no-untyped-def]
        wb = load_workbook(path, read_only=True)
        return "\n".join(str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v)

    book = cells(next(out.glob("*.xlsx")))
    _absent(book, "the report's XLSX")
    assert "300" in book
    # the tip task's evidence pack, HTML and PDF
    for ext in ("html", "pdf"):
        f = tmp_path / f"evidence.{ext}"
        cli("audit", "evidence", str(tid), "--out", str(f), *ds, *st, "--user", "lead")
        body = f.read_text("utf-8") if ext == "html" else subprocess.run(
            ["pdftotext", str(f), "-"], capture_output=True, text=True, check=True).stdout  # fmt: skip
        _absent(body, f"the evidence pack ({ext})")
        assert "夜间私拉电线" in body  # what was reported is evidence; who reported it is not
    # the audit export workbook
    xlsx = tmp_path / "audit.xlsx"
    cli("audit", "export", "--month", "2025-07", "--out", str(xlsx), *st, "--user", "lead")
    _absent(cells(xlsx), "the audit export workbook")
