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
