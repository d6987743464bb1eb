"""Tip-offs (举报) in the browser: the list (status, match, candidates), one tip (choose the customer of an
ambiguous tip; its reward: propose, approve or reject by a second person) and the form entering a tip.

Everything goes through ``gridaudit.tips`` as ``gridaudit tips …`` does: ``subjects.entered_tip`` (the form is
``tips add``), ``intake.add_tips`` / ``choose_customer``, ``to_findings.publish``, ``views.list_tips`` /
``show_tip`` (the reporter for the audit lead only, each look a ``tip_reporter_view`` trail event) and
``rewards.propose_reward`` / ``decide_reward`` (roles: ``audit.access.TIP_ROLES``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from gridaudit.audit.access import TIP_ROLES
from gridaudit.web.deps import CurrentUser, csrf_protect, get_settings, get_store, require_roles
from gridaudit.web.errors import BadInput
from gridaudit.web.render import NavItem, render

router = APIRouter()
NAV = [NavItem("/tips", "举报", "Tip-offs", order=45, roles=TIP_ROLES["tip_list"])]

Reader = Depends(require_roles(*TIP_ROLES["tip_list"]))
Enterer = Depends(require_roles(*TIP_ROLES["tip_add"]))
Matchers = Depends(require_roles(*TIP_ROLES["tip_match"]))
STATUS_FILTER = ("matched", "ambiguous", "unknown")


def _dataset(request: Request) -> Any:
    dataset = get_settings(request).dataset
    if dataset is None:
        raise BadInput("未配置数据集，无法匹配举报对象", "no dataset configured: tips cannot be matched")
    return dataset


def _matcher(request: Request) -> Any:
    from gridaudit.dataset import DatasetError
    from gridaudit.tips.matching import Matcher

    try:
        return Matcher(_dataset(request))
    except DatasetError as exc:
        raise BadInput(f"无法打开数据集: {exc}", f"cannot open the dataset: {exc}") from exc


def _publish(request: Request) -> None:
    """The matched tips as a new findings run (its own transaction, after the tips are stored)."""
    from gridaudit.tips.to_findings import publish

    with get_store(request).transaction() as s:
        publish(s, _dataset(request))


def _labels() -> dict[str, Any]:
    from gridaudit.tips.intake import STATUSES
    from gridaudit.tips.subjects import CHANNELS, SUBJECT_ZH

    return {"statuses": STATUSES, "channels": CHANNELS, "subject_zh": SUBJECT_ZH}


@router.get("/tips", dependencies=[Reader])
def tip_list(request: Request, user: CurrentUser, status: str = "", held: int | None = None) -> Response:
    """The tips the user sees (unit scope), oldest first; the reporter column for the audit lead only."""
    from gridaudit.tips.views import list_tips

    if status and status not in STATUS_FILTER:
        raise BadInput(f"未知状态 {status!r}", f"unknown status {status!r}")
    with get_store(request).transaction() as s:
        rows, lead = list_tips(s, user.user_id, [status] if status else None)
    return render(
        request,
        "tips.html",
        rows=rows,
        lead=lead,
        status=status,
        held=held,
        may_add=user.role in TIP_ROLES["tip_add"],
        **_labels(),
    )


@router.get("/tips/new", dependencies=[Enterer])
def tip_form(request: Request) -> Response:
    """The form entering one tip (as ``gridaudit tips add``)."""
    return render(request, "tip_new.html", values={}, **_labels())


@router.post("/tips", dependencies=[Enterer, Depends(csrf_protect)])
def tip_add(
    request: Request,
    user: CurrentUser,
    customer: str = Form("", max_length=64),
    meter: str = Form("", max_length=64),
    address: str = Form("", max_length=400),
    area: str = Form("", max_length=64),
    what: str = Form("", max_length=4000),
    channel: str = Form("", max_length=32),
    received_on: str = Form("", max_length=32),
    contact: str = Form("", max_length=400),
) -> Response:
    """Enter, match and store one tip, then publish the matched tips as findings; a tip entered twice is
    recognised (the page of the first one is shown)."""
    from gridaudit.audit.access import visible_units
    from gridaudit.audit.users import get_user
    from gridaudit.tips.files import parse_day
    from gridaudit.tips.intake import add_tips
    from gridaudit.tips.subjects import entered_tip

    day = parse_day(received_on) if received_on.strip() else None
    if received_on.strip() and day is None:
        raise BadInput(
            f"举报日期应为 YYYY-MM-DD：{received_on!r}", f"the day received must be YYYY-MM-DD: {received_on!r}"
        )
    tip = entered_tip(customer, meter, address, area, what, channel, day, contact, "web")
    matcher = _matcher(request)
    try:
        with get_store(request).transaction() as s:
            [added] = add_tips(s, user.user_id, [tip], matcher)
            tip_id, held = added.tip.tip_id, added.tip.status != "matched"
            bound = visible_units(s, get_user(s, user.user_id)) is not None
    finally:
        matcher.close()
    _publish(request)
    if held and bound:  # a held tip has no unit yet: only unbound auditors and leads see it (docs/tips.md)
        return RedirectResponse(f"/tips?held={tip_id}", status_code=303)
    return RedirectResponse(f"/tips/{tip_id}", status_code=303)


@router.get("/tips/{tip_id}", dependencies=[Reader])
def tip_page(request: Request, tip_id: int, user: CurrentUser) -> Response:
    """One tip: subject, match or candidates, its task and rewards; the reporter for the audit lead only."""
    from sqlalchemy import select

    from gridaudit.audit.models import Task
    from gridaudit.tips.rewards import reward_lines
    from gridaudit.tips.views import show_tip

    with get_store(request).transaction() as s:
        tip, lead = show_tip(s, user.user_id, tip_id)
        task = (
            s.execute(select(Task).where(Task.finding_id == tip["finding_id"])).scalar_one_or_none()
            if tip["finding_id"]
            else None
        )
        rewards = reward_lines(s, [task.task_id]) if task is not None else []
        task_info = None if task is None else {"task_id": task.task_id, "state": task.state}
    return render(
        request,
        "tip.html",
        tip=tip,
        lead=lead,
        task=task_info,
        rewards=rewards,
        may_match=user.role in TIP_ROLES["tip_match"] and tip["status"] != "matched",
        may_propose=user.role in TIP_ROLES["reward_propose"]
        and task_info is not None
        and not any(r.status in ("pending", "approve") for r in rewards),
        may_decide=user.role in TIP_ROLES["reward_approve"],
        **_labels(),
    )


@router.post("/tips/{tip_id}/match", dependencies=[Matchers, Depends(csrf_protect)])
def tip_match(request: Request, tip_id: int, user: CurrentUser, customer_id: str = Form("", max_length=64)) -> Response:
    """A person picks the customer of a held tip (as ``gridaudit tips match``); the findings are published."""
    from gridaudit.tips.intake import choose_customer

    if not customer_id.strip():
        raise BadInput("请选择或填写用户编号", "choose or enter a customer id")
    matcher = _matcher(request)
    try:
        with get_store(request).transaction() as s:
            _visible(s, user.user_id, tip_id)
            choose_customer(s, user.user_id, tip_id, customer_id.strip(), matcher)
    finally:
        matcher.close()
    _publish(request)
    return RedirectResponse(f"/tips/{tip_id}", status_code=303)


def _visible(session: Any, user_id: str, tip_id: int) -> None:
    """Refuse (NotFound) a tip outside the user's unit scope, revealing no reporter."""
    from sqlalchemy import select

    from gridaudit.audit.errors import NotFound
    from gridaudit.audit.users import get_user
    from gridaudit.tips.models import Tip
    from gridaudit.tips.views import _scope_filter

    q = select(Tip.tip_id).where(Tip.tip_id == tip_id, _scope_filter(session, get_user(session, user_id)))
    if session.execute(q).first() is None:
        raise NotFound(f"未知举报 {tip_id}（或不在本人范围内）", f"unknown tip {tip_id} (or outside your scope)")


@router.post("/tips/{tip_id}/reward", dependencies=[Depends(csrf_protect)])
def reward_propose(request: Request, tip_id: int, user: CurrentUser) -> Response:
    """Propose the reward of the confirmed task made from this tip (the utility's reward setting)."""
    from gridaudit.settings_file import SettingsError
    from gridaudit.tips.intake import get_tip
    from gridaudit.tips.rewards import load_reward_settings, propose_reward, task_of_tip

    try:
        settings = load_reward_settings(get_settings(request).rewards)
    except SettingsError as exc:
        raise BadInput(str(exc), str(exc)) from exc
    with get_store(request).transaction() as s:
        _visible(s, user.user_id, tip_id)
        propose_reward(s, user.user_id, task_of_tip(s, get_tip(s, tip_id)).task_id, settings)
    return RedirectResponse(f"/tips/{tip_id}", status_code=303)


@router.post("/tips/{tip_id}/rewards/{reward_id}/decide", dependencies=[Depends(csrf_protect)])
def reward_decide(
    request: Request,
    tip_id: int,
    reward_id: int,
    user: CurrentUser,
    decision: str = Form(..., max_length=8),
    reason: str = Form("", max_length=2000),
) -> Response:
    """Approve or reject a proposed reward (an audit lead or manager who did not propose it)."""
    from gridaudit.audit.errors import NotFound
    from gridaudit.tips.models import TipReward
    from gridaudit.tips.rewards import decide_reward

    if decision not in ("approve", "reject"):
        raise BadInput(f"未知决定 {decision!r}", f"unknown decision {decision!r}")
    if decision == "reject" and not reason.strip():
        raise BadInput("驳回须写明理由", "a rejection needs a reason")
    with get_store(request).transaction() as s:
        _visible(s, user.user_id, tip_id)
        reward = s.get(TipReward, reward_id)
        if reward is None or reward.tip_id != tip_id:
            raise NotFound(f"举报 {tip_id} 没有奖励 {reward_id}", f"tip {tip_id} has no reward {reward_id}")
        decide_reward(s, user.user_id, reward_id, decision == "approve", reason.strip() or None)
    return RedirectResponse(f"/tips/{tip_id}", status_code=303)
