"""The utility's unit tree in the case store (``audit_units``), copied from a dataset's ``units`` table.

The case store does not read datasets on its own: ``gridaudit audit units sync --dataset DIR`` copies the
tree (unit_id, name, parent_id, level; DESIGN §2) so that unit scope can cover "the unit and the units
under it" and named units can be checked. A store that has never been synced has no tree: a named unit
is then accepted unchecked (and the CLI says so), and a user bound to it sees that unit only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridaudit.audit import trail
from gridaudit.audit.errors import AuditError, Forbidden, NotFound
from gridaudit.audit.models import Unit, User

SYNC_HINT = ("请先运行 gridaudit audit units sync --dataset DIR", "run gridaudit audit units sync --dataset DIR first")


def has_units(session: Any) -> bool:
    """Whether the store holds a unit tree (``units sync`` was run)."""
    from sqlalchemy import select

    return session.execute(select(Unit.unit_id).limit(1)).first() is not None


def check_unit(session: Any, unit_id: str, what: str = "单位 / unit") -> bool:
    """Refuse an unknown ``unit_id`` when the store has a unit tree; return False when it has none
    (the unit could not be checked), True when it was found."""
    if session.get(Unit, unit_id) is not None:
        return True
    if not has_units(session):
        return False
    zh, en = what.split(" / ") if " / " in what else (what, what)
    raise NotFound(
        f"未知{zh} {unit_id}：案件库的单位树中没有该单位（gridaudit audit units list 查看）",
        f"unknown {en} {unit_id}: not in the store's unit tree (see gridaudit audit units list)",
    )


def unchecked_warning(unit_id: str) -> tuple[str, str]:
    """(zh, en) warning for a unit accepted without a unit tree to check it against."""
    return (
        f"注意：案件库尚无单位树，单位 {unit_id} 未经核对，其范围仅含 {unit_id} 本身；{SYNC_HINT[0]}",
        f"note: the store has no unit tree, so unit {unit_id} was not checked and its scope is {unit_id} "
        f"alone; {SYNC_HINT[1]}",
    )


def subtree(session: Any, unit_id: str) -> set[str]:
    """``unit_id`` and every unit under it (by ``parent_id``); just ``{unit_id}`` without a tree."""
    from sqlalchemy import select

    children: dict[str, list[str]] = {}
    for uid, parent in session.execute(select(Unit.unit_id, Unit.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(uid)
    out, todo = {unit_id}, [unit_id]
    while todo:  # a cycle in parent_id cannot loop: visited units are not revisited
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def list_units(session: Any) -> list[Unit]:
    """The store's units, by id."""
    from sqlalchemy import select

    return list(session.execute(select(Unit).order_by(Unit.unit_id)).scalars())


@dataclass
class SyncOutcome:
    """What ``sync_units`` changed, and the users left bound to a unit that is no longer in the tree."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    orphaned_users: list[str] = field(default_factory=list)
    total: int = 0


def read_dataset_units(dataset_dir: str | Path) -> list[dict]:
    """The ``units`` rows of a dataset (unit_id, name, parent_id, level), or a clear error."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    if not ds.has("units"):
        raise AuditError(
            f"数据集 {dataset_dir} 没有 units 表，无法同步单位树",
            f"dataset {dataset_dir} has no units table; cannot sync the unit tree",
        )
    eng = open_engine(ds)
    try:
        cols = set(eng.query("select * from units limit 0").column_names)
        parent = "cast(parent_id as varchar)" if "parent_id" in cols else "null"
        level = "cast(level as varchar)" if "level" in cols else "null"
        table = eng.query(
            f"select cast(unit_id as varchar) unit_id, cast(name as varchar) name, {parent} parent_id, "
            f"{level} level from units order by 1"
        )
    finally:
        eng.close()
    return table.to_pylist()


def sync_units(session: Any, actor: User, rows: list[dict], source: str) -> SyncOutcome:
    """Make ``audit_units`` equal to ``rows`` (admin only); one trail event with what changed."""
    from sqlalchemy import select

    if actor.role != "admin":
        raise Forbidden(
            f"只有管理员可以同步单位树（{actor.user_id} 是 {actor.role}）",
            f"only an admin may sync the unit tree ({actor.user_id} is {actor.role})",
        )
    seen: set[str] = set()
    for i, r in enumerate(rows, start=1):
        if not r.get("unit_id"):
            raise AuditError(f"units 第 {i} 行: unit_id 为空", f"units row {i}: unit_id is empty")
        if r["unit_id"] in seen:
            uid = r["unit_id"]
            raise AuditError(f"units 第 {i} 行: unit_id {uid} 重复", f"units row {i}: duplicate unit_id {uid}")
        seen.add(r["unit_id"])
    out = SyncOutcome(total=len(rows))
    now = trail.now_utc()
    stored = {u.unit_id: u for u in list_units(session)}
    for r in rows:
        name = r.get("name") or r["unit_id"]
        values = (name, r.get("parent_id"), r.get("level"))
        unit = stored.pop(r["unit_id"], None)
        if unit is None:
            session.add(Unit(unit_id=r["unit_id"], name=name, parent_id=values[1], level=values[2], synced_at=now))
            out.added.append(r["unit_id"])
        elif (unit.name, unit.parent_id, unit.level) != values:
            unit.name, unit.parent_id, unit.level, unit.synced_at = (*values, now)
            out.changed.append(r["unit_id"])
    for uid, unit in sorted(stored.items()):
        session.delete(unit)
        out.removed.append(uid)
    if out.removed:
        q = select(User.user_id).where(User.unit_id.in_(out.removed)).order_by(User.user_id)
        out.orphaned_users = list(session.execute(q).scalars())
    session.flush()
    trail.append(
        session,
        actor.user_id,
        "units_sync",
        "unit",
        "*",
        {"source": source, "total": out.total, "added": out.added, "changed": out.changed, "removed": out.removed},
    )
    return out
