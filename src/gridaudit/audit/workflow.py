"""The one state machine of an audit task: states, and every allowed transition with its roles.

Everything that changes a task's state goes through ``apply``; nothing else writes ``Task.state``.
Segregation of duties (who may never act on a finding, whatever their role) is ``check_segregation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridaudit.audit.errors import Forbidden, IllegalTransition

if TYPE_CHECKING:
    from gridaudit.audit.models import Task, User

# role → (中文, English)
ROLES: dict[str, tuple[str, str]] = {
    "auditor": ("稽查员", "auditor"),
    "audit_lead": ("稽查组长", "audit lead"),
    "inspector": ("用电检查员", "inspector"),
    "manager": ("主管领导", "manager"),
    "responsible": ("责任人（单位联系人）", "responsible staff (unit contact)"),
    "admin": ("系统管理员", "administrator"),
    "viewer": ("只读查看", "viewer (read-only)"),
}

# state → (中文, English); a state has one English name everywhere: its id (--state, docs, messages)
STATES: dict[str, tuple[str, str]] = {
    "new": ("待派发", "new"),
    "assigned": ("已派发", "assigned"),
    "checked": ("已核查", "checked"),
    "rectifying": ("整改中", "rectifying"),
    "replied": ("已回复待复核", "replied"),
    "verified": ("已复核", "verified"),
    "closed": ("已关闭", "closed"),
    "cancelled": ("已撤销", "cancelled"),
}

OPEN_STATES = ("new", "assigned", "checked", "rectifying", "replied", "verified")


@dataclass(frozen=True)
class Transition:
    """An allowed move: from any of ``sources`` to ``target`` (None: state unchanged), by ``roles``."""

    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]
    zh: str
    en: str


LEADS = ("auditor", "audit_lead")

# THE table. action → transition.
TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(("new", "assigned"), "assigned", LEADS, "派发", "assign"),
    "result": Transition(("assigned",), "checked", ("inspector", *LEADS), "录入核查结果", "record the result"),
    "rectify": Transition(("checked",), "rectifying", LEADS, "下达整改", "order rectification"),
    "reply": Transition(("rectifying",), "replied", ("responsible",), "整改回复", "reply to rectification"),
    "reject": Transition(("replied",), "rectifying", LEADS, "复核驳回", "reject the reply"),
    "accept": Transition(("replied",), "verified", LEADS, "复核通过", "accept the reply"),
    "close": Transition(("checked", "verified"), "closed", LEADS, "关闭", "close"),
    "escalate": Transition(("rectifying", "replied"), None, (*LEADS, "manager", "admin"), "超期升级", "escalate"),
    "cancel": Transition(("new", "assigned"), "cancelled", ("audit_lead",), "撤销", "cancel"),
    "void_result": Transition(("checked",), "assigned", LEADS, "作废核查结果", "void the result"),
}

# Actions whose actor must not be the person responsible for the finding or its rectifier.
INDEPENDENT_ACTIONS = ("result", "accept", "reject", "close")
# Actions whose actor must not be the one who recorded the task's result.
RECORDER_EXCLUDED = ("accept", "reject", "close")


def state_label(state: str) -> str:
    """'已核查 checked' style label of a state."""
    zh, en = STATES.get(state, (state, state))
    return f"{zh} ({en})"


def check_role(task: Task, action: str, role: str) -> Transition:
    """The transition of ``action``; refuses an unknown action or a role it does not allow."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise IllegalTransition(f"未知操作 {action}", f"unknown action {action}")
    if role not in t.roles:
        allowed = ", ".join(t.roles)
        raise Forbidden(
            f"任务 {task.task_id}: 角色 {ROLES.get(role, (role,))[0]} 无权执行“{t.zh}”（允许: {allowed}）",
            f"task {task.task_id}: role {role} may not {t.en} (allowed: {allowed})",
        )
    return t


def apply(task: Task, action: str, role: str) -> str:
    """Move ``task`` by ``action`` done by someone with ``role``; returns the previous state.

    Refuses an unknown action, a role not allowed, or an action not allowed in the current state,
    with a message naming the task, its state and the action.
    """
    t = check_role(task, action, role)
    if task.state not in t.sources:
        zh_src = "、".join(STATES[s][0] for s in t.sources)
        raise IllegalTransition(
            f"任务 {task.task_id} 当前状态为 {state_label(task.state)}，不能执行“{t.zh}”（仅限: {zh_src}）",
            f"task {task.task_id} is {STATES.get(task.state, (task.state, task.state))[1]}; cannot {t.en} "
            f"(only from: {', '.join(t.sources)})",
        )
    before = task.state
    if t.target is not None:
        task.state = t.target
    return before


def check_segregation(
    action: str, actor: User, task: Task, rectifier_id: str | None, recorders: tuple[str, ...] = ()
) -> None:
    """Refuse what segregation of duties (五分离) forbids, whatever the actor's role:

    * the finding's responsible staff (``actor.staff_id``) or the task's rectifier may not record its
      result, verify (accept/reject) or close it;
    * whoever recorded the task's result (``recorders``) may not verify or close it.
    """
    if action not in INDEPENDENT_ACTIONS:
        return
    t = TRANSITIONS[action]
    if task.responsible_staff_id and actor.staff_id and actor.staff_id == task.responsible_staff_id:
        raise Forbidden(
            f"任务 {task.task_id}: {actor.user_id} 是该问题的责任人（{task.responsible_staff_id}），"
            f"不能“{t.zh}”（职责分离）",
            f"task {task.task_id}: {actor.user_id} is the staff responsible for this finding "
            f"({task.responsible_staff_id}) and may not {t.en} (segregation of duties)",
        )
    if rectifier_id and actor.user_id == rectifier_id:
        raise Forbidden(
            f"任务 {task.task_id}: {actor.user_id} 是整改责任人，不能“{t.zh}”（职责分离）",
            f"task {task.task_id}: {actor.user_id} is the rectifier and may not {t.en} (segregation of duties)",
        )
    if action in RECORDER_EXCLUDED and actor.user_id in recorders:
        raise Forbidden(
            f"任务 {task.task_id}: {actor.user_id} 录入了该任务的核查结果，不能“{t.zh}”（职责分离：核查与复核分离）",
            f"task {task.task_id}: {actor.user_id} recorded this task's result and may not {t.en} it "
            "(segregation of duties: who checks does not verify or close)",
        )


def transition_table_markdown() -> str:
    """The state machine as a Markdown table (docs/audit.md is checked against it)."""
    lines = ["| action | 操作 | from | to | roles |", "|---|---|---|---|---|"]
    for name, t in TRANSITIONS.items():
        target = t.target or "(unchanged)"
        lines.append(f"| `{name}` | {t.zh} | {', '.join(t.sources)} | {target} | {', '.join(t.roles)} |")
    return "\n".join(lines)
