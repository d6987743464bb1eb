"""Golden test of the monthly report model: the whole model of a utility built in code, serialised to JSON and
compared with tests/reports/golden/monthly_model.json. After a deliberate change to the report, rewrite it with
``pytest tests/reports/test_golden.py --update-golden`` and review the diff."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.views.views_data import add_findings, build_dataset, build_store

GOLDEN = Path(__file__).parent / "golden" / "monthly_model.json"
RUN_ID = re.compile(r"\b[a-z][a-z0-9_]*-\d{8}T\d{6}Z-[0-9a-f]{8}\b")


def _normalised(model: Any, tmp: Path) -> str:
    """The model as JSON, with what changes from run to run (time made, run ids, temp paths) replaced."""
    raw = dataclasses.asdict(model)
    raw.pop("generated_at")
    text = json.dumps(raw, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    text = text.replace(str(tmp), "<tmp>")
    text = text.replace(datetime.now(UTC).date().isoformat(), "<today>")
    return RUN_ID.sub("<run_id>", text) + "\n"


@pytest.fixture(scope="module")
def model_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The 2025-02 report model of the views' utility, after one stored loss run."""
    from gridaudit.findings.store import now_utc
    from gridaudit.lineloss.run import append_to_store, run_loss
    from gridaudit.lineloss.settings import LossSettings
    from gridaudit.reports.monthly.build import build_report

    tmp = tmp_path_factory.mktemp("golden")
    ds = tmp / "ds"
    build_dataset(ds)
    add_findings(ds)
    settings = LossSettings()
    append_to_store(run_loss(ds, settings=settings), settings, now_utc())
    store = build_store(str(tmp / "cases.db"), ds, tmp / "att")
    try:
        with store.transaction() as s:
            model = build_report(ds, s, "2025-02")
    finally:
        store.dispose()
    return _normalised(model, tmp)


def test_report_model_matches_the_golden_file(model_json, request):
    if request.config.getoption("--update-golden", default=False):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(model_json, "utf-8")
        pytest.skip(f"golden file rewritten: {GOLDEN}")
    assert GOLDEN.is_file(), f"no golden file yet: run pytest {__file__} --update-golden"
    want = GOLDEN.read_text("utf-8")
    assert model_json == want, "the report model changed: review, then rerun with --update-golden"


def test_golden_model_holds_the_stored_loss_and_the_plan(model_json):
    got = json.loads(model_json)
    sections = {s["key"]: s for s in got["sections"]}
    assert got["month"] == "2025-02" and got["data_month"] == "2025-02"
    notes = [n["en"] for n in sections["loss"]["notes"]]
    assert any("from loss run <run_id>" in n and "precomputed" in n for n in notes), notes
    figures = {f["key"]: f for s in got["sections"] for f in s["figures"]}
    assert figures  # the summary and sections carry figures
