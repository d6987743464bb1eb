"""Line loss on the synthetic utility (gridaudit.synth) against its injected truth."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from gridaudit.lineloss.run import run_loss


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from gridaudit.ingest import ingest
    from gridaudit.synth.config import Rates, SynthConfig
    from gridaudit.synth.generate import generate, source_files

    root = tmp_path_factory.mktemp("ll-synth")
    rates = dataclasses.replace(Rates(), data_mapping_error=0.005)  # by energy: 15 of the larger customers
    generate(SynthConfig(customers=3000, months=3, start="2024-01", seed=5, rates=rates), root / "src")
    res = ingest(source_files(root / "src"), root / "ds")
    assert res.exit_code == 0
    with open(root / "src" / "truth.csv", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    return run_loss(root / "ds"), truth, root


def test_balance_levels_tie_out_on_synthetic_utility(synth):
    result, _, _ = synth
    m = result.balance.monthly.to_pylist()
    for period in {r["period"] for r in m}:
        top = [r for r in m if r["level"] == "unit" and r["period"] == period]
        root = max(top, key=lambda r: r["supply_kwh"])  # the company: every feeder rolls up to it
        parts = sum(
            round(r["loss_kwh"] * 1000) for r in m if r["period"] == period and r["level"] in ("area", "feeder")
        )
        assert round(root["loss_kwh"] * 1000) == parts


@pytest.fixture(scope="module")
def moved(synth, tmp_path_factory):
    """The synthetic utility with one more mapping error: its biggest area customer not already mis-recorded,
    recorded on a neighbour."""
    import duckdb
    import pyarrow as pa

    from gridaudit.dataset import open_dataset

    from .lineloss_tiny import derive

    _, truth, root = synth
    ds = open_dataset(root / "ds")
    con = duckdb.connect()
    for t in ("daily_usage", "meters", "customers", "areas"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{ds.table_glob(t)}')")
    injected = [t["entity_id"] for t in truth if t["kind"] == "data_mapping_error"]  # already moved: not again
    con.register("injected", pa.table({"customer_id": pa.array(injected, pa.string())}))
    cust, area, other = con.execute(
        """WITH big AS (
               SELECT c.customer_id, c.area_id, a.feeder_id, SUM(d.kwh * m.multiplier) AS e
               FROM daily_usage d JOIN meters m USING (meter_id) JOIN customers c ON c.customer_id = m.customer_id
               JOIN areas a ON a.area_id = c.area_id
               WHERE c.customer_id NOT IN (SELECT customer_id FROM injected) GROUP BY ALL ORDER BY e DESC LIMIT 1)
           SELECT big.customer_id, big.area_id, MIN(a.area_id) FROM big JOIN areas a
           ON a.feeder_id = big.feeder_id AND a.area_id <> big.area_id GROUP BY ALL"""
    ).fetchall()[0]
    customers = ds.read("customers")
    ids = customers.column("customer_id").to_pylist()
    areas = [other if c == cust else a for c, a in zip(ids, customers.column("area_id").to_pylist(), strict=True)]
    customers = customers.set_column(customers.column_names.index("area_id"), "area_id", pa.array(areas))
    dst = derive(root / "ds", tmp_path_factory.mktemp("ll-moved") / "ds", {"customers": customers})
    return run_loss(dst), {"customer_id": cust, "true_area_id": area, "recorded_area_id": other}


def test_mapping_findings_are_true_and_explain_negative_areas(synth, moved):
    _, truth, _ = synth
    result, mine = moved
    injected = {t["entity_id"]: json.loads(t["detail"]) for t in truth if t["kind"] == "data_mapping_error"}
    injected[mine["customer_id"]] = mine
    found = result.mapping.to_pylist()
    assert mine["customer_id"] in {f["customer_id"] for f in found}
    for f in found:  # every mapping finding is an injected error, pointing at the area that really feeds it
        assert f["customer_id"] in injected
        assert f["likely_area"] == injected[f["customer_id"]]["true_area_id"]
        assert f["recorded_area"] == injected[f["customer_id"]]["recorded_area_id"]
    out_of = {}
    for f in found:
        out_of.setdefault(f["recorded_area"], set()).add(f["customer_id"])
    negatives = 0
    for f in result.findings.to_pylist():  # a negative area with a detected mapping error names it
        if f["rule_id"] == "loss_area_negative" and f["entity_id"] in out_of:
            negatives += 1
            ev = json.loads(f["evidence"])
            named = {x["customer_id"] for x in ev["mapping_findings"] if x["direction"] == "out"}
            assert named == out_of[f["entity_id"]]
            assert ev["explained_by_mapping"] == (ev["corrected_rate_pct"] >= 0)
    assert negatives > 0 and mine["recorded_area_id"] in out_of
