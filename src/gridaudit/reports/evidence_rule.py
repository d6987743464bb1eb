"""The rule behind a task's finding: which findings-store run produced it, and the rule's texts and the
parameter values that run used (``run.json``), for the evidence pack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports import labels
from gridaudit.reports.evidence_model import ANALYZER_TEXTS, RuleSection, Table, plain


def _holds(run: Any, finding_id: str) -> bool:
    """Whether a run's findings file holds ``finding_id`` (a filtered read: row groups are skipped by stats)."""
    import pyarrow.parquet as pq

    t = pq.read_table(run.findings_path, columns=["finding_id"], filters=[("finding_id", "=", finding_id)])
    return t.num_rows > 0


def finding_run(session: Any, task: Any, dataset_dir: str | Path | None) -> Any:
    """The findings-store run that produced the task's finding: first the runs its plan read, then every run
    of the dataset, newest first. None without a dataset or when no run holds it any more."""
    if dataset_dir is None:
        return None
    from gridaudit.audit.models import Plan
    from gridaudit.findings.store import list_runs

    plan = session.get(Plan, task.plan_id)
    named = [r.get("run_id") for r in json.loads(plan.source or "{}").get("runs", [])] if plan else []
    runs = list_runs(dataset_dir)
    by_id = {r.run_id: r for r in runs}
    order = [by_id[r] for r in named if r in by_id] + [r for r in reversed(runs) if r.run_id not in named]
    return next((r for r in order if _holds(r, task.finding_id)), None)


def _catalog_rule(rule_id: str, run: Any) -> Any:
    """The rule file the run used (its recorded path), else the catalog's rule of that id, else None."""
    from gridaudit.rules.loader import RuleError, load_catalog, load_rule

    recorded = (run.record.get("rule_files") or {}).get(rule_id, {}) if run is not None else {}
    path = recorded.get("path")
    if path and Path(path).is_file() and Path(path).suffix == ".sql" and not path.endswith(".template.sql"):
        try:
            return load_rule(path)
        except RuleError:
            pass
    return next((r for r in load_catalog() if r.id == rule_id), None)


def _flat(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += _flat(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    return [(prefix, value)]


def rule_section(rule_id: str, run: Any) -> Any:
    """The rule's title, description and basis, and a table of its parameters with the values ``run`` used
    (its ``run.json``), the declared default and what each means."""
    from gridaudit.findings.store import file_sha256

    rule = _catalog_rule(rule_id, run)
    used = (run.record.get("params") or {}) if run is not None else {}
    cols = [
        Text("参数", "parameter"),
        Text("本次取值", "value used"),
        Text("默认值", "default"),
        Text("含义", "meaning"),
    ]
    if rule is not None:
        values = used.get(rule_id) if run is not None and run.analyzer == "rules" else None
        rows = [
            [name, plain((values or {}).get(name, p.default)), plain(p.default), Text(p.doc.zh, p.doc.en)]
            for name, p in rule.header.params.items()
        ]
        rows += [
            [name, plain(v), plain(v), Text("模板实例固定值", "fixed by the template")]
            for name, v in rule.header.fixed.items()
        ]
        if values is None:
            src = Text("分析运行未找到：列出的是规则文件的默认值", "analyzer run not found: the rule file's defaults")
        else:
            rec = (run.record.get("rule_files") or {}).get(rule_id, {})
            same = rec.get("sha256") == file_sha256(rule.path) if rec.get("sha256") else None
            tail_zh = (
                "；规则文件与该次运行时相同" if same else ("；注意：规则文件已在运行后修改" if same is False else "")
            )
            tail_en = (
                "; the rule file is unchanged since"
                if same
                else ("; note: the rule file changed after the run" if same is False else "")
            )
            src = Text(
                f"取自分析运行 {run.run_id}（{run.started_at}，数据集版本 {run.dataset_version}）的 run.json{tail_zh}",
                f"from run.json of analyzer run {run.run_id} ({run.started_at}, "
                f"dataset {run.dataset_version}){tail_en}",
            )
        h = rule.header
        return RuleSection(
            rule_id, Text(h.title.zh, h.title.en), Text(h.description.zh, h.description.en), h.basis or "-",
            Table(Text("规则参数", "Rule parameters"), cols, rows), src,
        )  # fmt: skip
    title = labels.rule(rule_id)
    desc = ANALYZER_TEXTS.get(run.analyzer if run is not None else "", Text("-", "-"))
    rows = [[k, plain(v), "-", "-"] for k, v in _flat("", used)] if run is not None else []
    src = (
        Text(f"{run.analyzer} 分析运行 {run.run_id} 的设置（run.json）", f"settings of {run.analyzer} run {run.run_id}")
        if run is not None
        else Text("分析运行未找到", "analyzer run not found")
    )
    return RuleSection(rule_id, title, desc, "-", Table(Text("分析设置", "Analyzer settings"), cols, rows), src)
