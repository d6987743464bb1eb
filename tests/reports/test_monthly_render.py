"""The monthly report's three formats show the model's numbers: HTML parsed, XLSX read back with openpyxl,
PDF text extracted with pdftotext; the HTML loads nothing external; the PDF embeds a CJK font."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gridaudit.reports.monthly.fmt import number


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.cards: dict[str, list[str]] = {}
        self._card: str | None = None
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href", "xlink:href", "data"):
            v = a.get(key) or ""
            if v and not v.startswith(("#", "data:")):
                self.external.append(f"{tag} {key}={v}")
        if tag == "link" or (tag == "script" and a.get("src")):
            self.external.append(tag)
        if tag == "div" and a.get("class") == "card":
            self._card = a.get("data-key")
            self.cards[self._card or ""] = []
        if tag == "table":
            self._table = a.get("data-key")
            self.tables[self._table or ""] = []
        if tag == "tr" and self._table:
            self._row = []
        if tag in ("td", "th"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._text).strip())
        if tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._card is not None and data.strip():
            self.cards[self._card].append(data.strip())
        if "url(" in data and "http" in data:
            self.external.append(f"css url in {data[:60]}")


@pytest.fixture(scope="module")
def files(demo_report, cjk, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from gridaudit.reports.cli import write_report

    out = tmp_path_factory.mktemp("report")
    return write_report(demo_report, out, "zh", ["html", "pdf", "xlsx"])


def test_html_is_self_contained_and_shows_the_figures(files, demo_report) -> None:
    page = files["html"].read_text("utf-8")
    scan = _Scan()
    scan.feed(page)
    assert scan.external == []
    assert "@import" not in page and "https://" not in page.replace("http://www.w3.org/", "")
    assert page.count("<svg") >= 3  # the charts, inline
    for f in demo_report.section("summary").figures:
        assert scan.cards[f.key][1] == number(f.value, f.kind, "zh"), f.key
    fam = scan.tables["findings_by_family"]
    t = demo_report.table("findings_by_family")
    assert fam[-1][1] == number(t.totals[1], "int", "zh")  # totals row
    assert fam[0][0] == "类别" and fam[1][0] == t.rows[0][0].zh  # zh headers, labels


def test_xlsx_numbers_equal_the_model(files, demo_report) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(files["xlsx"], data_only=True)
    assert wb.sheetnames[0] == "概要" and len(wb.sheetnames) == 7
    assert wb.sheetnames[1].startswith("2 线损")
    summary = {r[0]: r for r in wb["概要"].iter_rows(values_only=True) if r[0]}
    for f in demo_report.section("summary").figures:
        row = summary[f.label.zh]
        assert row[1] == (pytest.approx(f.value) if f.value is not None else None), f.key
        assert row[2] == (pytest.approx(f.prev) if f.prev is not None else None), f.key
    ws = wb[wb.sheetnames[2]]  # findings
    rows = list(ws.iter_rows(values_only=True))
    t = demo_report.table("findings_by_family")
    head = next(i for i, r in enumerate(rows) if r[0] == "类别")
    body = rows[head + 1 : head + 1 + len(t.rows)]
    assert [r[1] for r in body] == [r[1] for r in t.rows]
    assert [r[0] for r in body] == [r[0].zh for r in t.rows]  # labels, not codes
    total = rows[head + 1 + len(t.rows)]
    assert total[0] == "合计" and total[1] == t.totals[1] and total[2] == pytest.approx(t.totals[2])
    wbf = openpyxl.load_workbook(files["xlsx"])  # formulas: the totals are live SUBTOTALs
    assert str(list(wbf[wb.sheetnames[2]].iter_rows(values_only=True))[head + 1 + len(t.rows)][1]).startswith(
        "=SUBTOTAL"
    )
    assert wbf[wb.sheetnames[2]].freeze_panes == "A2"
    assert wbf[wb.sheetnames[2]].tables  # Excel tables: header, autofilter, totals
    assert wbf[wb.sheetnames[1]]._charts  # native charts on the line-loss sheet


def test_english_workbook(demo_report, tmp_path: Path) -> None:
    import openpyxl

    from gridaudit.reports.monthly.xlsx import render_xlsx

    render_xlsx(demo_report, tmp_path / "en.xlsx", "en")
    wb = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[2] == "3 Findings"
    rows = list(wb[wb.sheetnames[2]].iter_rows(values_only=True))
    head = next(r for r in rows if r[0] == "family")
    assert head[:3] == ("family", "findings", "¥ at stake")
    fams = {r[0] for r in rows}
    assert {"theft", "line loss"} & fams and "窃电" not in fams


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_pdf_embeds_cjk_and_shows_the_numbers(files, demo_report, poppler, tmp_path: Path) -> None:
    pdf = str(files["pdf"])
    fonts = [line for line in _run("pdffonts", pdf).splitlines()[2:] if line.strip()]
    assert fonts and all(" yes " in line for line in fonts)
    assert any("CJK" in line for line in fonts)
    text = _run("pdftotext", "-layout", pdf, "-")
    assert "月度稽查报告" in text and "线损四分" in text and "第 1 页" in text.replace("第1页", "第 1 页")
    for key in ("loss_rate", "findings", "findings_yuan", "tasks", "recovered"):
        f = demo_report.figure(key)
        assert number(f.value, f.kind, "zh") in text, key
    t = demo_report.table("findings_by_family")
    assert number(t.totals[2], "yuan", "zh") in text
    _run("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", pdf, str(tmp_path / "page"))
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 10_000  # a page with content, not blank


def test_cli_writes_each_format_and_refuses_bad_input(demo_dir, demo_month, cjk, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gridaudit.cli import app

    base = ["report", "monthly", "--dataset", str(demo_dir / "dataset"), "--store", str(demo_dir / "audit"),
            "--user", "mgr", "--out-dir", str(tmp_path)]  # fmt: skip
    r = CliRunner().invoke(app, [*base, "--month", demo_month, "--format", "html,xlsx", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"monthly-report-{demo_month}-en.html",
        f"monthly-report-{demo_month}-en.xlsx",
    ]
    assert "Monthly audit report" in (tmp_path / f"monthly-report-{demo_month}-en.html").read_text("utf-8")
    for extra, needle in (
        (["--month", "2025-13"], "--month"),
        (["--month", demo_month, "--format", "docx"], "--format"),
        (["--month", demo_month, "--unit", "NOPE"], "NOPE"),
        (["--month", demo_month, "--loss", str(tmp_path / "none")], "balance_monthly"),
    ):
        r = CliRunner().invoke(app, [*base, *extra])
        assert r.exit_code == 2 and needle in r.output, (extra, r.output)


def test_html_opens_in_chromium_without_any_request(files) -> None:
    import os
    import shutil
    import tempfile

    if shutil.which("/usr/bin/chromium") is None:
        if os.environ.get("GRIDAUDIT_REQUIRE_SERVERS") == "1":
            pytest.fail("required tool missing in CI: /usr/bin/chromium")
        pytest.skip("/usr/bin/chromium not installed")
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(), executable_path="/usr/bin/chromium", headless=True, args=args
        )
        try:
            page = ctx.new_page()
            urls: list[str] = []
            page.on("request", lambda r: urls.append(r.url))
            page.goto(files["html"].as_uri())
            assert page.locator("section").count() == 7
            assert page.locator("figure svg").count() >= 3
            assert "月度稽查报告" in page.title()
        finally:
            ctx.close()
    assert [u for u in urls if u != files["html"].as_uri()] == []
