"""What a rules run records in the dataset's findings store: rule file hashes, effective parameters, statuses."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from gridaudit.findings.store import RunProvenance, file_sha256
from gridaudit.rules.loader import Rule


def rules_provenance(
    rules: list[Rule],
    overrides: dict[str, dict[str, Any]] | None,
    reports: list[Any],
    *,
    engine: str,
    started_at: datetime,
    ended_at: datetime,
    dataset_version: str | None = None,
    derived: list[Any] | None = None,
    scope: dict[str, Any] | None = None,
) -> RunProvenance:
    """The provenance of one rules run: sha256 of every rule and derived-table file, each rule's effective
    parameters (defaults with ``--set`` overrides applied), every rule's status, the scope it ran with."""
    files: dict[str, dict[str, str]] = {}
    for r in rules:
        files[r.id] = {"path": str(r.path), "sha256": file_sha256(r.path)}
        for d in r.needs:
            files.setdefault(f"_derived/{d.id}", {"path": str(d.path), "sha256": file_sha256(d.path)})
    params = {r.id: r.bind((overrides or {}).get(r.id)) for r in rules}
    status = [asdict(rep) for rep in [*(derived or []), *reports]]
    for s in status:
        s["seconds"] = round(float(s.get("seconds") or 0.0), 3)
    return RunProvenance(
        analyzer="rules",
        engine=engine,
        started_at=started_at,
        ended_at=ended_at,
        rule_files=files,
        params=params,
        rule_status=status,
        extra={"scope": scope or {}},
        dataset_version=dataset_version,
    )
