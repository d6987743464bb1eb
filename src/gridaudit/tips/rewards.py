"""Rewards for tips (举报奖励): computed by a utility setting, approved by a second person, booked in the ledger.

A reward is proposed for the task made from a tip once the task is confirmed: its result in force
(``corrections.effective_results``) has outcome theft / violation / irregular (``hitrates.CONFIRMED``). The basis
is the task's recovered back-billing (追补电费, ``assess.money_by_task``: penalty bookings in force, else the
result's); the amount is ``min(cap_yuan, share × basis)``, nothing under ``min_basis_yuan``. The setting is a
list of versions, each in force from its ``effective_from`` date; the version in force on the day the task was
confirmed (the result's inspection day) applies. When two tips made one finding, the earliest tip is rewarded.

A proposal (``audit_tip_rewards``) and its decision (``audit_tip_reward_approvals``) are append-only rows,
sealed in the ledger; the approver is an audit lead or a manager who is not the proposer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.audit import trail
from gridaudit.audit.access import can_tip
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Plan, Task
from gridaudit.audit.users import get_user
from gridaudit.i18n import both
from gridaudit.settings_file import SettingsError, read_settings_file, settings_from_mapping
from gridaudit.tips.models import Tip, TipReward, TipRewardApproval


@dataclass(frozen=True)
class RewardVersion:
    """One version of the reward setting: in force from ``effective_from`` (YYYY-MM-DD).

    ``share``: the reward's share of the recovered back-billing; ``cap_yuan``: the most one reward pays;
    ``min_basis_yuan``: below this back-billing no reward is paid."""

    effective_from: str = "2000-01-01"
    share: float = 0.1
    cap_yuan: float = 10000.0
    min_basis_yuan: float = 0.0


@dataclass(frozen=True)
class RewardSettings:
    """The reward setting: its versions, oldest first (default: one version, 10 % capped at ¥10,000)."""

    versions: tuple[RewardVersion, ...] = field(default_factory=lambda: (RewardVersion(),))
    source: str = "default"

    def in_force(self, day: date) -> RewardVersion:
        """The version in force on ``day`` (the latest whose effective_from is not after it)."""
        chosen = [v for v in self.versions if date.fromisoformat(v.effective_from) <= day]
        if not chosen:
            raise AuditError(
                f"{day} 时奖励标准尚未生效（最早 {self.versions[0].effective_from}，{self.source}）",
                f"no reward setting in force on {day} (earliest {self.versions[0].effective_from}, {self.source})",
            )
        return chosen[-1]


def load_reward_settings(path: str | Path | None) -> RewardSettings:
    """The reward setting from a YAML/TOML file (``versions: [{effective_from, share, cap_yuan, min_basis_yuan}]``),
    or the default. Unknown keys, bad values, unsorted or duplicate dates are errors naming the file and key."""
    if path is None:
        return RewardSettings()
    data = read_settings_file(path)
    unknown = sorted(set(data) - {"versions"})
    if unknown or not isinstance(data.get("versions"), list) or not data["versions"]:
        raise SettingsError(
            both(
                f"{path}: 应只有 versions（非空列表）" + (f"，未知键 {', '.join(unknown)}" if unknown else ""),
                f"{path}: expected only versions (a non-empty list)"
                + (f"; unknown {', '.join(unknown)}" if unknown else ""),
            )
        )
    versions = []
    for i, item in enumerate(data["versions"]):
        where = f"{path}: versions[{i}]"
        if isinstance(item, dict) and isinstance(item.get("effective_from"), date):
            item = {**item, "effective_from": item["effective_from"].isoformat()}
        v = settings_from_mapping(RewardVersion, item, where)
        try:
            date.fromisoformat(v.effective_from)
        except ValueError as exc:
            raise SettingsError(
                both(f"{where}.effective_from 应为 YYYY-MM-DD", f"{where}.effective_from must be YYYY-MM-DD")
            ) from exc
        if not 0 < v.share <= 1 or v.cap_yuan < 0 or v.min_basis_yuan < 0:
            raise SettingsError(
                both(
                    f"{where}: share 应在 (0, 1]，cap_yuan 与 min_basis_yuan 不得为负",
                    f"{where}: share must be in (0, 1], cap_yuan and min_basis_yuan not negative",
                )
            )
        versions.append(v)
    days = [v.effective_from for v in versions]
    if days != sorted(set(days)):
        raise SettingsError(
            both(
                f"{path}: versions 的 effective_from 应递增且不重复",
                f"{path}: versions must have increasing, distinct effective_from dates",
            )
        )
    return RewardSettings(tuple(versions), str(path))


def reward_amount(basis_yuan: float, version: RewardVersion) -> tuple[float, str]:
    """The reward for ``basis_yuan`` of back-billing under ``version``, and the formula as text."""
    if basis_yuan < version.min_basis_yuan or basis_yuan <= 0:
        return 0.0, f"basis {basis_yuan:.2f} < min {version.min_basis_yuan:.2f}: 0"
    raw = round(basis_yuan * version.share, 2)
    amount = min(raw, round(version.cap_yuan, 2))
    capped = " (capped)" if amount < raw else ""
    return amount, f"min({basis_yuan:.2f} × {version.share:g}, cap {version.cap_yuan:.2f}) = {amount:.2f}{capped}"


def task_of_tip(session: Any, tip: Tip) -> Task:
    """The task made from a tip's finding (NotFound when none yet)."""
    from sqlalchemy import select

    task = (
        session.execute(select(Task).where(Task.finding_id == tip.finding_id)).scalar_one_or_none()
        if tip.finding_id
        else None
    )
    if task is None:
        raise NotFound(
            f"举报 {tip.tip_id} 尚未生成稽查任务（先 gridaudit audit plan create）",
            f"tip {tip.tip_id} has no audit task yet (gridaudit audit plan create first)",
        )
    return task


def rewarded_tip(session: Any, task: Task) -> Tip:
    """The tip a task's reward goes to: the earliest tip of the task's finding."""
    from sqlalchemy import select

    tip = session.execute(
        select(Tip).where(Tip.finding_id == task.finding_id, Tip.status == "matched").order_by(Tip.tip_id).limit(1)
    ).scalar_one_or_none()
    if tip is None:
        raise AuditError(f"任务 {task.task_id} 不是由举报生成的", f"task {task.task_id} was not made from a tip")
    return tip


def _open_reward(session: Any, tip_id: int) -> TipReward | None:
    """The tip's reward that is pending or approved (a rejected one leaves room for a new proposal)."""
    from sqlalchemy import select

    q = (
        select(TipReward)
        .outerjoin(TipRewardApproval, TipRewardApproval.reward_id == TipReward.reward_id)
        .where(TipReward.tip_id == tip_id)
        .where((TipRewardApproval.decision.is_(None)) | (TipRewardApproval.decision == "approve"))
    )
    return session.execute(q.limit(1)).scalar_one_or_none()


def propose_reward(
    session: Any, actor_id: str | None, task_id: int, settings: RewardSettings = RewardSettings()
) -> TipReward:
    """Propose the reward of the tip behind a confirmed task (see the module docstring)."""
    from gridaudit.audit.actions import get_task
    from gridaudit.audit.assess import money_by_task
    from gridaudit.audit.corrections import effective_results
    from gridaudit.audit.hitrates import CONFIRMED

    actor = get_user(session, actor_id)
    can_tip(actor, "reward_propose")
    task = get_task(session, task_id)
    tip = rewarded_tip(session, task)
    result = effective_results(session, [task.task_id]).get(task.task_id)
    if result is None or result.outcome not in CONFIRMED:
        raise AuditError(
            f"任务 {task_id} 尚未查实（需要有效的核查结果：窃电、违约或异常），不能计算奖励",
            f"task {task_id} is not confirmed (needs a result in force of theft, violation or irregular): "
            "no reward yet",
        )
    held = _open_reward(session, tip.tip_id)
    if held is not None:
        raise AuditError(
            f"举报 {tip.tip_id} 已有奖励 {held.reward_id}（待审批或已批准）",
            f"tip {tip.tip_id} already has reward {held.reward_id} (pending or approved)",
        )
    money = money_by_task(session, [task], {task.task_id: result})[task.task_id]
    version = settings.in_force(result.inspected_on)
    amount, formula = reward_amount(money.backbill_yuan, version)
    if amount <= 0:
        raise AuditError(
            f"任务 {task_id} 追补电费 {money.backbill_yuan:.2f} 元，不足奖励起点，无奖励",
            f"task {task_id} recovered {money.backbill_yuan:.2f} yuan of back-billing: below the reward minimum, "
            "no reward",
        )
    reward = TipReward(
        tip_id=tip.tip_id,
        task_id=task.task_id,
        basis_yuan=money.backbill_yuan,
        share=version.share,
        cap_yuan=version.cap_yuan,
        amount_yuan=amount,
        effective_from=date.fromisoformat(version.effective_from),
        formula=formula,
        proposed_by=actor.user_id,
        proposed_at=trail.now_utc(),
    )
    session.add(reward)
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "tip_reward_propose",
        "tip",
        tip.tip_id,
        {
            "reward_id": reward.reward_id,
            "task_id": task.task_id,
            "basis_yuan": reward.basis_yuan,
            "share": reward.share,
            "cap_yuan": reward.cap_yuan,
            "amount_yuan": amount,
            "effective_from": version.effective_from,
            "setting": settings.source,
            "result_id": result.result_id,
        },
    )
    return reward


def decide_reward(
    session: Any, actor_id: str | None, reward_id: int, approve: bool = True, reason: str | None = None
) -> TipRewardApproval:
    """Approve or reject a proposed reward: an audit lead or manager other than the proposer (four eyes)."""
    actor = get_user(session, actor_id)
    can_tip(actor, "reward_approve")
    reward = session.get(TipReward, reward_id)
    if reward is None:
        raise NotFound(f"未知奖励 {reward_id}", f"unknown reward {reward_id}")
    if actor.user_id == reward.proposed_by:
        raise Forbidden(
            f"奖励 {reward_id} 由 {reward.proposed_by} 提出，须由另一人审批（职责分离）",
            f"reward {reward_id} was proposed by {reward.proposed_by}; another person must approve it "
            "(segregation of duties)",
        )
    if _decided(session, reward_id):
        raise AuditError(f"奖励 {reward_id} 已审批", f"reward {reward_id} has already been decided")
    if not approve and not (reason or "").strip():
        raise AuditError("驳回奖励须说明理由（--reason）", "rejecting a reward needs a reason (--reason)")
    row = TipRewardApproval(
        reward_id=reward_id,
        decision="approve" if approve else "reject",
        reason=(reason or "").strip() or None,
        decided_by=actor.user_id,
        decided_at=trail.now_utc(),
    )
    session.add(row)
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "tip_reward_approve" if approve else "tip_reward_reject",
        "tip",
        reward.tip_id,
        {"reward_id": reward_id, "task_id": reward.task_id, "amount_yuan": reward.amount_yuan, "reason": row.reason},
    )
    return row


def _decided(session: Any, reward_id: int) -> bool:
    from sqlalchemy import select

    q = select(TipRewardApproval.approval_id).where(TipRewardApproval.reward_id == reward_id)
    return session.execute(q).first() is not None


@dataclass(frozen=True)
class RewardLine:
    """One reward as the monthly report shows it (no reporter identity)."""

    reward_id: int
    tip_id: int
    task_id: int
    channel: str
    customer_id: str | None
    basis_yuan: float
    amount_yuan: float
    formula: str
    proposed_by: str
    status: str  # pending / approve / reject
    decided_by: str | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return dict(self.__dict__)


def reward_lines(session: Any, task_ids: list[int] | None = None) -> list[RewardLine]:
    """Every reward (of the given tasks, or all), oldest first, with its decision."""
    from sqlalchemy import select

    q = (
        select(TipReward, TipRewardApproval, Tip)
        .join(Tip, Tip.tip_id == TipReward.tip_id)
        .outerjoin(TipRewardApproval, TipRewardApproval.reward_id == TipReward.reward_id)
    )
    if task_ids is not None:
        q = q.where(TipReward.task_id.in_(task_ids))
    out = []
    for rw, ap, tip in session.execute(q.order_by(TipReward.reward_id)):
        out.append(
            RewardLine(
                rw.reward_id,
                rw.tip_id,
                rw.task_id,
                tip.channel,
                tip.customer_id,
                rw.basis_yuan,
                rw.amount_yuan,
                rw.formula,
                rw.proposed_by,
                ap.decision if ap else "pending",
                ap.decided_by if ap else None,
            )
        )
    return out


def rewards_for_month(session: Any, month: str) -> list[RewardLine]:
    """The rewards of the tasks of ``month``'s plans (the scope of the assessment), any decision; the monthly
    report sums the approved ones (``status == "approve"``)."""
    from sqlalchemy import select

    ids = list(
        session.execute(
            select(Task.task_id).join(Plan, Plan.plan_id == Task.plan_id).where(Plan.month == month)
        ).scalars()
    )
    return reward_lines(session, ids) if ids else []
