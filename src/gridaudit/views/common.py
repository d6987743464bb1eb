"""What every read model shares: month and id checks, unit scope on dataset entities, rows, links.

Errors are the audit loop's (:mod:`gridaudit.audit.errors`), each in Chinese and English: ``AuditError`` for
a bad parameter (the web answers 400), ``NotFound`` (404), ``Forbidden`` (403, outside the user's unit scope).
Unit scope is :func:`gridaudit.audit.access.visible_units`: a dataset entity (customer, area, feeder, staff
member) is visible when its unit is in the user's scope, or when the user sees a task on that entity (an
inspector sent across units, 交叉稽查, sees the customer of the task).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa

from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Task, User
from gridaudit.dataset import Dataset
from gridaudit.engines import Engine

MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ID_RE = re.compile(r"[\w.\-:/]{1,128}")


@dataclass(frozen=True)
class Figure:
    """A number a page shows and the list behind it: ``path`` and ``params`` make the link."""

    value: float | int | None
    path: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def href(self) -> str | None:
        """The link to the list behind the number (None when there is no such list)."""
        return link(self.path, **self.params) if self.path else None


def link(path: str, **params: Any) -> str:
    """``path?k=v&…`` with the parameters that are not None or empty, in the order given."""
    kept = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(kept)}" if kept else path


def check_month(text: str | None, what: str = "month") -> str:
    """``YYYY-MM`` or an ``AuditError`` naming the value."""
    if text is None or not MONTH_RE.fullmatch(text.strip()):
        raise AuditError(f"{what} 应为 YYYY-MM 格式的月份：{text!r}", f"{what} must be a month YYYY-MM: {text!r}")
    return text.strip()


def check_id(text: str, what: tuple[str, str]) -> str:
    """An entity id as given in a URL, or an ``AuditError`` (empty, too long or odd characters)."""
    if not ID_RE.fullmatch(text or ""):
        raise AuditError(f"{what[0]}编号无效：{text!r}", f"invalid {what[1]} id: {text!r}")
    return text


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of ``month`` (YYYY-MM)."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def shift_month(month: str, delta: int) -> str:
    """``month`` moved by ``delta`` months."""
    idx = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """An Arrow table as a list of dicts."""
    return table.to_pylist()


def query_rows(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of one bound query on the dataset (an absent optional table is the caller's to check)."""
    return rows(engine.query(sql, params))


def dataset_of(engine: Engine) -> Dataset:
    """The dataset version ``engine`` reads (its folder holds the findings store); an engine without one
    (a PostgreSQL replica) is an ``AuditError``: the views need the dataset folder."""
    if engine.dataset is None:
        raise AuditError(
            "此引擎没有数据集目录（视图需要数据集，见 gridaudit serve --dataset）",
            "this engine has no dataset folder (the views need one: gridaudit serve --dataset)",
        )
    return engine.dataset


def has_table(engine: Engine, table: str) -> bool:
    """Whether the dataset version holds ``table``."""
    return dataset_of(engine).has(table)


def visible(session: Any, user: User | None) -> set[str] | None:
    """The units ``user`` sees (None: all), :func:`gridaudit.audit.access.visible_units`."""
    from gridaudit.audit.access import visible_units

    return visible_units(session, user)


def _has_task_on(session: Any, user: User, entity_type: str, entity_id: str) -> bool:
    from sqlalchemy import select

    from gridaudit.audit.access import visible_task_filter

    q = (
        select(Task.task_id)
        .where(Task.entity_type == entity_type, Task.entity_id == entity_id, visible_task_filter(session, user))
        .limit(1)
    )
    return session.execute(q).first() is not None


def check_entity_scope(
    session: Any, user: User | None, unit_id: str | None, entity_type: str, entity_id: str, what: tuple[str, str]
) -> None:
    """Refuse (``Forbidden``) a dataset entity of ``unit_id`` outside ``user``'s scope, unless the user sees a
    task on it."""
    units = visible(session, user)
    if units is None or user is None or (unit_id is not None and unit_id in units):
        return
    if _has_task_on(session, user, entity_type, entity_id):
        return
    raise Forbidden(
        f"{what[0]} {entity_id}（单位 {unit_id or '未知'}）不在 {user.user_id} 的查看范围内",
        f"{what[1]} {entity_id} (unit {unit_id or 'unknown'}) is outside {user.user_id}'s scope",
    )


def check_unit_scope(session: Any, user: User | None, unit_id: str | None) -> set[str] | None:
    """The units a view of ``unit_id`` (None: everything the user sees) covers, within the user's scope
    (:func:`gridaudit.audit.access.unit_scope`: ``Forbidden`` outside it, ``NotFound`` for an unknown unit)."""
    from gridaudit.audit.access import unit_scope

    return unit_scope(session, user, unit_id)


def not_found(what: tuple[str, str], entity_id: str) -> NotFound:
    """The error for an id the dataset does not have."""
    return NotFound(f"数据集中没有{what[0]} {entity_id}", f"no {what[1]} {entity_id} in the dataset")
