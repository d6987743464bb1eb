"""Task actions for the web (pages and API alike): which actions a user may take on a task now, and doing one
from submitted values. Both only call the audit loop's own functions: visibility is ``access.can`` plus the
workflow's states (and the penalty's own state check), doing is ``gridaudit.audit.actions`` / ``penalties``."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.audit import access, actions, workflow
from gridaudit.audit.errors import AuditError
from gridaudit.audit.models import Task, User
from gridaudit.i18n import Text
from gridaudit.web.errors import BadInput

# The actions a page or API call may take on one task, in the order the page shows their forms.
TASK_ACTIONS = ("assign", "result", "penalty", "rectify", "reply", "accept", "reject", "close", "cancel")
ACTION_TEXT: dict[str, Text] = {
    **{name: Text(t.zh, t.en) for name, t in workflow.TRANSITIONS.items()},
    "penalty": Text("登记违约使用电费", "book a penalty"),
}
MAX_UPLOAD = 20 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file sent with a result (name as given, content)."""

    filename: str
    content: bytes


def allowed(session: Any, user: User, task: Task, action: str) -> bool:
    """Whether ``user`` may take ``action`` on ``task`` in its current state (the checks the action itself makes)."""
    transition = workflow.TRANSITIONS.get(action)
    if transition is not None and task.state not in transition.sources:
        return False
    try:
        access.can(session, user, action, task)
        if action == "penalty":
            from gridaudit.audit.penalties.book import check_penalty_state

            check_penalty_state(session, task)
    except AuditError:
        return False
    return True


def allowed_actions(session: Any, user: User, task: Task) -> list[str]:
    """The actions of ``TASK_ACTIONS`` that ``user`` may take on ``task`` now."""
    return [a for a in TASK_ACTIONS if allowed(session, user, task, a)]


def _value(values: Mapping[str, Any], name: str) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _need(values: Mapping[str, Any], name: str, zh: str, en: str) -> str:
    text = _value(values, name)
    if text is None:
        raise BadInput(f"请填写{zh}（{name}）", f"{en} ({name}) is required")
    return text


def _number(values: Mapping[str, Any], name: str) -> float | None:
    text = _value(values, name)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise BadInput(f"{name} 应为数字：{text!r}", f"{name} must be a number: {text!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadInput(f"{name} 应为有限的数字", f"{name} must be a finite number")
    return number


def _whole(values: Mapping[str, Any], name: str, zh: str, en: str) -> int:
    text = _need(values, name, zh, en)
    if not re.fullmatch(r"[+-]?\d{1,6}", text):
        raise BadInput(f"{zh}（{name}）应为整数：{text!r}", f"{en} ({name}) must be a whole number: {text!r}")
    return int(text)


def _day(values: Mapping[str, Any], name: str) -> date | None:
    text = _value(values, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name} 应为日期 YYYY-MM-DD：{text!r}", f"{name} must be a date YYYY-MM-DD: {text!r}") from None


def _flag(values: Mapping[str, Any], name: str) -> bool:
    return (_value(values, name) or "").lower() in ("1", "true", "on", "yes")


PENALTY_NUMBERS = (
    "tariff_yuan_kwh",
    "kwh",
    "capacity_kw",
    "multiplier",
    "hours",
    "monthly_kwh",
    "months",
    "high_price",
    "low_price",
    "kva",
    "basic_price",
    "times",
)
PENALTY_FLAGS = ("lighting", "two_part", "residential")


def _recheck(task_period: str | None, values: Mapping[str, Any], dataset: Path | None) -> Any:
    """The data re-check for a verdict: on the app's dataset for the later ``period`` given, else None."""
    period = _value(values, "period")
    if period is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise BadInput(f"复查期间应为 YYYY-MM：{period!r}", f"the re-check period must be YYYY-MM: {period!r}")
    if dataset is None:
        raise BadInput("未配置数据集，不能复查数据", "no dataset configured: the data cannot be re-checked")
    from gridaudit.audit.recheck import recheck_finding, require_later_period

    def check(task: Task) -> Any:
        require_later_period(task, period)
        return recheck_finding(task, dataset, period)

    return check


def perform(
    session: Any,
    store: Any,
    dataset: Path | None,
    actor_id: str,
    task_id: int,
    action: str,
    values: Mapping[str, Any],
    uploads: list[Upload] | None = None,
) -> Text:
    """Do ``action`` on task ``task_id`` as ``actor_id`` with submitted ``values`` (strings, as from a form
    or JSON); returns what to tell the user. Refusals are the audit loop's own errors."""
    if action not in TASK_ACTIONS:
        from gridaudit.audit.errors import NotFound

        raise NotFound(f"未知操作 {action}", f"unknown action {action}")
    if action == "assign":
        actions.assign(session, actor_id, task_id, _value(values, "to_user"), _value(values, "to_unit"))
    elif action == "result":
        _result(session, store, actor_id, task_id, values, uploads or [])
    elif action == "penalty":
        _penalty(session, actor_id, task_id, values)
    elif action == "rectify":
        who = _need(values, "responsible_id", "整改责任人", "the rectifier")
        days = _whole(values, "workdays", "整改期限（工作日）", "the deadline in working days")
        actions.rectify(session, actor_id, task_id, who, days, _value(values, "requirement"))
    elif action == "reply":
        actions.reply(session, actor_id, task_id, _need(values, "text", "回复内容", "the reply text"))
    elif action in ("accept", "reject"):
        task = actions.get_task(session, task_id)
        check = _recheck(task.period, values, dataset)
        actions.verify(session, actor_id, task_id, action == "accept", _value(values, "reason"), check)
    elif action == "close":
        actions.close(session, actor_id, task_id, _value(values, "note"))
    elif action == "cancel":
        actions.cancel(session, actor_id, task_id, _need(values, "reason", "撤销理由", "the reason"))
    done = ACTION_TEXT[action]
    return Text(f"任务 {task_id}：已{done.zh}", f"task {task_id}: {done.en} done")


def _result(session: Any, store: Any, actor_id: str, task_id: int, values: Mapping[str, Any], uploads: list) -> None:
    with tempfile.TemporaryDirectory(prefix="gridaudit-upload-") as tmp:
        paths = []
        for i, up in enumerate(uploads):
            if not up.filename:
                continue
            if len(up.content) > MAX_UPLOAD:
                raise BadInput(f"附件 {up.filename} 超过 20 MB", f"attachment {up.filename} is over 20 MB")
            name = Path(up.filename.replace("\\", "/")).name or f"attachment-{i}"
            path = Path(tmp) / f"{i}" / name
            path.parent.mkdir()
            path.write_bytes(up.content)
            paths.append(path)
        actions.record_result(
            session,
            actor_id,
            task_id,
            _need(values, "outcome", "核查结论", "the outcome"),
            _value(values, "check_kind") or "field",
            _number(values, "recovered_kwh"),
            _number(values, "recovered_yuan"),
            _value(values, "violation_type"),
            _value(values, "note"),
            _day(values, "inspected_on"),
            attachments=paths,
            attachment_dir=store.attachments,
        )


def _penalty(session: Any, actor_id: str, task_id: int, values: Mapping[str, Any]) -> None:
    from gridaudit.audit.penalties import calculate
    from gridaudit.audit.penalties.book import book_penalty

    kind = _need(values, "kind", "违约类型", "the kind")
    day = _day(values, "violation_date")
    if day is None:
        raise BadInput("请填写违约日期（violation_date）", "the violation date (violation_date) is required")
    inputs: dict[str, Any] = {n: v for n in PENALTY_NUMBERS if (v := _number(values, n)) is not None}
    inputs.update({n: True for n in PENALTY_FLAGS if _flag(values, n)})
    result = calculate(kind, day, **inputs)
    book_penalty(session, actor_id, task_id, result, day, duplicate_reason=_value(values, "duplicate_reason"))
