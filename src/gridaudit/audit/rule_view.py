"""The rule catalog as the web app shows it (规则库): each rule's title, description, parameters, basis and SQL
(``rules.loader``), with its hit rate (查实率) now and month by month (``audit.hitrates``, from the case store's
closed tasks: the same estimate plans rank by)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from gridaudit.audit.errors import NotFound
from gridaudit.audit.hitrates import DEFAULT_HIT_RATES, HitRates, HitRateSettings, Rate, dated_outcomes, estimate
from gridaudit.i18n import Text


@dataclass(frozen=True)
class ParamEntry:
    """A rule parameter: name, type, default and what it means."""

    name: str
    type: str
    default: Any
    doc: Text


@dataclass(frozen=True)
class MonthRate:
    """A rule's record in one plan month (closed tasks, confirmed) and its hit rate once that month is counted."""

    month: str
    hits: int
    n: int
    rate: float


@dataclass
class RuleEntry:
    """One rule of the catalog with its hit rate; ``history`` is filled by :func:`rule_detail` only."""

    rule_id: str
    family: str
    severity: str
    entity_type: str
    title: Text
    description: Text
    basis: str
    tables: list[str]
    derived: list[str]
    params: list[ParamEntry]
    fixed: dict[str, Any]
    sql: str
    derived_sql: dict[str, str]
    file: str
    hit_rate: Rate
    history: list[MonthRate] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (texts as {"zh", "en"})."""
        return {
            "rule_id": self.rule_id,
            "family": self.family,
            "severity": self.severity,
            "entity_type": self.entity_type,
            "title": {"zh": self.title.zh, "en": self.title.en},
            "description": {"zh": self.description.zh, "en": self.description.en},
            "basis": self.basis,
            "tables": self.tables,
            "derived": self.derived,
            "params": [
                {"name": p.name, "type": p.type, "default": p.default, "doc": {"zh": p.doc.zh, "en": p.doc.en}}
                for p in self.params
            ],
            "fixed": self.fixed,
            "sql": self.sql,
            "derived_sql": self.derived_sql,
            "file": self.file,
            "hit_rate": {"rate": self.hit_rate.rate, "hits": self.hit_rate.hits, "n": self.hit_rate.n},
            "history": [{"month": m.month, "hits": m.hits, "n": m.n, "rate": m.rate} for m in self.history],
        }


@lru_cache(maxsize=1)
def _catalog() -> tuple[Any, ...]:
    """The built-in catalog, loaded once per process (its files ship with the package)."""
    from gridaudit.rules.loader import load_catalog

    return tuple(load_catalog())


def _entry(rule: Any, rates: HitRates) -> RuleEntry:
    from gridaudit.rules.loader import builtin_catalog

    h = rule.header
    try:
        file = str(rule.path.relative_to(builtin_catalog()))
    except ValueError:
        file = rule.path.name
    return RuleEntry(
        rule_id=rule.id,
        family=h.family,
        severity=h.severity,
        entity_type=h.entity_type,
        title=Text(h.title.zh, h.title.en),
        description=Text(h.description.zh, h.description.en),
        basis=h.basis,
        tables=list(h.tables),
        derived=list(h.derived),
        params=[ParamEntry(n, p.type, p.default, Text(p.doc.zh, p.doc.en)) for n, p in h.params.items()],
        fixed=dict(h.fixed),
        sql=rule.sql,
        derived_sql={d.id: d.sql for d in rule.needs},
        file=file,
        hit_rate=rates.for_rule(rule.id, h.family),
    )


def catalog(session: Any, family: str | None = None, settings: HitRateSettings = DEFAULT_HIT_RATES) -> list[RuleEntry]:
    """Every rule of the catalog (by family, then id) with its current hit rate; ``family`` keeps one family
    (an unknown family is ``NotFound``). ``session``: an open case-store session, or None for the priors only."""
    from gridaudit.findings import FAMILIES

    if family is not None and family not in FAMILIES:
        raise NotFound(f"没有规则族 {family}（可用：{', '.join(FAMILIES)}）",
                       f"no rule family {family} (known: {', '.join(FAMILIES)})")  # fmt: skip
    outcomes = [o[1:] for o in dated_outcomes(session)] if session is not None else []
    rates = estimate(outcomes, settings)
    return [_entry(r, rates) for r in _catalog() if family is None or r.family == family]


def rule_detail(session: Any, rule_id: str, settings: HitRateSettings = DEFAULT_HIT_RATES) -> RuleEntry:
    """One rule with its hit rate and its history: per plan month with closed tasks of the rule, that month's
    record and the rule's rate counting every closed task up to that month. Unknown id: ``NotFound``."""
    rules = {r.id: r for r in _catalog()}
    if rule_id not in rules:
        raise NotFound(f"规则库中没有规则 {rule_id}", f"no rule {rule_id} in the rule catalog")
    rule = rules[rule_id]
    dated = dated_outcomes(session) if session is not None else []
    entry = _entry(rule, estimate([o[1:] for o in dated], settings))
    months = sorted({m for m, r, *_ in dated if r == rule_id})
    for month in months:
        upto = [o[1:] for o in dated if o[0] <= month]
        own = [o for o in dated if o[0] == month and o[1] == rule_id]
        rate = estimate(upto, settings).for_rule(rule_id, rule.family).rate
        entry.history.append(MonthRate(month, sum(1 for o in own if o[4]), len(own), rate))
    return entry
