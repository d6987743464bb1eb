"""One plan at a glance (``audit plan show``, and the web app): metadata, quotas asked and filled, task counts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from gridaudit.audit.errors import NotFound
from gridaudit.audit.models import Plan, Task
from gridaudit.audit.quotas import Quota


@dataclass
class PlanSummary:
    """A plan's metadata and scope, its quotas (asked, available and filled when it was created, filled now by
    tasks not cancelled) and its tasks counted by state and by family."""

    plan_id: int
    month: str
    kind: str
    title: str
    created_by: str
    created_at: str
    scope: dict
    source: dict
    tasks: int
    by_state: dict[str, int] = field(default_factory=dict)
    by_family: dict[str, int] = field(default_factory=dict)
    quotas: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The summary as plain JSON-able data."""
        return asdict(self)


def plan_summary(session: Any, plan_id: int) -> PlanSummary:
    """The summary of plan ``plan_id`` (one query for its tasks, grouped in the database)."""
    from sqlalchemy import func, select

    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"没有计划 {plan_id}", f"no plan {plan_id}")
    q = (
        select(Task.family, Task.rule_id, Task.unit_id, Task.state, func.count())
        .where(Task.plan_id == plan_id)
        .group_by(Task.family, Task.rule_id, Task.unit_id, Task.state)
    )
    groups = list(session.execute(q))
    by_state: dict[str, int] = {}
    by_family: dict[str, int] = {}
    for fam, _rule, _unit, state, n in groups:
        by_state[state] = by_state.get(state, 0) + n
        by_family[fam] = by_family.get(fam, 0) + n
    scope = json.loads(plan.scope or "{}")
    quotas = []
    for stored in scope.get("quotas", []):
        asked = stored.get("asked")
        quota = Quota(
            stored["spec"],
            stored.get("family"),
            stored.get("rule"),
            stored.get("unit"),
            None if asked == "all" else asked,
        )
        now = sum(n for fam, rule, unit, state, n in groups if state != "cancelled" and quota.matches(fam, rule, unit))
        quotas.append({**stored, "now": now})
    return PlanSummary(
        plan_id=plan.plan_id,
        month=plan.month,
        kind=plan.kind,
        title=plan.title,
        created_by=plan.created_by,
        created_at=plan.created_at.isoformat(),
        scope=scope,
        source=json.loads(plan.source or "{}"),
        tasks=sum(by_state.values()),
        by_state=dict(sorted(by_state.items())),
        by_family=dict(sorted(by_family.items())),
        quotas=quotas,
    )


def list_plans(session: Any, user: Any = None) -> list[tuple[Plan, int]]:
    """The plans ``user`` sees (``access.visible_plan_filter``; None: every plan), newest first, each with
    its number of tasks (the whole plan's, as its summary counts them)."""
    from sqlalchemy import func, select

    from gridaudit.audit.access import visible_plan_filter

    q = (
        select(Plan, func.count(Task.task_id))
        .outerjoin(Task, Task.plan_id == Plan.plan_id)
        .where(visible_plan_filter(session, user))
        .group_by(Plan.plan_id)
        .order_by(Plan.plan_id.desc())
    )
    return [(p, int(n)) for p, n in session.execute(q)]


def visible_plan_summary(session: Any, user: Any, plan_id: int) -> PlanSummary:
    """``plan_summary`` of a plan ``user`` sees (``access.check_plan``: ``NotFound`` / ``Forbidden``)."""
    from gridaudit.audit.access import check_plan

    check_plan(session, user, plan_id)
    return plan_summary(session, plan_id)
