"""The month's indicator standings (考核排名) for the dashboard, from the booked assessment in the case store.

Reads the newest booking of the month (``indicators.book.bookings``: ``audit_indicator_runs`` and its
``audit_indicator_standings``), never re-assesses: a month without a booking shows none, with the command that
books one. Unit scope: a unit standing (station, county, company) is shown when its unit is in the user's scope;
a person standing (staff, area manager) when that person's unit (the dataset's ``staff.unit_id``) is. Each
entity links to its page: a unit to its dashboard, a person to the staff page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gridaudit.engines import Engine
from gridaudit.views.common import has_table, link, query_rows

TOP = 10
PERSON_LEVELS = ("staff", "area_manager")  # gridaudit.indicators.catalog.PERSON_LEVELS
LEVEL_ORDER = ("company", "county", "station", "area_manager", "staff")
LEVEL_TEXT = {
    "company": ("公司", "company"), "county": ("县公司", "county"), "station": ("供电所", "station"),
    "area_manager": ("台区经理", "area managers"), "staff": ("人员", "staff"),
}  # fmt: skip


@dataclass
class Standings:
    """The booked standings of a month: the booking's version and time, and per level its best ``TOP`` rows
    (rank, entity, name, score, points of possible, change against the month before, link)."""

    month: str
    version: int | None = None
    booked_at: datetime | None = None
    booked_by: str | None = None
    levels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    shown_of: dict[str, int] = field(default_factory=dict)  # level → standings in the user's scope

    @staticmethod
    def title(level: str) -> tuple[str, str]:
        """The level's name in Chinese and English."""
        return LEVEL_TEXT.get(level, (level, level))


def _person_units(engine: Engine, ids: list[str]) -> dict[str, str]:
    if not ids or not has_table(engine, "staff"):
        return {}
    rows = query_rows(engine, "SELECT staff_id, unit_id FROM staff WHERE staff_id IN (SELECT unnest($i))", {"i": ids})
    return {str(r["staff_id"]): str(r["unit_id"]) for r in rows if r["unit_id"] is not None}


def month_standings(engine: Engine, session: Any, month: str, units: set[str] | None) -> Standings:
    """The newest booked standings of ``month`` within ``units`` (None: all)."""
    from sqlalchemy import select

    from gridaudit.audit.indicator_records import IndicatorStanding
    from gridaudit.indicators.book import bookings

    booked = bookings(session, month)
    if not booked:
        return Standings(month)
    run = booked[-1]
    q = select(IndicatorStanding).where(IndicatorStanding.run_id == run.run_id)
    rows = list(session.execute(q).scalars())
    persons = _person_units(engine, sorted({r.entity_id for r in rows if r.level in PERSON_LEVELS}))
    out = Standings(month, run.version, run.booked_at, run.booked_by)
    for r in rows:
        unit = persons.get(r.entity_id) if r.level in PERSON_LEVELS else r.entity_id
        if units is not None and unit not in units:
            continue
        href = (
            link(f"/staff/{r.entity_id}", month=month)
            if r.level in PERSON_LEVELS
            else link("/dashboard", month=month, unit=r.entity_id)
        )
        change = None if r.score is None or r.prev_score is None else round(r.score - r.prev_score, 2)
        out.levels.setdefault(r.level, []).append(
            {
                "entity_id": r.entity_id,
                "name": r.name,
                "rank": r.rank,
                "score": r.score,
                "points": r.points,
                "possible": r.possible,
                "prev_rank": r.prev_rank,
                "change": change,
                "href": href,
            }
        )
    for level, items in out.levels.items():
        items.sort(key=lambda s: (s["rank"] is None, s["rank"] or 0, s["entity_id"]))
        out.shown_of[level] = len(items)
        out.levels[level] = items[:TOP]
    out.levels = {lv: out.levels[lv] for lv in sorted(out.levels, key=_level_key)}
    return out


def _level_key(level: str) -> tuple[int, str]:
    return (LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER), level)
