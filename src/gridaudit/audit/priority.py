"""One priority scale for every analyzer: expected yuan recovered, weighed by severity (docs/audit.md, "Priority").

    money    = floor[severity] + |¥ at stake|            ¥ unknown (null, NaN, evidence money_unknown) → floor
    priority = hit rate(rule) × money × weight[severity] × (0.5 + 0.5 × score percentile)

and the selection of a plan's top N by priority (``select_diverse``): first a seat for the best critical/high
finding of each rule that fired with one (within ``severe_seat_share`` of N), then by priority with a
diversity rule: at most ``max_rule_share`` of N per rule while findings of other rules remain.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class PrioritySettings:
    """How findings are ranked into tasks (all values are documented in docs/audit.md, "Priority").

    ``severity_floors_yuan``: what confirming a finding of that severity is worth beyond the yuan at stake
    its rule gives (a confirmed critical metering fault is worth correcting even when the analyzer cannot
    price it: the account is fixed for the months ahead); the whole money term when the yuan is unknown.
    ``severity_weights``: how much severity weighs on top of the money. ``default_score``: the score
    percentile of a finding without a score. ``max_rule_share``: the diversity rule, at most this share of
    a plan's top N from one rule while other rules still have findings (1.0: no cap). ``severe_seat_share``:
    at most this share of the top N is first given to one finding of each rule that fired with a critical or
    high severity (0: no seats)."""

    severity_floors_yuan: tuple[tuple[str, float], ...] = (
        ("low", 100.0),
        ("medium", 500.0),
        ("high", 2000.0),
        ("critical", 5000.0),
    )
    severity_weights: tuple[tuple[str, float], ...] = (
        ("low", 0.25),
        ("medium", 0.5),
        ("high", 0.75),
        ("critical", 1.0),
    )
    default_score: float = 0.5
    max_rule_share: float = 0.2
    severe_seat_share: float = 0.5

    @cached_property
    def floors(self) -> dict[str, float]:
        """severity → floor in yuan (computed once per settings object)."""
        return dict(self.severity_floors_yuan)

    @cached_property
    def weights(self) -> dict[str, float]:
        """severity → weight (computed once per settings object)."""
        return dict(self.severity_weights)


DEFAULT_PRIORITY = PrioritySettings()


def money_term(yuan: float | None, severity: str | None, settings: PrioritySettings = PrioritySettings()) -> float:
    """The money a finding is ranked by: its severity's floor plus |¥ at stake| (the floor alone if unknown)."""
    floor = settings.floors.get(severity or "", settings.floors["medium"])
    if yuan is None or yuan != yuan:  # NaN
        return floor
    return floor + abs(yuan)


def priority(
    score_pct: float | None,
    severity: str | None,
    yuan: float | None,
    hit_rate: float,
    settings: PrioritySettings = PrioritySettings(),
) -> float:
    """Expected yuan recovered, weighed by severity and the finding's standing within its rule (see module doc).

    ``yuan`` None means the money is unknown; ``hit_rate`` is the rule's expected hit rate (``hitrates``)."""
    pct = settings.default_score if score_pct is None or math.isnan(score_pct) else score_pct
    weight = settings.weights.get(severity or "", 0.5)
    return round(hit_rate * money_term(yuan, severity, settings) * weight * (0.5 + 0.5 * pct), 6)


def score_percentiles(rows: list[dict]) -> dict[str, float | None]:
    """finding_id → percentile (0–1] of its score among the findings of the same rule (None: no score)."""
    by_rule: dict[str, list[float]] = {}
    for r in rows:
        s = r.get("score")
        if s is not None and not math.isnan(s):
            by_rule.setdefault(r["rule_id"], []).append(s)
    for v in by_rule.values():
        v.sort()
    out: dict[str, float | None] = {}
    for r in rows:
        s, vals = r.get("score"), by_rule.get(r["rule_id"], [])
        out[r["finding_id"]] = None if s is None or math.isnan(s) else bisect.bisect_right(vals, s) / len(vals)
    return out


def rule_cap(top: int, share: float) -> int:
    """How many of a plan's ``top`` tasks one rule may take under the diversity rule (at least 1)."""
    return max(1, math.ceil(top * share)) if share < 1 else top


def select_diverse(
    ranked: list[dict],
    top: int,
    share: float,
    taken: list[dict] | None = None,
    key: Callable = lambda r: r["rule_id"],
    seat_share: float = 0.0,
    seat_severities: tuple[str, ...] = ("critical", "high"),
) -> list[dict]:
    """The findings that fill a plan up to ``top`` tasks, from ``ranked`` (highest priority first).

    ``taken``: tasks already in the plan (quotas); they count towards ``top`` and towards their rule's cap.
    Pass 0 (seats): every rule that fired with a ``seat_severities`` finding and holds no task yet gets its
    best such finding, in priority order, within ``seat_share`` of ``top`` — so a critical rule no analyzer
    prices is never crowded out by a few ¥-heavy ones. Pass 1 takes findings in priority order, skipping a rule
    once it holds ``rule_cap(top, share)`` tasks; if the plan is still short (the other rules ran out), pass 2
    fills it from the skipped findings, again in priority order. One pass each over ``ranked``: linear."""
    taken = taken or []
    room = top - len(taken)
    if room <= 0:
        return []
    cap = rule_cap(top, share)
    held: dict[str, int] = {}
    for r in taken:
        held[key(r)] = held.get(key(r), 0) + 1
    out: list[dict] = []
    seated: set[str] = set()
    seats = min(room, math.floor(top * seat_share))
    for r in ranked:
        if len(out) >= seats:
            break
        k = key(r)
        if r.get("severity") in seat_severities and k not in held:
            held[k] = 1
            out.append(r)
            seated.add(r["finding_id"])
    spill: list[dict] = []
    for r in ranked:
        if len(out) == room:
            break
        if r["finding_id"] in seated:
            continue
        k = key(r)
        if held.get(k, 0) >= cap:
            spill.append(r)
            continue
        held[k] = held.get(k, 0) + 1
        out.append(r)
    if len(out) < room:
        out += spill[: room - len(out)]
    out.sort(key=lambda r: (-r["priority"], r["finding_id"]))
    return out
