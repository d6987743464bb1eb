"""Customers behind the loss: the thief ranks first; the mapping error is found and explains the negative area."""

from __future__ import annotations

import json

import pytest

from gridaudit.findings import FINDINGS_SCHEMA
from gridaudit.lineloss.run import run_loss


@pytest.fixture(scope="module")
def result(tiny):
    root, _ = tiny
    return run_loss(root)


def _findings(result, rule):
    return [f for f in result.findings.to_pylist() if f["rule_id"] == rule]


def test_thief_ranks_first_in_its_area(result, tiny):
    _, truth = tiny
    a2 = sorted((s for s in result.suspects.to_pylist() if s["area_id"] == "A2"), key=lambda s: s["rank_in_area"])
    assert a2[0]["customer_id"] == truth["thief"]
    assert a2[0]["corr"] < 0 and a2[0]["drop_share"] > 0.3 and a2[0]["events"] == 2
    assert all(s["score"] < a2[0]["score"] for s in a2[1:])
    suspects = _findings(result, "loss_customer_suspect")
    assert [f["entity_id"] for f in suspects] == [truth["thief"]]
    ev = json.loads(suspects[0]["evidence"])
    assert ev["area_id"] == "A2" and ev["rank_in_area"] == 1
    assert suspects[0]["kwh_at_stake"] > 0


def test_mapping_error_found_with_its_true_area(result, tiny):
    _, truth = tiny
    rows = result.mapping.to_pylist()
    assert [(r["customer_id"], r["recorded_area"], r["likely_area"]) for r in rows] == [
        (truth["mapped"], truth["mapped_recorded_area"], truth["mapped_true_area"])
    ]
    assert rows[0]["beta"] == pytest.approx(1.0, abs=0.15)
    assert rows[0]["beta_own"] == pytest.approx(-1.0, abs=0.15)
    f = _findings(result, "loss_mapping_error")
    assert len(f) == 1 and f[0]["entity_type"] == "customer" and f[0]["family"] == "loss"
    # the mapping customer is not also reported as a theft suspect of A1
    assert truth["mapped"] not in {x["entity_id"] for x in _findings(result, "loss_customer_suspect")}


def test_negative_area_is_explained_by_the_mapping_finding(result, tiny):
    _, truth = tiny
    neg = _findings(result, "loss_area_negative")
    assert {f["entity_id"] for f in neg} == {truth["mapped_recorded_area"]}
    for f in neg:
        ev = json.loads(f["evidence"])
        assert ev["explained_by_mapping"] is True
        assert [m["customer_id"] for m in ev["mapping_findings"]] == [truth["mapped"]]
        assert ev["corrected_rate_pct"] >= 0 > ev["loss_rate_pct"]
    high = [f for f in _findings(result, "loss_area_high") if f["entity_id"] == truth["mapped_true_area"]]
    assert high and all(json.loads(f["evidence"])["corrected_rate_pct"] < 10 for f in high)


def test_no_mapping_error_without_one(tmp_path):
    """Same utility without the mis-recorded customer: no mapping finding, no negative area."""
    from .lineloss_tiny import build_tiny

    build_tiny(tmp_path / "ds", mapping_error=False)
    r = run_loss(tmp_path / "ds")
    assert r.mapping.num_rows == 0
    assert not [f for f in r.findings.to_pylist() if f["rule_id"] == "loss_area_negative"]


def test_findings_shape_and_stable_ids(result, tiny):
    root, _ = tiny
    assert result.findings.schema == FINDINGS_SCHEMA
    assert set(result.findings.column("family").to_pylist()) == {"loss"}
    again = run_loss(root)
    assert sorted(again.findings.column("finding_id").to_pylist()) == sorted(
        result.findings.column("finding_id").to_pylist()
    )
    assert len(set(result.findings.column("finding_id").to_pylist())) == result.findings.num_rows


def test_trends(result, tiny):
    t = result.trends.to_pylist()
    rises = {(r["area_id"], r["period"]) for r in t if r["kind"] == "rise"}
    assert ("A2", "2025-02") in rises  # thief from mid-February
    runs = [r for r in t if r["kind"] == "persistent_high"]
    assert [(r["area_id"], r["months"], r["period"]) for r in runs] == [("A3", 3, "2025-03")]


def test_trend_settings_change_the_result(tiny):
    from gridaudit.lineloss.settings import settings_from_dict

    root, _ = tiny
    s = settings_from_dict({"trends": {"high_months": 4, "rise_points": 50}})
    r = run_loss(root, settings=s)
    assert r.trends.num_rows == 0


def test_yuan_at_stake_from_tariffs(tiny, tmp_path):
    import pyarrow as pa

    from .lineloss_tiny import derive

    root, truth = tiny
    tariffs = pa.table(
        {
            "tariff_code": ["R1", "R1", "I1"],
            "category": ["residential", "residential", "industrial"],
            "price_yuan_kwh": [0.5, 0.6, 0.8],
            "valid_from": pa.array(
                [
                    __import__("datetime").date(2020, 1, 1),
                    __import__("datetime").date(2025, 2, 1),
                    __import__("datetime").date(2020, 1, 1),
                ],
                pa.date32(),
            ),
        }
    )
    r = run_loss(derive(root, tmp_path / "ds", {"tariffs": tariffs}))
    f = r.findings.to_pylist()
    thief = next(x for x in f if x["rule_id"] == "loss_customer_suspect")
    assert thief["yuan_at_stake"] == pytest.approx(thief["kwh_at_stake"] * 0.6, abs=0.01)  # version in force
    high = [x for x in f if x["rule_id"] == "loss_area_high"]
    assert high and all(x["yuan_at_stake"] == pytest.approx(x["kwh_at_stake"] * 0.6, abs=0.01) for x in high)
    assert all(x["yuan_at_stake"] is None for x in f if x["rule_id"] == "loss_area_negative")


def test_mapping_finding_names_the_area_findings_it_explains(result, tiny):
    """Both ways: the mapping finding lists each area-month it moves kWh out of (negative A1) and into (high A3),
    with the same kWh the area findings show; the high area is explained once the energy is moved."""
    _, truth = tiny
    (f,) = _findings(result, "loss_mapping_error")
    listed = json.loads(f["evidence"])["explains_area_findings"]
    areas = {
        (a["entity_id"], a["period"]): a
        for a in result.findings.to_pylist()
        if a["rule_id"].startswith("loss_area_") and "mapping_findings" in json.loads(a["evidence"])
    }
    assert {(x["area_id"], x["period"]) for x in listed} == set(areas)
    assert {x["direction"] for x in listed if x["area_id"] == truth["mapped_recorded_area"]} == {"out"}
    assert {x["direction"] for x in listed if x["area_id"] == truth["mapped_true_area"]} == {"in"}
    for x in listed:
        a = areas[(x["area_id"], x["period"])]
        ev = json.loads(a["evidence"])
        assert x["band"] == ev["band"] and x["kwh_moved"] == ev["mapping_findings"][0]["use_kwh"] > 0
        assert x["corrected_rate_pct"] == ev["corrected_rate_pct"]
        if ev["band"] in ("high", "extreme"):
            assert ev["explained_by_mapping"] is True
