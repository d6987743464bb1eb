"""The evidence pack of one audit task (证据包): one model computed once, rendered to HTML and PDF.

``build_evidence`` reads the case store (task, results, rectification, penalties, the trail:
``evidence_case``), the rule (title, description, basis and the parameter values of the run that produced
the finding, from the findings store's ``run.json``: ``evidence_rule``) and, given the dataset, the data that
made the rule fire (``evidence_data``). Every figure and label is decided there; ``evidence_render`` only
lays the model (``evidence_model``) out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports import evidence_data, evidence_rule, labels
from gridaudit.reports.evidence_case import (
    Names,
    attachments_table,
    money_items,
    penalty_sections,
    rectification_items,
    results_table,
    timeline,
)
from gridaudit.reports.evidence_model import (
    EvidencePack,
    Item,
    kwh,
    plain,
    when,
    yuan,
)


def build_evidence(
    session: Any, task_id: int, user_id: str | None, dataset_dir: str | Path | None = None
) -> EvidencePack:
    """The evidence pack of ``task_id`` as seen by ``user_id`` (unit scope applies; refused → ``Forbidden``).

    Without ``dataset_dir`` the pack holds what the case store knows (finding, rule with its default
    parameters, results, timeline, penalties) and says that the data section is missing."""
    from gridaudit.audit import access
    from gridaudit.audit.actions import get_task

    task = get_task(session, task_id)
    me = access.reader(session, user_id)
    if me is not None:
        access.can(session, me, "show", task)
    names = Names(session)
    ev = json.loads(task.evidence or "{}")
    notes: list[Text] = []
    run = evidence_rule.finding_run(session, task, dataset_dir)
    rule = evidence_rule.rule_section(task.rule_id, run)
    if dataset_dir is None:
        notes.append(
            Text(
                "未指定数据集（--dataset），证据包不含抄表、账单、日电量等原始数据",
                "no dataset given (--dataset): the pack holds no readings, bills or daily use",
            )
        )
    pens = penalty_sections(session, task_id, names)
    results = results_table(session, task_id, names)
    pack = EvidencePack(
        task_id=task.task_id,
        title=Text(f"稽查任务 {task.task_id} 证据包", f"Evidence pack, audit task {task.task_id}"),
        generated_at=when(datetime.now(UTC)),
        generated_by=names(me.user_id) if me is not None else "-",
        task=[
            Item(Text("任务编号", "task"), str(task.task_id)),
            Item(Text("计划", "plan"), str(task.plan_id)),
            Item(Text("状态", "state"), labels.state(task.state)),
            Item(Text("承办人", "assignee"), names(task.assignee_id)),
            Item(Text("责任单位", "unit"), task.assignee_unit or task.unit_id or "-"),
            Item(Text("优先级", "priority"), f"{task.priority:.3f}"),
        ],
        finding=[
            Item(Text("问题编号", "finding id"), task.finding_id),
            Item(Text("规则", "rule"), task.rule_id),
            Item(Text("类别", "family"), labels.family(task.family)),
            Item(Text("严重程度", "severity"), labels.severity(task.severity)),
            Item(
                Text("对象", "entity"),
                Text(
                    f"{labels.entity(task.entity_type).zh} {task.entity_id}",
                    f"{task.entity_type} {task.entity_id}",
                ),
            ),
            Item(Text("期间", "period"), task.period or "-"),
            Item(Text("评分", "score"), plain(task.score)),
            Item(Text("涉及电量 kWh", "kWh at stake"), kwh(task.kwh_at_stake)),
            Item(Text("涉及金额 元", "¥ at stake"), yuan(task.yuan_at_stake)),
            Item(Text("责任人员", "responsible staff"), task.responsible_staff_id or "-"),
            Item(Text("分析运行", "analyzer run"), run.run_id if run else "-"),
        ],
        finding_evidence=[Item(Text(k, k), plain(v)) for k, v in ev.items()],
        rule=rule,
        results=results,
        attachments=attachments_table(session, task_id, names),
        rectification=rectification_items(session, task, names),
        timeline=timeline(session, task_id, names),
        penalties=pens,
        notes=notes,
    )
    pack.money = money_items(pens, results, task)
    if dataset_dir is not None:
        evidence_data.add_data(pack, task, ev, Path(dataset_dir), run)
    return pack
