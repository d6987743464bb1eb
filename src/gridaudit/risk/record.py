"""What a risk scoring run records in the dataset's findings store: model file hashes, settings, scope."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gridaudit.findings.store import RunInfo, RunProvenance, append_run, file_sha256, now_utc
from gridaudit.risk.settings import RiskSettings


def risk_provenance(
    model_path: str | Path | None,
    settings: RiskSettings,
    *,
    top: int,
    started_at: datetime,
    model_kind: str,
    until: date | None = None,
    findings_file: str | Path | None = None,
    engine: str = "duckdb",
) -> RunProvenance:
    """The provenance of one scoring run: sha256 of the model file and its JSON sidecar (and of the rule
    findings used as features), the scorer's settings (the model's own when it carries them), top N, as-of, and
    the engine the features were computed on."""
    from gridaudit.risk.model import sidecar_path

    files: dict[str, dict[str, str]] = {}
    params: dict[str, Any] = settings.to_dict()
    if model_path is not None:
        files["model"] = {"path": str(model_path), "sha256": file_sha256(model_path)}
        side = sidecar_path(model_path)
        if side.is_file():
            files["model_sidecar"] = {"path": str(side), "sha256": file_sha256(side)}
            try:
                params = json.loads(side.read_text("utf-8")).get("settings") or params
            except json.JSONDecodeError:
                pass
    if findings_file is not None:
        files["rule_findings"] = {"path": str(findings_file), "sha256": file_sha256(findings_file)}
    return RunProvenance(
        analyzer="risk",
        engine=engine,
        started_at=started_at,
        ended_at=now_utc(),
        rule_files=files,
        params={"settings": params, "top": top, "until": str(until) if until else None},
        extra={"model_kind": model_kind},
    )


def append_scores(
    dataset_dir: str | Path,
    scores: pd.DataFrame,
    top: int,
    prov: RunProvenance,
    settings: RiskSettings | None = None,
) -> RunInfo:
    """The top ``top`` scored customers as theft findings, appended to the dataset's findings store."""
    from gridaudit.risk.pipeline import findings_from_scores

    return append_run(dataset_dir, findings_from_scores(scores, top, settings or RiskSettings()), prov)
