"""Plan quotas (定性、定量): quantitative targets a monthly plan must meet before the rest of its top N.

Syntax (CLI ``--quota``, repeatable): ``KEY=VALUE[,KEY=VALUE…]:COUNT`` with KEY one of ``family``, ``rule``,
``unit`` (each at most once; all given must match) and COUNT a positive integer (at least that many tasks)
or ``all`` (every eligible finding). Examples: ``family=reading:30`` (at least 30 reading cases),
``rule=loss_area_high,unit=U0101:all`` (all high-loss areas of unit U0101).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gridaudit.audit.errors import AuditError

QUOTA_KEYS = ("family", "rule", "unit")
ALL = "all"


@dataclass(frozen=True)
class Quota:
    """One target: the findings matching every given key, ``count`` of them (None: all)."""

    spec: str
    family: str | None = None
    rule: str | None = None
    unit: str | None = None
    count: int | None = None

    def matches(self, family: str | None, rule: str | None, unit: str | None) -> bool:
        """Whether a finding or task of this family, rule and unit counts towards the quota."""
        return (
            (self.family is None or self.family == family)
            and (self.rule is None or self.rule == rule)
            and (self.unit is None or self.unit == unit)
        )

    def asked(self) -> int | str:
        """The target as stored and shown: a number or ``all``."""
        return ALL if self.count is None else self.count

    def as_dict(self) -> dict:
        """The quota as stored in the plan's scope."""
        return {"spec": self.spec, "family": self.family, "rule": self.rule, "unit": self.unit, "asked": self.asked()}


@dataclass
class QuotaFill:
    """How far a quota was filled: ``filled`` tasks of ``asked``; ``available`` eligible findings matched."""

    quota: Quota
    available: int
    filled: int

    @property
    def target(self) -> int:
        """The number of tasks the quota asks for (``all``: every available finding)."""
        return self.available if self.quota.count is None else self.quota.count

    @property
    def met(self) -> bool:
        """Whether the plan holds as many matching tasks as asked."""
        return self.filled >= self.target

    def as_dict(self) -> dict:
        """The fill as stored in the plan's scope and printed as JSON."""
        return {**self.quota.as_dict(), "available": self.available, "filled": self.filled, "met": self.met}


def _bad(spec: str, zh: str, en: str) -> AuditError:
    return AuditError(f"配额 {spec!r} 无效：{zh}", f"bad quota {spec!r}: {en}")


def parse_quota(spec: str) -> Quota:
    """Parse ``family=reading:30`` or ``rule=loss_area_high,unit=U0101:all`` (see the module docstring)."""
    text = spec.strip()
    where, sep, count_text = text.rpartition(":")
    if not sep or not where:
        raise _bad(
            spec,
            "应为 键=值[,键=值]:数量，如 family=reading:30 或 rule=loss_area_high,unit=U0101:all",
            "expected KEY=VALUE[,KEY=VALUE]:COUNT, e.g. family=reading:30 or rule=loss_area_high,unit=U0101:all",
        )
    count_text = count_text.strip().lower()
    if count_text == ALL:
        count = None
    elif re.fullmatch(r"[0-9]+", count_text) and int(count_text) > 0:
        count = int(count_text)
    else:
        raise _bad(
            spec, f"数量 {count_text!r} 应为正整数或 all", f"count {count_text!r} must be a positive number or all"
        )
    keys: dict[str, str] = {}
    for part in where.split(","):
        k, eq, v = part.partition("=")
        k, v = k.strip().lower(), v.strip()
        if not eq or not v:
            raise _bad(spec, f"{part.strip()!r} 应为 键=值", f"{part.strip()!r} must be KEY=VALUE")
        if k not in QUOTA_KEYS:
            keys_text = ", ".join(QUOTA_KEYS)
            raise _bad(spec, f"未知的键 {k!r}（可用 {keys_text}）", f"unknown key {k!r} (use {keys_text})")
        if k in keys:
            raise _bad(spec, f"键 {k} 出现了两次", f"key {k} is given twice")
        keys[k] = v
    return Quota(spec=text, count=count, **keys)


def check_quotas(
    quotas: Iterable[Quota], families: Iterable[str], rules: Iterable[str], units: Iterable[str] | None
) -> None:
    """Refuse a quota naming a family, rule or unit that is not known (``units`` None: units are not checked)."""
    fams, known_rules = list(families), set(rules)
    known_units = None if units is None else set(units)
    for q in quotas:
        if q.family is not None and q.family not in fams:
            raise _bad(
                q.spec,
                f"没有问题类别 {q.family!r}（可用 {', '.join(fams)}）",
                f"no finding family {q.family!r} (known: {', '.join(fams)})",
            )
        if q.rule is not None and q.rule not in known_rules:
            raise _bad(q.spec, f"没有规则 {q.rule!r}", f"no rule {q.rule!r} in the catalog or the findings")
        if q.unit is not None and known_units is not None and q.unit not in known_units:
            raise _bad(q.spec, f"没有单位 {q.unit!r}", f"no unit {q.unit!r} in the dataset or the findings")


def fill_quotas(ranked: list[dict], quotas: list[Quota]) -> list[dict]:
    """The findings taken for the quotas: for each quota in the order given, highest priority first.

    ``ranked``: eligible findings (after scope and de-duplication), highest priority first, each with
    ``family``, ``rule_id`` and ``unit_id``. A finding taken for one quota counts towards every quota it
    matches. One pass over ``ranked`` per quota."""
    chosen: list[dict] = []
    ids: set[str] = set()
    for q in quotas:
        have = sum(1 for r in chosen if q.matches(r["family"], r["rule_id"], r["unit_id"]))
        for r in ranked:
            if q.count is not None and have >= q.count:
                break
            if r["finding_id"] not in ids and q.matches(r["family"], r["rule_id"], r["unit_id"]):
                chosen.append(r)
                ids.add(r["finding_id"])
                have += 1
    return chosen


def fills(quotas: list[Quota], available: list[dict], chosen: list[dict]) -> list[QuotaFill]:
    """Each quota's fill: how many of ``available`` findings and of the ``chosen`` tasks match it."""
    return [
        QuotaFill(
            q,
            sum(1 for r in available if q.matches(r["family"], r["rule_id"], r["unit_id"])),
            sum(1 for r in chosen if q.matches(r["family"], r["rule_id"], r["unit_id"])),
        )
        for q in quotas
    ]
