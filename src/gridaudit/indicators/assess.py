"""The monthly assessment (考核) by the indicator system: values → points by the method in force → totals,
ranks (排名) and the change against the previous month. :func:`assess_month` is the one entry point the CLI,
the web dashboard and the monthly report call."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.dataset import Dataset, open_dataset
from gridaudit.i18n import Text, both
from gridaudit.indicators.catalog import LEVELS, Indicator, IndicatorError, load_catalog
from gridaudit.indicators.inputs import month_shift
from gridaudit.indicators.method import Method, MethodError, Version, load_method
from gridaudit.indicators.scoring import score_value
from gridaudit.indicators.values import Computed, Value, compute


@dataclass
class Scored:
    """An indicator value with the method's target, weight and the points it earned (None: not scored)."""

    indicator: str
    level: str
    entity_id: str
    value: float | None
    num: float
    den: float
    items: int
    target: float | None = None
    weight: float | None = None
    points: float | None = None
    rule: str = ""
    reason: Text | None = None


@dataclass
class Standing:
    """One entity's total for the month: points of the possible, score 0–100, rank in its level, change."""

    level: str
    entity_id: str
    name: str
    points: float
    possible: float
    score: float | None
    rank: int | None = None
    prev_score: float | None = None
    prev_rank: int | None = None

    @property
    def change(self) -> float | None:
        """Score change against the previous month (None when either is missing)."""
        if self.score is None or self.prev_score is None:
            return None
        return round(self.score - self.prev_score, 2)


@dataclass
class Assessment:
    """The month's assessment: every value (scored where the method says), standings, notes, explanation."""

    month: str
    utility: str
    method_effective: str
    method_title: Text
    method_sha256: str
    catalog_sha256: str
    dataset_version: str | None
    scored: list[Scored]
    standings: list[Standing]
    notes: list[Text] = field(default_factory=list)
    explained: str | None = None
    rows: dict[str, list[dict]] = field(default_factory=dict)
    person_units: dict[str, str] = field(default_factory=dict)  # staff_id → staff.unit_id (unit scope)
    compared: bool = False  # whether the previous month was assessed for the change

    def level(self, level: str) -> list[Standing]:
        """Standings of one level, ranked first (best first), then the unranked."""
        rows = [s for s in self.standings if s.level == level]
        return sorted(rows, key=lambda s: (s.rank is None, s.rank or 0, s.entity_id))

    def of(self, entity_id: str) -> list[Scored]:
        """Every value of one entity (at every level it has), by level then indicator."""
        return sorted((s for s in self.scored if s.entity_id == entity_id), key=lambda s: (s.level, s.indicator))


def catalog_sha256(catalog: list[Indicator]) -> str:
    """One hash over the catalogue's definitions (what the figures were computed by)."""
    h = hashlib.sha256()
    for ind in sorted(catalog, key=lambda i: i.id):
        h.update(ind.model_dump_json().encode("utf-8"))
    return h.hexdigest()


def rank(standings: list[Standing]) -> None:
    """Rank each level by score, best first; equal scores share a rank (1, 2, 2, 4); no score, no rank."""
    for level in LEVELS:
        rows = sorted((s for s in standings if s.level == level and s.score is not None), key=lambda s: -s.score)  # type: ignore[operator]
        for i, s in enumerate(rows):
            s.rank = rows[i - 1].rank if i and rows[i - 1].score == s.score else i + 1


def version_in_force(method: Method, month: str) -> Version:
    """The method version in force for ``month``; a month before the first version is an error."""
    version = method.in_force(month)
    if version is None:
        first = min(v.effective for v in method.versions)
        raise MethodError(
            both(
                f"{month} 之前没有生效的考核办法（最早 {first}）",
                f"no assessment method is in force for {month} (the first is effective {first})",
            )
        )
    return version


def score_month(
    computed: Computed, catalog: list[Indicator], method: Method, month: str
) -> tuple[list[Scored], list[Standing]]:
    """Score every value by the method version in force for ``month`` and total them per entity."""
    version = version_in_force(method, month)
    by_id = {i.id: i for i in catalog}
    entries = {(e.indicator, lvl): e for e in version.entries for lvl in e.levels}
    scored: list[Scored] = []
    totals: dict[tuple[str, str], list[float]] = {}
    for v in computed.values:
        s = Scored(v.indicator, v.level, v.entity_id, v.value, v.num, v.den, v.items, reason=v.reason)
        entry = entries.get((v.indicator, v.level))
        if entry is not None:
            p = score_value(v.value, entry, by_id[v.indicator].direction)
            s.target, s.weight, s.points, s.rule = entry.target, p.weight, p.points, p.rule
            t = totals.setdefault((v.level, v.entity_id), [0.0, 0.0])
            t[0] += p.points or 0.0
            t[1] += p.weight
        scored.append(s)
    names = computed.entities.names
    standings = [
        Standing(level, e, names.get(e, e), round(p, 4), round(w, 4), round(100 * p / w, 2) if w else None)
        for (level, e), (p, w) in sorted(totals.items())
    ]
    rank(standings)
    return scored, standings


def assess_month(
    dataset: Dataset | str | Path,
    month: str,
    *,
    session: Any = None,
    method_file: str | Path | None = None,
    catalog_dir: str | Path | None = None,
    as_of: date | None = None,
    explain: str | None = None,
    compare: bool = True,
) -> Assessment:
    """Assess ``month``: every catalogue indicator at every level, scored by the method in force, ranked, with
    the change against the previous month (``compare``). ``session``: the case store (its indicators are
    not computable without one); ``explain``: an entity whose rows behind each value are kept."""
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    catalog = load_catalog(catalog_dir)
    method, sha = load_method(method_file, catalog)
    version = version_in_force(method, month)  # refused before any data is read
    computed = compute(ds, month, catalog, method.level_of, session, as_of, explain)
    scored, standings = score_month(computed, catalog, method, month)
    notes = list(computed.notes)
    if compare:
        prev = month_shift(month, -1)
        if method.in_force(prev) is None:
            notes.append(
                Text(f"{prev} 没有生效的考核办法，不比较上月", f"no method in force for {prev}: no change shown")
            )
        else:
            try:
                before = compute(ds, prev, catalog, method.level_of, session, as_of)
            except IndicatorError:  # the month before the data starts
                notes.append(Text(f"数据集中没有 {prev} 的数据，不比较上月", f"no data for {prev}: no change shown"))
            else:
                _, old = score_month(before, catalog, method, prev)
                was = {(s.level, s.entity_id): s for s in old}
                for s in standings:
                    if (o := was.get((s.level, s.entity_id))) is not None:
                        s.prev_score, s.prev_rank = o.score, o.rank
    return Assessment(
        month=month,
        utility=method.utility,
        method_effective=version.effective,
        method_title=Text(version.title.zh, version.title.en),
        method_sha256=sha,
        catalog_sha256=catalog_sha256(catalog),
        dataset_version=computed.dataset_version,
        scored=scored,
        standings=standings,
        notes=notes,
        explained=explain,
        rows=computed.rows,
        person_units=dict(computed.entities.staff_unit),
        compared=compare,
    )


def value_of(assessment: Assessment, indicator: str, level: str, entity_id: str) -> Value | Scored | None:
    """One value of the assessment (None when that indicator, level and entity were not computed)."""
    return next(
        (s for s in assessment.scored if (s.indicator, s.level, s.entity_id) == (indicator, level, entity_id)), None
    )


def restrict(assessment: Assessment, units: set[str] | None) -> Assessment:
    """The part of ``assessment`` a user whose scope is ``units`` may see (None: everything): units in scope,
    and people whose ``staff.unit_id`` is in scope. Ranks stay those of the whole assessment."""
    if units is None:
        return assessment
    from gridaudit.indicators.catalog import PERSON_LEVELS

    def seen(level: str, entity: str) -> bool:
        return assessment.person_units.get(entity) in units if level in PERSON_LEVELS else entity in units

    assessment.scored = [s for s in assessment.scored if seen(s.level, s.entity_id)]
    assessment.standings = [s for s in assessment.standings if seen(s.level, s.entity_id)]
    if assessment.explained is not None and not any(
        seen(s.level, s.entity_id) for s in assessment.standings if s.entity_id == assessment.explained
    ):
        assessment.rows = {}
    else:
        assessment.rows = {
            k: [
                r
                for r in v
                if r.get("unit_id") in units or assessment.person_units.get(str(r.get("person_id"))) in units
            ]
            for k, v in assessment.rows.items()
        }
    return assessment
