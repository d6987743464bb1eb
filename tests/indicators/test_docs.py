"""docs/indicators.md describes every catalogue indicator and every scoring kind."""

from __future__ import annotations

import typing
from pathlib import Path

from gridaudit.indicators.catalog import load_catalog
from gridaudit.indicators.method import Scoring

DOC = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"


def test_every_indicator_is_documented_with_both_titles():
    text = DOC.read_text("utf-8")
    missing = [i.id for i in load_catalog() if f"### `{i.id}` — {i.title.zh} / {i.title.en}" not in text]
    assert not missing, f"docs/indicators.md does not describe {missing}"


def test_every_scoring_kind_is_documented():
    text = DOC.read_text("utf-8")
    kinds = typing.get_args(Scoring.model_fields["kind"].annotation)
    assert kinds and all(f"| `{k}` |" in text for k in kinds)


def test_the_catalogue_has_the_indicators_the_issue_names():
    ids = {i.id for i in load_catalog()}
    assert len(ids) >= 15
    assert {"area_loss_qualified_rate", "area_high_loss_count", "area_negative_loss_count",
            "area_not_computable_count", "unit_loss_rate", "feeder_loss_rate", "ami_coverage",
            "collection_success_rate", "reading_error_rate", "estimated_read_share", "missed_read_rate",
            "billing_error_rate", "process_time_compliance", "rectification_on_time_rate", "recurrence_rate",
            "inspection_completion_rate", "inspection_hit_rate", "recovered_yuan", "penalty_yuan"} <= ids  # fmt: skip
