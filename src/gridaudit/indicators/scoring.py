"""Points for a value under one method entry (考核计分): bounds, steps, deduction per case, caps, missing."""

from __future__ import annotations

from dataclasses import dataclass

from gridaudit.indicators.method import Entry


@dataclass(frozen=True)
class Points:
    """Points earned and the weight they count against (``weight`` 0: excluded by the missing rule)."""

    points: float | None
    weight: float
    rule: str  # how the points came about, in words (the explanation shows it)


def _f(x: float | None) -> float:
    """A field the entry's validation guarantees for its kind."""
    assert x is not None
    return float(x)


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def score_value(value: float | None, entry: Entry, direction: str) -> Points:
    """Score ``value`` by ``entry`` (``direction``: the indicator's higher_better / lower_better)."""
    s, w = entry.scoring, entry.weight
    hi = s.max_points if s.max_points is not None else w
    lo = s.min_points if s.min_points is not None else 0.0
    if value is None:
        if entry.missing == "exclude":
            return Points(None, 0.0, "missing: excluded")
        return Points(round(entry.missing.points, 4), w, f"missing: {entry.missing.points:g} points")
    if s.kind == "target":
        target = _f(entry.target)
        met = value >= target if direction == "higher_better" else value <= target
        raw, rule = (w, f"meets target {target:g}") if met else (s.fail_points, f"misses target {target:g}")
    elif s.kind == "linear":
        z, f = _f(s.zero_at), _f(s.full_at)
        raw = w * _clamp((value - z) / (f - z), 0.0, 1.0)
        rule = f"linear: 0 at {z:g}, {w:g} at {f:g}"
    elif s.kind == "steps":
        step = next(
            (st for st in s.steps if (st.min is None or value >= st.min) and (st.max is None or value < st.max)),
            None,
        )
        raw = step.points if step is not None else lo
        rule = f"step [{step.min}, {step.max}) → {step.points:g}" if step is not None else "no step holds it"
    else:
        n = value / s.per
        deduct = n * _f(s.points_per)
        if s.cap is not None:
            deduct = min(deduct, s.cap)
        raw = w - deduct
        rule = f"deduction: {s.points_per:g} per {s.per:g}" + (f", capped at {s.cap:g}" if s.cap is not None else "")
    pts = _clamp(raw, lo, hi)
    if pts != raw:
        rule += f"; clamped to [{lo:g}, {hi:g}]"
    return Points(round(pts, 4), w, rule)
