"""The demo's loss step serves the report and the web views: neither computes line loss again."""

from __future__ import annotations

import gridaudit.lineloss.run as llrun


def _no_compute(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
    raise AssertionError("line loss was computed although the demo stored a loss run")


def test_demo_report_and_dashboard_read_the_demo_loss_run(demo_dir, demo_month, monkeypatch):
    from gridaudit.audit.store import open_store
    from gridaudit.dataset import open_dataset
    from gridaudit.engines.duckdb import DuckDBEngine
    from gridaudit.lineloss.stored import loss_runs
    from gridaudit.reports.monthly.build import build_report
    from gridaudit.views import loss as vloss
    from gridaudit.views.dashboard import loss_block

    (stored,) = loss_runs(demo_dir / "dataset")
    monkeypatch.setattr(llrun, "run_loss", _no_compute)
    monkeypatch.setattr(vloss, "run_loss", _no_compute)
    st = open_store(demo_dir / "audit")
    try:
        with st.transaction() as s:
            rep = build_report(demo_dir / "dataset", s, demo_month)
    finally:
        st.dispose()
    notes = [n.en for n in rep.section("loss").notes]
    assert any(stored.run.run_id in n and "precomputed" in n for n in notes), notes
    assert rep.figure("loss_rate").value is not None
    vloss.clear_cache()
    eng = DuckDBEngine(open_dataset(demo_dir / "dataset"))
    try:
        block = loss_block(eng, str(rep.data_month), None, None, None)
    finally:
        eng.close()
        vloss.clear_cache()
    assert block is not None and any(stored.run.run_id in n for n in block.notes)
    assert sum(f.value for f in block.bands["area"].values()) > 0
