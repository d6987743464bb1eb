"""Section 6 of the monthly report is the indicator assessment (``assess_month``): the model's rankings and
key indicators equal a separate ``assess_month`` run, and each format (HTML, XLSX, PDF) shows those figures."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gridaudit.reports.monthly.fmt import number


@pytest.fixture(scope="module")
def assessment(demo_dir, demo_report, demo_month):  # type: ignore[no-untyped-def]
    """``assess_month`` of the report's data month, run on its own."""
    from gridaudit.audit.store import open_store
    from gridaudit.indicators.assess import assess_month
    from gridaudit.reports.monthly.audit_section import as_of

    st = open_store(demo_dir / "audit")
    try:
        with st.transaction() as s:
            return assess_month(demo_dir / "dataset", demo_report.data_month, session=s, as_of=as_of(demo_month))
    finally:
        st.dispose()


@pytest.fixture(scope="module")
def files(demo_report, cjk, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from gridaudit.reports.cli import write_report

    return write_report(demo_report, tmp_path_factory.mktemp("assess"), "zh", ["html", "pdf", "xlsx"])


def _levels(assessment) -> list[str]:  # type: ignore[no-untyped-def]
    from gridaudit.indicators.catalog import LEVELS

    return [lv for lv in LEVELS if assessment.level(lv)]


def test_model_takes_the_assessment(demo_report, assessment) -> None:
    levels = _levels(assessment)
    assert {"staff", "station", "company"} <= set(levels)
    values = {(s.indicator, s.level, s.entity_id): s.value for s in assessment.scored}
    for level in levels:
        t = demo_report.table(f"assess_{level}")
        want = assessment.level(level)
        assert len(t.rows) == len(want)
        keys = [c.key for c in t.columns]
        for row, st in zip(t.rows, want, strict=True):
            assert row[1].endswith(f"（{st.entity_id}）") or row[1] == st.entity_id
            assert (row[0], row[2], row[3], row[4]) == (st.rank, st.score, st.points, st.possible)
            assert (row[5], row[6], row[7]) == (st.prev_rank, st.prev_score, st.change)
            for j, k in enumerate(keys[8:], start=8):
                assert row[j] == values.get((k, level, st.entity_id)), (level, k)
    station = demo_report.table("assess_station")
    assert "reading_error_rate" in [c.key for c in station.columns]
    assert "rectification_on_time_rate" in [c.key for c in station.columns]
    assert any(r[7] is not None for r in station.rows)  # the change against last month is shown
    top = next(s for s in assessment.scored if s.indicator == "rectification_on_time_rate" and s.level == "company")
    assert demo_report.figure("on_time_rate").value == top.value


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._t: str | None = None
        self._row: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._t = dict(attrs).get("data-key") or ""
            self.tables[self._t] = []
        elif tag == "tr" and self._t is not None:
            self._row = []
        elif tag in ("td", "th"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._text).strip())
        elif tag == "tr" and self._row is not None and self._t is not None:
            self.tables[self._t].append(self._row)
            self._row = None
        elif tag == "table":
            self._t = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def test_html_shows_the_assessment(files, demo_report, assessment) -> None:
    scan = _Tables()
    scan.feed(files["html"].read_text("utf-8"))
    for level in _levels(assessment):
        t = demo_report.table(f"assess_{level}")
        body = scan.tables[f"assess_{level}"][1:]
        assert len(body) == len(t.rows)
        for got, row in zip(body, t.rows, strict=True):
            assert got == [number(v, c.kind, "zh") for v, c in zip(row, t.columns, strict=True)]
        for got, st in zip(body, assessment.level(level), strict=True):
            assert got[2] == number(st.score, "pct", "zh")


def test_xlsx_shows_the_assessment(files, demo_report, assessment) -> None:
    import openpyxl

    from gridaudit.indicators.catalog import LEVEL_TEXT

    wb = openpyxl.load_workbook(files["xlsx"], data_only=True)
    ws = wb[next(n for n in wb.sheetnames if n.startswith("6 "))]
    rows = list(ws.iter_rows(values_only=True))
    for level in _levels(assessment):
        head = next(i for i, r in enumerate(rows) if r[0] == "名次" and r[1] == LEVEL_TEXT[level].zh)
        want = assessment.level(level)
        body = rows[head + 1 : head + 1 + len(want)]
        for got, st in zip(body, want, strict=True):
            assert got[0] == st.rank
            assert got[2] == (None if st.score is None else pytest.approx(st.score))
            assert got[3] == pytest.approx(st.points) and got[4] == pytest.approx(st.possible)
        t = demo_report.table(f"assess_{level}")
        j = [c.key for c in t.columns].index("reading_error_rate") if level == "station" else None
        if j is not None:
            v = next(s.value for s in assessment.scored if (s.indicator, s.level) == ("reading_error_rate", level))
            assert body[0][j] == pytest.approx(v)


def test_pdf_shows_the_assessment(files, assessment, poppler) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert "供电所考核排名" in text and "抄表差错率" in text
    for level in ("station", "staff"):
        for st in assessment.level(level)[:5]:
            assert st.name in text
            assert number(st.score, "pct", "zh") in text
