"""The evidence pack of one audit task (证据包): one model computed once, rendered to HTML and PDF.

``build_evidence`` reads the case store (task, results, rectification, penalties, the trail), the rule
(title, description, basis and the parameter values of the run that produced the finding, from the findings
store's ``run.json``) and, given the dataset, the data that made the rule fire (``evidence_data``). Every
figure and label is decided here; ``evidence_render`` only lays the model out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridaudit.i18n import Text

Value = str | Text


@dataclass(frozen=True)
class Item:
    """One labelled value (a row of a two-column list)."""

    label: Text
    value: Value


@dataclass
class Table:
    """A table with bilingual headers; cells are ready to print."""

    title: Text
    columns: list[Text]
    rows: list[list[Value]]
    note: Text | None = None


@dataclass
class DailySeries:
    """Daily use (kWh, multiplier applied) of the meters concerned, with their events, for the chart."""

    days: list[str]
    kwh: list[float]
    events: list[dict[str, Any]]  # meter events: ts, event_type (code), ended_at, detail
    window: tuple[str, str] | None  # the finding's period (first and last day), shaded


@dataclass
class RuleSection:
    """What rule fired: its texts, legal basis and the parameter values used."""

    rule_id: str
    title: Text
    description: Text
    basis: str
    params: Table
    params_source: Text


@dataclass
class PenaltySection:
    """One penalty booking with its calculation and legal basis."""

    penalty_id: int
    kind: Text
    schedule: Text
    article: Text
    violation_date: str
    inputs: list[Item]
    backbill_kwh: float
    backbill_yuan: float
    penalty_yuan: float
    total_yuan: float
    formula: Text
    booked_by: str
    booked_at: str
    void: Text | None = None  # why it no longer counts, when voided


@dataclass(frozen=True)
class TimelineEntry:
    """One event of the task's trail: when, who (name), what."""

    at: str
    who: str
    action: Text
    detail: str


@dataclass
class EvidencePack:
    """Everything the evidence pack of one task shows."""

    task_id: int
    title: Text
    generated_at: str
    generated_by: str
    task: list[Item]
    finding: list[Item]
    finding_evidence: list[Item]
    rule: RuleSection
    subject: list[Item] = field(default_factory=list)
    readings: Table | None = None
    bills: Table | None = None
    events: Table | None = None
    daily: DailySeries | None = None
    area_loss: Table | None = None
    risk: list[Item] = field(default_factory=list)
    results: Table | None = None
    attachments: Table | None = None
    rectification: list[Item] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    penalties: list[PenaltySection] = field(default_factory=list)
    money: list[Item] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)


def yuan(value: float | None) -> str:
    """Money as printed in the pack: ``1,234.56``; empty as ``-``."""
    return "-" if value is None else f"{value:,.2f}"


def kwh(value: float | None) -> str:
    """Energy as printed in the pack: ``1,234.5``; empty as ``-``."""
    return "-" if value is None else f"{value:,.1f}"


def plain(value: Any) -> str:
    """A scalar as printed: floats to at most 4 decimals, lists and dicts as compact JSON, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _when(value: Any) -> str:
    """A stored timestamp (datetime or ISO text) as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


ACTIONS: dict[str, Text] = {
    "task_create": Text("纳入稽查计划", "put in the audit plan"),
    "attach": Text("上传附件", "attachment added"),
    "penalty": Text("登记追补电费与违约使用电费", "back-billing and penalty booked"),
    "penalty_void": Text("作废违约金登记", "penalty booking voided"),
    "result_void": Text("作废核查结果", "result voided"),
    "result_correct": Text("更正核查结果", "result corrected"),
    "evidence": Text("生成证据包", "evidence pack produced"),
}
OUTCOMES = {
    "theft": Text("窃电", "theft"),
    "violation": Text("违约用电", "violation"),
    "irregular": Text("异常（管理问题）", "irregular"),
    "normal": Text("正常", "normal"),
}
CHECK_KINDS = {"desk": Text("案头核查", "desk check"), "field": Text("现场检查", "field check")}
ENTITY_TYPES = {
    "customer": Text("用户", "customer"),
    "meter": Text("电能表", "meter"),
    "area": Text("台区", "area"),
    "feeder": Text("线路", "feeder"),
    "staff": Text("人员", "staff"),
    "work_order": Text("工单", "work order"),
    "bill": Text("账单", "bill"),
}
SEVERITIES = {
    "critical": Text("严重", "critical"),
    "high": Text("高", "high"),
    "medium": Text("中", "medium"),
    "low": Text("低", "low"),
}
RECT_STATUS = {
    "open": Text("待回复", "open"),
    "replied": Text("已回复", "replied"),
    "rejected": Text("已驳回", "rejected"),
    "accepted": Text("已通过", "accepted"),
}
# analyzers whose findings come from code, not a rule file: their titles (the run's settings are the parameters)
ANALYZER_RULES: dict[str, tuple[Text, Text]] = {
    "loss_area_": (
        Text("台区线损异常", "Transformer-area line loss out of band"),
        Text(
            "台区供电量与售电量之差（线损率）落在异常区间；负线损可能由户变关系错误引起（见证据）。",
            "The area's supply minus sales (line-loss rate) falls in an abnormal band; a negative loss may come "
            "from wrong customer-to-area mapping (see the evidence).",
        ),
    ),
    "theft_risk": (
        Text("窃电风险评分", "Theft-risk score"),
        Text(
            "窃电风险模型按用户用电特征打分，证据给出贡献最大的特征。",
            "The theft-risk model scores each customer from usage features; the evidence names the largest "
            "contributions.",
        ),
    ),
}


def action_label(action: str) -> Text:
    """The bilingual label of a trail action (workflow transitions use the state machine's own words)."""
    from gridaudit.audit.workflow import TRANSITIONS

    if action in TRANSITIONS:
        t = TRANSITIONS[action]
        return Text(t.zh, t.en)
    return ACTIONS.get(action, Text(action, action))


def state_text(state: str) -> Text:
    """A task state as bilingual text."""
    from gridaudit.audit.workflow import STATES

    zh, en = STATES.get(state, (state, state))
    return Text(zh, en)


class Names:
    """User ids → "name (id)", looked up once per id in the case store."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.cache: dict[str, str] = {}

    def __call__(self, user_id: str | None) -> str:
        """The person's name and id, or ``-``."""
        if not user_id:
            return "-"
        if user_id not in self.cache:
            from gridaudit.audit.models import User

            u = self.session.get(User, user_id)
            self.cache[user_id] = f"{u.name} ({user_id})" if u is not None and u.name != user_id else user_id
        return self.cache[user_id]


PERSON_KEYS = ("to_user", "responsible", "manager", "ordered_by", "voided_by")
HIDDEN_KEYS = ("from", "to", "plan_id", "finding_id", "rule_id", "entity", "hit_record")


def event_detail(payload: dict[str, Any], names: Names) -> str:
    """A trail event's payload in one line: state change first, people by name, then the other values."""
    parts = []
    if "from" in payload and "to" in payload and payload["from"] != payload["to"]:
        parts.append(f"{msg_pair(state_text(payload['from']))} → {msg_pair(state_text(payload['to']))}")
    elif "to" in payload:
        parts.append(f"→ {msg_pair(state_text(payload['to']))}")
    for k, v in payload.items():
        if k in HIDDEN_KEYS or v is None or v == {} or v == []:
            continue
        parts.append(f"{k}: {names(v) if k in PERSON_KEYS else plain(v)}")
    return "; ".join(parts)


def msg_pair(t: Text) -> str:
    """``中文 (english)`` as one string (timeline details carry both languages)."""
    return t.zh if t.zh == t.en else f"{t.zh} ({t.en})"


def timeline(session: Any, task_id: int, names: Names) -> list[TimelineEntry]:
    """The task's trail events, oldest first, with names."""
    from gridaudit.audit.trail import history

    return [
        TimelineEntry(_when(e.at), names(e.actor), action_label(e.action), event_detail(json.loads(e.payload), names))
        for e in history(session, "task", task_id)
    ]


def penalty_sections(session: Any, task_id: int, names: Names) -> list[PenaltySection]:
    """Every penalty booked against the task (voided ones marked), with schedule title and article."""
    from sqlalchemy import select

    from gridaudit.audit.corrections import voided_ids
    from gridaudit.audit.models import Penalty, Void
    from gridaudit.audit.penalties import KINDS, load_schedules

    schedules = {s.id: s for s in load_schedules()}
    voids = {
        v.target_id: v
        for v in session.execute(select(Void).where(Void.target == "penalty", Void.task_id == task_id)).scalars()
    }
    voided = voided_ids(session, "penalty", [task_id])
    out = []
    for p in session.execute(select(Penalty).where(Penalty.task_id == task_id).order_by(Penalty.penalty_id)).scalars():
        sch = schedules.get(p.schedule)
        art = (sch.violations.get(p.kind, {}).get("article") if sch else None) or {"zh": "-", "en": "-"}
        zh, _, en = p.formula.partition("\n")
        v = voids.get(p.penalty_id) if p.penalty_id in voided else None
        out.append(
            PenaltySection(
                penalty_id=p.penalty_id,
                kind=Text(KINDS.get(p.kind, p.kind), p.kind.replace("_", " ")),
                schedule=Text(sch.title_zh, sch.title_en) if sch else Text(p.schedule, p.schedule),
                article=Text(art["zh"], art["en"]),
                violation_date=p.violation_date.isoformat(),
                inputs=[Item(Text(k, k), plain(val)) for k, val in json.loads(p.inputs).items() if val is not None],
                backbill_kwh=p.backbill_kwh,
                backbill_yuan=p.backbill_yuan,
                penalty_yuan=p.penalty_yuan,
                total_yuan=round(p.backbill_yuan + p.penalty_yuan, 2),
                formula=Text(zh, en or zh),
                booked_by=names(p.booked_by),
                booked_at=_when(p.booked_at),
                void=Text(
                    f"已作废（{names(v.voided_by)}，{_when(v.voided_at)}）：{v.reason}",
                    f"voided by {names(v.voided_by)} at {_when(v.voided_at)}: {v.reason}",
                )
                if v is not None
                else None,
            )
        )
    return out


def results_table(session: Any, task_id: int, names: Names) -> Table | None:
    """Every result recorded for the task (voided and corrected ones marked)."""
    from sqlalchemy import select

    from gridaudit.audit.corrections import results_in_force
    from gridaudit.audit.models import Result

    rows = list(session.execute(select(Result).where(Result.task_id == task_id).order_by(Result.result_id)).scalars())
    if not rows:
        return None
    live = {r.result_id for r in results_in_force(session, [task_id]).get(task_id, [])}
    return Table(
        Text("核查结果", "Results"),
        [
            Text("编号", "id"),
            Text("方式", "kind"),
            Text("结论", "outcome"),
            Text("违约类型", "violation"),
            Text("追补电量 kWh", "kWh recovered"),
            Text("追补电费 元", "¥ recovered"),
            Text("检查日期", "inspected on"),
            Text("录入人", "recorded by"),
            Text("说明", "note"),
            Text("有效", "in force"),
        ],
        [
            [
                str(r.result_id),
                CHECK_KINDS.get(r.check_kind, Text(r.check_kind, r.check_kind)),
                OUTCOMES.get(r.outcome, Text(r.outcome, r.outcome)),
                r.violation_type or "-",
                kwh(r.recovered_kwh),
                yuan(r.recovered_yuan),
                r.inspected_on.isoformat(),
                names(r.recorded_by),
                r.note or "-",
                Text("是", "yes") if r.result_id in live else Text("否（已作废或被更正）", "no (voided or corrected)"),
            ]
            for r in rows
        ],
    )


def attachments_table(session: Any, task_id: int, names: Names) -> Table | None:
    """The files attached to the task's results: name, size, sha256 (their fingerprint), who and when."""
    from sqlalchemy import select

    from gridaudit.audit.models import Attachment

    q = select(Attachment).where(Attachment.task_id == task_id).order_by(Attachment.attachment_id)
    rows = list(session.execute(q).scalars())
    if not rows:
        return None
    return Table(
        Text("附件（以 sha256 存档，可核验未被改动）", "Attachments (stored by sha256, so any change shows)"),
        [Text("文件", "file"), Text("大小 字节", "bytes"), Text("指纹 sha256", "sha256"), Text("结果", "result"),
         Text("上传人", "added by"), Text("时间", "when")],
        [[a.filename, f"{a.size:,}", a.sha256, str(a.result_id or "-"), names(a.added_by), _when(a.added_at)]
         for a in rows],
    )  # fmt: skip


def rectification_items(session: Any, task: Any, names: Names) -> list[Item]:
    """The rectification order and its replies, if one was ordered."""
    from gridaudit.audit.actions import rectification_of
    from gridaudit.workdays import deadline_text

    r = rectification_of(session, task)
    if r is None:
        return []
    items = [
        Item(Text("整改责任人", "rectifier"), names(r.responsible_id)),
        Item(Text("下达人", "ordered by"), names(r.ordered_by)),
        Item(Text("下达日期", "ordered on"), r.ordered_on.isoformat()),
        Item(Text("期限", "deadline"), f"{deadline_text(r.ordered_on, r.deadline)} ({r.workdays} 工作日 / workdays)"),
        Item(Text("整改要求", "requirement"), r.requirement or "-"),
        Item(Text("状态", "status"), RECT_STATUS.get(r.status, Text(r.status, r.status))),
        Item(Text("回复轮次", "reply rounds"), str(r.rounds)),
    ]
    if r.reply:
        items.append(Item(Text("最新回复", "latest reply"), f"{r.reply} ({r.replied_on})"))
    if r.on_time is not None:
        items.append(Item(Text("按期整改", "on time"), Text("是", "yes") if r.on_time else Text("否", "no")))
    return items


def money_items(pens: list[PenaltySection], results: Table | None, task: Any) -> list[Item]:
    """The money of the task: at stake, and the back-billing and penalty in force (voided bookings excluded)."""
    live = [p for p in pens if p.void is None]
    return [
        Item(Text("涉及金额（问题）", "¥ at stake (finding)"), yuan(task.yuan_at_stake)),
        Item(Text("追补电量 kWh（违约金登记）", "kWh back-billed (bookings)"), kwh(sum(p.backbill_kwh for p in live))),
        Item(Text("补交电费 元", "¥ back-billing"), yuan(sum(p.backbill_yuan for p in live))),
        Item(Text("违约使用电费 元", "¥ penalty"), yuan(sum(p.penalty_yuan for p in live))),
        Item(Text("合计 元", "¥ total"), yuan(sum(p.total_yuan for p in live))),
    ]


def build_evidence(
    session: Any, task_id: int, user_id: str | None, dataset_dir: str | Path | None = None
) -> EvidencePack:
    """The evidence pack of ``task_id`` as seen by ``user_id`` (unit scope applies; refused → ``Forbidden``).

    Without ``dataset_dir`` the pack holds what the case store knows (finding, rule with its default
    parameters, results, timeline, penalties) and says that the data section is missing."""
    from gridaudit.audit import access
    from gridaudit.audit.actions import get_task
    from gridaudit.reports import evidence_data, evidence_rule

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
        generated_at=_when(datetime.now(UTC)),
        generated_by=names(me.user_id) if me is not None else "-",
        task=[
            Item(Text("任务编号", "task"), str(task.task_id)),
            Item(Text("计划", "plan"), str(task.plan_id)),
            Item(Text("状态", "state"), state_text(task.state)),
            Item(Text("承办人", "assignee"), names(task.assignee_id)),
            Item(Text("责任单位", "unit"), task.assignee_unit or task.unit_id or "-"),
            Item(Text("优先级", "priority"), f"{task.priority:.3f}"),
        ],
        finding=[
            Item(Text("问题编号", "finding id"), task.finding_id),
            Item(Text("规则", "rule"), task.rule_id),
            Item(Text("类别", "family"), task.family),
            Item(Text("严重程度", "severity"), SEVERITIES.get(task.severity, Text(task.severity, task.severity))),
            Item(
                Text("对象", "entity"),
                Text(
                    f"{ENTITY_TYPES.get(task.entity_type, Text(task.entity_type, '')).zh} {task.entity_id}",
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
