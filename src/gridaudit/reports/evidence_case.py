"""The case-store parts of an evidence pack: people by name, the timeline from the audit trail, results,
attachments, the rectification and the penalty bookings with their legal basis."""

from __future__ import annotations

import json
from typing import Any

from gridaudit.audit.trail_labels import event_label
from gridaudit.i18n import Text
from gridaudit.reports import labels
from gridaudit.reports.evidence_model import (
    Item,
    PenaltySection,
    Table,
    TimelineEntry,
    kwh,
    plain,
    when,
    yuan,
)


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
        parts.append(f"{msg_pair(labels.state(payload['from']))} → {msg_pair(labels.state(payload['to']))}")
    elif "to" in payload:
        parts.append(f"→ {msg_pair(labels.state(payload['to']))}")
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
        TimelineEntry(when(e.at), names(e.actor), event_label(e.action), event_detail(json.loads(e.payload), names))
        for e in history(session, "task", task_id)
    ]


def penalty_sections(session: Any, task_id: int, names: Names) -> list[PenaltySection]:
    """Every penalty booked against the task (voided ones marked), with schedule title and article."""
    from sqlalchemy import select

    from gridaudit.audit.corrections import voided_ids
    from gridaudit.audit.models import Penalty, Void
    from gridaudit.audit.penalties import load_schedules

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
                kind=labels.violation(p.kind),
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
                booked_at=when(p.booked_at),
                void=Text(
                    f"已作废（{names(v.voided_by)}，{when(v.voided_at)}）：{v.reason}",
                    f"voided by {names(v.voided_by)} at {when(v.voided_at)}: {v.reason}",
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
                labels.CHECK_KIND.get(r.check_kind, Text(r.check_kind, r.check_kind)),
                labels.outcome(r.outcome),
                labels.violation(r.violation_type),
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
        [[a.filename, f"{a.size:,}", a.sha256, str(a.result_id or "-"), names(a.added_by), when(a.added_at)]
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
        Item(Text("状态", "status"), labels.rect_status(r.status)),
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
