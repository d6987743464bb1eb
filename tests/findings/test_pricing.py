"""¥ at stake on append: kWh priced by the tariff version in force, abs of a direction-only sign, money_unknown."""

from __future__ import annotations

import json

import pytest

from gridaudit.findings import RunProvenance, append_run, load_findings

from .conftest import build_dataset, finding, table


def _priced(root, *rows):
    append_run(root, table(*rows), RunProvenance(analyzer="rules"))
    out = {}
    for r in load_findings(root).to_pylist():
        out[(r["rule_id"], r["entity_type"], r["entity_id"], r["period"])] = (
            r["yuan_at_stake"], r["kwh_at_stake"], json.loads(r["evidence"]),
        )  # fmt: skip
    return out


def test_kwh_priced_by_the_tariff_version_in_force(dataset):
    got = _priced(
        dataset,
        finding(entity_id="C1", period="2024-03", kwh_at_stake=100.0),  # RES version 1 (to 2024-03-31): 0.50
        finding(entity_id="C1", period="2024-04", kwh_at_stake=100.0),  # RES version 2 (from 2024-04-01): 0.60
        finding(entity_id="C1", period="2024-01..2024-04", kwh_at_stake=10.0),  # a range: its last month
        finding(entity_id="C2", period=None, kwh_at_stake=10.0),  # no period: the latest version
        finding("r2", "meter", "M2", period="2024-05", kwh_at_stake=10.0),  # meter → C2 (COM 0.80)
        finding("r3", "bill", "B1", period="2024-02", kwh_at_stake=10.0),  # bill → C1
        finding("r4", "customer", "C3", period="2024-05", kwh_at_stake=10.0, yuan_at_stake=1.23),  # ¥ given: kept
    )
    y = {k: v[0] for k, v in got.items()}
    assert y[("r1", "customer", "C1", "2024-03")] == 50.0
    assert y[("r1", "customer", "C1", "2024-04")] == 60.0
    assert y[("r1", "customer", "C1", "2024-01..2024-04")] == 6.0
    assert y[("r1", "customer", "C2", None)] == 8.0
    assert y[("r2", "meter", "M2", "2024-05")] == 8.0
    assert y[("r3", "bill", "B1", "2024-02")] == 5.0
    assert y[("r4", "customer", "C3", "2024-05")] == 1.23
    ev = got[("r1", "customer", "C1", "2024-04")][2]
    assert ev["price_tariff"] == "RES" and ev["price_valid_from"] == "2024-04-01" and ev["price_day"] == "2024-04-30"
    assert ev["price_yuan_kwh"] == 0.6 and ev["yuan_priced_from_kwh"] is True
    assert got[("r1", "customer", "C2", None)][2]["price_day"] == "latest"
    assert "price_tariff" not in got[("r4", "customer", "C3", "2024-05")][2]


def test_areas_and_feeders_at_the_average_price_of_their_customers(dataset):
    got = _priced(
        dataset,
        finding("l1", "area", "A1", period="2024-05", kwh_at_stake=100.0),  # C1 RES 0.60, C2 COM 0.80 → 0.70
        finding("l1", "feeder", "F1", period="2024-05", kwh_at_stake=100.0),  # C1 (own), C2 (through A1)
        finding("l1", "area", "A2", period="2024-05", kwh_at_stake=100.0),  # C3 RES 0.60; C4's tariff ended
        finding("l1", "area", "A9", period="2024-05", kwh_at_stake=100.0),  # no such area
    )
    assert got[("l1", "area", "A1", "2024-05")][0] == pytest.approx(70.0)
    assert got[("l1", "area", "A1", "2024-05")][2]["price_customers"] == 2
    assert got[("l1", "feeder", "F1", "2024-05")][0] == pytest.approx(70.0)
    assert got[("l1", "area", "A2", "2024-05")][0] == pytest.approx(60.0)
    assert got[("l1", "area", "A9", "2024-05")][0] is None
    assert got[("l1", "area", "A9", "2024-05")][2]["money_unknown"] == "no_customers_priced"


def test_negative_money_is_its_absolute_value_with_the_sign_kept(dataset):
    got = _priced(
        dataset,
        finding(entity_id="C1", yuan_at_stake=-12.5, evidence={"adjustment": "refund"}),
        finding(entity_id="C2", kwh_at_stake=-10.0),  # priced from |kWh|: COM 0.80
    )
    y, k, ev = got[("r1", "customer", "C1", "2024-05")]
    assert y == 12.5 and ev == {"adjustment": "refund", "signed_yuan_at_stake": -12.5}
    y, k, ev = got[("r1", "customer", "C2", "2024-05")]
    assert (y, k, ev["signed_kwh_at_stake"]) == (8.0, 10.0, -10.0)


def test_money_unknown_says_why(dataset):
    got = _priced(
        dataset,
        finding(entity_id="C1"),  # neither kWh nor ¥
        finding("s", "staff", "S1", kwh_at_stake=5.0),
        finding(entity_id="C99", kwh_at_stake=5.0),  # not in the dataset
        finding("m", "meter", "MA1", kwh_at_stake=5.0),  # an area meter: no customer
        finding(entity_id="C4", period="2024-05", kwh_at_stake=5.0),  # GONE ended 2024-03-31
    )
    reason = {k[2]: v[2].get("money_unknown") for k, v in got.items()}
    assert reason == {"C1": "no_amount", "S1": "no_price_for_entity_type", "C99": "no_customer",
                      "MA1": "no_customer", "C4": "no_tariff_in_force"}  # fmt: skip
    assert all(v[0] is None for v in got.values())


def test_no_tariffs_table(tmp_path):
    root = build_dataset(tmp_path / "ds", with_tariffs=False)
    got = _priced(root, finding(entity_id="C1", kwh_at_stake=5.0))
    assert got[("r1", "customer", "C1", "2024-05")][2]["money_unknown"] == "no_tariff_table"


def test_run_counts_record_pricing(dataset):
    run = append_run(
        dataset,
        table(
            finding(entity_id="C1", kwh_at_stake=10.0),
            finding(entity_id="C2", yuan_at_stake=-1.0),
            finding(entity_id="C3"),
        ),  # fmt: skip
        RunProvenance(analyzer="rules"),
    )
    money = run.record["counts"]["money"]
    assert money == {"priced_from_kwh": 1, "made_absolute": 1, "money_unknown": {"no_amount": 1}, "yuan_total": 7.0}
