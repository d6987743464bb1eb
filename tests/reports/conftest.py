"""Fixtures of the report tests: poppler's tools and a CJK font (skip with the reason when missing, fail in CI)."""

from __future__ import annotations

import os
import shutil

import pytest


def _missing(reason: str) -> None:
    if os.environ.get("GRIDAUDIT_REQUIRE_SERVERS") == "1":
        pytest.fail(f"required tool missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def poppler() -> None:
    """Skip unless pdffonts, pdftotext and pdftoppm (poppler-utils) are on PATH."""
    for tool in ("pdffonts", "pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            _missing(f"{tool} not on PATH (install poppler-utils)")


@pytest.fixture(scope="session")
def cjk():  # type: ignore[no-untyped-def]
    """The system's CJK font (gridaudit.reports.fonts), or skip when the machine has none."""
    from gridaudit.reports.fonts import FontNotFound, cjk_font

    try:
        return cjk_font()
    except FontNotFound as exc:
        _missing(str(exc))


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A small demo (synthetic utility → dataset, findings store, loss outputs, case store with a plan and
    a few tasks through the loop), 13 months so every figure has its same month last year."""
    from gridaudit.demo import run

    out = tmp_path_factory.mktemp("demo") / "demo"
    run(customers=300, months=13, out=out, seed=7, start="2024-01")
    return out


@pytest.fixture(scope="session")
def demo_month(demo_dir) -> str:  # type: ignore[no-untyped-def]
    """The month of the demo's plan (the month after its data)."""
    from sqlalchemy import select

    from gridaudit.audit.models import Plan
    from gridaudit.audit.store import open_store

    st = open_store(demo_dir / "audit")
    try:
        with st.transaction() as s:
            return str(s.execute(select(Plan.month).order_by(Plan.month.desc())).scalars().first())
    finally:
        st.dispose()


@pytest.fixture(scope="session")
def demo_report(demo_dir, demo_month):  # type: ignore[no-untyped-def]
    """The demo month's report model (built once)."""
    from gridaudit.audit.store import open_store
    from gridaudit.reports.monthly.build import build_report

    st = open_store(demo_dir / "audit")
    try:
        with st.transaction() as s:
            return build_report(demo_dir / "dataset", s, demo_month)
    finally:
        st.dispose()
