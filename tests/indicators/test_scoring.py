"""Scoring rules on hand-made cases (bounds, steps, deduction per case, caps, missing values) and the method
file: validation, and a change of 考核办法 mid-year that applies from its effective month only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gridaudit.indicators.assess import assess_month, value_of
from gridaudit.indicators.catalog import load_catalog
from gridaudit.indicators.method import Entry, MethodError, load_method
from gridaudit.indicators.scoring import score_value


def entry(**kw) -> Entry:
    base = {"indicator": "x", "levels": ["station"], "weight": 10, "missing": {"points": 0}}
    return Entry.model_validate({**base, **kw})


@pytest.mark.parametrize(
    ("value", "points"),
    [(80, 0.0), (70, 0.0), (95, 10.0), (99, 10.0), (87.5, 5.0)],
)
def test_linear_between_bounds_clamped(value, points):
    e = entry(scoring={"kind": "linear", "zero_at": 80, "full_at": 95})
    assert score_value(value, e, "higher_better").points == pytest.approx(points)


def test_linear_lower_is_better_runs_the_other_way():
    e = entry(scoring={"kind": "linear", "zero_at": 12, "full_at": 7})
    assert [score_value(v, e, "lower_better").points for v in (5, 7, 9.5, 12, 20)] == [10, 10, 5, 0, 0]


def test_steps_first_matching_half_open_band():
    e = entry(scoring={"kind": "steps", "steps": [{"max": 6, "points": 10}, {"min": 6, "max": 8, "points": 6},
                                                  {"min": 8, "points": 0}]})  # fmt: skip
    assert [score_value(v, e, "lower_better").points for v in (5.99, 6, 7.99, 8, 30)] == [10, 6, 6, 0, 0]


def test_steps_with_a_gap_score_the_floor():
    e = entry(scoring={"kind": "steps", "steps": [{"min": 0, "max": 1, "points": 10}], "min_points": 2})
    p = score_value(5, e, "lower_better")
    assert p.points == 2 and "no step" in p.rule


def test_deduction_per_case_and_its_cap():
    e = entry(scoring={"kind": "deduction", "per": 1, "points_per": 2, "cap": 6})
    assert [score_value(v, e, "lower_better").points for v in (0, 1, 2, 3, 10)] == [10, 8, 6, 4, 4]
    e2 = entry(scoring={"kind": "deduction", "per": 5, "points_per": 1})
    assert score_value(12.5, e2, "lower_better").points == pytest.approx(7.5)
    assert score_value(500, e2, "lower_better").points == 0  # never below min_points (0)


def test_caps_clamp_every_kind():
    e = entry(scoring={"kind": "linear", "zero_at": 0, "full_at": 100, "max_points": 8, "min_points": 1})
    assert score_value(100, e, "higher_better").points == 8
    assert score_value(0, e, "higher_better").points == 1
    assert "clamped" in score_value(0, e, "higher_better").rule


def test_target_pass_or_fail():
    e = entry(target=0.5, scoring={"kind": "target", "fail_points": 2})
    assert score_value(0.5, e, "lower_better").points == 10
    assert score_value(0.6, e, "lower_better").points == 2
    with pytest.raises(ValueError, match="target scoring needs a target"):
        entry(scoring={"kind": "target"})


def test_missing_is_an_explicit_rule_never_zero_by_default():
    with_points = entry(scoring={"kind": "linear", "zero_at": 0, "full_at": 1}, missing={"points": 7})
    assert score_value(None, with_points, "higher_better").points == 7
    excluded = entry(scoring={"kind": "linear", "zero_at": 0, "full_at": 1}, missing="exclude")
    p = score_value(None, excluded, "higher_better")
    assert p.points is None and p.weight == 0
    with pytest.raises(ValueError, match="missing"):
        Entry.model_validate({"indicator": "x", "levels": ["station"], "weight": 1,
                              "scoring": {"kind": "linear", "zero_at": 0, "full_at": 1}})  # fmt: skip


def _method(tmp_path: Path, versions: list[dict], name: str = "m.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump({"utility": "测试", "versions": versions}, allow_unicode=True), "utf-8")
    return p


def _version(effective: str, weight: float, zero_at: float) -> dict:
    return {
        "effective": effective,
        "title": {"zh": f"办法 {effective}", "en": f"method {effective}"},
        "entries": [
            {
                "indicator": "missed_read_rate",
                "levels": ["station", "staff"],
                "weight": weight,
                "target": 0,
                "scoring": {"kind": "linear", "zero_at": zero_at, "full_at": 0},
                "missing": "exclude",
            }
        ],  # fmt: skip
    }


def test_bad_method_files_name_the_problem(tmp_path):
    catalog = load_catalog()
    bad = _method(tmp_path, [{**_version("2025-01", 10, 50), "entries": [
        {**_version("2025-01", 10, 50)["entries"][0], "indicator": "nope"}]}])  # fmt: skip
    with pytest.raises(MethodError, match="unknown indicator nope"):
        load_method(bad, catalog)
    wrong_level = _method(tmp_path, [{**_version("2025-01", 10, 50), "entries": [
        {**_version("2025-01", 10, 50)["entries"][0], "levels": ["area_manager"]}]}])  # fmt: skip
    with pytest.raises(MethodError, match="has no level area_manager"):
        load_method(wrong_level, catalog)
    with pytest.raises(MethodError, match="effective must be YYYY-MM"):
        load_method(_method(tmp_path, [_version("2025-13", 10, 50)]), catalog)
    with pytest.raises(MethodError, match="same effective month"):
        load_method(_method(tmp_path, [_version("2025-01", 10, 50), _version("2025-01", 5, 50)]), catalog)


def test_a_method_change_mid_year_applies_from_its_effective_month_only(utility, tmp_path):
    """Version 2025-03 doubles the weight and tightens the bound: February is scored by the old one."""
    root, _ = utility
    path = _method(tmp_path, [_version("2025-01", 10, 50), _version("2025-03", 20, 40)])
    method, _ = load_method(path, load_catalog())
    assert method.in_force("2025-02").effective == "2025-01"
    assert method.in_force("2025-03").effective == "2025-03" and method.in_force("2025-12").effective == "2025-03"
    assert method.in_force("2024-12") is None
    feb = assess_month(root, "2025-02", method_file=path, compare=False)
    mar = assess_month(root, "2025-03", method_file=path, compare=False)
    assert (feb.method_effective, mar.method_effective) == ("2025-01", "2025-03")
    f, m = value_of(feb, "missed_read_rate", "station", "U12"), value_of(mar, "missed_read_rate", "station", "U12")
    assert f.value == 0 and f.weight == 10 and f.points == 10
    assert m.value == pytest.approx(100 / 3) and m.weight == 20
    assert m.points == pytest.approx(20 * (1 - (100 / 3) / 40), abs=1e-3)
    with pytest.raises(MethodError, match="no assessment method is in force for 2024-12"):
        assess_month(root, "2024-12", method_file=path, compare=False)


def test_standings_rank_and_compare_with_last_month(utility, tmp_path):
    """Scores are points of the possible; equal scores share a rank; the change is against February."""
    root, _ = utility
    path = _method(tmp_path, [_version("2025-01", 10, 50)])
    a = assess_month(root, "2025-03", method_file=path)
    stations = {s.entity_id: s for s in a.level("station")}
    assert stations["U11"].score == 100 and stations["U21"].score == 100 and stations["U11"].rank == 1
    assert stations["U21"].rank == 1 and stations["U12"].rank == 3
    assert stations["U12"].score == pytest.approx(100 * (1 - (100 / 3) / 50), abs=0.01)
    assert stations["U12"].prev_score == 100 and stations["U12"].prev_rank == 1
    assert stations["U12"].change == pytest.approx(stations["U12"].score - 100)
    r2 = next(s for s in a.level("staff") if s.entity_id == "R2")
    assert r2.score == stations["U12"].score  # R2 reads every U12 customer
