"""Shared fixtures: paths to ../shared data and the test servers.

Servers come from one documented variable each:
  GRIDAUDIT_TEST_PG   a PostgreSQL URL (CI: postgresql://postgres@127.0.0.1:5432/test)
Tests needing a missing server are skipped with the reason, unless GRIDAUDIT_REQUIRE_SERVERS=1
(set by .ci/run), where a missing server fails the test instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _missing(reason: str) -> None:
    if os.environ.get("GRIDAUDIT_REQUIRE_SERVERS") == "1":
        pytest.fail(f"required server missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository."""
    path = SHARED / "data"
    if not path.is_dir():
        _missing(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the test PostgreSQL server (GRIDAUDIT_TEST_PG), checked to answer."""
    url = os.environ.get("GRIDAUDIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as con:
            con.execute("select 1")
    except Exception as exc:  # noqa: BLE001 - any failure means no server
        _missing(f"PostgreSQL not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def spark_available() -> None:
    """Skip unless pyspark and Java are installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _missing("pyspark not installed")
    if shutil.which("java") is None:
        _missing("java not on PATH")


@pytest.fixture(autouse=True)
def _language_back_to_zh():
    """A test that runs the CLI with ``--lang en`` sets the process's language; the next test starts in zh."""
    from gridaudit import i18n

    before = i18n.get_lang()
    yield
    i18n.set_lang(before)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden``: rewrite the golden files (tests/reports/golden/) instead of comparing with them."""
    parser.addoption(
        "--update-golden", action="store_true", default=False, help="rewrite golden files instead of comparing"
    )
