"""Book an indicator assessment into the case store's ledger (``audit.indicator_records``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gridaudit.indicators.assess import Assessment

BOOKERS = ("audit_lead", "manager")


def book(session: Any, actor_id: str, assessment: Assessment, as_of: date) -> Any:
    """Write ``assessment`` as a new version of its month (audit lead or manager only), with a trail event.

    An earlier booking of the month stays and is superseded; every row is sealed at commit (ledger)."""
    from sqlalchemy import func, select

    from gridaudit.audit import trail
    from gridaudit.audit.errors import Forbidden
    from gridaudit.audit.indicator_records import IndicatorRun, IndicatorStanding, IndicatorValue
    from gridaudit.audit.users import get_user

    actor = get_user(session, actor_id)
    if actor.role not in BOOKERS:
        raise Forbidden(
            f"只有稽查组长或主管领导可以发布考核结果（{actor.user_id} 是 {actor.role}）",
            f"only an audit lead or a manager may book an assessment ({actor.user_id} is {actor.role})",
        )
    month = assessment.month
    prev = session.execute(
        select(IndicatorRun.run_id, IndicatorRun.version)
        .where(IndicatorRun.month == month)
        .order_by(IndicatorRun.run_id.desc())
        .limit(1)
    ).first()
    count = session.execute(select(func.count()).where(IndicatorRun.month == month)).scalar_one()
    run = IndicatorRun(
        month=month,
        version=count + 1,
        utility=assessment.utility,
        method_effective=assessment.method_effective,
        method_sha256=assessment.method_sha256,
        catalog_sha256=assessment.catalog_sha256,
        dataset_version=assessment.dataset_version,
        as_of=as_of,
        booked_by=actor.user_id,
        booked_at=trail.now_utc(),
        supersedes_id=prev[0] if prev else None,
    )
    session.add(run)
    session.flush()
    session.add_all(
        IndicatorValue(
            run_id=run.run_id,
            level=s.level,
            entity_id=s.entity_id,
            indicator_id=s.indicator,
            value=s.value,
            num=s.num,
            den=s.den,
            items=s.items,
            target=s.target,
            weight=s.weight,
            points=s.points,
            rule=s.rule or None,
        )  # fmt: skip
        for s in assessment.scored
    )
    session.add_all(
        IndicatorStanding(
            run_id=run.run_id,
            level=s.level,
            entity_id=s.entity_id,
            name=s.name,
            points=s.points,
            possible=s.possible,
            score=s.score,
            rank=s.rank,
            prev_score=s.prev_score,
            prev_rank=s.prev_rank,
        )  # fmt: skip
        for s in assessment.standings
    )
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "indicators_book",
        "assessment",
        f"{month}#{run.version}",
        {
            "month": month,
            "version": run.version,
            "run_id": run.run_id,
            "supersedes": run.supersedes_id,
            "method_effective": assessment.method_effective,
            "method_sha256": assessment.method_sha256,
            "values": len(assessment.scored),
            "standings": len(assessment.standings),
        },
    )
    return run


def bookings(session: Any, month: str) -> list[Any]:
    """The booked versions of ``month``, oldest first."""
    from sqlalchemy import select

    from gridaudit.audit.indicator_records import IndicatorRun

    return list(
        session.execute(select(IndicatorRun).where(IndicatorRun.month == month).order_by(IndicatorRun.run_id)).scalars()
    )
