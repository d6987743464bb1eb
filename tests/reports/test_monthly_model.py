"""The monthly report model: every figure recomputed here from the findings store, the loss outputs and the
case store by other means (DuckDB over the Parquet files, the store's own month totals), and checked."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from gridaudit.i18n import Text
from gridaudit.reports.monthly.model import month_shift


def _rate(demo_dir, period: str) -> float:
    """Loss rate of the root unit(s) straight from balance_monthly (root: the units row with no parent)."""
    import duckdb

    units = pq.read_table(next((demo_dir / "dataset" / "versions").glob("*/units.parquet"))).to_pylist()
    roots = [u["unit_id"] for u in units if not u.get("parent_id")]
    path = str(demo_dir / "loss" / "balance_monthly.parquet")
    sql = (
        f"select sum(loss_kwh) / sum(supply_kwh) * 100 from read_parquet('{path}') "
        "where level = 'unit' and period = ? and entity_id in (select unnest(?))"
    )
    with duckdb.connect() as con:  # its own connection: fetchone() leaves a result open on it
        return float(con.execute(sql, [period, roots]).fetchone()[0])


def test_report_months(demo_report, demo_month) -> None:
    assert demo_report.month == demo_month
    assert demo_report.data_month == month_shift(demo_month, -1)  # the demo plans the month after its data
    assert [s.number for s in demo_report.sections] == [1, 2, 3, 4, 5, 6, 7]


def test_loss_figures_equal_loss_outputs(demo_report, demo_dir) -> None:
    d = demo_report.data_month
    f = demo_report.figure("loss_rate")
    assert f.value == pytest.approx(_rate(demo_dir, d), abs=1e-3)
    assert f.prev == pytest.approx(_rate(demo_dir, month_shift(d, -1)), abs=1e-3)
    assert f.last_year == pytest.approx(_rate(demo_dir, month_shift(d, -12)), abs=1e-3)
    bm = pq.read_table(demo_dir / "loss" / "balance_monthly.parquet").to_pylist()
    areas = [r for r in bm if r["level"] == "area" and r["period"] == d]
    assert demo_report.figure("areas_high").value == sum(r["band"] in ("high", "extreme") for r in areas)
    bands = demo_report.table("loss_bands")
    area_row = next(r for r in bands.rows if isinstance(r[0], Text) and r[0].en == "area")
    assert sum(area_row[1:7]) == len(areas)
    worst = demo_report.table("loss_worst_area").rows
    rates = [r[4] for r in worst]
    assert rates == sorted(rates, reverse=True) and rates[0] == max(
        r["loss_rate_pct"] for r in areas if r["band"] not in ("negative", "not_computable")
    )
    assert all("（" in r[0] or r[0].startswith("A") for r in worst)  # names, with the id beside


def test_findings_figures_equal_store(demo_report, demo_dir) -> None:
    from gridaudit.audit.plans import last_month
    from gridaudit.findings import load_findings

    t = load_findings(demo_dir / "dataset").to_pylist()
    d = demo_report.data_month
    mine = [r for r in t if last_month(r["period"]) == d]
    assert demo_report.figure("findings").value == len(mine)
    assert demo_report.figure("findings_yuan").value == pytest.approx(sum(r["yuan_at_stake"] or 0 for r in mine))
    prev = [r for r in t if last_month(r["period"]) == month_shift(d, -1)]
    assert demo_report.figure("findings").prev == len(prev)
    fam = demo_report.table("findings_by_family")
    assert fam.totals[1] == len(mine)
    assert fam.totals[2] == pytest.approx(sum(r["yuan_at_stake"] or 0 for r in mine), abs=0.05)
    labels = [r[0] for r in fam.rows]
    assert all(isinstance(x, Text) and x.zh != x.en for x in labels)  # labels, not codes
    top = demo_report.table("findings_top").rows
    assert all(isinstance(r[0], Text) for r in top)  # rule titles


def test_audit_figures_equal_store(demo_report, demo_dir, demo_month) -> None:
    from gridaudit.audit.assess import month_totals
    from gridaudit.audit.store import open_store

    st = open_store(demo_dir / "audit")
    try:
        with st.transaction() as s:
            tot = month_totals(s, demo_month)
    finally:
        st.dispose()
    assert demo_report.figure("tasks").value == tot["tasks"]
    assert demo_report.figure("recovered_all").value == pytest.approx(tot["recovered_yuan"], abs=0.01)
    states = demo_report.table("tasks_by_state")
    assert states.totals[1] == tot["tasks"]
    confirmed = demo_report.table("confirmed")
    assert confirmed.totals[9] == pytest.approx(demo_report.figure("recovered").value, abs=0.01)
    assert demo_report.figure("thefts").value == sum(1 for r in confirmed.rows if r[3].en == "theft")


def test_summary_says_what_changed_and_what_needs_a_decision(demo_report) -> None:
    s = demo_report.section("summary")
    keys = [f.key for f in s.figures]
    assert keys[:2] == ["loss_rate", "areas_high"] and "recovered" in keys
    assert demo_report.table("changes").rows and demo_report.table("decisions").rows
    proposed = demo_report.table("risk_proposed").rows
    assert proposed and all(r[3] is not None for r in proposed)
    scores = [r[3] for r in proposed]
    assert scores == sorted(scores, reverse=True)


def test_unit_scope(demo_dir, demo_month) -> None:
    from gridaudit.audit.store import open_store
    from gridaudit.reports.monthly.build import build_report
    from gridaudit.reports.monthly.inputs import ReportError

    units = pq.read_table(next((demo_dir / "dataset" / "versions").glob("*/units.parquet"))).to_pylist()
    leaf = next(u["unit_id"] for u in units if u["unit_id"] not in {x.get("parent_id") for x in units})
    st = open_store(demo_dir / "audit")
    try:
        with st.transaction() as s:
            rep = build_report(demo_dir / "dataset", s, demo_month, unit_id=leaf)
            with pytest.raises(ReportError, match="NOPE"):
                build_report(demo_dir / "dataset", s, demo_month, unit_id="NOPE")
    finally:
        st.dispose()
    assert rep.unit_id == leaf
    assert all(r[0].endswith(f"（{leaf}）") for r in rep.table("findings_by_unit_id").rows)
